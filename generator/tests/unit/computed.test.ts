/**
 * Computed fields (DSL.md §4.8, §4.11): the checker's exact diagnostics and spans, the inferred
 * value types in the IR, the exact SQL of every computed form (compileComputed), the child list
 * scope an aggregate's slot is filled with, and that SQL evaluated by PostgreSQL.
 */
import { analyze } from "../../compile";
import { makeSourceFile } from "../../diagnostics/span";
import { renderDiagnostics } from "../../diagnostics/render";
import { compileComputed, compileExpression } from "../../emit/sql/compile-expression";
import { emitRoutes } from "../../emit/ts/emit-routes";
import type { EmitContext } from "../../emit/types";
import type { AppIR, EntityIR } from "../../ir/ir";
import type { ProjectInput } from "../../read-project";
import { createTestDatabase, withClient, type TestDatabase } from "../support/pg";

const input = (text: string): ProjectInput => ({ files: [makeSourceFile("t.dz", text)], rootModule: null, fallbackName: "t", specName: "t.dz" });
const HEAD = 'app t "T"\n';
const PERMIT = "  permit:\n    read: authenticated\n";
const CTX: EmitContext = { specName: "t.dz", generatorVersion: "0.0.0-test", templates: new Map() };

const diagnostics = (text: string) =>
  analyze(input(HEAD + text)).diagnostics.map((d) => `${d.code} ${d.severity} ${d.span?.start.line}:${d.span?.start.column} ${d.message}${d.help ? ` (help: ${d.help})` : ""}`);

function appIr(text: string): AppIR {
  const result = analyze(input(HEAD + text));
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0 || result.ir === null) throw new Error(errors.map((d) => `${d.code} ${d.message}`).join("\n"));
  return result.ir;
}

const entity = (app: AppIR, name: string): EntityIR => app.entities.find((e) => e.name === name)!;

const PERSON = `entity Person:\n  team: ref Team\n  name: str(20)\n  age: int\n  born: date\n  size2: computed age * 2\n${PERMIT}`;

describe("check-computed: exact diagnostics", () => {
  test("each misuse of a computed field or an aggregate is one coded error at its span", () => {
    expect(
      diagnostics(
        "entity Team:\n  name: str(20)\n  size: computed count(Person)\n  total: computed sum(Person.age) + size\n" +
          "  bad_sum: computed sum(Person.name)\n  bad_count: computed count(Person.age)\n  no_field: computed avg(Person)\n" +
          "  typo: computed max(Person.agee)\n  lonely: computed count(Orphan)\n  ghost: computed count(Nobody)\n  text_plus: computed name + 1\n" +
          "  dur: computed 3d\n  nothing: computed null\n  nested: computed max(Person.size2)\n  invariant: size > 0\n" +
          PERMIT +
          "  scope:\n    read: size = 1\n      as: *\n" +
          PERSON +
          `entity Orphan:\n  x: int\n${PERMIT}`,
      ),
    ).toEqual([
      "DZ4012 error 5:37 `size` is a computed field; a computed field cannot use another one (repeat its expression)",
      "DZ4008 error 6:32 `sum` needs a number field, but `Person.name` is a text value",
      "DZ4008 error 7:29 `count` counts rows: write `count(Person)`",
      "DZ4008 error 8:26 `avg` needs one field of Person: `avg(Person.<field>)`",
      "DZ2003 error 9:29 `agee` is not a field of entity Person (help: did you mean `age`?)",
      "DZ2002 error 10:26 `count(Orphan)`: Orphan has no `ref Team` to be the child FK (help: add a field such as `team: ref Team` to Orphan)",
      "DZ2002 error 11:25 unknown entity `Nobody`",
      "DZ4008 error 12:23 `+` cannot combine a text value and a number value",
      "DZ4008 error 13:17 a computed field needs a number, text, boolean, date, date-time or uuid value, not a duration value",
      "DZ4008 error 14:21 a computed field needs a number, text, boolean, date, date-time or uuid value, not `null`",
      "DZ4012 error 15:31 `size2` is a computed field; a computed field cannot use another one (repeat its expression)",
      "DZ4012 error 16:14 `size` is a computed field; an invariant needs stored fields",
      "DZ4012 error 20:11 `size` is a computed field of entity Team; scope rules need stored fields",
    ]);
  });

  test("a child with two refs to the parent is DZ2014 once per aggregate (check-relations), with the span of the child name", () => {
    expect(
      diagnostics(`entity Team:\n  size: computed count(Person) + min(Person.age)\n${PERMIT}entity Person:\n  team: ref Team\n  former: ref Team\n  age: int\n${PERMIT}`),
    ).toEqual([
      "DZ2014 error 3:24 Person has 2 refs to Team (`team`, `former`): the child FK is ambiguous (help: an aggregate needs exactly one `ref Team` in Person)",
      "DZ2014 error 3:38 Person has 2 refs to Team (`team`, `former`): the child FK is ambiguous (help: an aggregate needs exactly one `ref Team` in Person)",
    ]);
  });

  test("a computed `id` is DZ4002; a computed field named like a money column is DZ4006 (the SELECT would return both)", () => {
    expect(diagnostics(`entity A:\n  price: money\n  id: computed 1\n  price_minor: computed 2\n${PERMIT}`)).toEqual([
      "DZ4002 error 4:7 the `id` field must have type `uuid`",
      "DZ4006 error 5:3 computed field `price_minor` has the name of a column of money field `price`",
    ]);
  });

  test("index/unique lines naming a computed field are DZ4012 (DSL.md §4.7)", () => {
    expect(diagnostics(`entity A:\n  x: int\n  c: computed x + 1\n  index x, c\n${PERMIT}`)).toEqual([
      "DZ4012 error 5:12 `c` is a computed field; `index` needs stored fields",
    ]);
  });

  test("rendered like every diagnostic: code, location, source line and carets; no DZ1902 any more", () => {
    const result = analyze(input(`${HEAD}entity A:\n  x: int\n  c: computed x + 1\n  invariant: c > 1\n${PERMIT}`));
    expect(renderDiagnostics(result.diagnostics, result.sources)).toBe(
      "error[DZ4012]: `c` is a computed field; an invariant needs stored fields\n --> t.dz:5:14\n  |\n5 |   invariant: c > 1\n  |              ^\n",
    );
  });
});

