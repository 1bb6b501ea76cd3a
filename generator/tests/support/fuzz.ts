/**
 * A deterministic mutation fuzzer for the front end (issue 3, acceptance 3), shared by
 * `npm run fuzz` (scripts/fuzz.ts) and the bounded jest run (tests/robustness/fuzz.test.ts).
 *
 * Seeds are every corpus `.dsl`/`.dz` file and every `app.dz` under `fixtures/`. Each case takes
 * one seed file and applies 1–4 mutations: byte mutations on its UTF-8 bytes (insert, delete,
 * replace, duplicate; the inserted bytes include non-ASCII, NUL, tab, CR, the layout's marker
 * characters, quotes and brackets, and raw bytes that are not valid UTF-8) and token mutations
 * (swap, delete or duplicate words and lines, re-indent a line, splice lines from another file,
 * drop a colon). The property, checked by `findProblem`:
 *
 *   - `analyze()` does not throw and reports no internal error (a bug by definition);
 *   - every diagnostic has a code from the registry;
 *   - every span (primary and in notes) is in a known file, with line, column and offset inside
 *     the text and agreeing with each other, and start ≤ end; or there is no span;
 *   - `renderDiagnostics` does not throw.
 *
 * Everything is a function of one number: the run seed gives the case seeds, and a case seed
 * alone gives the case (for the same seed files), so a failure reproduces with `--case`.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { analyze } from "../../compile";
import { CODES, internalError } from "../../diagnostics/codes";
import { renderDiagnostics } from "../../diagnostics/render";
import { lineText, makeSourceFile, positionAt, type Position, type SourceFile, type Span } from "../../diagnostics/span";
import { CORPUS_DIR, corpusFiles, corpusPresent } from "./corpus";
import { FIXTURES_DIR } from "./fixtures";

export interface SeedFile {
  /** Used as the file name in the analysed input and in reports. */
  readonly name: string;
  readonly text: string;
}

export interface Rand {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
}

/** mulberry32: small, fast and good enough to drive mutations. */
export function prng(seed: number): Rand {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: (items) => items[int(items.length)]! };
}

/** Corpus files (when the corpus is present) and fixture specs, in a fixed order. */
export function fuzzSeeds(): SeedFile[] {
  const corpus = corpusPresent
    ? corpusFiles("").map((f) => ({ name: path.relative(CORPUS_DIR, f).split(path.sep).join("/"), text: readFileSync(f, "utf8") }))
    : [];
  const fixtures: SeedFile[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name === "app.dz") fixtures.push({ name: `fixtures/${path.relative(FIXTURES_DIR, full).split(path.sep).join("/")}`, text: readFileSync(full, "utf8") });
    }
  };
  walk(FIXTURES_DIR);
  return [...corpus, ...fixtures];
}

// ── mutations ────────────────────────────────────────────────────────────────────────────────

/** What byte mutations insert: structure characters, whitespace oddities and non-ASCII. */
const SNIPPETS = [
  "\0", "\t", "\r", "\n", "\r\n", " ", "    ", "\uE000", "\uE001", '"', "'", "\\", "(", ")", "[", "]", "{", "}",
  ":", "=", "==", ",", ".", "#", "-", "*", "_", "é", "²", "\u00A0", "\uFEFF", "\u2028", "😀", "ref", "entity",
  "scope:", "as:", "permit:", "current_user", "not (", "and", "or", "enum[", "str(", "0", "999999999999",
].map((s) => Buffer.from(s, "utf8"));

function randomBytes(rand: Rand): Buffer {
  // One in four: raw bytes, often not valid UTF-8 (decoded as U+FFFD, as readFileSync would).
  if (rand.int(4) === 0) return Buffer.from(Array.from({ length: 1 + rand.int(4) }, () => rand.int(256)));
  return rand.pick(SNIPPETS);
}

type ByteMutation = (bytes: Buffer, rand: Rand) => Buffer;

const BYTE_MUTATIONS: readonly ByteMutation[] = [
  function insert(b, rand) {
    const at = rand.int(b.length + 1);
    return Buffer.concat([b.subarray(0, at), randomBytes(rand), b.subarray(at)]);
  },
  function remove(b, rand) {
    const at = rand.int(b.length + 1);
    return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + rand.int(8))]);
  },
  function replace(b, rand) {
    const at = rand.int(b.length + 1);
    return Buffer.concat([b.subarray(0, at), randomBytes(rand), b.subarray(at + 1 + rand.int(4))]);
  },
  function duplicate(b, rand) {
    const at = rand.int(b.length + 1);
    const chunk = b.subarray(at, at + 1 + rand.int(32));
    return Buffer.concat([b.subarray(0, at), chunk, chunk, b.subarray(at + chunk.length)]);
  },
];

