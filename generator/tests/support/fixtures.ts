/**
 * Golden fixture cases (`fixtures/<case>/`): a spec (`app.dz`, or a project directory `spec/`),
 * an optional `case.json` ({ "args": [...], "exitCode": n }), and either `expected/` (the whole
 * generated tree) or `stderr.txt` (the exact rendered diagnostics).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { main } from "../../cli";

export const FIXTURES_DIR = path.resolve(__dirname, "../../../fixtures");

export interface FixtureCase {
  readonly name: string;
  readonly dir: string;
  readonly spec: string;
  readonly args: readonly string[];
  readonly exitCode: number;
  readonly kind: "tree" | "stderr";
}

export function listFixtures(): FixtureCase[] {
  return readdirSync(FIXTURES_DIR)
    .filter((name) => statSync(path.join(FIXTURES_DIR, name)).isDirectory())
    .sort()
    .map((name) => {
      const dir = path.join(FIXTURES_DIR, name);
      const spec = existsSync(path.join(dir, "spec")) ? path.join(dir, "spec") : path.join(dir, "app.dz");
      const config = existsSync(path.join(dir, "case.json"))
        ? (JSON.parse(readFileSync(path.join(dir, "case.json"), "utf8")) as { args?: string[]; exitCode?: number })
        : {};
      const kind = existsSync(path.join(dir, "stderr.txt")) ? "stderr" : "tree";
      return { name, dir, spec, args: config.args ?? [], exitCode: config.exitCode ?? (kind === "stderr" ? 1 : 0), kind };
    });
}

export interface FixtureRun {
  readonly exitCode: number;
  readonly stderr: string;
  /** Posix relative path → contents, for tree cases. */
  readonly files: Map<string, string>;
}

/** Runs the CLI on a case into a fresh temporary directory and reads back the whole tree. */
export async function runFixture(c: FixtureCase): Promise<FixtureRun> {
  const out = mkdtempSync(path.join(os.tmpdir(), `dz-fixture-${c.name}-`));
  try {
    let stderr = "";
    const exitCode = await main([c.spec, "-o", out, ...c.args], { stdout: () => undefined, stderr: (s) => (stderr += s) });
    return { exitCode, stderr: stderr.split(out).join("<out>"), files: readTree(out) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export function readTree(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else files.set(path.relative(root, full).split(path.sep).join("/"), readFileSync(full, "utf8"));
    }
  };
  if (existsSync(root)) walk(root);
  return files;
}
