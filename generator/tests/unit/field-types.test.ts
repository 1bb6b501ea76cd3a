/**
 * Every field type, modifier and default of DSL.md §4.3–4.5 and the §4.7 lines: diagnostics of
 * resolve-entities, the lowered IR (money as two columns), and the DDL, Kysely types and
 * validators they become.
 */
import { analyze } from "../../compile";
import { makeSourceFile } from "../../diagnostics/span";
import { defaultExpression } from "../../emit/sql/default-expression";
import { emitIndexes } from "../../emit/sql/emit-indexes";
import { emitTables } from "../../emit/sql/emit-tables";
import { dbPropertyType } from "../../emit/ts/emit-db-types";
import type { AppIR } from "../../ir/ir";
import type { ProjectInput } from "../../read-project";

const input = (text: string): ProjectInput => ({ files: [makeSourceFile("t.dz", text)], rootModule: null, fallbackName: "t", specName: "t.dz" });
const codes = (text: string) =>
  analyze(input(text)).diagnostics.filter((d) => d.code !== "DZ3010").map((d) => `${d.code} ${d.span?.start.line}:${d.span?.start.column} ${d.message}`);
const entity = (body: string) => `app t "T"\nentity Item:\n${body}  permit:\n    read: authenticated\n`;
const ir = (body: string): AppIR => {
  const result = analyze(input(entity(body)));
  if (!result.ir) throw new Error(result.diagnostics.map((d) => `${d.code} ${d.message}`).join("\n"));
  return result.ir;
};
const tableSql = (body: string) => {
  const app = ir(body);
  const lines = emitTables(app.entities, app.principal).split("\n");
  return lines.slice(lines.indexOf('CREATE TABLE "item" (')).filter((l) => l !== "");
};

describe("field types (DSL.md §4.3)", () => {
  test("each type resolves; money lowers to `<f>_minor` and `<f>_currency`", () => {
    const app = ir(
      "  a: decimal(10,2)\n  b: float\n  c: url\n  d: slug\n  e: timezone\n  f: json\n  g: money(eur) required = 1250\n  h: money\n  i: file(200MB)\n  j: file(ui: drag_drop)\n",
    );
    expect(app.entities[0]!.fields.map((f) => [f.name, f.column, f.type, f.required, f.default])).toEqual([
      ["id", "id", { kind: "uuid" }, true, { kind: "generated", fn: "uuid" }],
      ["a", "a", { kind: "decimal", precision: 10, scale: 2 }, false, null],
      ["b", "b", { kind: "float" }, false, null],
      ["c", "c", { kind: "url" }, false, null],
      ["d", "d", { kind: "slug" }, false, null],
      ["e", "e", { kind: "timezone" }, false, null],
      ["f", "f", { kind: "json" }, false, null],
      ["g", "g_minor", { kind: "moneyMinor", currency: "EUR" }, true, { kind: "number", text: "1250" }],
      ["g", "g_currency", { kind: "moneyCurrency", currency: "EUR" }, true, { kind: "literal", value: "EUR" }],
      ["h", "h_minor", { kind: "moneyMinor", currency: "GBP" }, false, null],
      ["h", "h_currency", { kind: "moneyCurrency", currency: "GBP" }, true, { kind: "literal", value: "GBP" }],
      ["i", "i", { kind: "file" }, false, null],
      ["j", "j", { kind: "file" }, false, null],
    ]);
  });

  test("bad decimal(P,S) and money(CCY) are DZ4014; a money column colliding with a field is DZ4006", () => {
    expect(
      codes(entity("  a: decimal\n  b: decimal(10)\n  c: decimal(0,0)\n  d: decimal(5,6)\n  e: decimal(1001,2)\n  f: decimal(x,2)\n  g: money(EURO)\n  h: json(1)\n  i: decimal(1000,1000)\n")),
    ).toEqual([
      "DZ4014 3:6 `decimal`: write `decimal(P,S)` with 1 ≤ P ≤ 1000 and 0 ≤ S ≤ P",
      "DZ4014 4:14 `decimal(10)`: write `decimal(P,S)` with 1 ≤ P ≤ 1000 and 0 ≤ S ≤ P",
      "DZ4014 5:14 `decimal(0,0)`: write `decimal(P,S)` with 1 ≤ P ≤ 1000 and 0 ≤ S ≤ P",
      "DZ4014 6:14 `decimal(5,6)`: write `decimal(P,S)` with 1 ≤ P ≤ 1000 and 0 ≤ S ≤ P",
      "DZ4014 7:14 `decimal(1001,2)`: write `decimal(P,S)` with 1 ≤ P ≤ 1000 and 0 ≤ S ≤ P",
      "DZ4014 8:14 `decimal(x,2)`: write `decimal(P,S)` with 1 ≤ P ≤ 1000 and 0 ≤ S ≤ P",
      "DZ4014 9:12 `money(EURO)`: the currency must be a three-letter ISO 4217 code",
      "DZ4014 10:6 `json` takes no arguments",
    ]);
    expect(codes(entity("  price: money\n  price_minor: int\n"))).toEqual([
      "DZ4006 3:3 money field `price` generates column `price_minor`, which is also the field `price_minor`",
    ]);
  });
});

