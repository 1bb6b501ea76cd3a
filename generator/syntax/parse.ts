/**
 * Parses one spec file into a `FileNode`. Never throws on bad input: every problem is a
 * diagnostic. Each top-level statement is parsed on its own (see layout.ts), so one syntax error
 * does not hide the others.
 */
import {
  diagnostic,
  expressionSyntaxError,
  headerAfterDeclarations,
  nonAsciiIdentifier,
  unexpectedCharacter,
  unexpectedToken,
  type Code,
} from "../diagnostics/codes";
import type { Diagnostic } from "../diagnostics/diagnostic";
import { spanOf, type SourceFile, type Span } from "../diagnostics/span";
import type { AppDecl, FileNode, ModuleDecl, Statement, UseDecl } from "./ast";
import { DEDENT, INDENT, layout, type Chunk } from "./layout";
import { parse as peggyParse, SyntaxError as PeggySyntaxError } from "./parser.generated";

export interface ParseResult {
  readonly file: FileNode;
  readonly diagnostics: readonly Diagnostic[];
}

export function parseFile(source: SourceFile): ParseResult {
  const { chunks, diagnostics: layoutDiagnostics } = layout(source);
  const diagnostics: Diagnostic[] = [...layoutDiagnostics];
  const statements: Statement[] = [];
  for (const chunk of chunks) {
    const result = parseChunk(source, chunk);
    if ("statement" in result) statements.push(result.statement);
    else diagnostics.push(result.diagnostic);
  }
  return { file: hoistHeader(source.path, statements, diagnostics), diagnostics };
}

function parseChunk(source: SourceFile, chunk: Chunk): { statement: Statement } | { diagnostic: Diagnostic } {
  const span = (start: number, end: number): Span => spanOf(source, chunk.toOriginal(start), chunk.toOriginal(end));
  // Offsets where the grammar started reading an expression (see ExprStart in the grammar).
  const exprStarts: number[] = [];
  try {
    return { statement: peggyParse(chunk.text, { startRule: "Statement", span, exprStarts }) as Statement };
  } catch (e) {
    if (e instanceof PeggySyntaxError) return { diagnostic: withKeywordNote(syntaxDiagnostic(e, chunk, span, exprStarts), e, chunk) };
    throw e;
  }
}

/** Words that start an entity keyword line (DSL.md §4.1): a field cannot be named like one. */
const ENTITY_KEYWORDS = new Set([
  "permit", "forbid", "scope", "intent", "domain", "patterns", "display_field", "archetype", "index", "unique",
  "invariant", "transitions", "audit", "publish", "auth_identity", "extends", "examples", "seed", "soft_delete",
  "temporal", "subtype_of", "was", "bulk", "expose", "on_transition", "signable", "tenant_host", "membership",
  "visible", "permissions", "access", "fitness", "lifecycle", "managed_by", "graph_edge", "graph_node",
  "signing_validator", "signing_template",
]);

/**
 * A syntax error on an entity body line that starts with an entity keyword (`index: int`) gets the
 * note "field names cannot be entity keywords" (DSL.md §1.5, §11 item 32).
 */
function withKeywordNote(d: Diagnostic, e: PeggySyntaxError, chunk: Chunk): Diagnostic {
  if (d.code !== "DZ1004" && d.code !== "DZ1011") return d;
  const text = chunk.text;
  if (!/^entity\b/.test(text)) return d;
  const at = Math.min(e.location.start.offset, text.length);
  const lineStart = text.lastIndexOf("\n", at - 1) + 1;
  let depth = 0;
  for (let i = 0; i < lineStart; i++) {
    if (text[i] === INDENT) depth++;
    else if (text[i] === DEDENT) depth--;
  }
  let i = lineStart;
  while (text[i] === INDENT || text[i] === DEDENT) depth += text[i++] === INDENT ? 1 : -1;
  const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))?.[0];
  if (depth !== 1 || word === undefined || !ENTITY_KEYWORDS.has(word)) return d;
  // Only when the line fails right at or after the `:` that follows the keyword, as a field line would.
  if (!/^\s*:?\s*(\S+\s*)?$/.test(text.slice(i + word.length, at)) || /^\s*[^\s:]/.test(text.slice(i + word.length, at))) return d;
  return { ...d, notes: [...d.notes, { message: `\`${word}\` starts an entity keyword line; field names cannot be entity keywords` }] };
}

const CODED_MESSAGE = /^(DZ\d{4}):(.*)$/s;
const LONE_BAD_CHARACTERS = new Set(["!", "{", "}", "@", ";", "&", "`"]);

