#!/usr/bin/env node
/**
 * Command line: argument parsing, progress on stderr, exit codes 0 ok, 1 diagnostics (or a
 * refused write), 2 usage or internal error.
 *
 *   dazzle-gen <spec.dz | project-dir> -o <out>   generate (or --check / --dry-run)
 *   dazzle-gen check <spec.dz | project-dir>      parse, link and check only
 *   dazzle-gen <spec> --emit ast|ir               print a stage as stable JSON
 */
import path from "node:path";
import { analyze, emitApp, InternalDiagnostics } from "./compile";
import { diagnostic } from "./diagnostics/codes";
import { hasErrors, type Diagnostic } from "./diagnostics/diagnostic";
import { renderDiagnostics } from "./diagnostics/render";
import { InputError, readProject, type ProjectInput } from "./read-project";
import type { PreviousSchema } from "./emit/sql/emit-migrations";
import { parseSnapshot } from "./emit/sql/schema-snapshot";
import { committedMigrations, migrationHash, readLock, sha256, writeOutput, type PlannedChange } from "./write/write-output";

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const USAGE = `usage:
  dazzle-gen <spec.dz | project-dir> -o <out-dir> [--force] [--dry-run] [--check] [--allow-destructive]
  dazzle-gen check <spec.dz | project-dir>
  dazzle-gen <spec.dz | project-dir> --emit ast|ir [--spans]
options:
  --principal=<Entity>   the entity current_user stands for (default: auth_identity, else User)
  --deny-warnings        treat warnings as errors
  --force                overwrite generated files that were edited by hand
  --dry-run              print what would change and the planned migration, write nothing
  --allow-destructive    generate a migration that drops tables/columns or narrows types
  --check                exit 1 when the output directory is not up to date
`;

interface Args {
  command: "generate" | "check";
  input: string;
  out: string | null;
  emit: "ast" | "ir" | null;
  spans: boolean;
  principal: string | undefined;
  denyWarnings: boolean;
  force: boolean;
  dryRun: boolean;
  checkOutput: boolean;
  allowDestructive: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): Args | "help" | "version" {
  const args: Args = { command: "generate", input: "", out: null, emit: null, spans: false, principal: undefined, denyWarnings: false, force: false, dryRun: false, checkOutput: false, allowDestructive: false };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith("--") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "-h": case "--help": return "help";
      case "--version": return "version";
      case "-o": case "--out": args.out = value(); break;
      case "--emit": {
        const v = value();
        if (v !== "ast" && v !== "ir") throw new UsageError("--emit takes ast or ir");
        args.emit = v;
        break;
      }
      case "--spans": args.spans = true; break;
      case "--principal": args.principal = value(); break;
      case "--deny-warnings": case "--strict": args.denyWarnings = true; break;
      case "--force": args.force = true; break;
      case "--dry-run": args.dryRun = true; break;
      case "--check": args.checkOutput = true; break;
      case "--allow-destructive": args.allowDestructive = true; break;
      default:
        if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
        positional.push(a);
    }
  }
  if (positional[0] === "check") {
    args.command = "check";
    positional.shift();
  }
  if (positional.length !== 1) throw new UsageError("expected exactly one spec file or project directory");
  args.input = positional[0]!;
  if (args.command === "generate" && args.emit === null && args.out === null) throw new UsageError("missing -o <out-dir>");
  return args;
}

