/**
 * Follow-up migrations (emit/sql/diff-schema.ts, schema-snapshot.ts, planMigrations): the exact
 * SQL of each kind of step, refusals with their DZ5xxx code, the graphile-migrate hash chain and
 * file naming, and the snapshot as a function of the emitted SQL.
 */
import { analyze } from "../../compile";
import { makeSourceFile } from "../../diagnostics/span";
import { planMigrations, type PreviousSchema } from "../../emit/sql/emit-migrations";
import { graphileMigration } from "../../emit/sql/graphile-migration";
import { buildSchemaSnapshot, parseSnapshot, recreatableSql } from "../../emit/sql/schema-snapshot";
import type { AppIR } from "../../ir/ir";

const CTX = { specName: "t.dz", generatorVersion: "0.0.0", templates: new Map<string, string>() };

function ir(entities: string): AppIR {
  const text = `app t "T"\n${entities}`;
  const result = analyze({ files: [makeSourceFile("t.dz", text)], rootModule: null, fallbackName: "t", specName: "t.dz" });
  if (!result.ir) throw new Error(result.diagnostics.map((d) => `${d.code} ${d.message}`).join("\n"));
  return result.ir;
}

const entity = (name: string, body: string, permit = "    list: authenticated\n") => `entity ${name}:\n${body}  permit:\n${permit}`;

/** The previous state after generating `from` once (initial migration). */
function previousOf(from: string): PreviousSchema {
  const plan = planMigrations(ir(from), CTX, null);
  const hash = /^--! Hash: (\S+)$/m.exec(plan.files[0]!.contents)![1]!;
  return { snapshot: plan.snapshot, last: { file: "000001-initial.sql", hash } };
}

/** Steps from `from` to `to` as `[refusal?, description, sql]`, without the re-created groups. */
function steps(from: string, to: string) {
  return planMigrations(ir(to), CTX, previousOf(from))
    .steps.filter((s) => !s.description.startsWith("re-create "))
    .map((s) => (s.refusal ? [s.refusal, s.description, s.sql] : [s.description, s.sql]));
}

const ITEM = (body: string, extra = "") => entity("Item", `  name: str(40) required\n${body}`) + extra;

