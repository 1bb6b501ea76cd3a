/**
 * The expression compiler of invariants (DSL.md §4.10–4.11, emit/sql/compile-expression.ts) and
 * the CHECKs and ON DELETE actions it feeds: exact SQL, then the same SQL evaluated by PostgreSQL
 * (three-valued logic, numeric division, dates and intervals, CASE).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { analyze } from "../../compile";
import { makeSourceFile } from "../../diagnostics/span";
import { compileExpression } from "../../emit/sql/compile-expression";
import { emitForeignKeys } from "../../emit/sql/emit-foreign-keys";
import { emitTables } from "../../emit/sql/emit-tables";
import type { AppIR, EntityIR } from "../../ir/ir";
import type { ProjectInput } from "../../read-project";
import { createTestDatabase, withClient, type TestDatabase } from "../support/pg";

const input = (text: string, name = "t.dz"): ProjectInput => ({ files: [makeSourceFile(name, text)], rootModule: null, fallbackName: "t", specName: name });

function appIr(text: string): AppIR {
  const result = analyze(input(text));
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0 || result.ir === null) throw new Error(errors.map((d) => `${d.code} ${d.message}`).join("\n"));
  return result.ir;
}

const HEAD = 'app t "T"\n';
const PERMIT = "  permit:\n    read: authenticated\n";
const OWNER = `entity Owner:\n  cap: int\n  boss: ref Owner\n${PERMIT}`;
const FIELDS =
  "entity Thing:\n  status: enum[open, closed] = open\n  n: int\n  m: int\n  price: decimal(8,2)\n  label: str(20)\n  note: text\n" +
  "  d: date\n  e: date\n  at: datetime\n  flag: bool\n  owner: ref Owner\n  cost: money\n";

/** Compiles `invariant: <expr>` of Thing, as a CHECK body (bare columns) or for a probe (alias `thing`). */
function compile(expr: string, row: "policy" | "table" = "policy"): string {
  const app = appIr(`${HEAD}${OWNER}${FIELDS}  invariant: ${expr}\n${PERMIT}`);
  const thing = app.entities.find((e) => e.name === "Thing")!;
  const inv = thing.rules!.invariants[0]!;
  return compileExpression(inv.expr, { entity: thing, entities: app.entities, row: row === "policy" ? { kind: "policy" } : { kind: "table", alias: "thing" } });
}

describe("compile-expression: exact SQL", () => {
  test.each([
    ["n = 1", `("n" = 1)`],
    ["n == 1 and m != 2", `(("n" = 1) AND ("m" <> 2))`],
    ["status = closed or note = null", `(("status" = 'closed') OR ("note" IS NULL))`],
    ["note != null", `("note" IS NOT NULL)`],
    ["note is not null or label is null", `(("note" IS NOT NULL) OR ("label" IS NULL))`],
    ["status in [open, closed]", `("status" IN ('open', 'closed'))`],
    ["n not in [1, 2]", `("n" NOT IN (1, 2))`],
    ["not (n > 1)", `(NOT ("n" > 1))`],
    [`label != "O'Brien"`, `("label" <> 'O''Brien')`],
    ["n / m >= 1", `((("n")::numeric / "m") >= 1)`],
    ["n / 2 = 0.5", `((("n")::numeric / 2) = 0.5)`],
    ["price / 2 > 1", `(("price" / 2) > 1)`],
    ["n % 3 = 0 and n * m - 1 > 0", `((("n" % 3) = 0) AND ((("n" * "m") - 1) > 0))`],
    ["-n <= 0", `((-"n") <= 0)`],
    ["-(-n) <= 0", `((-(-"n")) <= 0)`],
    ["e >= d + 2d", `("e" >= (("d" + INTERVAL '2 days'))::date)`],
    ["e <= d - 1w and e > d + 3m", `(("e" <= (("d" - INTERVAL '1 week'))::date) AND ("e" > (("d" + INTERVAL '3 months'))::date))`],
    ["at < at + 30min", `("at" < ("at" + INTERVAL '30 minutes'))`],
    ["e - d <= 3", `(("e" - "d") <= 3)`],
    ["d <= today", `("d" <= CURRENT_DATE)`],
    ["at <= now() + 1h", `("at" <= (now() + INTERVAL '1 hour'))`],
    ["days_since(d) < 30 and days_until(at) > 0", `(((CURRENT_DATE - ("d")::date) < 30) AND ((("at")::date - CURRENT_DATE) > 0))`],
    [`len(coalesce(note, "")) <= 5`, `(char_length(COALESCE("note", '')) <= 5)`],
    [`concat(label, "-", note) != ""`, `(concat("label", '-', "note") <> '')`],
    ["abs(n) < round(price, 1) and round(price) > 0", `((abs("n") < round(("price")::numeric, 1)) AND (round(("price")::numeric) > 0))`],
    ["min(n, m, 3) < max(n, m)", `(LEAST("n", "m", 3) < GREATEST("n", "m"))`],
    ["if flag: n > 1 elif status == closed: n > 2 else: true", `CASE WHEN "flag" THEN ("n" > 1) WHEN ("status" = 'closed') THEN ("n" > 2) ELSE TRUE END`],
    ["cost >= 0", `("cost_minor" >= 0)`],
    ["n <= owner.cap", `("n" <= (SELECT "dz_r1"."cap" FROM "owner" AS "dz_r1" WHERE "dz_r1"."id" = "owner"))`],
    [
      "n <= owner.boss.cap",
      `("n" <= (SELECT "dz_r2"."cap" FROM "owner" AS "dz_r2" WHERE "dz_r2"."id" = (SELECT "dz_r1"."boss" FROM "owner" AS "dz_r1" WHERE "dz_r1"."id" = "owner")))`,
    ],
  ])("%s", (expr, sql) => {
    expect(compile(expr)).toBe(sql);
  });

  test("the probe form qualifies the row's columns by the table alias", () => {
    expect(compile("n <= owner.cap or d >= today", "table")).toBe(
      `(("thing"."n" <= (SELECT "dz_r1"."cap" FROM "owner" AS "dz_r1" WHERE "dz_r1"."id" = "thing"."owner")) OR ("thing"."d" >= CURRENT_DATE))`,
    );
  });
});