/** Turns Peggy's error into the most specific diagnostic we can name. */
function syntaxDiagnostic(e: PeggySyntaxError, chunk: Chunk, span: (s: number, e: number) => Span, exprStarts: readonly number[]): Diagnostic {
  const start = e.location.start.offset;
  const end = Math.max(e.location.end.offset, start + 1);
  const coded = CODED_MESSAGE.exec(e.message);
  if (coded) return diagnostic(coded[1] as Code, coded[2]!, span(start, e.location.end.offset));

  const found = e.found ?? null;
  const at = span(start, end);
  if (found !== null && found !== INDENT && found !== DEDENT && found !== "\n") {
    if (LONE_BAD_CHARACTERS.has(found) || isNonAsciiDigitOrSymbol(found)) return unexpectedCharacter(at, found);
    if (/^\p{L}$/u.test(found) && /[^\x00-\x7F]/.test(found)) {
      // A letter outside ASCII inside or at the start of a word: the whole word is the identifier.
      const [wordStart, wordEnd] = wordAround(chunk.text, start);
      return nonAsciiIdentifier(span(wordStart, wordEnd));
    }
  }
  // Skip over the whole offending token so the caret covers it.
  const tokenEnd = found !== null && /[A-Za-z0-9_]/.test(found) ? endOfWord(chunk.text, start) : end;
  if (insideExpression(chunk.text, start, exprStarts)) {
    return expressionSyntaxError(span(start, tokenEnd), describeFound(chunk.text, start, found), describeExpectedInExpression(e));
  }
  return unexpectedToken(span(start, tokenEnd), describeFound(chunk.text, start, found), describeExpected(e));
}

/** True when `offset` lies on the line of an expression, after its start: DZ1040, not DZ1004. */
function insideExpression(text: string, offset: number, exprStarts: readonly number[]): boolean {
  return exprStarts.some((s) => s <= offset && !text.slice(s, offset).includes("\n"));
}

function isNonAsciiDigitOrSymbol(ch: string): boolean {
  return /[^\x00-\x7F]/.test(ch) && !/\p{L}/u.test(ch);
}

function wordAround(text: string, at: number): [number, number] {
  const wordChar = /[A-Za-z0-9_\p{L}]/u;
  let start = at;
  while (start > 0 && wordChar.test(text[start - 1]!)) start--;
  let end = at;
  while (end < text.length && wordChar.test(text[end]!)) end++;
  return [start, end];
}

function endOfWord(text: string, from: number): number {
  let i = from;
  while (i < text.length && /[A-Za-z0-9_]/.test(text[i]!)) i++;
  return i;
}

function describeFound(text: string, offset: number, found: string | null): string {
  if (found === null) return "end of file";
  if (found === INDENT) return "indented block";
  if (found === DEDENT) return "end of block";
  if (found === "\n") return "end of line";
  if (/[A-Za-z0-9_]/.test(found)) return `\`${text.slice(offset, endOfWord(text, offset))}\``;
  return `\`${found}\``;
}

function describeExpected(e: PeggySyntaxError): string {
  const names = new Set<string>();
  const literals = (e.expected ?? []).filter((x) => x.type === "literal");
  // A long keyword list (every entity keyword, say) reads better as one phrase.
  if (literals.length > 6) names.add("a keyword");
  for (const x of e.expected ?? []) {
    if (x.type === "literal" && literals.length <= 6) names.add(`\`${x.text}\``);
    else if (x.type === "other") names.add(x.description);
    else if (x.type === "end") names.add("end of file");
    // Character classes are internal detail ([ \t], identifier characters): not worth naming.
  }
  names.delete("whitespace");
  const list = [...names].sort();
  if (list.length === 0) return "something else";
  if (list.length === 1) return list[0]!;
  return `${list.slice(0, -1).join(", ")} or ${list[list.length - 1]}`;
}

/** Inside an expression, the long lists of operators and literal keywords read as phrases. */
function describeExpectedInExpression(e: PeggySyntaxError): string {
  const expected = e.expected ?? [];
  if (expected.some((x) => x.type === "other" && x.description === "identifier")) return "an expression";
  if (expected.some((x) => x.type === "other" && x.description === "end of line")) return "an operator or the end of the line";
  return describeExpected(e);
}

/**
 * `module`, `use` and `app` form the file header. After the first other statement they are
 * ignored with DZ1020 (DSL.md §2.2).
 */
function hoistHeader(path: string, statements: readonly Statement[], diagnostics: Diagnostic[]): FileNode {
  let module: ModuleDecl | null = null;
  const uses: UseDecl[] = [];
  const apps: AppDecl[] = [];
  const body: Statement[] = [];
  for (const s of statements) {
    const isHeader = s.kind === "module" || s.kind === "use" || s.kind === "app";
    if (isHeader && body.length > 0) {
      diagnostics.push(headerAfterDeclarations(s.span, s.kind));
      continue;
    }
    if (s.kind === "module") {
      if (module === null && uses.length === 0 && apps.length === 0) module = s;
      else diagnostics.push(headerAfterDeclarations(s.span, s.kind));
    } else if (s.kind === "use") uses.push(s);
    else if (s.kind === "app") apps.push(s);
    else body.push(s);
  }
  return { kind: "file", path, module, uses, apps, statements: body };
}
