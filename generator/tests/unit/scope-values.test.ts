/**
 * Scope values beyond a single literal (DSL.md §6.4, §6.5, §6.10): `in [...]` / `not in [...]`,
 * `today`/`now` ± DURATION and `is [not] true|false`. Checked from the spec (exact IR, exact
 * diagnostics), compiled (exact SQL for columns and FK paths, hostile list literals), and run on
 * PostgreSQL against the RBAC evaluator (rbac-model.ts), which must agree row by row, NULLs
 * included.
 */
import { analyze } from "../../compile";
import { makeSourceFile } from "../../diagnostics/span";
import { renderDiagnostics } from "../../diagnostics/render";
import { compilePredicate } from "../../emit/sql/predicate";
import { explain } from "../../explain";
import { pathHelper } from "../../emit/sql/scope-helper";
import { not } from "../../ir/simplify";
import { buildRbacModel, Evaluator, type SeedRow } from "../../emit/ts/rbac-model";
import type { AppIR, ColumnCheck, PathCheck, Predicate } from "../../ir/ir";
import type { ProjectInput } from "../../read-project";
import { createTestDatabase, withClient, type TestDatabase } from "../support/pg";

const input = (text: string): ProjectInput => ({ files: [makeSourceFile("t.dz", text)], rootModule: null, fallbackName: "t", specName: "t.dz" });

const SPEC = (scope: string) =>
  [
    'app t "T"',
    "entity Org:",
    "  kind: enum[public, private, secret]",
    "  founded: date",
    "  active: bool",
    "  permit:",
    "    read: authenticated",
    "entity Job:",
    "  state: enum[a, b, c]",
    "  label: str(20)",
    "  n: int",
    "  due_on: date",
    "  seen_at: datetime",
    "  urgent: bool",
    "  owner: uuid",
    "  org: ref Org",
    "  permit:",
    "    list: authenticated",
    "  scope:",
    `    list: ${scope}`,
    "      as: *",
    "",
  ].join("\n");
/** Line and column of the scope condition's first character in SPEC. */
const LINE = 20;
const COL = 11;

const predicate = (scope: string): Predicate => {
  const result = analyze(input(SPEC(scope)));
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.ir!.entities.find((e) => e.name === "Job")!.access.scope![0]!.predicate;
};
const codes = (scope: string) => analyze(input(SPEC(scope))).diagnostics.map((d) => `${d.code} ${d.span!.start.line - LINE}:${d.span!.start.column - COL} ${d.message}`);