describe("CHECK constraints and ON DELETE", () => {
  const FIXTURE = path.resolve(__dirname, "../../../fixtures/ir-invariants/app.dz");
  const orders = (): AppIR => appIr(readFileSync(FIXTURE, "utf8"));

  test("row-local invariants become named CHECKs after the column constraints; the others do not", () => {
    const order = orders().entities.find((e) => e.name === "Order")!;
    const checks = emitTables([order], { entity: null, table: "app_user", attributes: [] })
      .split("\n")
      .filter((l) => l.includes('"ck_order_') && !/_enum"/.test(l))
      .map((l) => l.trim());
    expect(checks).toEqual([
      `CONSTRAINT "ck_order_inv_1" CHECK ((("status" = 'placed') OR ("quantity" > 0))),`,
      `CONSTRAINT "ck_order_non_negative_total" CHECK (((("quantity" * "unit_price") - "discount") >= 0)),`,
      `CONSTRAINT "ck_order_inv_3" CHECK ((("status" <> 'cancelled') OR ("cancel_reason" IS NOT NULL))),`,
      `CONSTRAINT "ck_order_inv_4" CHECK ((('shipped' = "status") OR ("shipped_at" IS NULL))),`,
      `CONSTRAINT "ck_order_inv_5" CHECK ((("status" IN ('placed', 'shipped')) AND (NOT ("priority" NOT IN ('low', 'high'))))),`,
      `CONSTRAINT "ck_order_inv_6" CHECK ((("ship_by" IS NULL) OR (("placed_on" IS NOT NULL) AND ("ship_by" >= (("placed_on" + INTERVAL '2 days'))::date)))),`,
      `CONSTRAINT "ck_order_inv_9" CHECK (((char_length(COALESCE("note", '')) <= 500) AND ((abs("discount") % 5) = 0))),`,
      `CONSTRAINT "ck_order_inv_10" CHECK (CASE WHEN "rush" THEN (("ship_by" - "placed_on") <= 3) WHEN ("priority" = 'high') THEN (("ship_by" - "placed_on") <= 7) ELSE TRUE END),`,
      `CONSTRAINT "ck_order_inv_11" CHECK ((((-"discount") <= 0) AND (((("quantity")::numeric / 2) >= 1) = TRUE)))`,
    ]);
  });

  test("has_many/has_one actions become ON DELETE on the child FK; none keeps NO ACTION", () => {
    const app = appIr(
      `${HEAD}entity Team:\n  members: has_many Person cascade\n  lead: has_one Lead restrict\n  slots: has_many Slot nullify\n${PERMIT}` +
        `entity Person:\n  team: ref Team required\n${PERMIT}entity Lead:\n  team: ref Team\n${PERMIT}` +
        `entity Slot:\n  team: ref Team\n${PERMIT}entity Other:\n  team: ref Team\n${PERMIT}`,
    );
    expect(emitForeignKeys(app.entities)!.split("\n").filter((l) => l.startsWith("ALTER"))).toEqual([
      `ALTER TABLE "lead" ADD CONSTRAINT "fk_lead_team" FOREIGN KEY ("team") REFERENCES "team" ("id") ON DELETE RESTRICT;`,
      `ALTER TABLE "other" ADD CONSTRAINT "fk_other_team" FOREIGN KEY ("team") REFERENCES "team" ("id");`,
      `ALTER TABLE "person" ADD CONSTRAINT "fk_person_team" FOREIGN KEY ("team") REFERENCES "team" ("id") ON DELETE CASCADE;`,
      `ALTER TABLE "slot" ADD CONSTRAINT "fk_slot_team" FOREIGN KEY ("team") REFERENCES "team" ("id") ON DELETE SET NULL ("team");`,
    ]);
  });
});

describe("compile-expression on PostgreSQL", () => {
  let db: TestDatabase | undefined;
  let app: AppIR;
  let thing: EntityIR;
  beforeAll(async () => {
    db = await createTestDatabase("compile_expression");
    app = appIr(`${HEAD}${OWNER}${FIELDS}${PERMIT}`);
    thing = app.entities.find((e) => e.name === "Thing")!;
    // The fixture's whole table DDL (every CHECK) must be accepted by PostgreSQL (then rolled back).
    const orders = appIr(readFileSync(path.resolve(__dirname, "../../../fixtures/ir-invariants/app.dz"), "utf8"));
    await withClient(db.url, (c) => c.query(`BEGIN;\n${emitTables(orders.entities, orders.principal)}\nROLLBACK;`));
    await withClient(db.url, (c) => c.query(`${emitTables(app.entities, app.principal)}\n${emitForeignKeys(app.entities)}`));
  }, 60_000);
  afterAll(async () => {
    await db?.drop();
  });

  /** Evaluates `invariant: <expr>` over one would-be Thing row (omitted columns are NULL). */
  async function evaluate(expr: string, row: Record<string, unknown>): Promise<boolean | null> {
    const compiled = compile(expr, "table");
    const columns = thing.fields.map((f, i) => `$${i + 1}::${f.type.kind === "int" ? "integer" : f.type.kind === "moneyMinor" ? "bigint" : f.type.kind === "decimal" ? "numeric" : f.type.kind === "date" ? "date" : f.type.kind === "datetime" ? "timestamptz" : f.type.kind === "bool" ? "boolean" : f.type.kind === "uuid" || f.type.kind === "ref" ? "uuid" : "text"} AS "${f.column}"`);
    const values = thing.fields.map((f) => row[f.column] ?? null);
    return withClient(db!.url, async (c) => {
      const { rows } = await c.query<{ ok: boolean | null }>(`SELECT ${compiled} AS ok FROM (SELECT ${columns.join(", ")}) AS "thing"`, values);
      return rows[0]!.ok;
    });
  }

  test.each([
    ["n / 2 = 0.5", { n: 1 }, true],
    ["n / m = 1.5", { n: 3, m: 2 }, true],
    ["n % 3 = 1", { n: 7 }, true],
    ["n > 1", {}, null],
    ["n > 1 or true", {}, true],
    ["n > 1 and false", {}, false],
    ["note != null", {}, false],
    ["status != closed", { status: null }, null],
    ["e >= d + 2d", { d: "2024-02-28", e: "2024-03-01" }, true],
    ["e >= d + 1m", { d: "2024-01-31", e: "2024-02-28" }, false],
    ["e - d = 2", { d: "2024-02-28", e: "2024-03-01" }, true],
    ["d <= today and days_since(d) >= 1", { d: "2000-01-01" }, true],
    ["days_until(d) > 0", { d: "2999-01-01" }, true],
    ["if flag: n > 1 elif status == closed: n > 2 else: false", { flag: false, status: "closed", n: 3 }, true],
    ["if flag: n > 1 elif status == closed: n > 2 else: false", { flag: null, status: "open", n: 3 }, false],
    [`len(coalesce(note, "")) = 0`, {}, true],
    ["round(price, 1) = 1.3", { price: "1.25" }, true],
    ["min(n, m) = 1 and max(n, m) = 4", { n: 4, m: 1 }, true],
  ])("%s over %j is %s", async (expr, row, expected) => {
    expect(await evaluate(expr, row)).toBe(expected);
  });

  test("a dotted reference reads the referenced row; a missing one is NULL", async () => {
    const owner = await withClient(db!.url, async (c) => (await c.query<{ id: string }>(`INSERT INTO "owner" (cap) VALUES (10) RETURNING id`)).rows[0]!.id);
    expect(await evaluate("n <= owner.cap", { n: 10, owner })).toBe(true);
    expect(await evaluate("n <= owner.cap", { n: 11, owner })).toBe(false);
    expect(await evaluate("n <= owner.cap", { n: 11, owner: "00000000-0000-4000-8000-000000000000" })).toBe(null);
  });
});
