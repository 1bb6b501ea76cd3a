/**
 * The main test: every `fixtures/<case>/` is generated and compared file by file with its
 * `expected/` tree (extra or missing files fail), its diagnostics with `stderr.txt`, or its
 * `--emit ir` output with `ir.json`. `npm run fixtures:accept` rewrites the goldens; reviewers
 * read the diff.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { GOLDEN, listFixtures, readTree, runFixture } from "../support/fixtures";

const cases = listFixtures();

test("there are golden fixtures of every kind", () => {
  expect(cases.filter((c) => c.kind === "tree").length).toBeGreaterThanOrEqual(2);
  expect(cases.filter((c) => c.kind === "stderr").length).toBeGreaterThanOrEqual(2);
  expect(cases.filter((c) => c.kind === "ir").length).toBeGreaterThanOrEqual(10);
});

test("every case has its golden (run `npm run fixtures:accept <case>` for a new one)", () => {
  expect(cases.filter((c) => !existsSync(path.join(c.dir, GOLDEN[c.kind]))).map((c) => `${c.name} (${GOLDEN[c.kind]})`)).toEqual([]);
});

const TITLES = { tree: "generates exactly the expected tree", stderr: "reports exactly the expected diagnostics", ir: "lowers to exactly the expected IR" } as const;

describe.each(cases)("fixture $name", (c) => {
  test(TITLES[c.kind], async () => {
    const run = await runFixture(c);
    if (c.kind === "stderr") {
      expect(run.stderr).toBe(readFileSync(path.join(c.dir, GOLDEN.stderr), "utf8"));
      expect(run.exitCode).toBe(c.exitCode);
      return;
    }
    if (c.kind === "ir") {
      // The exit code and stderr first: a failed run prints no IR, and its diagnostics say why.
      expect({ exitCode: run.exitCode, errors: run.stderr.split("\n").filter((l) => l.startsWith("error")) }).toEqual({ exitCode: c.exitCode, errors: [] });
      expect(run.stdout).toBe(readFileSync(path.join(c.dir, GOLDEN.ir), "utf8"));
      return;
    }
    expect({ exitCode: run.exitCode, stderr: run.stderr }).toEqual({ exitCode: c.exitCode, stderr: expect.any(String) });
    const expected = readTree(path.join(c.dir, GOLDEN.tree));
    expect([...run.files.keys()]).toEqual([...expected.keys()]);
    for (const [file, contents] of expected) expect({ file, contents: run.files.get(file) }).toEqual({ file, contents });
  });
});