describe("checking and lowering", () => {
  test("`in` / `not in` lists: typed per item, duplicates dropped, on columns and FK paths", () => {
    expect(predicate("state in [a, b, a]")).toEqual({ kind: "column", column: "state", op: "in", value: ["a", "b"], sqlType: "text" });
    expect(predicate(`label not in ["x", "it's", y]`)).toEqual({ kind: "column", column: "label", op: "not in", value: ["x", "it's", "y"], sqlType: "text" });
    expect(predicate("n in [1, -2]")).toEqual({ kind: "column", column: "n", op: "in", value: [1, -2], sqlType: "integer" });
    expect(predicate('owner in ["D2A00000-0000-4000-8000-000000000001"]')).toEqual({
      kind: "column", column: "owner", op: "in", value: ["d2a00000-0000-4000-8000-000000000001"], sqlType: "uuid",
    });
    expect(predicate("org.kind not in [secret]")).toEqual({
      kind: "path", hops: [{ column: "org", table: "org" }], column: "kind", sqlType: "text", op: "not in", value: { kind: "list", values: ["secret"] },
    });
  });

  test("`today`/`now` ± DURATION on date and datetime fields, with any comparison operator", () => {
    expect(predicate("due_on >= today - 30d")).toEqual({
      kind: "column", column: "due_on", op: ">=", value: { kind: "relativeDate", base: "today", sign: "-", amount: 30, unit: "d" }, sqlType: "date",
    });
    expect(predicate("seen_at < now")).toEqual({
      kind: "column", column: "seen_at", op: "<", value: { kind: "relativeDate", base: "now", sign: "+", amount: 0, unit: "d" }, sqlType: "timestamptz",
    });
    expect(predicate("org.founded > today + 1y")).toEqual({
      kind: "path", hops: [{ column: "org", table: "org" }], column: "founded", sqlType: "date", op: ">",
      value: { kind: "relativeDate", base: "today", sign: "+", amount: 1, unit: "y" },
    });
    // Bare `today`/`now` against a text field is the word, as any bare name.
    expect(predicate("label = now")).toEqual({ kind: "column", column: "label", op: "=", value: "now", sqlType: "text" });
  });

  test("`is [not] true|false` keeps SQL's IS semantics; `is [not] null` is IS [NOT] NULL", () => {
    expect(predicate("urgent is not true")).toEqual({ kind: "column", column: "urgent", op: "is not", value: true, sqlType: "boolean" });
    expect(predicate("urgent is false")).toEqual({ kind: "column", column: "urgent", op: "is", value: false, sqlType: "boolean" });
    expect(predicate("org.active is not false")).toEqual({
      kind: "path", hops: [{ column: "org", table: "org" }], column: "active", sqlType: "boolean", op: "is not", value: { kind: "literal", value: false },
    });
    expect(predicate("label is not null")).toEqual({ kind: "column", column: "label", op: "!=", value: null, sqlType: "text" });
    expect(predicate("urgent = true")).toEqual({ kind: "column", column: "urgent", op: "=", value: true, sqlType: "boolean" });
  });

  test("type errors are DZ3007 / DZ3008 at the offending value, and the leaf is FALSE", () => {
    expect(codes("state in [a, d]")).toEqual(["DZ3008 0:13 `d` is not a value of `state`"]);
    expect(codes("n in [1, \"x\", 2.5]")).toEqual([
      "DZ3007 0:9 cannot compare int field `n` with a string",
      "DZ3007 0:14 cannot compare int field `n` with the non-integer 2.5",
    ]);
    expect(codes("state in [a, null]")).toEqual(["DZ3007 0:13 `null` in a list never matches in SQL (`in` with NULL is never decided)"]);
    const notIn = analyze(input(SPEC("state not in [None, a]"))).diagnostics;
    expect(notIn.map((d) => [d.code, d.message, d.help])).toEqual([
      ["DZ3007", "`null` in a list never matches in SQL (`not in` with NULL is never decided)", "drop it: `state not in […]` already leaves out rows whose `state` is null"],
    ]);
    expect(codes("state not in []")).toEqual(["DZ3007 0:13 `not in []`: the list is empty"]);
    expect(codes("state in a")).toEqual(["DZ3007 0:9 `in` needs a list such as `[a, b]`"]);
    expect(codes("state = [a]")).toEqual(["DZ3007 0:8 cannot compare enum field `state` with a list (use `in`)"]);
    expect(codes("n in [current_user, [1]]")).toEqual([
      "DZ3007 0:6 a list holds literals only (strings, numbers, `true`/`false`, names)",
      "DZ3007 0:20 a list holds literals only (strings, numbers, `true`/`false`, names)",
    ]);
    expect(codes("n > today - 1d")).toEqual(["DZ3007 0:4 cannot compare int field `n` with `today - 1d` (a relative date needs a date or datetime field)"]);
    expect(codes("state is a")).toEqual(["DZ3007 0:9 `is` takes `null`, `true` or `false`"]);
    expect(codes("label is not true")).toEqual(["DZ3007 0:13 cannot compare str field `label` with `true`"]);
    const bad = analyze(input(SPEC("state in [a, null]")));
    expect(bad.ir).toBeNull();
  });

  test("the rendered diagnostic of `null` in a list has the help line", () => {
    const result = analyze(input(SPEC("label in [\"x\", None]")));
    expect(renderDiagnostics(result.diagnostics, new Map([["t.dz", makeSourceFile("t.dz", SPEC("label in [\"x\", None]"))]]))).toBe(
      [
        "error[DZ3007]: `null` in a list never matches in SQL (`in` with NULL is never decided)",
        "  --> t.dz:20:26",
        "   |",
        '20 |     list: label in ["x", None]',
        "   |                          ^^^^",
        "   = help: write `label = null or label in […]`",
        "",
      ].join("\n"),
    );
  });
});

const POLICY = { kind: "policy" } as const;
const APP = { kind: "table", alias: "job" } as const;
const HOSTILE = `O'Brien \\ "x" ü`;
const col = (c: Omit<ColumnCheck, "kind">): ColumnCheck => ({ kind: "column", ...c }) as ColumnCheck;

describe("simplify", () => {
  test("NOT of a column `in`/`is` test flips the operator; NOT of a path test stays a NOT", () => {
    expect(predicate("not (state in [a, b])")).toEqual({ kind: "column", column: "state", op: "not in", value: ["a", "b"], sqlType: "text" });
    expect(predicate("not (urgent is true)")).toEqual({ kind: "column", column: "urgent", op: "is not", value: true, sqlType: "boolean" });
    expect(predicate("not (org.kind in [secret])")).toEqual({
      kind: "not",
      child: { kind: "path", hops: [{ column: "org", table: "org" }], column: "kind", sqlType: "text", op: "in", value: { kind: "list", values: ["secret"] } },
    });
  });
});

