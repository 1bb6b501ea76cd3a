/** Link, check and lower, entered with inline snippets; exact diagnostics and exact IR. */
import { analyze } from "../../compile";
import { makeSourceFile } from "../../diagnostics/span";
import type { ProjectInput } from "../../read-project";
import { and, not, or, permitAnd, permitNot, permitOr } from "../../ir/simplify";

const input = (text: string): ProjectInput => ({ files: [makeSourceFile("t.dz", text)], rootModule: null, fallbackName: "t", specName: "t.dz" });
const codes = (text: string) => analyze(input(text)).diagnostics.map((d) => `${d.code} ${d.span?.start.line}:${d.span?.start.column} ${d.message}`);

const PERSONAS = 'app t "T"\npersona member "M":\n  description: "m"\npersona admin "A":\n  role: boss\n';

describe("resolve-entities", () => {
  test("an entity without id gets a uuid id first; field order is kept", () => {
    const ir = analyze(input('app t "T"\nentity Line_Item:\n  qty: int = 1\n  note: str(5) = "abc"\n  permit:\n    read: authenticated\n')).ir!;
    expect(ir.entities[0]!.fields.map((f) => [f.name, f.type.kind, f.required, f.default])).toEqual([
      ["id", "uuid", true, { kind: "generated", fn: "uuid" }],
      ["qty", "int", false, { kind: "literal", value: 1 }],
      ["note", "str", false, { kind: "literal", value: "abc" }],
    ]);
    expect([ir.entities[0]!.table, ir.entities[0]!.route]).toEqual(["line_item", "line-items"]);
  });

  test("defaults must fit their field; link errors stop the pipeline before the access check", () => {
    expect(codes('app t "T"\nentity A:\n  a: str(2) = "abc"\n  b: int = 1.5\n  c: bool = "x"\n  d: date = now\n  e: int = 2147483648\n')).toEqual([
      'DZ4003 3:15 default is longer than str(2)',
      "DZ4003 4:12 `1.5` is not a 32-bit integer",
      "DZ4003 5:13 a text default does not fit a `bool` field",
      "DZ4003 6:13 `now` needs a datetime field (use `today` for dates)",
      "DZ4003 7:12 `2147483648` is not a 32-bit integer",
    ]);
  });

  test("id must be a uuid; snake_case collisions and reserved names are DZ2005", () => {
    expect(codes('app t "T"\nentity LineItem:\n  id: int\nentity Line_Item:\n  x: int\nentity DzThing:\n  x: int\n')).toEqual([
      "DZ4002 3:7 the `id` field must have type `uuid`",
      "DZ2005 4:8 entities LineItem and Line_Item both map to table `line_item`",
      "DZ2005 6:8 table name `dz_thing` is reserved for dazzle-gen (prefixes _dazzle, dazzle_, dz_)",
    ]);
  });
});

