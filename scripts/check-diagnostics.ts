/**
 * `npm run check-diagnostics`: the registry (generator/diagnostics/codes.ts) against its use.
 *
 * Fails (exit 1) when codes.ts defines a code or a constructor name twice, or when a test or
 * fixture names a code the registry lacks. Lists, without failing:
 *   - codes no test or fixture exercises: no literal `DZnnnn` in the .ts files under
 *     generator/tests/ and no `[DZnnnn]` in the stderr.txt files under fixtures/ (the jest test
 *     diagnostics-registry.test.ts turns this list into a failure, minus the allowlist of
 *     issue 3's remaining work);
 *   - codes no pass produces: neither one of the code's constructors nor the code as a string
 *     (`"DZnnnn`, `` `DZnnnn ``, `[DZnnnn`) appears in the non-test sources under generator/.
 * Literal scanning is coarse on purpose: a test that names a code is taken to exercise it, so the
 * registry test itself (whose allowlist names untested codes) is left out of the scan.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const CODES_TS = "generator/diagnostics/codes.ts";
const REGISTRY_TEST = "generator/tests/unit/diagnostics-registry.test.ts";

export interface CodeUse {
  readonly code: string;
  /** Root-relative `file:line`. */
  readonly where: string;
}

export interface RegistryReport {
  readonly codes: readonly string[];
  readonly summaries: ReadonlyMap<string, string>;
  readonly duplicateCodes: readonly string[];
  readonly duplicateConstructors: readonly string[];
  /** Codes named by tests or fixtures that the registry does not define. */
  readonly unknownInTests: readonly CodeUse[];
  readonly unexercised: readonly string[];
  readonly neverProduced: readonly string[];
}

/** Root-relative posix paths of the files below `dir` whose name matches. */
function files(dir: string, name: RegExp): string[] {
  const out: string[] = [];
  const walk = (abs: string) => {
    for (const entry of readdirSync(abs).sort()) {
      const full = path.join(abs, entry);
      if (statSync(full).isDirectory()) {
        if (entry !== "node_modules") walk(full);
      } else if (name.test(entry)) out.push(path.relative(ROOT, full).split(path.sep).join("/"));
    }
  };
  walk(path.join(ROOT, dir));
  return out;
}

const read = (rel: string) => readFileSync(path.join(ROOT, rel), "utf8");
export const duplicates = (items: readonly string[]) => [...new Set(items.filter((x, i) => items.indexOf(x) !== i))];

function uses(rel: string, pattern: RegExp): CodeUse[] {
  return read(rel)
    .split("\n")
    .flatMap((line, i) => [...line.matchAll(pattern)].map((m) => ({ code: m[1]!, where: `${rel}:${i + 1}` })));
}

/**
 * What codes.ts defines, read as text rather than imported: an object literal hides its own
 * duplicate keys, and a duplicate export would stop the module from loading at all.
 */
export function readRegistrySource(source: string): {
  codes: string[];
  summaries: Map<string, string>;
  exports: string[];
  constructors: Map<string, string[]>;
} {
  const registryText = source.slice(source.indexOf("export const CODES"), source.indexOf("} as const"));
  const entries = [...registryText.matchAll(/^\s*(DZ\d{4}):.*?summary:\s*"((?:[^"\\]|\\.)*)"/gm)];
  const codes = entries.map((m) => m[1]!);
  const summaries = new Map(entries.map((m) => [m[1]!, m[2]!]));
  // Each export up to the next one; it is a constructor of the code its `diagnostic("DZnnnn"` names.
  const exports = [...source.matchAll(/^export (?:const|function) (\w+)/gm)];
  const constructors = new Map<string, string[]>();
  exports.forEach((m, i) => {
    const body = source.slice(m.index, exports[i + 1]?.index ?? source.length);
    const code = /\bdiagnostic\(\s*"(DZ\d{4})"/.exec(body)?.[1];
    if (code !== undefined) constructors.set(code, [...(constructors.get(code) ?? []), m[1]!]);
  });
  return { codes, summaries, exports: exports.map((m) => m[1]!), constructors };
}

export function checkDiagnostics(): RegistryReport {
  const written = readRegistrySource(read(CODES_TS));
  const codes = [...new Set(written.codes)];

  const testUses = [
    ...files("generator/tests", /\.ts$/).filter((f) => f !== REGISTRY_TEST).flatMap((f) => uses(f, /\b(DZ\d{4})\b/g)),
    ...files("fixtures", /^stderr\.txt$/).flatMap((f) => uses(f, /\[(DZ\d{4})\]/g)),
  ];
  const exercised = new Set(testUses.map((u) => u.code));

  const passSources = files("generator", /\.(ts|js)$/)
    .filter((f) => !f.startsWith("generator/tests/") && f !== CODES_TS)
    .map(read)
    .join("\n");
  const produced = (code: string) =>
    new RegExp(`["'\`[]${code}\\b`).test(passSources) || (written.constructors.get(code) ?? []).some((name) => new RegExp(`\\b${name}\\b`).test(passSources));

  return {
    codes,
    summaries: written.summaries,
    duplicateCodes: duplicates(written.codes),
    duplicateConstructors: duplicates(written.exports),
    unknownInTests: testUses.filter((u) => !codes.includes(u.code)),
    unexercised: codes.filter((c) => !exercised.has(c)),
    neverProduced: codes.filter((c) => !produced(c)),
  };
}

function main(): number {
  const r = checkDiagnostics();
  const summary = (code: string) => `  ${code}  ${r.summaries.get(code) ?? ""}`;
  const lines = [`diagnostics registry: ${r.codes.length} codes; ${r.codes.length - r.unexercised.length} exercised by a test or fixture`];
  if (r.unexercised.length > 0) lines.push(`not exercised by any test or fixture (${r.unexercised.length}):`, ...r.unexercised.map(summary));
  if (r.neverProduced.length > 0) lines.push(`never produced by any pass (${r.neverProduced.length}):`, ...r.neverProduced.map(summary));
  const errors = [
    ...r.duplicateCodes.map((c) => `${CODES_TS}: code ${c} is defined more than once`),
    ...r.duplicateConstructors.map((n) => `${CODES_TS}: ${n} is defined more than once`),
    ...r.unknownInTests.map((u) => `${u.where}: ${u.code} is not in the registry`),
  ];
  process.stdout.write(lines.join("\n") + "\n");
  if (errors.length > 0) process.stderr.write(errors.map((e) => `error: ${e}\n`).join(""));
  return errors.length > 0 ? 1 : 0;
}

if (require.main === module) process.exitCode = main();
