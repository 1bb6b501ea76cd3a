/** DZ9xxx: bugs of the generator surface as internal diagnostics, never as crashes or user errors (DSL.md §12.2). */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { main } from "../../cli";
import { analyze, checkEmittedSyntax } from "../../compile";
import { renderDiagnostics } from "../../diagnostics/render";
import { makeSourceFile } from "../../diagnostics/span";

const SPEC = 'app t "T"\npersona member "M":\n  description: "m"\nentity Doc:\n  n: int\n  permit:\n    read: role(member)\n';
// The module object compile.ts calls through (an `import * as` copy would not see the spy).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lowerModule = require("../../ir/lower") as typeof import("../../ir/lower");

describe("DZ9001: a failed assumption in lowering", () => {
  afterEach(() => jest.restoreAllMocks());
  const breakLowering = () =>
    jest.spyOn(lowerModule, "lower").mockImplementation(() => {
      throw new Error("DZ9001: FK hop through a non-ref field");
    });

  test("analyze reports it as DZ9001 with no span and returns no IR", () => {
    breakLowering();
    const result = analyze({ files: [makeSourceFile("t.dz", SPEC)], rootModule: null, fallbackName: "t", specName: "t.dz" });
    expect(result.ir).toBeNull();
    expect(renderDiagnostics(result.diagnostics, result.sources)).toBe(
      "error[DZ9001]: internal error: FK hop through a non-ref field (a bug: please report it with --emit ir output)\n",
    );
  });

  test("the CLI prints it and exits 2 (an internal error, not a user error)", async () => {
    breakLowering();
    const dir = mkdtempSync(path.join(os.tmpdir(), "dz-internal-"));
    try {
      writeFileSync(path.join(dir, "app.dz"), SPEC);
      let stderr = "";
      const code = await main(["check", path.join(dir, "app.dz")], { stdout: () => undefined, stderr: (s) => (stderr += s) });
      expect([code, stderr]).toEqual([2, "error[DZ9001]: internal error: FK hop through a non-ref field (a bug: please report it with --emit ir output)\n"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("without the fault the same spec lowers with no internal diagnostic", () => {
    const result = analyze({ files: [makeSourceFile("t.dz", SPEC)], rootModule: null, fallbackName: "t", specName: "t.dz" });
    expect(result.diagnostics.filter((d) => d.code.startsWith("DZ9"))).toEqual([]);
    expect(result.ir).not.toBeNull();
  });
});

describe("DZ9002: the post-emit syntax check", () => {
  test("a generated .ts the TypeScript parser rejects is DZ9002 naming the file and the first syntax error; other files are not parsed", () => {
    const diagnostics = checkEmittedSyntax([
      { path: "src/generated/app.ts", contents: "export const a = 1;\n" },
      { path: "src/generated/doc/routes.ts", contents: "// x\nexport function f( {\n  return 1;\n}\n" },
      { path: "migrations/committed/000001-initial.sql", contents: "not ts (" },
    ]);
    expect(renderDiagnostics(diagnostics, new Map())).toBe(
      "error[DZ9002]: internal error: the emitter produced unparsable src/generated/doc/routes.ts (3:10: ':' expected.); a bug: please report it with --emit ir output\n",
    );
  });

  test("well-formed TypeScript passes", () => {
    expect(checkEmittedSyntax([{ path: "a.ts", contents: "import type { X } from './x';\nexport const f = (x: X): number => 1;\n" }])).toEqual([]);
  });
});