describe("SQL", () => {
  test("lists inline quoted literals: `IN (…)` / `NOT IN (…)`", () => {
    const list = col({ column: "state", op: "in", value: ["a", HOSTILE], sqlType: "text" });
    expect(compilePredicate(list, POLICY)).toBe(`"state" IN ('a', 'O''Brien \\ "x" ü')`);
    expect(compilePredicate(list, APP)).toBe(`"job"."state" IN ('a', 'O''Brien \\ "x" ü')`);
    expect(compilePredicate(col({ column: "n", op: "not in", value: [1, -2], sqlType: "integer" }), POLICY)).toBe(`"n" NOT IN (1, -2)`);
  });

  test("relative dates are computed by PostgreSQL", () => {
    const rel = (base: "today" | "now", sign: "+" | "-", amount: number, unit: "min" | "h" | "d" | "w" | "m" | "y") => ({ kind: "relativeDate", base, sign, amount, unit }) as const;
    expect(compilePredicate(col({ column: "due_on", op: ">=", value: rel("today", "-", 30, "d"), sqlType: "date" }), POLICY)).toBe(`"due_on" >= (CURRENT_DATE - INTERVAL '30 days')`);
    expect(compilePredicate(col({ column: "seen_at", op: "<", value: rel("now", "+", 1, "h"), sqlType: "timestamptz" }), APP)).toBe(`"job"."seen_at" < (now() + INTERVAL '1 hour')`);
    expect(compilePredicate(col({ column: "seen_at", op: ">", value: rel("now", "-", 2, "w"), sqlType: "timestamptz" }), POLICY)).toBe(`"seen_at" > (now() - INTERVAL '2 weeks')`);
    expect(compilePredicate(col({ column: "due_on", op: "=", value: rel("today", "+", 0, "d"), sqlType: "date" }), POLICY)).toBe(`"due_on" = CURRENT_DATE`);
  });

  test("`is [not] true|false`", () => {
    expect(compilePredicate(col({ column: "urgent", op: "is not", value: true, sqlType: "boolean" }), POLICY)).toBe(`"urgent" IS NOT TRUE`);
    expect(compilePredicate(col({ column: "urgent", op: "is", value: false, sqlType: "boolean" }), APP)).toBe(`"job"."urgent" IS FALSE`);
  });

  const hops = [{ column: "org", table: "org" }];
  test("a list at the end of an FK path is one array argument (`= ANY` / `<> ALL`)", () => {
    const p: PathCheck = { kind: "path", hops, column: "kind", sqlType: "text", op: "not in", value: { kind: "list", values: ["a", HOSTILE] } };
    expect(compilePredicate(p, APP)).toBe(`"job"."org" IN (SELECT * FROM dz_path_f8e617d2(ARRAY['a', 'O''Brien \\ "x" ü']::text[]))`);
    expect(pathHelper(p)).toEqual({
      name: "dz_path_f8e617d2",
      params: ["text[]"],
      returns: "SETOF uuid",
      body: 'SELECT t1."id" FROM "org" t1 WHERE t1."kind" <> ALL ($1)',
      comment: "FK path org.kind not in $1: ids of org rows",
      tables: ["org"],
      signature: "(text[])",
    });
    expect(pathHelper({ ...p, op: "in" }).body).toBe('SELECT t1."id" FROM "org" t1 WHERE t1."kind" = ANY ($1)');
  });

  test("a relative date at the end of an FK path is the argument, typed by its base", () => {
    const p: PathCheck = { kind: "path", hops, column: "founded", sqlType: "date", op: ">", value: { kind: "relativeDate", base: "today", sign: "+", amount: 1, unit: "y" } };
    expect(compilePredicate(p, POLICY)).toBe(`"org" IN (SELECT * FROM dz_path_6851e097((CURRENT_DATE + INTERVAL '1 year')))`);
    expect(pathHelper(p)).toMatchObject({ params: ["timestamp"], body: 'SELECT t1."id" FROM "org" t1 WHERE t1."founded" > $1', comment: "FK path org.founded > $1: ids of org rows" });
    // A literal date on the same path and operator takes a `date`: a different helper.
    expect(pathHelper({ ...p, value: { kind: "literal", value: "2026-01-01" } }).name).not.toBe("dz_path_6851e097");
    expect(pathHelper({ ...p, value: { kind: "relativeDate", base: "now", sign: "-", amount: 3, unit: "min" } }).params).toEqual(["timestamptz"]);
  });

  test("`is [not] true|false` at the end of an FK path is baked into a helper without parameters", () => {
    const p: PathCheck = { kind: "path", hops, column: "active", sqlType: "boolean", op: "is not", value: { kind: "literal", value: true } };
    expect(compilePredicate(p, POLICY)).toBe(`"org" IN (SELECT * FROM dz_path_b2f038e3())`);
    expect(pathHelper(p)).toMatchObject({ params: [], body: 'SELECT t1."id" FROM "org" t1 WHERE t1."active" IS NOT TRUE', comment: "FK path org.active is not true: ids of org rows" });
    expect(pathHelper({ ...p, op: "is" }).name).not.toBe("dz_path_b2f038e3");
  });
});

