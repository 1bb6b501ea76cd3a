/**
 * The main test: every `fixtures/<case>/` is generated and compared file by file with its
 * `expected/` tree (extra or missing files fail), or its diagnostics with `stderr.txt`.
 * `npm run fixtures:accept` rewrites the goldens; reviewers read the diff.
 */
import path from "node:path";
import { listFixtures, readTree, runFixture } from "../support/fixtures";

const cases = listFixtures();

test("there are golden fixtures of both kinds", () => {
  expect(cases.filter((c) => c.kind === "tree").length).toBeGreaterThanOrEqual(2);
  expect(cases.filter((c) => c.kind === "stderr").length).toBeGreaterThanOrEqual(2);
});

describe.each(cases)("fixture $name", (c) => {
  test(c.kind === "tree" ? "generates exactly the expected tree" : "reports exactly the expected diagnostics", async () => {
    const run = await runFixture(c);
    if (c.kind === "stderr") {
      const { readFileSync } = await import("node:fs");
      expect(run.stderr).toBe(readFileSync(path.join(c.dir, "stderr.txt"), "utf8"));
      expect(run.exitCode).toBe(c.exitCode);
      return;
    }
    expect({ exitCode: run.exitCode, stderr: run.stderr }).toEqual({ exitCode: c.exitCode, stderr: expect.any(String) });
    const expected = readTree(path.join(c.dir, "expected"));
    expect([...run.files.keys()]).toEqual([...expected.keys()]);
    for (const [file, contents] of expected) expect({ file, contents: run.files.get(file) }).toEqual({ file, contents });
  });
});
