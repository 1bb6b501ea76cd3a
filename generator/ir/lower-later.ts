/**
 * LATER constructs in the IR (DSL.md §3.1: "LATER … IR: kept"): every top-level LATER statement
 * (`subscribe`, `projection`, `job`, `grant_schema`, …) and every entity-level LATER block
 * (`temporal:`, `seed:`, legacy `access:`, …) is kept as its block tree, each line as the source
 * text it was written with, so a later version (or a plugin reading `--emit ir`) can act on it
 * without re-parsing the spec. Emitters ignore them in v1; each was reported as DZ1902.
 */
import type { CheckedProgram, EntityInfo } from "../semantic/program";
import type { Span } from "../diagnostics/span";
import type { BlockLine, BlockToken, GrantSchemaDecl, LaterEntityBlock, LaterStatement } from "../syntax/ast";
import type { LaterBlockIR, LaterLineIR } from "./ir";

/**
 * Top-level LATER statements of every file, in file order then source order. `grant_schema` is
 * parsed into typed nodes (its role references are checked, DZ2008) but is LATER too: it is kept
 * here as the tree of its source lines.
 */
export function lowerLaterStatements(program: CheckedProgram): LaterBlockIR[] {
  return program.project.files.flatMap((file) =>
    file.statements.flatMap((s): LaterBlockIR[] => {
      if (s.kind === "laterBlock") return [laterBlock(program, s, s.name)];
      if (s.kind === "grantSchema") return [grantSchemaBlock(program, s)];
      return [];
    }),
  );
}

function grantSchemaBlock(program: CheckedProgram, decl: GrantSchemaDecl): LaterBlockIR {
  const [head = "", ...rest] = spanText(program, decl.span).split(/\r?\n/);
  return {
    construct: decl.keyword.name,
    name: decl.name.name,
    header: head.slice(head.indexOf(decl.keyword.name) + decl.keyword.name.length).trim(),
    location: `${decl.span.file}:${decl.span.start.line}`,
    lines: linesTree(rest),
  };
}

/** Source lines (blank and comment-only lines dropped) nested by indentation (tabs count as 4). */
function linesTree(lines: readonly string[]): LaterLineIR[] {
  const items = lines
    .map((l) => ({ indent: /^[ \t]*/.exec(l)![0].replace(/\t/g, "    ").length, text: l.trim() }))
    .filter((l) => l.text !== "" && !l.text.startsWith("#"));
  const build = (from: number, to: number): LaterLineIR[] => {
    const out: LaterLineIR[] = [];
    for (let i = from; i < to; ) {
      let j = i + 1;
      while (j < to && items[j]!.indent > items[i]!.indent) j++;
      out.push({ text: items[i]!.text, children: build(i + 1, j) });
      i = j;
    }
    return out;
  };
  return build(0, items.length);
}

function spanText(program: CheckedProgram, span: Span): string {
  return program.project.sources.get(span.file)?.text.slice(span.start.offset, span.end.offset) ?? "";
}

/** Entity-level LATER blocks, in source order. */
export function lowerLaterEntityBlocks(program: CheckedProgram, entity: EntityInfo): LaterBlockIR[] {
  return entity.decl.members.filter((m): m is LaterEntityBlock => m.kind === "laterEntityBlock").map((m) => laterBlock(program, m, null));
}

function laterBlock(program: CheckedProgram, block: LaterStatement | LaterEntityBlock, name: string | null): LaterBlockIR {
  return {
    construct: block.keyword.name,
    name,
    header: tokensText(program, block.tokens),
    location: `${block.span.file}:${block.span.start.line}`,
    lines: block.children.map((l) => laterLine(program, l)),
  };
}

function laterLine(program: CheckedProgram, line: BlockLine): LaterLineIR {
  return { text: tokensText(program, line.tokens), children: line.children.map((c) => laterLine(program, c)) };
}

/** The source text from the first token to the last (exact spacing and quotes as written). */
function tokensText(program: CheckedProgram, tokens: readonly BlockToken[]): string {
  if (tokens.length === 0) return "";
  const first = tokens[0]!.span;
  const last = tokens[tokens.length - 1]!.span;
  const source = program.project.sources.get(first.file);
  return source ? source.text.slice(first.start.offset, last.end.offset) : tokens.map((t) => t.text).join(" ");
}