describe("explain", () => {
  test("prints the compiled list, relative date and path helper of the new forms", () => {
    const spec =
      'app t "T"\npersona ops "Ops":\n  description: "o"\nentity Org:\n  kind: enum[public, secret]\n  permit:\n    read: authenticated\n' +
      "entity Job:\n  state: enum[a, b, c]\n  due_on: date\n  org: ref Org\n  permit:\n    list: role(ops)\n  scope:\n" +
      "    list: state not in [c] and (due_on >= today - 30d or org.kind in [public])\n      as: ops\n";
    const text = explain(analyze(input(spec)).ir!, "Job", "list", ["ops"]);
    expect(text).toContain(
      [
        "app-layer WHERE for ops:",
        `  ("job"."state" NOT IN ('c') AND ("job"."due_on" >= (CURRENT_DATE - INTERVAL '30 days') OR "job"."org" IN (SELECT * FROM dz_path_e068ae84(ARRAY['public']::text[]))))`,
        "",
        "helper functions:",
        "  dz_path_e068ae84(text[]) RETURNS SETOF uuid -- FK path org.kind in $1: ids of org rows",
        `    SELECT t1."id" FROM "org" t1 WHERE t1."kind" = ANY ($1)`,
      ].join("\n"),
    );
  });
});

describe("RBAC matrix seeds", () => {
  test("a column compared with a relative date is seeded far from today, on both sides of the boundary", () => {
    const spec =
      'app t "T"\nentity Job:\n  due_on: date\n  seen_at: datetime required\n  permit:\n    list: authenticated\n  scope:\n    list: due_on >= today - 30d\n      as: *\n' +
      "    list: seen_at < now + 1h\n      as: *\n";
    const model = buildRbacModel(analyze(input(spec)).ir!);
    const rows = model.seed.find((t) => t.table === "job")!.rows;
    expect([...new Set(rows.map((r) => r["due_on"]))].sort()).toEqual(["1000-01-01", "3000-01-01", null]);
    expect([...new Set(rows.map((r) => r["seen_at"]))].sort()).toEqual(["1000-01-01T00:00:00.000Z", "3000-01-01T00:00:00.000Z"]);
    // In scope: a due date in the year 3000, or a sighting in the year 1000.
    const expected = rows.filter((r) => r["due_on"] === "3000-01-01" || r["seen_at"] === "1000-01-01T00:00:00.000Z").map((r) => r["id"]).sort();
    const list = model.entities[0]!.expectations.find((e) => e.caller === "(unknown role)")!.list;
    expect(list).toEqual({ status: 200, ids: expected });
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(rows.length);
  });
});

