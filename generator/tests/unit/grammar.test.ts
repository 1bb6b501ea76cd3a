/** The committed parser must be exactly what `npm run grammar` builds from grammar/dazzle.peggy. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../../..");

test("generator/syntax/parser.generated.js is in sync with grammar/dazzle.peggy", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "dz-grammar-"));
  try {
    const out = path.join(dir, "parser.generated.js");
    const script = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.grammar!;
    const args = script.replace(/^peggy /, "").replace("generator/syntax/parser.generated.js", out).split(" ");
    execFileSync(path.join(ROOT, "node_modules/.bin/peggy"), args, { cwd: ROOT });
    expect(readFileSync(out, "utf8")).toBe(readFileSync(path.join(ROOT, "generator/syntax/parser.generated.js"), "utf8"));
    expect(readFileSync(out.replace(/\.js$/, ".d.ts"), "utf8")).toBe(readFileSync(path.join(ROOT, "generator/syntax/parser.generated.d.ts"), "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
