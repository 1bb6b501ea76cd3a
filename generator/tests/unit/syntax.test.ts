/** The layout pre-pass and the parser, entered with inline snippets and exact results. */
import { makeSourceFile } from "../../diagnostics/span";
import { renderDiagnostics } from "../../diagnostics/render";
import { stableJson } from "../../cli";
import type { EntityDecl } from "../../syntax/ast";
import { DEDENT, INDENT, layout } from "../../syntax/layout";
import { parseFile } from "../../syntax/parse";

const src = (text: string) => makeSourceFile("t.dz", text);
const render = (text: string) => {
  const file = src(text);
  return renderDiagnostics(parseFile(file).diagnostics, new Map([[file.path, file]]));
};

describe("layout", () => {
  test("blank and comment lines vanish; blocks become markers; each statement is a chunk", () => {
    const { chunks, diagnostics } = layout(src("entity A:\n  # c\n\n  x: int\n    semantic: y\nentity B:\n  y: int\n"));
    expect(diagnostics).toEqual([]);
    expect(chunks.map((c) => c.text)).toEqual([
      `entity A:\n${INDENT}x: int\n${INDENT}semantic: y\n${DEDENT}${DEDENT}`,
      `entity B:\n${INDENT}y: int\n${DEDENT}`,
    ]);
  });

  test("chunk offsets map back to the original text", () => {
    const file = src("entity A:\n\n    x: int\n");
    const [chunk] = layout(file).chunks;
    const at = chunk!.text.indexOf("x:");
    expect(file.text.slice(chunk!.toOriginal(at), chunk!.toOriginal(at) + 6)).toBe("x: int");
    expect(chunk!.toOriginal(chunk!.text.indexOf(INDENT))).toBe(file.text.indexOf("x:"));
  });

  test("CRLF and a BOM are normalised", () => {
    expect(layout(src("\uFEFFentity A:\r\n  x: int\r\n")).chunks[0]!.text).toBe(`entity A:\n${INDENT}x: int\n${DEDENT}`);
  });
});

describe("parser diagnostics", () => {
  test("an indented first line is DZ1003", () => {
    expect(render("  entity A:\n")).toBe(
      "error[DZ1003]: a top-level statement must start at column 1\n --> t.dz:1:3\n  |\n1 |   entity A:\n  |   ^^^^^^^^^\n",
    );
  });

  test("a lone `{` is DZ1001 with its column", () => {
    expect(render("entity A:\n  x: int {\n")).toBe(
      "error[DZ1001]: unexpected character `{`\n --> t.dz:2:10\n  |\n2 |   x: int {\n  |          ^\n",
    );
  });

  test("a non-ASCII identifier is DZ1007", () => {
    expect(render("entity A:\n  né: int\n")).toBe(
      "error[DZ1007]: identifiers are ASCII letters, digits and `_`\n --> t.dz:2:3\n  |\n2 |   né: int\n  |   ^^\n",
    );
  });

  test("errors in separate statements are all reported", () => {
    const out = parseFile(src("entity A\n  x: int\nentity B:\n  y int\n"));
    expect(out.diagnostics.map((d) => [d.code, d.span?.start.line, d.span?.start.column])).toEqual([
      ["DZ1005", 1, 9],
      ["DZ1004", 4, 5],
    ]);
  });

  test("a header after declarations is ignored with DZ1020", () => {
    const out = parseFile(src("entity A:\n  x: int\nmodule late\n"));
    expect(out.file.module).toBeNull();
    expect(out.diagnostics.map((d) => [d.code, d.severity, d.message])).toEqual([["DZ1020", "warning", "`module` after the first declaration is ignored"]]);
  });
});