describe("modifiers (DSL.md §4.4)", () => {
  test("pii categories and sensitivities are checked (DZ1011); searchable and storage warn DZ1902 (was: is a rename hint)", () => {
    expect(
      codes(entity("  a: email pii(category=contact, sensitivity=high)\n  b: text pii()\n  c: text pii(category=secret)\n  d: text pii(sensitivity=low)\n  e: text pii(colour=red)\n  f: text searchable\n  g: text was: old_g\n  h: file storage=s3|local\n")),
    ).toEqual([
      "DZ1011 5:11 `pii`: `secret` is not a category (contact, identity, location, biometric, financial, health, freeform, behavioral)",
      "DZ1011 6:11 `pii`: `low` is not a sensitivity (standard, high, special_category)",
      "DZ1011 7:11 `pii(colour=red)`: expected `category=…` and/or `sensitivity=…`",
      "DZ1902 8:11 `searchable` is not implemented in this version and is ignored",
      "DZ1902 10:11 `storage` is not implemented in this version and is ignored",
    ]);
    const fields = ir("  a: email pii(category=contact, sensitivity=high) sensitive\n  b: text pii\n").entities[0]!.fields;
    expect(fields.map((f) => [f.name, f.sensitive, f.pii])).toEqual([
      ["id", false, null],
      ["a", true, { category: "contact", sensitivity: "high" }],
      ["b", false, { category: null, sensitivity: null }],
    ]);
  });

  test("`unique` on money is UNIQUE (currency, minor); url and timezone text defaults are checked (DZ4003)", () => {
    expect(tableSql("  m: money unique indexed\n").filter((l) => l.includes("UNIQUE"))).toEqual(['  CONSTRAINT "uq_item_m_currency_m_minor" UNIQUE ("m_currency", "m_minor"),']);
    expect(emitIndexes(ir("  m: money unique indexed\n").entities)!.split("\n").filter((l) => l.startsWith("CREATE"))).toEqual([
      'CREATE INDEX "ix_item_m_minor" ON "item" ("m_minor", "id");',
    ]);
    expect(codes(entity('  a: url = "example.com"\n  b: timezone = "Mars/Base"\n  c: timezone = "America/New_York"\n  d: url = "https://x.org/a"\n'))).toEqual([
      "DZ4003 3:12 default `example.com` is not an absolute http(s) URL",
      "DZ4003 4:17 default `Mars/Base` is not an IANA time-zone name",
    ]);
  });

  test("`unique?` is `unique`; `indexed` gives ix_<t>_<col>; pii becomes COMMENT ON COLUMN", () => {
    const app = ir("  a: str(9) unique?\n  b: int indexed\n  c: money indexed\n  d: email pii(category=contact)\n");
    expect(tableSql("  a: str(9) unique?\n  b: int indexed\n  d: email pii(category=contact)\n")).toEqual([
      'CREATE TABLE "item" (',
      '  "id" uuid NOT NULL DEFAULT gen_random_uuid(),',
      '  "a" text,',
      '  "b" integer,',
      '  "d" text,',
      '  CONSTRAINT "pk_item" PRIMARY KEY ("id"),',
      '  CONSTRAINT "uq_item_a" UNIQUE ("a"),',
      '  CONSTRAINT "ck_item_a_len" CHECK (char_length("a") <= 9)',
      ");",
      `COMMENT ON COLUMN "item"."d" IS 'pii: category=contact';`,
    ]);
    expect(emitIndexes(app.entities)!.split("\n").filter((l) => l.startsWith("CREATE"))).toEqual([
      'CREATE INDEX "ix_item_b" ON "item" ("b", "id");',
      'CREATE INDEX "ix_item_c_minor" ON "item" ("c_minor", "id");',
    ]);
  });
});