describe("safe steps: exact SQL", () => {
  test("an unchanged schema gives no migration", () => {
    const spec = ITEM("  note: text\n");
    const plan = planMigrations(ir(spec), CTX, previousOf(spec));
    expect([plan.files, plan.steps]).toEqual([[], []]);
  });

  test("new nullable column, required column with a default, enum with a default", () => {
    expect(steps(ITEM(""), ITEM("  note: text\n  count: int=0 required\n  kind: enum[a,b]=a\n"))).toEqual([
      ['add column "item"."note"', 'ALTER TABLE "item" ADD COLUMN "note" text;'],
      ['add column "item"."count"', 'ALTER TABLE "item" ADD COLUMN "count" integer NOT NULL DEFAULT 0;'],
      ['add column "item"."kind"', `ALTER TABLE "item" ADD COLUMN "kind" text DEFAULT 'a';`],
      ['add constraint "ck_item_kind_enum" on "item"', `ALTER TABLE "item" ADD CONSTRAINT "ck_item_kind_enum" CHECK ("kind" IN ('a', 'b'));`],
    ]);
  });

  test("new table: CREATE TABLE, then its foreign key and index", () => {
    const before = ITEM("");
    const after = before + entity("Part", "  item: ref Item required\n");
    expect(steps(before, after)).toEqual([
      [
        'create table "part"',
        'CREATE TABLE "part" (\n  "id" uuid NOT NULL DEFAULT gen_random_uuid(),\n  "item" uuid NOT NULL,\n  CONSTRAINT "pk_part" PRIMARY KEY ("id")\n);',
      ],
      ['add constraint "fk_part_item" on "part"', 'ALTER TABLE "part" ADD CONSTRAINT "fk_part_item" FOREIGN KEY ("item") REFERENCES "item" ("id");'],
      ['create index "ix_part_item"', 'CREATE INDEX "ix_part_item" ON "part" ("item", "id");'],
    ]);
  });

  test("default changed and dropped", () => {
    expect(steps(ITEM("  a: int=1\n  b: int=2\n"), ITEM("  a: int=5\n  b: int\n"))).toEqual([
      ['set the default of "item"."a"', 'ALTER TABLE "item" ALTER COLUMN "a" SET DEFAULT 5;'],
      ['drop the default of "item"."b"', 'ALTER TABLE "item" ALTER COLUMN "b" DROP DEFAULT;'],
    ]);
  });

  test("NOT NULL dropped; NOT NULL added on a column with a default fills NULLs first", () => {
    expect(steps(ITEM("  a: int required\n  b: int=3\n"), ITEM("  a: int\n  b: int=3 required\n"))).toEqual([
      ['drop NOT NULL on "item"."a"', 'ALTER TABLE "item" ALTER COLUMN "a" DROP NOT NULL;'],
      [
        'set NOT NULL on "item"."b" (existing NULLs take the default)',
        'UPDATE "item" SET "b" = DEFAULT WHERE "b" IS NULL;\nALTER TABLE "item" ALTER COLUMN "b" SET NOT NULL;',
      ],
    ]);
  });

  test("enum value added and longer str(N): the CHECK is replaced", () => {
    expect(steps(ITEM("  kind: enum[a,b]\n  code: str(5)\n"), ITEM("  kind: enum[a,b,c]\n  code: str(9)\n"))).toEqual([
      ['drop constraint "ck_item_kind_enum" on "item"', 'ALTER TABLE "item" DROP CONSTRAINT "ck_item_kind_enum";'],
      ['drop constraint "ck_item_code_len" on "item"', 'ALTER TABLE "item" DROP CONSTRAINT "ck_item_code_len";'],
      ['replace constraint "ck_item_kind_enum" on "item"', `ALTER TABLE "item" ADD CONSTRAINT "ck_item_kind_enum" CHECK ("kind" IN ('a', 'b', 'c'));`],
      ['replace constraint "ck_item_code_len" on "item"', 'ALTER TABLE "item" ADD CONSTRAINT "ck_item_code_len" CHECK (char_length("code") <= 9);'],
    ]);
  });

  test("unique and index added, then removed", () => {
    const plain = ITEM("  a: int\n  b: int\n");
    const indexed = ITEM("  a: int unique\n  b: int\n  index a, b\n");
    expect(steps(plain, indexed)).toEqual([
      ['add constraint "uq_item_a" on "item"', 'ALTER TABLE "item" ADD CONSTRAINT "uq_item_a" UNIQUE ("a");'],
      ['create index "ix_item_a_b"', 'CREATE INDEX "ix_item_a_b" ON "item" ("a", "b");'],
    ]);
    expect(steps(indexed, plain)).toEqual([
      ['drop constraint "uq_item_a" on "item"', 'ALTER TABLE "item" DROP CONSTRAINT "uq_item_a";'],
      ['drop index "ix_item_a_b"', 'DROP INDEX IF EXISTS "ix_item_a_b";'],
    ]);
  });

  test("policies re-created when access changes (DROP POLICY IF EXISTS first), nothing else", () => {
    const before = ITEM("");
    const after = entity("Item", "  name: str(40) required\n", "    list: authenticated\n    create: authenticated\n");
    const plan = planMigrations(ir(after), CTX, previousOf(before));
    expect(plan.steps.map((s) => s.description)).toEqual(["re-create row-level security"]);
    expect(plan.steps[0]!.sql).toContain('DROP POLICY IF EXISTS "scope_insert" ON "item";\nCREATE POLICY "scope_insert" ON "item" FOR INSERT TO "dazzle_app"');
  });

  test("auto_update trigger added, then removed: trigger re-created idempotently, then dropped with its function", () => {
    const before = ITEM("  at: datetime\n");
    const after = ITEM("  at: datetime auto_update\n");
    const added = planMigrations(ir(after), CTX, previousOf(before)).steps.find((s) => s.description === "re-create auto_update triggers")!;
    expect(added.sql).toContain('DROP TRIGGER IF EXISTS "dazzle_auto_update" ON "item";\nCREATE TRIGGER "dazzle_auto_update" BEFORE UPDATE ON "item"\n');
    expect(steps(after, before).slice(-2)).toEqual([
      ['drop trigger "dazzle_auto_update" on "item"', 'DROP TRIGGER IF EXISTS "dazzle_auto_update" ON "item";'],
      ['drop function "dazzle_auto_update_item"()', 'DROP FUNCTION IF EXISTS "dazzle_auto_update_item"();'],
    ]);
  });

  test("a caller role's policy is dropped when the role's list scope becomes `all` (none on a dropped table); the roles group records dazzle_app's membership", () => {
    const member = 'persona member "Member":\n  description: "m"\n';
    const scoped = (name: string, rule: string) => entity(name, "  done: bool=false required\n", `    list: role(member)\n  scope:\n    list: ${rule}\n      as: member\n`);
    const before = member + scoped("Item", "done = false") + scoped("Gone", "done = true");
    const after = member + scoped("Item", "all");
    expect(steps(before, after)).toEqual([
      ['drop index "ix_item_done"', 'DROP INDEX IF EXISTS "ix_item_done";'],
      ["DZ5001", 'drop table "gone"', 'DROP TABLE "gone" CASCADE;'],
      ['drop policy "select_as_member" on "item"', 'DROP POLICY IF EXISTS "select_as_member" ON "item";'],
    ]);
    const plan = planMigrations(ir(after), CTX, previousOf(before));
    expect(plan.steps.map((s) => s.description)).toEqual([
      'drop index "ix_item_done"',
      'drop table "gone"',
      "re-create roles",
      "re-create session readers",
      "re-create events",
      "re-create row-level security",
      'drop policy "select_as_member" on "item"',
    ]);
    expect(steps(after, before).filter(([description]) => description!.startsWith("drop policy"))).toEqual([]);
    // db:verify reads the caller roles from the roles group's memberships.
    const memberships = (spec: string) => planMigrations(ir(spec), CTX, null).snapshot.groups.find((g) => g.name === "roles")!.memberships;
    expect([memberships(before), memberships(after)]).toEqual([[{ role: '"dazzle_as_member"', member: '"dazzle_app"' }], []]);
  });

});

