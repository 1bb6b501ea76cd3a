/**
 * Golden migration steps (`fixtures/migrations-steps/<kind>/`): one case per kind of follow-up
 * migration step. A case holds `before.dz`, `after.dz` and an optional `case.json`
 * ({ "args": [...] }, e.g. `--allow-destructive`); its golden `expected.sql` is the exact
 * migration file the CLI commits when `after.dz` regenerates an app generated from `before.dz`.
 * Both specs are copied to `app.dz` in turn, so the file header names the same spec.
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { main } from "../../cli";
import { FIXTURES_DIR } from "./fixtures";

export const MIGRATION_STEPS_DIR = path.join(FIXTURES_DIR, "migrations-steps");
export const MIGRATION_STEP_GOLDEN = "expected.sql";

export interface MigrationStepCase {
  readonly name: string;
  readonly dir: string;
  readonly args: readonly string[];
}

export function listMigrationStepCases(): MigrationStepCase[] {
  if (!existsSync(MIGRATION_STEPS_DIR)) return [];
  return readdirSync(MIGRATION_STEPS_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const dir = path.join(MIGRATION_STEPS_DIR, name);
      const config = existsSync(path.join(dir, "case.json")) ? (JSON.parse(readFileSync(path.join(dir, "case.json"), "utf8")) as { args?: string[] }) : {};
      return { name, dir, args: config.args ?? [] };
    });
}

export interface MigrationStepRun {
  readonly exitCode: number;
  readonly stderr: string;
  /** Every committed migration after the second run, by file name. */
  readonly committed: ReadonlyMap<string, string>;
}

/** Generates `before.dz`, then regenerates with `after.dz` and the case's args. */
export async function runMigrationStep(c: MigrationStepCase): Promise<MigrationStepRun> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), `dz-steps-${c.name}-`));
  try {
    const spec = path.join(tmp, "app.dz");
    const out = path.join(tmp, "app");
    let stderr = "";
    const io = { stdout: () => undefined, stderr: (s: string) => void (stderr += s) };
    copyFileSync(path.join(c.dir, "before.dz"), spec);
    const first = await main([spec, "-o", out], io);
    if (first !== 0) return { exitCode: first, stderr: stderr.split(tmp).join("<tmp>"), committed: new Map() };
    stderr = "";
    copyFileSync(path.join(c.dir, "after.dz"), spec);
    const exitCode = await main([spec, "-o", out, ...c.args], io);
    const dir = path.join(out, "migrations", "committed");
    const committed = new Map(readdirSync(dir).sort().map((f) => [f, readFileSync(path.join(dir, f), "utf8")] as const));
    return { exitCode, stderr: stderr.split(tmp).join("<tmp>"), committed };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The migration the second run added: `-- <file name>` then its contents (the golden's text). */
export function addedMigration(run: MigrationStepRun): string | null {
  const files = [...run.committed.keys()].filter((f) => !f.startsWith("000001-"));
  if (files.length !== 1) return null;
  return `-- ${files[0]}\n${run.committed.get(files[0]!)}`;
}