export function version(): string {
  // Read lazily: works from the sources (tsx, jest) and from dist/.
  for (const rel of ["../package.json", "../../package.json"]) {
    try {
      return (require(path.join(__dirname, rel)) as { version: string }).version;
    } catch {
      // try the next location
    }
  }
  return "0.0.0";
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  if (argv[0] === "explain") return (require("./explain") as typeof import("./explain")).explainMain(argv.slice(1), io);
  let args: Args | "help" | "version";
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`dazzle-gen: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (args === "help") {
    io.stdout(USAGE);
    return 0;
  }
  if (args === "version") {
    io.stdout(`dazzle-gen ${version()}\n`);
    return 0;
  }
  try {
    return run(args, io);
  } catch (e) {
    if (e instanceof InputError) {
      io.stderr(`dazzle-gen: ${e.message}\n`);
      return 2;
    }
    if (e instanceof InternalDiagnostics) {
      io.stderr(renderDiagnostics(e.diagnostics, new Map()));
      return 2;
    }
    io.stderr(`error[DZ9001]: internal error: ${e instanceof Error ? e.message : String(e)}\n  = note: this is a bug in dazzle-gen; please report it with the --emit ir output\n`);
    return 2;
  }
}

function run(args: Args, io: Io): number {
  const input = readProject(args.input);
  const result = analyze(input, { ...(args.principal !== undefined ? { principal: args.principal } : {}) });
  if (result.diagnostics.length > 0) io.stderr(renderDiagnostics(result.diagnostics, result.sources));
  if (result.diagnostics.some((d) => d.code.startsWith("DZ9"))) return 2; // a bug, not a user error
  const failed = hasErrors(result.diagnostics) || (args.denyWarnings && result.diagnostics.length > 0);

  if (args.emit === "ast") {
    io.stdout(stableJson(result.ast, args.spans) + "\n");
    return failed ? 1 : 0;
  }
  if (failed || result.ir === null) return 1;
  if (args.emit === "ir") {
    io.stdout(stableJson(result.ir, args.spans) + "\n");
    return 0;
  }
  if (args.command === "check") {
    io.stderr(summary(result.diagnostics, `checked ${input.files.length} file(s): ${result.ir.entities.length} entities`));
    return 0;
  }
  return generate(args, input, result.ir, io);
}

function generate(args: Args, input: ProjectInput, ir: NonNullable<ReturnType<typeof analyze>["ir"]>, io: Io): number {
  const { readTemplates } = require("./write/read-templates") as typeof import("./write/read-templates");
  const ctx = { specName: input.specName, generatorVersion: version(), templates: readTemplates() };
  const out = args.out!;
  const previous = previousSchema(out);
  if (previous === "corrupt") {
    io.stderr(
      renderDiagnostics(
        [
          diagnostic("DZ5004", `${out} has committed migrations but dazzle.lock.json holds no readable schema snapshot`, undefined, {
            help: "restore dazzle.lock.json from version control; without the snapshot the next migration cannot be computed",
          }),
        ],
        new Map(),
      ),
    );
    io.stderr(`dazzle-gen: refusing to write ${out}; nothing was changed\n`);
    return 1;
  }
  let emitted = emitApp(ir, ctx, previous, { allowDestructive: args.allowDestructive });
  if (previous === null && committedMigrations(out).length > 0) {
    // A lock written before snapshots existed: accepted when the history is exactly today's initial migration.
    const initial = emitted.migrations.files[0]!;
    const onDisk = committedMigrations(out);
    const { readFileSync } = require("node:fs") as typeof import("node:fs");
    if (onDisk.length !== 1 || `migrations/committed/${onDisk[0]}` !== initial.path || readFileSync(path.join(out, initial.path), "utf8") !== initial.contents) {
      io.stderr(
        renderDiagnostics(
          [diagnostic("DZ5004", `${out} has committed migrations but dazzle.lock.json holds no schema snapshot`, undefined, { help: "restore dazzle.lock.json from version control" })],
          new Map(),
        ),
      );
      io.stderr(`dazzle-gen: refusing to write ${out}; nothing was changed\n`);
      return 1;
    }
    emitted = { files: emitted.files.filter((f) => f.path !== initial.path), migrations: { ...emitted.migrations, files: [] } };
  }
  const { files, migrations } = emitted;
  const hints = migrations.warnings.map((w) => diagnostic("DZ5005", w, undefined, { help: "without `was:` this is a drop and an add: the data of the dropped one is lost" }));
  const refused = migrations.steps.filter((s) => s.refusal !== undefined);
  if (refused.length > 0 && !args.allowDestructive) {
    const ds = refused.map((s) => diagnostic(s.refusal!, `destructive schema change: ${s.description}`, undefined, { notes: [{ message: s.sql.split("\n").join(" ") }] }));
    io.stderr(renderDiagnostics([...ds, ...hints], new Map()));
    io.stderr(`dazzle-gen: refusing to write ${out}; nothing was changed (pass --allow-destructive to generate these steps; the migration will say so)\n`);
    return 1;
  }
  if (hints.length > 0) io.stderr(renderDiagnostics(hints, new Map()));
  // Committed migrations already on disk count among the app's files in the summary line.
  const kept = committedMigrations(out).filter((f) => !files.some((g) => g.path === `migrations/committed/${f}`)).length;
  const specHash = sha256(input.files.map((f) => `${f.path}\n${f.text}`).join("\0"));
  const result = writeOutput(out, files, { generator: { name: "dazzle-gen", version: ctx.generatorVersion }, specHash, schema: migrations.snapshot }, {
    force: args.force,
    dryRun: args.dryRun || args.checkOutput,
  });
  if (result.problems.length > 0) {
    io.stderr(`dazzle-gen: refusing to write ${out}; nothing was changed:\n${result.problems.map((p) => `  - ${p}\n`).join("")}`);
    return 1;
  }
  const changed = result.changes.filter((c) => c.kind === "create" || c.kind === "update" || c.kind === "delete");
  if (args.checkOutput) {
    if (changed.length === 0) {
      io.stderr(`${out} is up to date\n`);
      return 0;
    }
    io.stderr(`${out} is stale:\n${describe(changed)}`);
    return 1;
  }
  if (args.dryRun) {
    io.stdout(changed.length === 0 ? "nothing to change\n" : describe(changed));
    if (previous !== null) {
      for (const f of migrations.files) io.stdout(`\nplanned migration ${f.path}:\n${f.contents}`);
    }
    return 0;
  }
  io.stderr(`dazzle-gen: ${files.length + kept} files in ${out} (${changed.length} written or removed)\n`);
  for (const f of migrations.files) if (previous !== null) io.stderr(`dazzle-gen: new migration ${f.path} (${migrations.steps.length} step(s))\n`);
  return 0;
}

/**
 * The schema the committed migrations of `out` build and their last file, read from the lock and
 * the disk: null for a fresh output (no committed migration), "corrupt" when migrations exist but
 * the snapshot or the last hash cannot be read (DZ5004). A lock without any `schema` key and only
 * the initial migration gives null too; the caller then checks that file is today's.
 */
function previousSchema(out: string): PreviousSchema | null | "corrupt" {
  const migrations = committedMigrations(out);
  if (migrations.length === 0) return null;
  const lock = readLock(out);
  if (lock !== null && lock.schema === undefined && migrations.length === 1) return null;
  const snapshot = parseSnapshot(lock?.schema);
  const file = migrations[migrations.length - 1]!;
  const hash = migrationHash(out, file);
  if (snapshot === null || hash === null) return "corrupt";
  return { snapshot, last: { file, hash } };
}

function describe(changes: readonly PlannedChange[]): string {
  return changes.map((c) => `  ${c.kind.padEnd(6)} ${c.path}\n`).join("");
}

function summary(diagnostics: readonly Diagnostic[], what: string): string {
  const warnings = diagnostics.filter((d) => d.severity === "warning").length;
  return `${what}, ${warnings} warning(s)\n`;
}

/** JSON with sorted object keys; spans dropped unless asked for. */
export function stableJson(value: unknown, spans: boolean): string {
  return JSON.stringify(
    value,
    (key, v: unknown) => {
      if (!spans && (key === "span" || key === "valueSpan")) return undefined;
      if (v && typeof v === "object" && !Array.isArray(v)) {
        return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      }
      return v;
    },
    2,
  );
}

if (require.main === module) {
  main(process.argv.slice(2), { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) }).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`error[DZ9001]: ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exitCode = 2;
    },
  );
}