describe("destructive steps carry their code", () => {
  test("DZ5001 drop table and drop column; DZ5005 hint for a drop + add of the same type", () => {
    const before = ITEM("  old_name: text\n") + entity("Gone", "  x: int\n");
    const after = ITEM("  new_name: text\n");
    const plan = planMigrations(ir(after), CTX, previousOf(before));
    expect(plan.steps.filter((s) => s.refusal).map((s) => [s.refusal, s.description, s.sql])).toEqual([
      ["DZ5001", 'drop column "item"."old_name"', 'ALTER TABLE "item" DROP COLUMN "old_name" CASCADE;'],
      ["DZ5001", 'drop table "gone"', 'DROP TABLE "gone" CASCADE;'],
    ]);
    expect(plan.warnings).toEqual([
      'column "item"."old_name" dropped and "item"."new_name" added with the same type text: if this is a rename, mark the field `was: old_name`',
    ]);
  });

  test("DZ5002 required column without a default, and NOT NULL added without a default", () => {
    expect(steps(ITEM("  b: int\n"), ITEM("  a: int required\n  b: int required\n"))).toEqual([
      ["DZ5002", 'add column "item"."a" (NOT NULL without a default: existing rows have no value)', 'ALTER TABLE "item" ADD COLUMN "a" integer NOT NULL;'],
      ["DZ5002", 'set NOT NULL on "item"."b" without a default (existing rows may hold NULL)', 'ALTER TABLE "item" ALTER COLUMN "b" SET NOT NULL;'],
    ]);
  });

  test("DZ5003 enum value removed, shorter str(N), narrowing type change: each with the UPDATE or cast that makes values fit", () => {
    expect(steps(ITEM("  kind: enum[a,b,c]\n  code: str(9)\n  n: int\n"), ITEM("  kind: enum[a]\n  code: str(5)\n  n: bool\n"))).toEqual([
      ['drop constraint "ck_item_kind_enum" on "item"', 'ALTER TABLE "item" DROP CONSTRAINT "ck_item_kind_enum";'],
      ['drop constraint "ck_item_code_len" on "item"', 'ALTER TABLE "item" DROP CONSTRAINT "ck_item_code_len";'],
      [
        "DZ5003",
        'change the type of "item"."n" from integer to boolean (lossy: cast with `"n"::boolean`; a value it cannot convert fails the migration)',
        'ALTER TABLE "item" ALTER COLUMN "n" TYPE boolean USING "n"::boolean;',
      ],
      [
        "DZ5003",
        `replace constraint "ck_item_kind_enum" on "item" (enum values 'b', 'c' removed: rows holding them get NULL)`,
        `UPDATE "item" SET "kind" = NULL WHERE "kind" NOT IN ('a');\nALTER TABLE "item" ADD CONSTRAINT "ck_item_kind_enum" CHECK ("kind" IN ('a'));`,
      ],
      [
        "DZ5003",
        'replace constraint "ck_item_code_len" on "item" (maximum length lowered from 9 to 5: longer values are cut to 5 characters)',
        'UPDATE "item" SET "code" = left("code", 5) WHERE char_length("code") > 5;\nALTER TABLE "item" ADD CONSTRAINT "ck_item_code_len" CHECK (char_length("code") <= 5);',
      ],
    ]);
  });

  test("DZ5003 an enum value removed from a column with a default: those rows take the default", () => {
    expect(steps(ITEM("  kind: enum[a,b]=a required\n"), ITEM("  kind: enum[a]=a required\n"))).toEqual([
      ['drop constraint "ck_item_kind_enum" on "item"', 'ALTER TABLE "item" DROP CONSTRAINT "ck_item_kind_enum";'],
      [
        "DZ5003",
        `replace constraint "ck_item_kind_enum" on "item" (enum value 'b' removed: rows holding it get the default 'a')`,
        `UPDATE "item" SET "kind" = 'a' WHERE "kind" NOT IN ('a');\nALTER TABLE "item" ADD CONSTRAINT "ck_item_kind_enum" CHECK ("kind" IN ('a'));`,
      ],
    ]);
  });

  test("DZ5003 a text column becoming str(N), enum or slug: a new CHECK on existing values", () => {
    expect(steps(ITEM("  a: text\n  b: text\n  c: text\n"), ITEM("  a: str(3)\n  b: enum[x,y]\n  c: slug\n"))).toEqual([
      [
        "DZ5003",
        'add constraint "ck_item_a_len" on "item" (maximum length 3 on an existing column: longer values are cut to 3 characters)',
        'UPDATE "item" SET "a" = left("a", 3) WHERE char_length("a") > 3;\nALTER TABLE "item" ADD CONSTRAINT "ck_item_a_len" CHECK (char_length("a") <= 3);',
      ],
      [
        "DZ5003",
        'add constraint "ck_item_b_enum" on "item" (enum on an existing column: values outside the enum get NULL)',
        `UPDATE "item" SET "b" = NULL WHERE "b" NOT IN ('x', 'y');\nALTER TABLE "item" ADD CONSTRAINT "ck_item_b_enum" CHECK ("b" IN ('x', 'y'));`,
      ],
      [
        "DZ5003",
        'add constraint "ck_item_c_slug" on "item" (pattern check on an existing column: values that fail it become NULL)',
        `UPDATE "item" SET "c" = NULL WHERE NOT ("c" ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length("c") BETWEEN 3 AND 40);\n` +
          `ALTER TABLE "item" ADD CONSTRAINT "ck_item_c_slug" CHECK ("c" ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length("c") BETWEEN 3 AND 40);`,
      ],
    ]);
  });

  test("with allowDestructive the migration says so in a comment", () => {
    const plan = planMigrations(ir(ITEM("")), CTX, previousOf(ITEM("  x: int\n")), { allowDestructive: true });
    expect(plan.files[0]!.contents).toContain(
      '-- DESTRUCTIVE: generated with --allow-destructive; these steps can lose data:\n--   DZ5001 drop column "item"."x"\n\n-- DZ5001 drop column "item"."x"\nALTER TABLE "item" DROP COLUMN "x" CASCADE;\n',
    );
  });
});