type TokenMutation = (text: string, rand: Rand, seeds: readonly SeedFile[]) => string;

const words = (text: string) => [...text.matchAll(/\S+/g)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
const splice = (text: string, start: number, end: number, insert: string) => text.slice(0, start) + insert + text.slice(end);

function onLines(text: string, f: (lines: string[]) => void): string {
  const lines = text.split("\n");
  f(lines);
  return lines.join("\n");
}

const TOKEN_MUTATIONS: readonly TokenMutation[] = [
  function swapWords(text, rand) {
    const ws = words(text);
    if (ws.length < 2) return text;
    const [a, b] = [rand.pick(ws), rand.pick(ws)].sort((x, y) => x.start - y.start) as [{ start: number; end: number }, { start: number; end: number }];
    if (a.start === b.start) return text;
    return text.slice(0, a.start) + text.slice(b.start, b.end) + text.slice(a.end, b.start) + text.slice(a.start, a.end) + text.slice(b.end);
  },
  function deleteWord(text, rand) {
    const ws = words(text);
    if (ws.length === 0) return text;
    const w = rand.pick(ws);
    return splice(text, w.start, w.end, "");
  },
  function duplicateWord(text, rand) {
    const ws = words(text);
    if (ws.length === 0) return text;
    const w = rand.pick(ws);
    return splice(text, w.end, w.end, " " + text.slice(w.start, w.end));
  },
  (text, rand) =>
    onLines(text, function swapLines(lines) {
      const i = rand.int(lines.length);
      const j = rand.int(lines.length);
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    }),
  (text, rand) => onLines(text, (lines) => void lines.splice(rand.int(lines.length), 1 + rand.int(3))),
  (text, rand) =>
    onLines(text, function duplicateLines(lines) {
      const i = rand.int(lines.length);
      lines.splice(i, 0, ...lines.slice(i, i + 1 + rand.int(3)));
    }),
  (text, rand) =>
    onLines(text, function reindent(lines) {
      const i = rand.int(lines.length);
      const indent = rand.int(5) === 0 ? "\t".repeat(rand.int(3)) : " ".repeat(rand.int(10));
      lines[i] = indent + lines[i]!.trimStart();
    }),
  function spliceFromOtherFile(text, rand, seeds) {
    const other = rand.pick(seeds).text.split("\n");
    const from = rand.int(other.length);
    const taken = other.slice(from, from + 1 + rand.int(5));
    return onLines(text, (lines) => void lines.splice(rand.int(lines.length + 1), 0, ...taken));
  },
  function dropColon(text, rand) {
    const colons = [...text.matchAll(/:/g)].map((m) => m.index);
    if (colons.length === 0) return text;
    const at = rand.pick(colons);
    return splice(text, at, at + 1, "");
  },
];

export interface FuzzCase {
  readonly caseSeed: number;
  readonly seed: SeedFile;
  readonly text: string;
}

/** The case a case seed stands for: a seed file and 1–4 byte or token mutations of it. */
export function makeCase(caseSeed: number, seeds: readonly SeedFile[]): FuzzCase {
  const rand = prng(caseSeed);
  const seed = rand.pick(seeds);
  let text = seed.text;
  for (let n = 1 + rand.int(4); n > 0; n--) {
    if (rand.int(2) === 0) text = rand.pick(BYTE_MUTATIONS)(Buffer.from(text, "utf8"), rand).toString("utf8");
    else text = rand.pick(TOKEN_MUTATIONS)(text, rand, seeds);
  }
  return { caseSeed, seed, text };
}

// ── the property ─────────────────────────────────────────────────────────────────────────────

function positionProblem(source: SourceFile, p: Position): string | null {
  if (!(p.offset >= 0 && p.offset <= source.text.length)) return `offset ${p.offset} outside 0..${source.text.length}`;
  if (!(p.line >= 1 && p.line <= source.lineStarts.length)) return `line ${p.line} outside 1..${source.lineStarts.length}`;
  const width = lineText(source, p.line).length;
  if (!(p.column >= 1 && p.column <= width + 1)) return `column ${p.column} outside 1..${width + 1} on line ${p.line}`;
  const atOffset = positionAt(source, p.offset);
  if (atOffset.line !== p.line || atOffset.column !== p.column) return `${p.line}:${p.column} is not where offset ${p.offset} is (${atOffset.line}:${atOffset.column})`;
  return null;
}

function spanProblem(span: Span, sources: ReadonlyMap<string, SourceFile>): string | null {
  const source = sources.get(span.file);
  if (!source) return `span in unknown file ${JSON.stringify(span.file)}`;
  const problem = positionProblem(source, span.start) ?? positionProblem(source, span.end);
  if (problem) return problem;
  if (span.end.offset < span.start.offset) return `span ends (${span.end.offset}) before it starts (${span.start.offset})`;
  return null;
}

// Named through its constructor, not as a literal: the registry check counts literal codes in
// tests as exercised, and this one is only ever checked to be absent.
const INTERNAL_ERROR = internalError("").code;

/** Null when the front end handles `text` as promised; otherwise what went wrong. */
export function findProblem(name: string, text: string): string | null {
  const input = { files: [makeSourceFile(name, text)], rootModule: null, fallbackName: "fuzz", specName: name };
  let result;
  try {
    result = analyze(input);
  } catch (e) {
    return `analyze() threw: ${e instanceof Error ? e.stack : String(e)}`;
  }
  for (const d of result.diagnostics) {
    const where = `${d.code} ${JSON.stringify(d.message)}`;
    if (!Object.hasOwn(CODES, d.code)) return `${where}: code not in the registry`;
    if (d.code === INTERNAL_ERROR) return `${where}: internal error`;
    for (const span of [d.span, ...d.notes.map((n) => n.span)]) {
      const problem = span && spanProblem(span, result.sources);
      if (problem) return `${where}: ${problem}`;
    }
  }
  try {
    renderDiagnostics(result.diagnostics, result.sources);
  } catch (e) {
    return `renderDiagnostics() threw: ${e instanceof Error ? e.stack : String(e)}`;
  }
  return null;
}

// ── known problems ───────────────────────────────────────────────────────────────────────────

export interface KnownProblem {
  readonly what: string;
  /** Whether `findProblem`'s answer for `text` is this defect. */
  readonly matches: (problem: string, text: string) => boolean;
  /** The smallest inputs that show it. */
  readonly minimal: readonly string[];
}

/**
 * Front-end defects the fuzzer has found and that are not fixed yet. A run counts them apart
 * from failures; the jest test keeps each one's minimal input as a `test.failing`, so fixing the
 * defect turns that test red until its entry here is removed.
 */
export const KNOWN_PROBLEMS: readonly KnownProblem[] = [];

// ── a run ────────────────────────────────────────────────────────────────────────────────────

export interface FuzzFailure {
  readonly caseSeed: number;
  readonly seedFile: string;
  readonly problem: string;
  /** The mutated input, saved under the OS temp dir. */
  readonly savedAs: string;
}

export interface FuzzReport {
  readonly runSeed: number;
  readonly cases: number;
  readonly ms: number;
  readonly seedFiles: number;
  readonly failures: readonly FuzzFailure[];
  /** Cases that hit each entry of KNOWN_PROBLEMS, by index. */
  readonly known: readonly number[];
}

/** Saves a failing input and says how to reproduce it. */
function saveFailure(c: FuzzCase, problem: string): FuzzFailure {
  const dir = path.join(os.tmpdir(), "dazzle-fuzz");
  mkdirSync(dir, { recursive: true });
  const savedAs = path.join(dir, `case-${c.caseSeed}.dz`);
  writeFileSync(savedAs, c.text);
  return { caseSeed: c.caseSeed, seedFile: c.seed.name, problem, savedAs };
}

export function describeFailure(runSeed: number, f: FuzzFailure): string {
  return (
    `fuzz failure (run seed ${runSeed}, case ${f.caseSeed}, mutated from ${f.seedFile}):\n  ${f.problem.split("\n").join("\n  ")}\n` +
    `  input saved as ${f.savedAs}\n  reproduce: npm run fuzz -- --case ${f.caseSeed}   or   npx tsx generator/cli.ts check ${f.savedAs}\n`
  );
}

/** Runs `count` cases from `runSeed` (or exactly the listed case seeds); stops after `maxFailures`. */
export function fuzz(options: { runSeed: number; count: number; caseSeeds?: readonly number[]; maxFailures?: number }): FuzzReport {
  const seeds = fuzzSeeds();
  const master = prng(options.runSeed);
  const caseSeeds = options.caseSeeds ?? Array.from({ length: options.count }, () => master.int(2 ** 32));
  const failures: FuzzFailure[] = [];
  const known = KNOWN_PROBLEMS.map(() => 0);
  const started = performance.now();
  let cases = 0;
  for (const caseSeed of caseSeeds) {
    const c = makeCase(caseSeed, seeds);
    const problem = findProblem(c.seed.name, c.text);
    cases++;
    const knownIndex = problem ? KNOWN_PROBLEMS.findIndex((k) => k.matches(problem, c.text)) : -1;
    if (knownIndex >= 0) known[knownIndex]!++;
    else if (problem) {
      failures.push(saveFailure(c, problem));
      if (failures.length >= (options.maxFailures ?? 10)) break;
    }
  }
  return { runSeed: options.runSeed, cases, ms: performance.now() - started, seedFiles: seeds.length, failures, known };
}
