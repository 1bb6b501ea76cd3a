/**
 * Golden fixture cases (`fixtures/<case>/`): a spec (`app.dz`, or a project directory `spec/`),
 * an optional `case.json` ({ "args": [...], "exitCode": n }), and one golden of three kinds:
 *
 * - `ir`: `case.json` args contain `--emit ir`; `ir.json` is the exact stdout (the IR as stable
 *   JSON). The CLI runs without `-o`.
 * - `stderr`: `stderr.txt` is the exact rendered diagnostics.
 * - `tree`: `expected/` is the whole generated tree.
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
  readonly kind: FixtureKind;
}

export type FixtureKind = "tree" | "stderr" | "ir";

/** The golden file (or directory) of each kind, relative to the case directory. */
export const GOLDEN: Readonly<Record<FixtureKind, string>> = { tree: "expected", stderr: "stderr.txt", ir: "ir.json" };

/** `--emit ir` (or `--emit=ir`) among the arguments. */
export function emitsIr(args: readonly string[]): boolean {
  return args.some((a, i) => a === "--emit=ir" || (a === "--emit" && args[i + 1] === "ir"));
}

export function listFixtures(): FixtureCase[] {
  return readdirSync(FIXTURES_DIR)
    // migrations-steps/ holds goldens of another kind (support/migration-steps.ts).
    .filter((name) => statSync(path.join(FIXTURES_DIR, name)).isDirectory() && name !== "migrations-steps")
    .sort()
    .map((name) => {
      const dir = path.join(FIXTURES_DIR, name);
      const spec = existsSync(path.join(dir, "spec")) ? path.join(dir, "spec") : path.join(dir, "app.dz");
      const config = existsSync(path.join(dir, "case.json"))
        ? (JSON.parse(readFileSync(path.join(dir, "case.json"), "utf8")) as { args?: string[]; exitCode?: number })
        : {};
      const args = config.args ?? [];
      const kind: FixtureKind = emitsIr(args) || existsSync(path.join(dir, GOLDEN.ir)) ? "ir" : existsSync(path.join(dir, GOLDEN.stderr)) ? "stderr" : "tree";
      return { name, dir, spec, args, exitCode: config.exitCode ?? (kind === "stderr" ? 1 : 0), kind };
    });
}

export interface FixtureRun {
  readonly exitCode: number;
  readonly stderr: string;
  /** What the CLI printed on stdout (the IR JSON for ir cases). */
  readonly stdout: string;
  /** Posix relative path → contents, for tree cases. */
  readonly files: Map<string, string>;
}

/**
 * Runs the CLI on a case into a fresh temporary directory and reads back the whole tree; ir cases
 * run without an output directory and keep stdout.
 */
export async function runFixture(c: FixtureCase): Promise<FixtureRun> {
  if (c.kind === "ir") {
    let stdout = "";
    let stderr = "";
    const exitCode = await main([c.spec, ...c.args], { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
    return { exitCode, stderr, stdout, files: new Map() };
  }
  const out = mkdtempSync(path.join(os.tmpdir(), `dz-fixture-${c.name}-`));
  try {
    let stderr = "";
    let stdout = "";
    const exitCode = await main([c.spec, "-o", out, ...c.args], { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
    return { exitCode, stderr: stderr.split(out).join("<out>"), stdout: stdout.split(out).join("<out>"), files: readTree(out) };
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