describe("parser AST", () => {
  test("a scope block keeps its filter tree and `as:` roles", () => {
    const out = parseFile(
      src("entity A:\n  scope:\n    list: owner = current_user or (team = current_user.team and done = false)\n      as: member, admin\n"),
    );
    expect(out.diagnostics).toEqual([]);
    const entity = out.file.statements[0]!;
    expect(JSON.parse(stableJson(entity, false))).toEqual({
      kind: "entity",
      name: { kind: "ident", name: "A" },
      title: null,
      members: [
        {
          kind: "scopeBlock",
          rules: [
            {
              kind: "scopeRule",
              operation: { kind: "ident", name: "list" },
              as: { kind: "asLine", keyword: "as", roles: [{ kind: "ident", name: "member" }, { kind: "ident", name: "admin" }] },
              filter: {
                kind: "or",
                children: [
                  {
                    kind: "comparison",
                    lhs: { kind: "path", polyType: null, segments: [{ kind: "ident", name: "owner" }] },
                    op: "=",
                    value: { kind: "currentUser", attr: null },
                  },
                  {
                    kind: "and",
                    children: [
                      {
                        kind: "comparison",
                        lhs: { kind: "path", polyType: null, segments: [{ kind: "ident", name: "team" }] },
                        op: "=",
                        value: { kind: "currentUser", attr: { kind: "ident", name: "team" } },
                      },
                      {
                        kind: "comparison",
                        lhs: { kind: "path", polyType: null, segments: [{ kind: "ident", name: "done" }] },
                        op: "=",
                        value: { kind: "bool", value: false },
                      },
                    ],
                  },
                ],
              },
            },
          ],
        },
      ],
    });
  });

  test("field lines: types, modifiers in any order, defaults without spaces", () => {
    const out = parseFile(src("entity A:\n  s: enum[a,b]=b required\n  n:int  optional\n  d: date = today\n  t: str(20) unique? pii(category=contact)\n"));
    expect(out.diagnostics).toEqual([]);
    const fields = (out.file.statements[0] as EntityDecl).members;
    expect(JSON.parse(stableJson(fields, false))).toEqual([
      {
        kind: "field", name: { kind: "ident", name: "s" }, children: [],
        type: { kind: "enumType", values: [{ kind: "ident", name: "a" }, { kind: "ident", name: "b" }] },
        modifiers: [
          { kind: "default", value: { kind: "name", name: "b" } },
          { kind: "flag", name: { kind: "ident", name: "required" }, optionalMark: false, args: null },
        ],
      },
      {
        kind: "field", name: { kind: "ident", name: "n" }, children: [],
        type: { kind: "namedType", name: { kind: "ident", name: "int" }, args: null },
        modifiers: [{ kind: "flag", name: { kind: "ident", name: "optional" }, optionalMark: false, args: null }],
      },
      {
        kind: "field", name: { kind: "ident", name: "d" }, children: [],
        type: { kind: "namedType", name: { kind: "ident", name: "date" }, args: null },
        modifiers: [{ kind: "default", value: { kind: "relativeDate", base: "today", sign: null, duration: null } }],
      },
      {
        kind: "field", name: { kind: "ident", name: "t" }, children: [],
        type: { kind: "namedType", name: { kind: "ident", name: "str" }, args: [{ text: "20" }] },
        modifiers: [
          { kind: "flag", name: { kind: "ident", name: "unique" }, optionalMark: true, args: null },
          { kind: "flag", name: { kind: "ident", name: "pii" }, optionalMark: false, args: "category=contact" },
        ],
      },
    ]);
  });

  test("skipped constructs keep keyword, name and block without tokenising it", () => {
    const out = parseFile(src("story ST-001 \"Title\":\n  given: {{ anything }} 'x\n"));
    expect(out.diagnostics).toEqual([]);
    expect(JSON.parse(stableJson(out.file.statements, false))).toEqual([
      {
        kind: "block", keyword: { kind: "ident", name: "story" }, name: "ST-001", header: 'ST-001 "Title":',
        children: [{ kind: "rawLine", text: "given: {{ anything }} 'x", children: [] }],
      },
    ]);
  });
});
