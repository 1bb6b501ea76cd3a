/**
 * Robustness (issue 3, acceptance 3): the front end never throws on mutated specs; it returns
 * diagnostics with registry codes and spans inside the file, and they render. A bounded run with
 * a fixed seed (about 5 s on 2 cores); `npm run fuzz -- --count N` runs longer. The fuzzer and
 * the property are in ../support/fuzz.ts.
 */
import { corpusPresent, skipMessage } from "../support/corpus";
import { describeFailure, findProblem, fuzz, fuzzSeeds, KNOWN_PROBLEMS, makeCase } from "../support/fuzz";

const RUN_SEED = 3;
const COUNT = 6000;

if (!corpusPresent) console.warn(`${skipMessage()}; fuzzing the fixtures only`);

test(`the front end holds its contract on ${COUNT} mutated specs (seed ${RUN_SEED})`, () => {
  const report = fuzz({ runSeed: RUN_SEED, count: COUNT });
  const known = report.known.reduce((a, b) => a + b, 0);
  console.log(
    `fuzz: ${report.cases} cases from ${report.seedFiles} seed files in ${(report.ms / 1000).toFixed(1)} s ` +
      `(${Math.round(report.cases / (report.ms / 1000))} cases/s), ${known} hit a known problem`,
  );
  expect(report.failures.map((f) => describeFailure(RUN_SEED, f))).toEqual([]);
}, 120_000);

test("a case seed alone determines the case", () => {
  const seeds = fuzzSeeds();
  expect(makeCase(123456789, seeds)).toEqual(makeCase(123456789, seeds));
  expect(makeCase(123456789, seeds).text).not.toBe(makeCase(987654321, seeds).text);
});

// Defects the fuzzer found and that were fixed: they stay as regression tests.
test.each([
  ["a span at the end of a file without a final newline stays inside the file", "module"],
  ["a header after declarations at the end of a file without a final newline", "entity A:\n  x: int\nmodule m"],
])("%s", (_what, text) => {
  expect(findProblem("t.dz", text)).toBeNull();
});

// Defects found by the fuzzer and not fixed yet. When one is fixed its test "fails" (jest reports
// that a `test.failing` passed): delete its entry from KNOWN_PROBLEMS in ../support/fuzz.ts.
for (const known of KNOWN_PROBLEMS) {
  for (const text of known.minimal) {
    test.failing(`known problem still present for ${JSON.stringify(text)}`, () => {
      expect(findProblem("t.dz", text)).toBeNull();
    });
  }
}