/** The one step changing `n` from `from` to `to` (constraint steps left out). */
function typeStep(from: string, to: string) {
  return steps(ITEM(`  n: ${from}\n`), ITEM(`  n: ${to}\n`)).filter((s) => (s[s.length - 2] as string).startsWith("change the type"));
}

describe("type changes: every kind classified, exact USING cast", () => {
  const alter = (type: string, using: string) => `ALTER TABLE "item" ALTER COLUMN "n" TYPE ${type} USING ${using};`;

  test.each([
    ["int", "float", "double precision", '"n"::double precision'],
    ["int", "decimal(12,2)", "numeric(12,2)", '"n"::numeric(12,2)'],
    ["decimal(8,2)", "decimal(10,3)", "numeric(10,3)", '"n"::numeric(10,3)'],
    ["date", "datetime", "timestamptz", `"n"::timestamp AT TIME ZONE 'UTC'`],
    ["int", "text", "text", '"n"::text'],
    ["bool", "text", "text", '"n"::text'],
    ["datetime", "str(40)", "text", '"n"::text'],
  ])("widening %s → %s is applied", (from, to, type, using) => {
    expect(typeStep(from, to)).toEqual([[`change the type of "item"."n" from ${from === "date" ? "date" : from === "int" ? "integer" : from === "bool" ? "boolean" : from === "datetime" ? "timestamptz" : "numeric(8,2)"} to ${type}`, alter(type, using)]]);
  });

  test.each([
    ["int", "decimal(10,2)", "integer", "numeric(10,2)", 'CASE WHEN abs("n") < 1e8 THEN "n" END::numeric(10,2)', "values of 9 or more integer digits become NULL"],
    [
      "decimal(10,3)",
      "decimal(8,2)",
      "numeric(10,3)",
      "numeric(8,2)",
      'CASE WHEN abs(round("n", 2)) < 1e6 THEN round("n", 2) END::numeric(8,2)',
      "rounded to 2 decimal places; values of 7 or more integer digits become NULL",
    ],
    ["decimal(10,2)", "int", "numeric(10,2)", "integer", 'CASE WHEN abs(round("n")) <= 2147483647 THEN round("n") END::integer', "rounded to whole numbers; values outside 32 bits become NULL"],
    ["float", "int", "double precision", "integer", 'CASE WHEN abs(round("n")) <= 2147483647 THEN round("n") END::integer', "rounded to whole numbers; values outside 32 bits become NULL"],
    [
      "float",
      "decimal(6,2)",
      "double precision",
      "numeric(6,2)",
      'CASE WHEN abs(round("n"::numeric, 2)) < 1e4 THEN round("n"::numeric, 2) END::numeric(6,2)',
      "rounded to 2 decimal places; values of 5 or more integer digits, NaN and infinities become NULL",
    ],
    ["decimal(30,10)", "float", "numeric(30,10)", "double precision", '"n"::double precision', "values are rounded to double precision (about 15 significant digits)"],
    ["datetime", "date", "timestamptz", "date", `("n" AT TIME ZONE 'UTC')::date`, "the time of day is dropped (the date in UTC is kept)"],
    ["text", "int", "text", "integer", '"n"::integer', 'cast with `"n"::integer`; a value it cannot convert fails the migration'],
    ["int", "bool", "integer", "boolean", '"n"::boolean', 'cast with `"n"::boolean`; a value it cannot convert fails the migration'],
    ["uuid", "date", "uuid", "date", '"n"::date', 'cast with `"n"::date`; a value it cannot convert fails the migration'],
  ])("narrowing %s → %s is DZ5003 with an explicit USING cast", (from, to, fromType, toType, using, loss) => {
    expect(typeStep(from, to)).toEqual([["DZ5003", `change the type of "item"."n" from ${fromType} to ${toType} (lossy: ${loss})`, alter(toType, using)]]);
  });

  test("a retyped column with a default: the default is dropped before the cast and set again after", () => {
    expect(steps(ITEM("  n: int=1 required\n"), ITEM("  n: decimal(12,2)=1 required\n"))).toEqual([
      ['change the type of "item"."n" from integer to numeric(12,2)', 'ALTER TABLE "item" ALTER COLUMN "n" DROP DEFAULT;\nALTER TABLE "item" ALTER COLUMN "n" TYPE numeric(12,2) USING "n"::numeric(12,2);'],
      ['set the default of "item"."n"', 'ALTER TABLE "item" ALTER COLUMN "n" SET DEFAULT 1;'],
    ]);
  });

  test("int → str(N): the type widens to text, the new length CHECK is the narrowing (after the type change)", () => {
    expect(steps(ITEM("  n: int\n"), ITEM("  n: str(5)\n"))).toEqual([
      ['change the type of "item"."n" from integer to text', 'ALTER TABLE "item" ALTER COLUMN "n" TYPE text USING "n"::text;'],
      [
        "DZ5003",
        'add constraint "ck_item_n_len" on "item" (maximum length 5 on an existing column: longer values are cut to 5 characters)',
        'UPDATE "item" SET "n" = left("n", 5) WHERE char_length("n") > 5;\nALTER TABLE "item" ADD CONSTRAINT "ck_item_n_len" CHECK (char_length("n") <= 5);',
      ],
    ]);
  });

  test("str(N) → int: the length CHECK is dropped before the type change that it would block", () => {
    expect(steps(ITEM("  n: str(5)\n"), ITEM("  n: int\n"))).toEqual([
      ['drop constraint "ck_item_n_len" on "item"', 'ALTER TABLE "item" DROP CONSTRAINT "ck_item_n_len";'],
      ["DZ5003", 'change the type of "item"."n" from text to integer (lossy: cast with `"n"::integer`; a value it cannot convert fails the migration)', 'ALTER TABLE "item" ALTER COLUMN "n" TYPE integer USING "n"::integer;'],
    ]);
  });
});