describe("SQL and the RBAC evaluator agree on PostgreSQL (NULLs, quotes, relative dates)", () => {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase("scope_values");
  }, 60_000);
  afterAll(async () => {
    await db?.drop();
  });

  // Dates far from today, so the evaluator's reference day and PostgreSQL's CURRENT_DATE agree.
  const ROWS: SeedRow[] = [
    { id: "r1", state: "a", label: "it's", n: 1, due_on: "1000-01-01", seen_at: "1000-01-01T00:00:00.000Z", urgent: true },
    { id: "r2", state: "b", label: HOSTILE, n: -2, due_on: "3000-01-01", seen_at: "3000-01-01T00:00:00.000Z", urgent: false },
    { id: "r3", state: "c", label: "x", n: 7, due_on: "3000-01-01", seen_at: "1000-01-01T00:00:00.000Z", urgent: null },
    { id: "r4", state: null, label: null, n: null, due_on: null, seen_at: null, urgent: null },
  ];
  const APP_IR = { entities: [], roles: [], principal: { entity: null, table: "app_user", attributes: [] } } as unknown as AppIR;
  const CALLER = { name: "c", userId: null, roles: [] };
  const rel = (base: "today" | "now", sign: "+" | "-", amount: number, unit: "min" | "h" | "d" | "w" | "m" | "y") => ({ kind: "relativeDate", base, sign, amount, unit }) as const;
  const LEAVES: ColumnCheck[] = [
    col({ column: "state", op: "in", value: ["a", "b"], sqlType: "text" }),
    col({ column: "state", op: "not in", value: ["a"], sqlType: "text" }),
    col({ column: "label", op: "in", value: [HOSTILE, "it's"], sqlType: "text" }),
    col({ column: "label", op: "not in", value: [HOSTILE], sqlType: "text" }),
    col({ column: "n", op: "not in", value: [1, -2], sqlType: "integer" }),
    col({ column: "due_on", op: ">=", value: rel("today", "-", 30, "d"), sqlType: "date" }),
    col({ column: "due_on", op: "<", value: rel("today", "+", 0, "d"), sqlType: "date" }),
    col({ column: "seen_at", op: "<=", value: rel("now", "-", 2, "h"), sqlType: "timestamptz" }),
    col({ column: "seen_at", op: ">", value: rel("now", "+", 5, "y"), sqlType: "timestamptz" }),
    col({ column: "urgent", op: "is", value: true, sqlType: "boolean" }),
    col({ column: "urgent", op: "is not", value: true, sqlType: "boolean" }),
    col({ column: "urgent", op: "is", value: false, sqlType: "boolean" }),
    col({ column: "urgent", op: "is not", value: false, sqlType: "boolean" }),
    col({ column: "urgent", op: "!=", value: true, sqlType: "boolean" }),
  ];

  test("each leaf and its negation select the same rows in SQL and in the evaluator", async () => {
    const ev = new Evaluator(APP_IR, []);
    const values = ROWS.map((_row, i) => {
      const p = i * 7;
      return `($${p + 1}::text, $${p + 2}::text, $${p + 3}::text, $${p + 4}::integer, $${p + 5}::date, $${p + 6}::timestamptz, $${p + 7}::boolean)`;
    });
    const params = ROWS.flatMap((r) => [r.id, r.state, r.label, r.n, r.due_on, r.seen_at, r.urgent]);
    const source = `(VALUES ${values.join(", ")}) AS "job" ("id", "state", "label", "n", "due_on", "seen_at", "urgent")`;
    const outcomes: string[] = [];
    await withClient(db!.url, async (c) => {
      for (const leaf of LEAVES) {
        for (const p of [leaf, { kind: "not", child: leaf } as Predicate]) {
          const { rows } = await c.query<{ id: string }>(`SELECT "id" FROM ${source} WHERE ${compilePredicate(p, APP)} ORDER BY "id"`, params);
          const sql = rows.map((r) => r.id);
          const evaluated = ROWS.filter((r) => ev.predicate(p, r, CALLER) === true).map((r) => r.id as string);
          expect({ sql: compilePredicate(p, APP), ids: sql }).toEqual({ sql: compilePredicate(p, APP), ids: evaluated });
          outcomes.push(sql.join(","));
        }
        // The simplifier's NOT (flipping `in`/`is` operators) selects what SQL's NOT selects.
        const raw = await c.query<{ id: string }>(`SELECT "id" FROM ${source} WHERE NOT (${compilePredicate(leaf, APP)}) ORDER BY "id"`, params);
        const folded = await c.query<{ id: string }>(`SELECT "id" FROM ${source} WHERE ${compilePredicate(not(leaf), APP)} ORDER BY "id"`, params);
        expect({ leaf: compilePredicate(leaf, APP), ids: folded.rows.map((r) => r.id) }).toEqual({ leaf: compilePredicate(leaf, APP), ids: raw.rows.map((r) => r.id) });
      }
    });
    // The exact sets (leaf, then NOT leaf): NULL rows match neither side of `in`/`not in`/ordered
    // comparisons, and both `is not true` and NOT (`is true`) admit them.
    expect(outcomes).toEqual([
      "r1,r2", "r3",
      "r2,r3", "r1",
      "r1,r2", "r3",
      "r1,r3", "r2",
      "r3", "r1,r2",
      "r2,r3", "r1",
      "r1", "r2,r3",
      "r1,r3", "r2",
      "r2", "r1,r3",
      "r1", "r2,r3,r4",
      "r2,r3,r4", "r1",
      "r2", "r1,r3,r4",
      "r1,r3,r4", "r2",
      "r2", "r1",
    ]);
  });
});
