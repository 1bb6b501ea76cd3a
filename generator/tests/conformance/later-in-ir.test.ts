/**
 * DSL.md §3.1: LATER constructs are "kept" in the IR. For every corpus project, every top-level
 * LATER statement (and `grant_schema`) is in `rules.later` and every entity-level LATER block is
 * in its entity's `rules.later`, with the same keyword, name, location and number of lines as the
 * source. Prints the counts per project.
 */
import path from "node:path";
import { analyze } from "../../compile";
import type { LaterBlockIR, LaterLineIR } from "../../ir/ir";
import { readProject } from "../../read-project";
import type { BlockLine, EntityDecl } from "../../syntax/ast";
import { CORPUS_DIR, corpusPresent, corpusProjects, skipMessage } from "../support/corpus";

const projects = [...corpusProjects("examples"), ...corpusProjects("fixtures")];
const maybe = corpusPresent && projects.length > 0 ? describe : describe.skip;
if (!corpusPresent || projects.length === 0) console.warn(`${skipMessage()} (LATER constructs in the IR)`);

const countLines = (lines: readonly (BlockLine | LaterLineIR)[]): number => lines.reduce((n, l) => n + 1 + countLines(l.children), 0);
const summary = (b: LaterBlockIR) => `${b.construct} ${b.name ?? "-"} @${b.location} (${countLines(b.lines)} lines)`;

maybe("LATER constructs are kept in the IR (DSL.md §3.1)", () => {
  test.each(projects.map((p) => path.relative(CORPUS_DIR, p)))("%s", (project) => {
    const result = analyze(readProject(path.join(CORPUS_DIR, project)));
    expect(result.ir).not.toBeNull();
    const ir = result.ir!;
    const statements = result.ast.flatMap((f) => f.statements);

    const expectedTop = statements.flatMap((s) => {
      if (s.kind === "laterBlock") return [`${s.keyword.name} ${s.name ?? "-"} @${s.span.file}:${s.span.start.line} (${countLines(s.children)} lines)`];
      if (s.kind === "grantSchema") return [`${s.keyword.name} ${s.name.name} @${s.span.file}:${s.span.start.line}`];
      return [];
    });
    const top = (ir.rules?.later ?? []).map(summary);
    // grant_schema is typed in the AST, so only its keyword, name and location are compared here.
    expect(top.map((t) => (t.startsWith("grant_schema ") ? t.replace(/ \(\d+ lines\)$/, "") : t))).toEqual(expectedTop);

    const inIr = new Map(ir.entities.map((e) => [e.name, (e.rules?.later ?? []).map(summary)]));
    let entityBlocks = 0;
    for (const decl of statements.filter((s): s is EntityDecl => s.kind === "entity")) {
      if (!inIr.has(decl.name.name)) continue; // subtype_of entities emit nothing (DSL.md §4.1)
      const expected = decl.members.flatMap((m) =>
        m.kind === "laterEntityBlock" ? [`${m.keyword.name} - @${m.span.file}:${m.span.start.line} (${countLines(m.children)} lines)`] : [],
      );
      entityBlocks += expected.length;
      expect([decl.name.name, inIr.get(decl.name.name)]).toEqual([decl.name.name, expected]);
    }
    console.log(`LATER in IR ${project}: ${top.length} top-level constructs, ${entityBlocks} entity-level blocks`);
  });
});