describe("lower-computed: IR", () => {
  test("every computed field is in the IR with its inferred type, in declaration order; aggregates name the child table, FK and column", () => {
    const app = appIr(
      "entity Team:\n  name: str(20)\n  budget: decimal(8,2)\n  price: money\n  rate: float\n  starts: date\n  at: datetime\n  status: enum[open, closed]\n" +
        "  a: computed days_since(starts)\n  b: computed budget / 2\n  c: computed 7 / 2\n  d: computed 7 % 2\n  e: computed rate * 2\n  f: computed concat(name, \"!\")\n" +
        "  g: computed status = open\n  h: computed starts + 1w\n  i: computed at - 2h\n  j: computed if status = open: 1 else: 2.5\n  k: computed count(Person)\n" +
        "  l: computed sum(Person.age)\n  m: computed avg(Person.age)\n  n: computed min(Person.born)\n  o: computed max(Person.name)\n  p: computed price + 1\n  q: computed round(rate)\n" +
        "  r: computed id\n  s: computed status\n" +
        PERMIT +
        `entity Person:\n  team: ref Team\n  name: str(20)\n  age: int\n  born: date\n${PERMIT}`,
    );
    const team = entity(app, "Team");
    expect(team.computed!.map((c) => `${c.name}:${c.type}`)).toEqual([
      "a:int", "b:decimal", "c:decimal", "d:int", "e:float", "f:text", "g:bool", "h:date", "i:datetime", "j:decimal", "k:int", "l:int",
      "m:decimal", "n:date", "o:text", "p:decimal", "q:decimal", "r:uuid", "s:text",
    ]);
    expect(team.computed!.find((c) => c.name === "l")!.expr).toEqual({ kind: "aggregate", fn: "sum", entity: "Person", table: "person", fk: "team", column: "age" });
    expect(team.computed!.find((c) => c.name === "k")!.expr).toEqual({ kind: "aggregate", fn: "count", entity: "Person", table: "person", fk: "team", column: null });
    expect(team.fields.map((f) => f.name)).not.toContain("k");
    expect(entity(app, "Person").computed).toBeUndefined();
  });
});

