/**
 * Rewrites the goldens of every fixture case (or of the cases named on the command line) from
 * the current generator: `expected/` trees, `stderr.txt` files and `ir.json` files (the exact
 * `--emit ir` stdout). Review the diff afterwards — for IR goldens, read the JSON against
 * DSL.md: a golden that encodes a bug is worse than none.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { GOLDEN, listFixtures, runFixture } from "../generator/tests/support/fixtures";
import { addedMigration, listMigrationStepCases, MIGRATION_STEP_GOLDEN, runMigrationStep } from "../generator/tests/support/migration-steps";

/** `migrations-steps` (all) or `migrations-steps/<kind>`: the expected.sql of those step cases. */
async function acceptMigrationSteps(names: readonly string[]): Promise<void> {
  const all = names.length === 0 || names.includes("migrations-steps");
  for (const c of listMigrationStepCases()) {
    if (!all && !names.includes(`migrations-steps/${c.name}`)) continue;
    const run = await runMigrationStep(c);
    const sql = addedMigration(run);
    if (run.exitCode !== 0 || sql === null) {
      process.stderr.write(run.stderr);
      throw new Error(`migrations-steps/${c.name}: exited ${run.exitCode} with ${run.committed.size} migration(s); expected.sql not written`);
    }
    writeFileSync(path.join(c.dir, MIGRATION_STEP_GOLDEN), sql);
    process.stderr.write(`accepted migrations-steps/${c.name}\n`);
  }
}

async function acceptAll(names: readonly string[]): Promise<void> {
  const steps = names.filter((n) => n === "migrations-steps" || n.startsWith("migrations-steps/"));
  if (names.length === 0 || steps.length > 0) await acceptMigrationSteps(steps);
  names = names.filter((n) => !steps.includes(n));
  if (names.length === 0 && steps.length > 0) return;
  const cases = listFixtures();
  const unknown = names.filter((n) => !cases.some((c) => c.name === n));
  if (unknown.length > 0) throw new Error(`no fixture case named ${unknown.join(", ")}`);
  for (const c of cases) {
    if (names.length > 0 && !names.includes(c.name)) continue;
    const run = await runFixture(c);
    if (c.kind === "stderr") {
      writeFileSync(path.join(c.dir, GOLDEN.stderr), run.stderr);
    } else if (c.kind === "ir") {
      if (run.exitCode !== c.exitCode || run.stdout === "") {
        process.stderr.write(run.stderr);
        throw new Error(`${c.name}: --emit ir exited ${run.exitCode} (expected ${c.exitCode}); ir.json not written`);
      }
      writeFileSync(path.join(c.dir, GOLDEN.ir), run.stdout);
    } else {
      const expected = path.join(c.dir, GOLDEN.tree);
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