describe("renames (`was:`)", () => {
  const PART = entity("Part", "  item: ref Item required\n");

  test("a field rename is RENAME COLUMN plus the constraints and indexes named after it, never drop + add", () => {
    const before = ITEM("  code: str(8) unique\n  kind: enum[a,b] indexed\n");
    const after = ITEM("  sku: str(8) unique was: code\n  sort: enum[a,b] indexed was: kind\n");
    expect(steps(before, after)).toEqual([
      ['rename column "item"."code" to "sku"', 'ALTER TABLE "item" RENAME COLUMN "code" TO "sku";'],
      ['rename column "item"."kind" to "sort"', 'ALTER TABLE "item" RENAME COLUMN "kind" TO "sort";'],
      ['rename constraint "uq_item_code" on "item" to "uq_item_sku"', 'ALTER TABLE "item" RENAME CONSTRAINT "uq_item_code" TO "uq_item_sku";'],
      ['rename constraint "ck_item_code_len" on "item" to "ck_item_sku_len"', 'ALTER TABLE "item" RENAME CONSTRAINT "ck_item_code_len" TO "ck_item_sku_len";'],
      ['rename constraint "ck_item_kind_enum" on "item" to "ck_item_sort_enum"', 'ALTER TABLE "item" RENAME CONSTRAINT "ck_item_kind_enum" TO "ck_item_sort_enum";'],
      ['rename index "ix_item_kind" to "ix_item_sort"', 'ALTER INDEX "ix_item_kind" RENAME TO "ix_item_sort";'],
    ]);
  });

  test("an entity rename is RENAME TO; FKs pointing at it keep their name, its own objects are renamed, its trigger function re-created", () => {
    const before = ITEM("  at: datetime auto_update\n") + PART;
    const after = entity("Thing", "  was: Item\n  name: str(40) required\n  at: datetime auto_update\n") + entity("Part", "  item: ref Thing required\n");
    const plan = planMigrations(ir(after), CTX, previousOf(before));
    expect(plan.steps.map((s) => s.description)).toEqual([
      'rename table "item" to "thing"',
      'rename constraint "pk_item" on "thing" to "pk_thing"',
      'rename constraint "ck_item_name_len" on "thing" to "ck_thing_name_len"',
      "re-create auto_update triggers",
      "re-create events",
      "re-create row-level security",
      'drop function "dazzle_auto_update_item"()',
    ]);
    expect(plan.steps[0]!.sql).toBe('ALTER TABLE "item" RENAME TO "thing";');
    expect(plan.steps.every((s) => s.refusal === undefined)).toBe(true);
  });

  test("entity and field renamed at once; a money field renames both columns", () => {
    const before = ITEM("  price: money(EUR)\n");
    const after = entity("Thing", "  was: Item\n  title: str(40) required was: name\n  cost: money(EUR) was: price\n");
    expect(steps(before, after).slice(0, 4)).toEqual([
      ['rename table "item" to "thing"', 'ALTER TABLE "item" RENAME TO "thing";'],
      ['rename column "thing"."price_currency" to "cost_currency"', 'ALTER TABLE "thing" RENAME COLUMN "price_currency" TO "cost_currency";'],
      ['rename column "thing"."price_minor" to "cost_minor"', 'ALTER TABLE "thing" RENAME COLUMN "price_minor" TO "cost_minor";'],
      ['rename column "thing"."name" to "title"', 'ALTER TABLE "thing" RENAME COLUMN "name" TO "title";'],
    ]);
  });

  test("idempotent: regenerating after the rename landed, or with a `was:` naming nothing, changes nothing", () => {
    const before = ITEM("  code: text\n");
    const after = ITEM("  sku: text was: code\n");
    const landed = planMigrations(ir(after), CTX, previousOf(before));
    const again = planMigrations(ir(after), CTX, { snapshot: landed.snapshot, last: { file: "000002-x.sql", hash: "sha1:" + "b".repeat(40) } });
    expect([again.files, again.steps, again.warnings]).toEqual([[], [], []]);
    // The old name never existed: the field is simply added.
    expect(steps(ITEM(""), ITEM("  sku: text was: nothing_here\n"))).toEqual([['add column "item"."sku"', 'ALTER TABLE "item" ADD COLUMN "sku" text;']]);
  });

  test("a rename with a type change: renamed first, then the type step on the new name", () => {
    expect(steps(ITEM("  n: int\n"), ITEM("  m: float was: n\n"))).toEqual([
      ['rename column "item"."n" to "m"', 'ALTER TABLE "item" RENAME COLUMN "n" TO "m";'],
      ['change the type of "item"."m" from integer to double precision', 'ALTER TABLE "item" ALTER COLUMN "m" TYPE double precision USING "m"::double precision;'],
    ]);
  });
});