describe("compileComputed: exact SQL", () => {
  const SPEC =
    "entity Team:\n  name: str(20)\n  budget: decimal(8,2)\n  n: int\n  starts: date\n  ends: date\n  price: money\n" +
    "  age: computed days_since(starts)\n  left: computed days_until(ends)\n  half: computed n / 2\n  rest: computed n % 3\n" +
    "  small: computed min(n, 8)\n  big: computed max(n, budget)\n  phase: computed if starts is null: \"none\" elif starts > today: \"soon\" else: \"on\"\n" +
    "  cents: computed price * 2\n  k: computed count(Person)\n  total: computed sum(Person.age)\n  mean: computed avg(Person.age)\n" +
    "  low: computed min(Person.born)\n  high: computed max(Person.age) - count(Person)\n" +
    `${PERMIT}  scope:\n    read: all\n      as: *\n` +
    `entity Person:\n  team: ref Team\n  age: int\n  born: date\n  private: bool\n  permit:\n    list: role(a) or role(b)\n` +
    "  scope:\n    list: all\n      as: a\n    list: private = false\n      as: b\n" +
    `entity Node:\n  parent: ref Node\n  kids: computed count(Node)\n${PERMIT}`;
  const app = appIr(SPEC);
  const sqlOf = (entityName: string, name: string) => {
    const e = entity(app, entityName);
    return compileComputed(e.computed!.find((c) => c.name === name)!, { entity: e, entities: app.entities, row: { kind: "table", alias: e.table } });
  };

  test.each([
    ["age", `((CURRENT_DATE - ("team"."starts")::date))::bigint`],
    ["left", `((("team"."ends")::date - CURRENT_DATE))::bigint`],
    ["half", `((("team"."n")::numeric / 2))::numeric`],
    ["rest", `(("team"."n" % 3))::bigint`],
    ["small", `(LEAST("team"."n", 8))::bigint`],
    ["big", `(GREATEST("team"."n", "team"."budget"))::numeric`],
    ["phase", `(CASE WHEN ("team"."starts" IS NULL) THEN 'none' WHEN ("team"."starts" > CURRENT_DATE) THEN 'soon' ELSE 'on' END)::text`],
    ["cents", `(("team"."price_minor" * 2))::numeric`],
  ])("%s", (name, sql) => {
    expect(sqlOf("Team", name)).toEqual({ parts: [`(${sql})`], children: [] });
  });

  test("aggregates: a correlated subquery over the child aliased dz_c<n>, a slot for its list scope; sum is COALESCEd to 0", () => {
    const where = (n: number) => `FROM "person" AS "dz_c${n}" WHERE "dz_c${n}"."team" = "team"."id" AND `;
    expect(sqlOf("Team", "k")).toEqual({ parts: [`(((SELECT count(*) ${where(1)}`, "))::bigint)"], children: [{ entity: "Person", alias: "dz_c1" }] });
    expect(sqlOf("Team", "total")).toEqual({
      parts: [`((COALESCE((SELECT sum("dz_c1"."age") ${where(1)}`, "), 0))::bigint)"],
      children: [{ entity: "Person", alias: "dz_c1" }],
    });
    expect(sqlOf("Team", "mean")).toEqual({ parts: [`(((SELECT avg("dz_c1"."age") ${where(1)}`, "))::numeric)"], children: [{ entity: "Person", alias: "dz_c1" }] });
    expect(sqlOf("Team", "low")).toEqual({ parts: [`(((SELECT min("dz_c1"."born") ${where(1)}`, "))::date)"], children: [{ entity: "Person", alias: "dz_c1" }] });
    expect(sqlOf("Team", "high")).toEqual({
      parts: [`((((SELECT max("dz_c1"."age") ${where(1)}`, `) - (SELECT count(*) ${where(2)}`, ")))::bigint)"],
      children: [{ entity: "Person", alias: "dz_c1" }, { entity: "Person", alias: "dz_c2" }],
    });
  });

  test("a self-referencing aggregate never confuses the child alias with the row's table", () => {
    expect(sqlOf("Node", "kids")).toEqual({
      parts: [`(((SELECT count(*) FROM "node" AS "dz_c1" WHERE "dz_c1"."parent" = "node"."id" AND `, "))::bigint)"],
      children: [{ entity: "Node", alias: "dz_c1" }],
    });
  });

  test("an aggregate outside a computed field is a bug (DZ9001), never silently compiled", () => {
    const team = entity(app, "Team");
    const k = team.computed!.find((c) => c.name === "k")!;
    expect(() => compileExpression(k.expr, { entity: team, entities: app.entities, row: { kind: "policy" } })).toThrow(/DZ9001: an aggregate outside a computed field/);
  });

  test("routes.ts carries each slot's child ACCESS and list scope rules compiled over the alias", () => {
    const routes = emitRoutes(app, entity(app, "Team"), CTX).contents;
    const block = routes.slice(routes.indexOf('      name: "k",'), routes.indexOf('      name: "total",'));
    expect(block).toBe(
      [
        '      name: "k",',
        '      sql: ["(((SELECT count(*) FROM \\"person\\" AS \\"dz_c1\\" WHERE \\"dz_c1\\".\\"team\\" = \\"team\\".\\"id\\" AND ", "))::bigint)"],',
        "      children: [",
        '        { access: PERSON_ACCESS, list: [{ id: "Person.list.1", roles: ["a"], sql: "TRUE" }, { id: "Person.list.2", roles: ["b"], sql: "\\"dz_c1\\".\\"private\\" = FALSE" }] },',
        "      ],",
        "    },",
        "    {",
        "",
      ].join("\n"),
    );
    expect(routes).toContain('import { ACCESS as PERSON_ACCESS } from "../person/access";');
    expect(routes).toContain('    k: row["k"] === null ? null : Number(row["k"]),');
    expect(routes).toContain('    mean: row["mean"] as string | null,');
    expect(routes).toContain("  readonly k: number | null;");
  });
});

