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

  test("a widening type change is allowed (int → decimal is not: DZ5003)", () => {
    expect(steps(ITEM("  n: int\n"), ITEM("  n: decimal(10,2)\n"))).toEqual([
      ["DZ5003", 'change the type of "item"."n" from integer to numeric(10,2) (needs a hand-written step)', 'ALTER TABLE "item" ALTER COLUMN "n" TYPE numeric(10,2) USING "n"::numeric(10,2);'],
    ]);
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
      'column "item"."old_name" dropped and "item"."new_name" added with the same type text: if this is a rename, mark the field `was: old_name` (renames are not generated yet)',
    ]);
  });

  test("DZ5002 required column without a default, and NOT NULL added without a default", () => {
    expect(steps(ITEM("  b: int\n"), ITEM("  a: int required\n  b: int required\n"))).toEqual([
      ["DZ5002", 'add column "item"."a" (NOT NULL without a default: existing rows have no value)', 'ALTER TABLE "item" ADD COLUMN "a" integer NOT NULL;'],
      ["DZ5002", 'set NOT NULL on "item"."b" without a default (existing rows may hold NULL)', 'ALTER TABLE "item" ALTER COLUMN "b" SET NOT NULL;'],
    ]);
  });

  test("DZ5003 enum value removed, shorter str(N), narrowing type change", () => {
    expect(steps(ITEM("  kind: enum[a,b,c]\n  code: str(9)\n  n: int\n"), ITEM("  kind: enum[a]\n  code: str(5)\n  n: bool\n"))).toEqual([
      ["DZ5003", 'change the type of "item"."n" from integer to boolean (needs a hand-written step)', 'ALTER TABLE "item" ALTER COLUMN "n" TYPE boolean USING "n"::boolean;'],
      ['drop constraint "ck_item_kind_enum" on "item"', 'ALTER TABLE "item" DROP CONSTRAINT "ck_item_kind_enum";'],
      ['drop constraint "ck_item_code_len" on "item"', 'ALTER TABLE "item" DROP CONSTRAINT "ck_item_code_len";'],
      ["DZ5003", `replace constraint "ck_item_kind_enum" on "item" (enum values 'b', 'c' removed)`, `ALTER TABLE "item" ADD CONSTRAINT "ck_item_kind_enum" CHECK ("kind" IN ('a'));`],
      ["DZ5003", 'replace constraint "ck_item_code_len" on "item" (maximum length lowered from 9 to 5)', 'ALTER TABLE "item" ADD CONSTRAINT "ck_item_code_len" CHECK (char_length("code") <= 5);'],
    ]);
  });

  test("with allowDestructive the migration says so in a comment", () => {
    const plan = planMigrations(ir(ITEM("")), CTX, previousOf(ITEM("  x: int\n")), { allowDestructive: true });
    expect(plan.files[0]!.contents).toContain(
      '-- DESTRUCTIVE: generated with --allow-destructive; these steps can lose data:\n--   DZ5001 drop column "item"."x"\n\n-- DZ5001 drop column "item"."x"\nALTER TABLE "item" DROP COLUMN "x" CASCADE;\n',
    );
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
    expect(snapshot.groups.map((g) => g.name)).toEqual(["roles", "session readers", "principal lookup", "events", "row-level security"]);
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