describe("check-access", () => {
  const spec = (scope: string) =>
    `${PERSONAS}entity User:\n  team: str(9) required\n  age: int\n  permit:\n    read: role(member)\nentity Doc:\n  owner: ref User\n  state: enum[draft,live]\n  title: text\n  done: bool\n  n: int\n  permit:\n    list: role(member)\n  scope:\n    list: ${scope}\n      as: member\n`;
  const predicate = (scope: string) => analyze(input(spec(scope))).ir!.entities.find((e) => e.name === "Doc")!.access.scope![0]!.predicate;

  test("each supported leaf form lowers to its exact predicate", () => {
    expect(predicate("owner = current_user")).toEqual({ kind: "userAttr", column: "owner", op: "=", attr: "id" });
    expect(predicate("title = current_user.team")).toEqual({ kind: "userAttr", column: "title", op: "=", attr: "team" });
    expect(predicate("state != live")).toEqual({ kind: "column", column: "state", op: "!=", value: "live", sqlType: "text" });
    expect(predicate("owner = null")).toEqual({ kind: "column", column: "owner", op: "=", value: null, sqlType: "uuid" });
    expect(predicate("owner is not None")).toEqual({ kind: "column", column: "owner", op: "!=", value: null, sqlType: "uuid" });
    expect(predicate("done")).toEqual({ kind: "column", column: "done", op: "=", value: true, sqlType: "boolean" });
    expect(predicate("n >= 3 and not (done = false)")).toEqual({
      kind: "and",
      children: [
        { kind: "column", column: "n", op: ">=", value: 3, sqlType: "integer" },
        { kind: "not", child: { kind: "column", column: "done", op: "=", value: false, sqlType: "boolean" } },
      ],
    });
  });

  test("type mismatches are DZ3007 with the value's span", () => {
    expect(codes(spec("n = current_user")).filter((c) => c.startsWith("DZ3"))).toEqual([
      "DZ3007 20:15 cannot compare int field `n` with `current_user` (a uuid)",
    ]);
    expect(codes(spec("done > true")).filter((c) => c.startsWith("DZ3"))).toEqual([
      "DZ3007 20:18 `>` needs an ordered type; `done` is a bool field",
    ]);
    expect(codes(spec("title = current_user.age")).filter((c) => c.startsWith("DZ3"))).toEqual([
      "DZ3007 20:19 cannot compare text field `title` with `current_user.age` (a int)",
    ]);
  });

  test("a bare name equal to a field name is a string literal with DZ3015", () => {
    expect(codes(spec("title = state")).filter((c) => c.startsWith("DZ3"))).toEqual([
      "DZ3015 20:19 `state` is compared as a string literal, although a field has that name",
    ]);
  });

  test("roles come from personas (`role:` overrides the id); unknown roles warn and still exist", () => {
    const ir = analyze(input(spec("all").replace("role(member)", "role(member) or role(boss) or role(ghost)"))).ir!;
    expect(ir.roles).toEqual(["boss", "ghost", "member"]);
    expect(ir.personas).toEqual([
      { id: "admin", label: "A", role: "boss" },
      { id: "member", label: "M", role: "member" },
    ]);
    expect(codes(spec("all").replace("role(member)", "role(ghost)"))).toContain("DZ2008 10:16 unknown role `ghost` (no persona declares it)");
  });

  test("LATER forms warn and compile to FALSE (fail closed)", () => {
    expect(predicate("title = current_tenant")).toEqual({ kind: "false" });
    expect(codes(spec("title = current_tenant")).filter((c) => c.startsWith("DZ3013"))).toEqual([
      "DZ3013 20:19 `current_tenant` is not implemented in this version and is always false",
    ]);
  });
});

describe("simplify", () => {
  const a = { kind: "column", column: "a", op: "=", value: 1, sqlType: "integer" } as const;
  const b = { kind: "column", column: "b", op: "=", value: 2, sqlType: "integer" } as const;
  test("predicate constructors fold constants, flatten and unwrap", () => {
    expect(and([])).toEqual({ kind: "true" });
    expect(or([])).toEqual({ kind: "false" });
    expect(and([a, { kind: "true" }])).toEqual(a);
    expect(and([a, { kind: "false" }])).toEqual({ kind: "false" });
    expect(or([a, { kind: "true" }])).toEqual({ kind: "true" });
    expect(or([or([a, b]), { kind: "false" }])).toEqual({ kind: "or", children: [a, b] });
    expect(not(not(a))).toEqual(a);
    expect(not({ kind: "true" })).toEqual({ kind: "false" });
  });
  test("permit constructors also drop duplicate role tests", () => {
    const r = { kind: "role", role: "x" } as const;
    expect(permitOr([r, r])).toEqual(r);
    expect(permitAnd([r, { kind: "anyone" }])).toEqual(r);
    expect(permitOr([r, { kind: "anyone" }])).toEqual({ kind: "anyone" });
    expect(permitNot({ kind: "never" })).toEqual({ kind: "anyone" });
  });
});