describe("the committed file", () => {
  test("one new file numbered after the last, chained to its hash, with a slug of the steps", () => {
    const previous = { ...previousOf(ITEM("")), last: { file: "000007-x.sql", hash: "sha1:" + "a".repeat(40) } };
    const plan = planMigrations(ir(ITEM("  note: text\n")), CTX, previous);
    expect(plan.files.map((f) => [f.path, f.owner])).toEqual([["migrations/committed/000008-add-column-item-note.sql", "migration"]]);
    const body = plan.files[0]!.contents.split("\n\n").slice(1).join("\n\n");
    expect(plan.files[0]!.contents).toBe(graphileMigration(body, "sha1:" + "a".repeat(40), "add-column-item-note").contents);
    expect(plan.files[0]!.contents).toBe(
      "--! Previous: sha1:" + "a".repeat(40) + "\n" +
        `--! Hash: ${graphileMigration(body, "sha1:" + "a".repeat(40), "m").hash}\n` +
        "--! Message: add-column-item-note\n\n" +
        "-- Code generated by dazzle-gen from t.dz. DO NOT EDIT.\n" +
        "-- Schema change: 1 step(s), from the snapshot in dazzle.lock.json.\n\n" +
        '-- add column "item"."note"\nALTER TABLE "item" ADD COLUMN "note" text;\n',
    );
  });

  test("the snapshot is plain JSON, survives a round-trip, and corrupt ones are rejected", () => {
    const snapshot = planMigrations(ir(ITEM("  kind: enum[a,b]=a\n")), CTX, null).snapshot;
    expect(parseSnapshot(JSON.parse(JSON.stringify(snapshot)))).toEqual(snapshot);
    expect(snapshot.tables.item).toEqual({
      columns: [
        { name: "id", type: "uuid", notNull: true, default: "gen_random_uuid()" },
        { name: "name", type: "text", notNull: true, default: null },
        { name: "kind", type: "text", notNull: false, default: "'a'" },
      ],
      constraints: [
        { name: "pk_item", definition: 'PRIMARY KEY ("id")' },
        { name: "ck_item_name_len", definition: 'CHECK (char_length("name") <= 40)' },
        { name: "ck_item_kind_enum", definition: `CHECK ("kind" IN ('a', 'b'))` },
      ],
      comments: {},
    });
    expect(snapshot.groups.map((g) => g.name)).toEqual(["roles", "session readers", "events", "row-level security"]);
    expect(snapshot.rls).toEqual(["item"]);
    expect(snapshot.groups.find((g) => g.name === "row-level security")!.policies).toEqual([{ table: '"item"', name: '"scope_select"' }]);
    for (const bad of [null, {}, { version: 2, tables: {}, indexes: [], groups: [], rls: [] }, { version: 1, tables: { t: {} }, indexes: [], groups: [], rls: [] }, "x"]) {
      expect(parseSnapshot(bad)).toBeNull();
    }
  });

  test("buildSchemaSnapshot reads tables, FKs, indexes and comments from section SQL", () => {
    const snapshot = buildSchemaSnapshot([
      { name: "tables", sql: '-- Tables\nCREATE TABLE "a" (\n  "id" uuid NOT NULL,\n  "b" uuid,\n  CONSTRAINT "pk_a" PRIMARY KEY ("id")\n);\nCOMMENT ON COLUMN "a"."b" IS \'pii\';' },
      { name: "fks", sql: 'ALTER TABLE "a" ADD CONSTRAINT "fk_a_b" FOREIGN KEY ("b") REFERENCES "a" ("id");\nCREATE INDEX "ix_a_b" ON "a" ("b");' },
      { name: "triggers", sql: '-- t\nCREATE OR REPLACE FUNCTION "f"() RETURNS trigger AS $$ $$;\nCREATE TRIGGER "t" BEFORE UPDATE ON "a"\n  FOR EACH ROW EXECUTE FUNCTION "f"();' },
    ]);
    expect(snapshot.tables.a!.constraints.map((c) => c.name)).toEqual(["pk_a", "fk_a_b"]);
    expect(snapshot.tables.a!.comments).toEqual({ b: "'pii'" });
    expect(snapshot.indexes).toEqual([{ name: "ix_a_b", table: "a", statement: 'CREATE INDEX "ix_a_b" ON "a" ("b");' }]);
    expect(snapshot.groups.map((g) => [g.name, g.triggers, g.functions, g.policies])).toEqual([["triggers", [{ table: '"a"', name: '"t"' }], ['"f"()'], []]]);
    expect(snapshot.rls).toEqual([]);
    expect(recreatableSql('CREATE TRIGGER "t" BEFORE UPDATE ON "a"\n  FOR EACH ROW EXECUTE FUNCTION "f"();')).toBe(
      'DROP TRIGGER IF EXISTS "t" ON "a";\nCREATE TRIGGER "t" BEFORE UPDATE ON "a"\n  FOR EACH ROW EXECUTE FUNCTION "f"();',
    );
  });
});