describe("defaults (DSL.md §4.5)", () => {
  test("numbers keep their text; relative dates get intervals, and `::date` on date columns", () => {
    const fields = ir(
      "  a: decimal(6,2) = 12.50\n  b: float = -0.5\n  c: money = -100\n  d: date = today + 7d\n  e: date = today - 3m\n  f: datetime = now + 30min\n  g: datetime = now - 24h\n  h: datetime = today + 1w\n  i: date = today + 1y\n  j: int = -3\n  k: url = \"https://x.org\"\n",
    ).entities[0]!.fields;
    expect(fields.filter((f) => f.default !== null && f.column !== "id").map((f) => `${f.column} ${defaultExpression(f.default!)}`)).toEqual([
      "a 12.50",
      "b -0.5",
      "c_minor -100",
      "c_currency 'GBP'",
      "d (CURRENT_DATE + INTERVAL '7 days')::date",
      "e (CURRENT_DATE - INTERVAL '3 months')::date",
      "f (now() + INTERVAL '30 minutes')",
      "g (now() - INTERVAL '24 hours')",
      "h (CURRENT_DATE + INTERVAL '1 week')",
      "i (CURRENT_DATE + INTERVAL '1 year')::date",
      "j -3",
      "k 'https://x.org'",
    ]);
  });

  test("number defaults must fit the type (DZ4003)", () => {
    expect(codes(entity("  a: decimal(4,2) = 1.234\n  b: decimal(4,2) = 123\n  c: money = 1.5\n  d: float = true\n  e: json = 1\n  f: date = today + 3h\n  g: slug = \"my-slug\"\n  h: slug = \"No Slug\"\n"))).toEqual([
      "DZ4003 3:21 `1.234` has more than 2 decimal places for decimal(4,2)",
      "DZ4003 4:21 `123` does not fit decimal(4,2)",
      "DZ4003 5:14 a money default is in minor units (a whole number), not `1.5`",
      "DZ4003 6:14 a boolean default does not fit a `float` field",
      "DZ4003 7:13 a number default does not fit a `json` field",
      "DZ4003 8:13 `today + 3h` on a date field: use days, weeks, months or years",
      "DZ4003 10:13 default `No Slug` is not a slug (3 to 40 of a-z, 0-9 and single dashes)",
    ]);
  });
});

describe("entity lines and SQL of every type (DSL.md §4.3, §4.7)", () => {
  const BODY =
    "  name: str(20) required\n  price: decimal(10,2) required = 12.50\n  handle: slug\n  cost: money(usd)\n  attrs: json\n  kind: enum[a, b]\n" +
    "  index kind, name\n  index name\n  unique name, kind\n  unique cost, name\n  unique name, kind\n  unique handle\n";

  test("CREATE TABLE: types, slug and currency CHECKs, composite uniques (money = currency, minor; identical lines merged)", () => {
    expect(tableSql(BODY)).toEqual([
      'CREATE TABLE "item" (',
      '  "id" uuid NOT NULL DEFAULT gen_random_uuid(),',
      '  "name" text NOT NULL,',
      '  "price" numeric(10,2) NOT NULL DEFAULT 12.50,',
      '  "handle" text,',
      '  "cost_minor" bigint,',
      `  "cost_currency" char(3) NOT NULL DEFAULT 'USD',`,
      '  "attrs" jsonb,',
      '  "kind" text,',
      '  CONSTRAINT "pk_item" PRIMARY KEY ("id"),',
      '  CONSTRAINT "ck_item_name_len" CHECK (char_length("name") <= 20),',
      `  CONSTRAINT "ck_item_handle_slug" CHECK ("handle" ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length("handle") BETWEEN 3 AND 40),`,
      `  CONSTRAINT "ck_item_cost_currency_ccy" CHECK ("cost_currency" ~ '^[A-Z]{3}$'),`,
      `  CONSTRAINT "ck_item_kind_enum" CHECK ("kind" IN ('a', 'b')),`,
      '  CONSTRAINT "uq_item_name_kind" UNIQUE ("name", "kind"),',
      '  CONSTRAINT "uq_item_cost_currency_cost_minor_name" UNIQUE ("cost_currency", "cost_minor", "name"),',
      '  CONSTRAINT "uq_item_handle" UNIQUE ("handle")',
      ");",
    ]);
  });

  test("CREATE INDEX for index lines; Kysely types of every family", () => {
    const app = ir(BODY);
    expect(emitIndexes(app.entities)!.split("\n").filter((l) => l.startsWith("CREATE"))).toEqual([
      'CREATE INDEX "ix_item_kind_name" ON "item" ("kind", "name");',
      'CREATE INDEX "ix_item_name" ON "item" ("name");',
    ]);
    expect(Object.fromEntries(app.entities[0]!.fields.map((f) => [f.column, dbPropertyType(f)]))).toEqual({
      id: "Generated<string>",
      name: "string",
      price: "Generated<Numeric>",
      handle: "string | null",
      cost_minor: "Int8 | null",
      cost_currency: "Generated<string>",
      attrs: "Json | null",
      kind: '"a" | "b" | null',
    });
  });

  test("index/unique lines are no longer reported as not generated; bad names stay DZ4012", () => {
    expect(codes(entity("  a: int\n  index a\n  unique a, nope\n"))).toEqual([
      "DZ4012 5:13 `nope` is not a field of entity Item",
    ]);
  });
});
