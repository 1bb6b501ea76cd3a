/**
 * Rewrites the goldens of every fixture case (or of the cases named on the command line) from
 * the current generator: `expected/` trees and `stderr.txt` files. Review the diff afterwards.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { listFixtures, runFixture } from "../generator/tests/support/fixtures";

async function acceptAll(names: readonly string[]): Promise<void> {
  for (const c of listFixtures()) {
    if (names.length > 0 && !names.includes(c.name)) continue;
    const run = await runFixture(c);
    if (c.kind === "stderr") {
      writeFileSync(path.join(c.dir, "stderr.txt"), run.stderr);
    } else {
      const expected = path.join(c.dir, "expected");
      rmSync(expected, { recursive: true, force: true });
      for (const [file, contents] of run.files) {
        mkdirSync(path.dirname(path.join(expected, file)), { recursive: true });
        writeFileSync(path.join(expected, file), contents);
      }
    }
    process.stderr.write(`accepted ${c.name} (${c.kind}, exit ${run.exitCode})\n`);
  }
}

acceptAll(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
