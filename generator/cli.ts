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
import { analyze, emit, InternalDiagnostics } from "./compile";
import { hasErrors, type Diagnostic } from "./diagnostics/diagnostic";
import { renderDiagnostics } from "./diagnostics/render";
import { InputError, readProject, type ProjectInput } from "./read-project";
import { sha256, writeOutput, type PlannedChange } from "./write/write-output";

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const USAGE = `usage:
  dazzle-gen <spec.dz | project-dir> -o <out-dir> [--force] [--dry-run] [--check]
  dazzle-gen check <spec.dz | project-dir>
  dazzle-gen <spec.dz | project-dir> --emit ast|ir [--spans]
options:
  --principal=<Entity>   the entity current_user stands for (default: auth_identity, else User)
  --deny-warnings        treat warnings as errors
  --force                overwrite generated files that were edited by hand
  --dry-run              print what would change, write nothing
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
}

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): Args | "help" | "version" {
  const args: Args = { command: "generate", input: "", out: null, emit: null, spans: false, principal: undefined, denyWarnings: false, force: false, dryRun: false, checkOutput: false };
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
  const files = emit(ir, ctx);
  const specHash = sha256(input.files.map((f) => `${f.path}\n${f.text}`).join("\0"));
  const out = args.out!;
  const result = writeOutput(out, files, { generator: { name: "dazzle-gen", version: ctx.generatorVersion }, specHash }, {
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
    return 0;
  }
  io.stderr(`dazzle-gen: ${files.length} files in ${out} (${changed.length} written or removed)\n`);
  return 0;
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