describe("emit-routes: aggregates over a default-deny child", () => {
  test("a child without permit rules (no access.ts) gets a deny-all ChildScope: the slot is always FALSE", () => {
    const app = appIr(`entity Team:\n  k: computed count(Secret)\n${PERMIT}entity Secret:\n  team: ref Team\n`);
    const routes = emitRoutes(app, entity(app, "Team"), CTX).contents;
    expect(routes).toContain('        { access: { entity: "Secret", anonymous: [], permit: {}, forbid: {}, scope: null }, list: null },\n');
    expect(routes).not.toContain("../secret/access");
  });
});

describe("compileComputed: evaluated by PostgreSQL", () => {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase("unit_computed");
  }, 60_000);
  afterAll(async () => {
    await db?.drop();
  });

  test("aggregates over the rows their scope slot admits; integer division is numeric; LEAST skips NULL", async () => {
    const app = appIr(
      "entity Team:\n  n: int\n  half: computed n / 2\n  small: computed min(n, 8)\n  k: computed count(Person)\n  total: computed sum(Person.age)\n  mean: computed avg(Person.age)\n" +
        PERMIT +
        `entity Person:\n  team: ref Team\n  age: int\n  private: bool\n${PERMIT}`,
    );
    const team = entity(app, "Team");
    const column = (name: string, scope: string) => {
      const sql = compileComputed(team.computed!.find((c) => c.name === name)!, { entity: team, entities: app.entities, row: { kind: "table", alias: "team" } });
      return `${sql.parts.map((p, i) => (i === 0 ? p : `${scope}${p}`)).join("")} AS "${name}"`;
    };
    const rows = await withClient(db!.url, async (c) => {
      await c.query('CREATE TABLE "team" ("id" int PRIMARY KEY, "n" int); CREATE TABLE "person" ("team" int, "age" int, "private" bool)');
      await c.query(`INSERT INTO "team" VALUES (1, 7), (2, NULL); INSERT INTO "person" VALUES (1, 2, false), (1, 4, false), (1, 9, true), (1, NULL, false)`);
      const visible = '("dz_c1"."private" = FALSE)';
      const select = ["half", "small"].map((n) => column(n, "")).concat(["k", "total", "mean"].map((n) => column(n, visible)));
      return (await c.query(`SELECT "id", ${select.join(", ")} FROM "team" ORDER BY "id"`)).rows;
    });
    expect(rows).toEqual([
      { id: 1, half: "3.5000000000000000", small: "7", k: "3", total: "6", mean: "3.0000000000000000" },
      { id: 2, half: null, small: "8", k: "0", total: "0", mean: null },
    ]);
  });

  test("a self-referencing aggregate counts the row's children, not the row itself", async () => {
    const app = appIr(`entity Node:\n  parent: ref Node\n  kids: computed count(Node)\n${PERMIT}`);
    const node = entity(app, "Node");
    const sql = compileComputed(node.computed![0]!, { entity: node, entities: app.entities, row: { kind: "table", alias: "node" } });
    const rows = await withClient(db!.url, async (c) => {
      await c.query('CREATE TABLE "node" ("id" int PRIMARY KEY, "parent" int)');
      await c.query('INSERT INTO "node" VALUES (1, NULL), (2, 1), (3, 1), (4, 2)');
      return (await c.query(`SELECT "id", ${sql.parts.join("TRUE")} AS "kids" FROM "node" ORDER BY "id"`)).rows;
    });
    expect(rows).toEqual([
      { id: 1, kids: "2" },
      { id: 2, kids: "1" },
      { id: 3, kids: "0" },
      { id: 4, kids: "0" },
    ]);
  });
});
