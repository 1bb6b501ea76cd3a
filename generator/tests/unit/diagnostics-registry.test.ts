/**
 * The diagnostics registry (codes.ts) against the tests: no code or constructor defined twice,
 * tests name only registry codes, and every code is exercised by a test or fixture except those
 * still listed in STILL_UNTESTED. The scan is scripts/check-diagnostics.ts (`npm run
 * check-diagnostics` prints the same lists). This file is left out of the scan, since the
 * allowlist below names codes without exercising them.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { checkDiagnostics, duplicates, readRegistrySource } from "../../../scripts/check-diagnostics";
import { CODES } from "../../diagnostics/codes";

/**
 * The remaining work of issue 3 ("every code is exercised by at least one exact-output test"):
 * codes no test or fixture names yet. This list may only shrink: add an exact-output test or a
 * fixture for a code, then delete it here (the last test below fails until you do).
 */
const STILL_UNTESTED: readonly string[] = [];

const report = checkDiagnostics();

test("codes.ts defines each code and each constructor once", () => {
  expect(report.duplicateCodes).toEqual([]);
  expect(report.duplicateConstructors).toEqual([]);
});

test("the scan reads codes.ts as the compiler does, and would see a duplicate", () => {
  const source = readFileSync(path.resolve(__dirname, "../../diagnostics/codes.ts"), "utf8");
  expect(readRegistrySource(source).codes).toEqual(Object.keys(CODES));
  const doubled = readRegistrySource(
    'export const CODES = {\n  DZ0001: { severity: "error", summary: "a" },\n  DZ0001: { severity: "error", summary: "b" },\n} as const;\nexport const f = () => diagnostic("DZ0001", "m");\nexport const f = 1;\n',
  );
  expect([duplicates(doubled.codes), duplicates(doubled.exports), [...doubled.constructors]]).toEqual([["DZ0001"], ["f"], [["DZ0001", ["f"]]]]);
});

test("tests and fixtures name only codes of the registry", () => {
  expect(report.unknownInTests).toEqual([]);
});

test("every code is exercised by a test or fixture, except those still listed in STILL_UNTESTED", () => {
  expect(report.unexercised.filter((code) => !STILL_UNTESTED.includes(code))).toEqual([]);
});

test("STILL_UNTESTED only shrinks: delete the codes listed here from it (now tested, or gone from the registry)", () => {
  expect(STILL_UNTESTED.filter((code) => !report.unexercised.includes(code))).toEqual([]);
});
