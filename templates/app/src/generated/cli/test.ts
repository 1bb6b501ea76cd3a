/**
 * `npm test`: runs every `*.test.ts` file under `test/` with Node's test runner (through tsx). Node 20's
 * runner neither expands globs nor finds `.ts` files by itself, hence this small launcher.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { findAppRoot } from "../runtime/config";

function testFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === "node_modules" ? [] : testFiles(file);
      return entry.name.endsWith(".test.ts") ? [file] : [];
    })
    .sort();
}

const appRoot = findAppRoot();
const files = testFiles(path.join(appRoot, "test")).map((file) => path.relative(appRoot, file));
if (files.length === 0) {
  console.log("no test files (*.test.ts under test/)");
} else {
  const run = spawnSync(process.execPath, ["--import", "tsx", "--test", ...files], { cwd: appRoot, stdio: "inherit" });
  process.exitCode = run.status ?? 1;
}
