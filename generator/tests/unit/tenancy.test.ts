/**
 * Active tenancy (DSL.md §7) from a spec through lowering and the SQL emitters: which entities
 * are tenant-scoped (injection and every exclusion), where the partition key goes and how it is
 * server-managed, and the exact DDL, fence, scope helpers, readers, principal lookup and context
 * statement it produces. The same properties on a real database: tests/e2e/tenancy.test.ts.
 */
import { analyze } from "../../compile";
import { makeSourceFile } from "../../diagnostics/span";
import type { AppIR, ExistsCheck, PathCheck } from "../../ir/ir";
import { emitForeignKeys } from "../../emit/sql/emit-foreign-keys";
import { emitIndexes } from "../../emit/sql/emit-indexes";
import { emitPrincipalLookup } from "../../emit/sql/emit-principal-lookup";
import { emitReaders } from "../../emit/sql/emit-readers";
import { emitRls } from "../../emit/sql/emit-rls";
import { emitTables } from "../../emit/sql/emit-tables";
import { pathHelper, viaHelper } from "../../emit/sql/scope-helper";
import { emitScopeHelpers } from "../../emit/sql/emit-scope-helpers";
import { callerSql } from "../../emit/ts/emit-context";
import { diffSchema } from "../../emit/sql/diff-schema";
import { migrationSections } from "../../emit/sql/emit-migrations";
import { buildSchemaSnapshot } from "../../emit/sql/schema-snapshot";

const SPEC = `module t
app t "T"

tenancy:
  partition_key: tenant_id
  entities_excluded: [Country]

entity Org "Org":
  archetype: tenant
  name: str(40) required

entity Country "Country":
  code: str(2) required unique

entity Setting "Setting":
  archetype: settings
  key: str(40)

entity Plan "Plan":
  domain: platform
  name: str(40)

entity Seat "Seat":
  archetype: user_membership
  org: ref Org required

entity Member "Member":
  email: email required unique
  tenant_id: ref Org required

entity Project "Project":
  code: str(20) required unique
  label: str(20) indexed
  owner: ref Member
  country: ref Country
  tasks: has_many Task nullify
  unique code, label

entity Task "Task":
  project: ref Project
  title: str(40) required
  index title

  permit:
    list: authenticated

  scope:
    list: project.owner = current_user
      as: *
`;

function lowered(spec: string, principal: string | null = "Member"): AppIR {
  const result = analyze({ files: [makeSourceFile("t.dz", spec)], rootModule: null, fallbackName: "t", specName: "t.dz" }, principal ? { principal } : {});
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0 || result.ir === null) throw new Error(errors.map((d) => `${d.code} ${d.message}`).join("\n"));
  return result.ir;
}

const IR = lowered(SPEC);
const entity = (name: string) => IR.entities.find((e) => e.name === name)!;
/** The statement of `sql` that starts with `head` (up to its `;`). */
const statement = (sql: string, head: string) => {
  const start = sql.indexOf(head);
  if (start < 0) throw new Error(`no statement starting with ${head}`);
  return sql.slice(start, sql.indexOf(";", start) + 1);
};

describe("IR: which entities are tenant-scoped, and the partition key", () => {
  test("injected after id everywhere except the root, excluded, settings, platform and root-holding user_membership; a declared key stays where it is", () => {
    expect(IR.entities.map((e) => ({ name: e.name, tenant: e.tenant ?? null, columns: e.fields.map((f) => f.column) }))).toEqual([
      { name: "Country", tenant: null, columns: ["id", "code"] },
      { name: "Member", tenant: { column: "tenant_id", rootTable: "org" }, columns: ["id", "email", "tenant_id"] },
      { name: "Org", tenant: null, columns: ["id", "name"] },
      { name: "Plan", tenant: null, columns: ["id", "name"] },
      { name: "Project", tenant: { column: "tenant_id", rootTable: "org" }, columns: ["id", "tenant_id", "code", "label", "owner", "country"] },
      { name: "Seat", tenant: null, columns: ["id", "org"] },
      { name: "Setting", tenant: null, columns: ["id", "key"] },
      { name: "Task", tenant: { column: "tenant_id", rootTable: "org" }, columns: ["id", "tenant_id", "project", "title"] },
    ]);
  });

  test("the key is a required, server-managed, indexed ref to the root defaulting to the caller's tenant (injected and declared alike)", () => {
    const key = {
      name: "tenant_id",
      column: "tenant_id",
      type: { kind: "ref", entity: "Org", table: "org" },
      required: true,
      unique: false,
      default: { kind: "tenant" },
      serverManaged: true,
      autoUpdate: false,
      indexed: true,
    };
    expect(entity("Task").fields[1]).toEqual(key);
    expect(entity("Member").fields[2]).toMatchObject(key);
  });

  test("the principal's tenant column; without a principal entity, app_user carries the key", () => {
    expect(IR.principal.tenant).toEqual({ column: "tenant_id", root: { entity: "Org", table: "org" } });
    const bare = lowered(SPEC.replace("entity Member \"Member\":\n  email: email required unique\n  tenant_id: ref Org required\n", "entity Member \"Member\":\n  email: email required unique\n"), null);
    expect(bare.principal).toMatchObject({ entity: null, table: "app_user", tenant: { column: "tenant_id", root: { entity: "Org", table: "org" } } });
    expect(emitTables(bare.entities, bare.principal)).toContain(
      '-- Principal table (the spec declares no principal entity)\nCREATE TABLE "app_user" (\n  "id" uuid NOT NULL DEFAULT gen_random_uuid(),\n  "email" text,\n  "tenant_id" uuid,\n',
    );
    expect(emitTables(bare.entities, bare.principal)).toContain('ALTER TABLE "app_user" ADD CONSTRAINT "fk_app_user_tenant_id" FOREIGN KEY ("tenant_id") REFERENCES "org" ("id");');
  });

  test("without a tenant root (DZ4010) or with mode single nothing is injected", () => {
    for (const spec of [SPEC.replace("  archetype: tenant\n", ""), SPEC.replace("  partition_key: tenant_id\n", "  mode: single\n  partition_key: tenant_id\n")]) {
      const ir = lowered(spec.replace("  tenant_id: ref Org required\n", ""));
      expect(ir.entities.filter((e) => e.tenant !== undefined).map((e) => e.name)).toEqual([]);
      expect(ir.principal.tenant).toBeUndefined();
      expect(emitRls(ir.entities)).not.toContain("tenant_fence");
    }
  });
});

describe("DDL of tenant-scoped tables", () => {
  test("CREATE TABLE: key after id, NOT NULL with the setting default, UNIQUE (key, id), uniques per tenant", () => {
    const tables = emitTables(IR.entities, IR.principal);
    expect(statement(tables, 'CREATE TABLE "project"')).toBe(`CREATE TABLE "project" (
  "id" uuid NOT NULL DEFAULT gen_random_uuid(),
  "tenant_id" uuid NOT NULL DEFAULT NULLIF(current_setting('dazzle.tenant_id', true), '')::uuid,
  "code" text NOT NULL,
  "label" text,
  "owner" uuid,
  "country" uuid,
  CONSTRAINT "pk_project" PRIMARY KEY ("id"),
  CONSTRAINT "uq_project_tenant_id_id" UNIQUE ("tenant_id", "id"),
  CONSTRAINT "uq_project_code" UNIQUE ("tenant_id", "code"),
  CONSTRAINT "ck_project_code_len" CHECK (char_length("code") <= 20),
  CONSTRAINT "ck_project_label_len" CHECK (char_length("label") <= 20),
  CONSTRAINT "uq_project_code_label" UNIQUE ("tenant_id", "code", "label")
);`);
    expect(statement(tables, 'CREATE TABLE "member"')).toBe(`CREATE TABLE "member" (
  "id" uuid NOT NULL DEFAULT gen_random_uuid(),
  "email" text NOT NULL,
  "tenant_id" uuid NOT NULL DEFAULT NULLIF(current_setting('dazzle.tenant_id', true), '')::uuid,
  CONSTRAINT "pk_member" PRIMARY KEY ("id"),
  CONSTRAINT "uq_member_tenant_id_id" UNIQUE ("tenant_id", "id"),
  CONSTRAINT "uq_member_email" UNIQUE ("tenant_id", "email")
);`);
    // Not tenant-scoped: unchanged.
    expect(statement(tables, 'CREATE TABLE "country"')).toBe(`CREATE TABLE "country" (
  "id" uuid NOT NULL DEFAULT gen_random_uuid(),
  "code" text NOT NULL,
  CONSTRAINT "pk_country" PRIMARY KEY ("id"),
  CONSTRAINT "uq_country_code" UNIQUE ("code"),
  CONSTRAINT "ck_country_code_len" CHECK (char_length("code") <= 2)
);`);
  });

  test("foreign keys: composite between tenant-scoped tables (nullify keeps the key), simple to the root and to unscoped tables", () => {
    expect(emitForeignKeys(IR.entities)).toBe(`-- Foreign keys
ALTER TABLE "member" ADD CONSTRAINT "fk_member_tenant_id" FOREIGN KEY ("tenant_id") REFERENCES "org" ("id");
ALTER TABLE "project" ADD CONSTRAINT "fk_project_tenant_id" FOREIGN KEY ("tenant_id") REFERENCES "org" ("id");
ALTER TABLE "project" ADD CONSTRAINT "fk_project_owner" FOREIGN KEY ("tenant_id", "owner") REFERENCES "member" ("tenant_id", "id");
ALTER TABLE "project" ADD CONSTRAINT "fk_project_country" FOREIGN KEY ("country") REFERENCES "country" ("id");
ALTER TABLE "seat" ADD CONSTRAINT "fk_seat_org" FOREIGN KEY ("org") REFERENCES "org" ("id");
ALTER TABLE "task" ADD CONSTRAINT "fk_task_tenant_id" FOREIGN KEY ("tenant_id") REFERENCES "org" ("id");
ALTER TABLE "task" ADD CONSTRAINT "fk_task_project" FOREIGN KEY ("tenant_id", "project") REFERENCES "project" ("tenant_id", "id") ON DELETE SET NULL ("project");`);
  });

  test("indexes lead with the key; the key's own index is its UNIQUE (key, id)", () => {
    expect(emitIndexes(IR.entities)).toBe(`-- Indexes
CREATE INDEX "ix_project_label" ON "project" ("tenant_id", "label", "id");
CREATE INDEX "ix_project_owner" ON "project" ("tenant_id", "owner", "id");
CREATE INDEX "ix_project_country" ON "project" ("tenant_id", "country", "id");
CREATE INDEX "ix_seat_org" ON "seat" ("org", "id");
CREATE INDEX "ix_task_project" ON "task" ("tenant_id", "project", "id");
CREATE INDEX "ix_task_title" ON "task" ("tenant_id", "title");`);
  });
});

describe("RLS, helpers and the caller's tenant", () => {
  test("a RESTRICTIVE tenant_fence on every tenant-scoped table and on no other", () => {
    const rls = emitRls(IR.entities)!;
    expect(statement(rls, 'CREATE POLICY "tenant_fence" ON "task"')).toBe(
      `CREATE POLICY "tenant_fence" ON "task" AS RESTRICTIVE FOR ALL TO "dazzle_app"\n` +
        `  USING ("tenant_id" = (SELECT dazzle_tenant_id())) WITH CHECK ("tenant_id" = (SELECT dazzle_tenant_id()));`,
    );
    expect([...rls.matchAll(/CREATE POLICY "tenant_fence" ON "(\w+)"/g)].map((m) => m[1])).toEqual(["member", "project", "task"]);
  });

  test("scope helpers re-apply the fence to every tenant-scoped table they read", () => {
    expect(emitScopeHelpers(IR.entities)).toContain(
      `AS $$ SELECT t1."id" FROM "project" t1 WHERE t1."owner" = $1 AND t1."tenant_id" = dazzle_tenant_id() $$;`,
    );
    const fence = new Map([
      ["project", "tenant_id"],
      ["membership", "tenant_id"],
    ]);
    const twoHops: PathCheck = {
      kind: "path",
      hops: [
        { column: "project", table: "project" },
        { column: "org", table: "org" },
      ],
      column: "name",
      sqlType: "text",
      op: "=",
      value: { kind: "literal", value: "x" },
    };
    expect(pathHelper(twoHops, fence).body).toBe(
      'SELECT t1."id" FROM "project" t1 WHERE t1."org" IN (SELECT t2."id" FROM "org" t2 WHERE t2."name" = $1) AND t1."tenant_id" = dazzle_tenant_id()',
    );
    expect(pathHelper(twoHops, fence).name).toBe(pathHelper(twoHops).name); // callers need not know the fence
    const via: ExistsCheck = {
      kind: "exists",
      junction: { entity: "Membership", table: "membership" },
      entityBindings: [{ path: { hops: [], column: "project", sqlType: "uuid" }, column: "id" }],
      principalBindings: [{ path: { hops: [{ column: "member", table: "member" }], column: "id", sqlType: "uuid" }, op: "=", attr: "id" }],
      nullBindings: [],
      negated: false,
    };
    expect(viaHelper(via, new Map([...fence, ["member", "tenant_id"]])).body).toBe(
      'SELECT j."project" FROM "membership" j JOIN "member" j1 ON j1."id" = j."member" WHERE j1."id" = $1 AND j."project" IS NOT NULL' +
        ' AND j."tenant_id" = dazzle_tenant_id() AND j1."tenant_id" = dazzle_tenant_id()',
    );
  });

  test("readers: dazzle_tenant_id(), and current_user.<key> reads the same setting", () => {
    const withAttr = lowered(SPEC.replace("entity Org \"Org\":\n  archetype: tenant\n", "entity Org \"Org\":\n  archetype: tenant\n  permit:\n    read: authenticated\n  scope:\n    read: id = current_user.tenant_id\n      as: *\n"));
    expect(withAttr.principal.attributes).toEqual([{ name: "tenant_id", column: "tenant_id", sqlType: "uuid", tenantKey: true }]);
    const readers = emitReaders(withAttr.principal);
    expect(statement(readers, 'CREATE OR REPLACE FUNCTION "dazzle_tenant_id"')).toBe(
      `CREATE OR REPLACE FUNCTION "dazzle_tenant_id"() RETURNS uuid\n  LANGUAGE sql STABLE PARALLEL SAFE\n  AS $$ SELECT NULLIF(current_setting('dazzle.tenant_id', true), '')::uuid $$;`,
    );
    expect(statement(readers, 'CREATE OR REPLACE FUNCTION "dazzle_user_attr_tenant_id"')).toBe(
      `CREATE OR REPLACE FUNCTION "dazzle_user_attr_tenant_id"() RETURNS uuid\n  LANGUAGE sql STABLE PARALLEL SAFE\n  AS $$ SELECT NULLIF(current_setting('dazzle.tenant_id', true), '')::uuid $$;`,
    );
    // The tenant is loaded once, into dazzle.tenant_id; no dazzle.user_tenant_id.
    expect(callerSql(withAttr)).toBe(
      "select caller.user_id, caller.roles, (\n    select row(set_config('dazzle.tenant_id', coalesce(p.\"tenant_id\"::text, ''), true))\n    from (select 1) as one left join dazzle_principal() p on true\n    where caller.user_id <> ''\n  ) as principal,\n  case when $3 <> '' then set_config('role', $3, true) end as role\nfrom (select set_config('dazzle.user_id', $1, true) as user_id, set_config('dazzle.roles', $2, true) as roles) as caller",
    );
  });

  test("the principal lookup returns only the caller's tenant column; the context never takes the tenant from a parameter", () => {
    expect(emitPrincipalLookup(IR.principal)).toBe(`-- Principal lookup: the caller's own context columns, read past RLS as dazzle_definer
CREATE OR REPLACE FUNCTION "dazzle_principal"() RETURNS TABLE ("tenant_id" uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = public, pg_temp
  AS $$ SELECT p."tenant_id" FROM "member" p WHERE p."id" = dazzle_user_id() $$;
GRANT SELECT ON "member" TO "dazzle_definer";
ALTER FUNCTION "dazzle_principal"() OWNER TO "dazzle_definer";
REVOKE ALL ON FUNCTION "dazzle_principal"() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "dazzle_principal"() TO "dazzle_app";`);
    expect(callerSql(IR)).toBe(
      "select caller.user_id, caller.roles, (\n    select row(set_config('dazzle.tenant_id', coalesce(p.\"tenant_id\"::text, ''), true))\n    from (select 1) as one left join dazzle_principal() p on true\n    where caller.user_id <> ''\n  ) as principal,\n  case when $3 <> '' then set_config('role', $3, true) end as role\nfrom (select set_config('dazzle.user_id', $1, true) as user_id, set_config('dazzle.roles', $2, true) as roles) as caller",
    );
  });
});

describe("migrations", () => {
  test("turning tenancy on for existing tables: the key's default reads a session setting, so adding it NOT NULL is DZ5002", () => {
    const before = lowered(SPEC.replace("  archetype: tenant\n", "").replace("  tenant_id: ref Org required\n", ""));
    const after = lowered(SPEC.replace("  tenant_id: ref Org required\n", ""));
    const sections = migrationSections(after);
    const diff = diffSchema(buildSchemaSnapshot(migrationSections(before)), buildSchemaSnapshot(sections), sections);
    const keys = diff.steps.filter((step) => step.description.startsWith("add column") && step.description.includes('"tenant_id"'));
    expect(keys.map((step) => [step.description, step.refusal])).toEqual([
      ['add column "member"."tenant_id" (NOT NULL without a default: existing rows have no value)', "DZ5002"],
      ['add column "project"."tenant_id" (NOT NULL without a default: existing rows have no value)', "DZ5002"],
      ['add column "task"."tenant_id" (NOT NULL without a default: existing rows have no value)', "DZ5002"],
    ]);
    // The composite FKs come after the parents' UNIQUE (tenant_id, id).
    const order = diff.steps.map((step) => step.description);
    const fk = order.indexOf('replace constraint "fk_task_project" on "task"');
    const uq = order.indexOf('add constraint "uq_project_tenant_id_id" on "project"');
    expect([uq >= 0, fk > uq]).toEqual([true, true]);
  });
});

/**
 * The injected key is a field for the checker (semantic/link-tenancy.ts): rules, `unique`/`index`
 * lines, invariants, `requires` and paths may name it, and with no principal entity
 * `current_user.<key>` is the generated app_user's key, read from `dazzle.tenant_id`.
 */
describe("rules naming the injected partition key", () => {
  const KEYED = `module t
app t "T"

tenancy:
  entities_excluded: [Country]

entity Org "Org":
  archetype: tenant
  name: str(40) required
  docs: has_many Doc nullify

entity Country "Country":
  code: str(2) required unique

entity Doc "Doc":
  org: ref Org
  code: str(20) required
  title: str(40)
  status: enum[draft, live] = draft
  unique tenant_id, code
  index tenant_id, title
  invariant: tenant_id != null
  transitions:
    draft -> live: requires tenant_id

  permit:
    list: authenticated
    read: authenticated

  scope:
    list: tenant_id = current_user.tenant_id
      as: *
    read: tenant_id.name = "acme"
      as: *
`;
  const keyed = lowered(KEYED, null);
  const doc = keyed.entities.find((e) => e.name === "Doc")!;
  const diagnostics = (spec: string) =>
    analyze({ files: [makeSourceFile("t.dz", spec)], rootModule: null, fallbackName: "t", specName: "t.dz" }).diagnostics
      .filter((d) => d.severity === "error")
      .map((d) => [d.code, d.message, d.span?.start.line]);

  test("scope leaves on the key and through it lower exactly; the injected field is the same bare server-managed ref", () => {
    expect(doc.fields.map((f) => f.column)).toEqual(["id", "tenant_id", "org", "code", "title", "status"]);
    expect(doc.fields[1]).toEqual({
      name: "tenant_id", column: "tenant_id", type: { kind: "ref", entity: "Org", table: "org" }, required: true, unique: false,
      default: { kind: "tenant" }, serverManaged: true, autoUpdate: false, indexed: true,
    });
    expect(doc.access.scope).toEqual([
      { id: "Doc.list.1", operation: "list", roles: "*", predicate: { kind: "userAttr", column: "tenant_id", op: "=", attr: "tenant_id" }, source: "tenant_id = current_user.tenant_id" },
      {
        id: "Doc.read.1", operation: "read", roles: "*", source: 'tenant_id.name = "acme"',
        predicate: { kind: "path", hops: [{ column: "tenant_id", table: "org" }], column: "name", sqlType: "text", op: "=", value: { kind: "literal", value: "acme" } },
      },
    ]);
  });

  test("unique/index lines, invariants and `requires` see the key; the DDL names it once, leading", () => {
    expect(doc.rules?.indexes).toEqual([{ unique: true, columns: ["tenant_id", "code"] }, { unique: false, columns: ["tenant_id", "title"] }]);
    expect(doc.rules?.invariants.map((i) => [i.name, i.expr])).toEqual([["inv_1", { kind: "isNull", negated: true, operand: { kind: "column", column: "tenant_id" } }]]);
    expect(doc.rules?.stateMachines[0]!.transitions.map((t) => [t.from, t.to, t.requires])).toEqual([["draft", "live", ["tenant_id"]]]);
    const tables = emitTables(keyed.entities, keyed.principal);
    expect(statement(tables, 'CREATE TABLE "doc"')).toBe(`CREATE TABLE "doc" (
  "id" uuid NOT NULL DEFAULT gen_random_uuid(),
  "tenant_id" uuid NOT NULL DEFAULT NULLIF(current_setting('dazzle.tenant_id', true), '')::uuid,
  "org" uuid,
  "code" text NOT NULL,
  "title" text,
  "status" text DEFAULT 'draft',
  CONSTRAINT "pk_doc" PRIMARY KEY ("id"),
  CONSTRAINT "uq_doc_tenant_id_id" UNIQUE ("tenant_id", "id"),
  CONSTRAINT "ck_doc_code_len" CHECK (char_length("code") <= 20),
  CONSTRAINT "ck_doc_title_len" CHECK (char_length("title") <= 40),
  CONSTRAINT "ck_doc_status_enum" CHECK ("status" IN ('draft', 'live')),
  CONSTRAINT "uq_doc_tenant_id_code" UNIQUE ("tenant_id", "code"),
  CONSTRAINT "ck_doc_inv_1" CHECK (("tenant_id" IS NOT NULL))
);`);
    expect(emitIndexes(keyed.entities)).toBe(`-- Indexes
CREATE INDEX "ix_doc_org" ON "doc" ("tenant_id", "org", "id");
CREATE INDEX "ix_doc_tenant_id_title" ON "doc" ("tenant_id", "title");`);
  });

  test("without a principal entity, current_user.<key> is app_user's key: read from dazzle.tenant_id, loaded by the principal lookup", () => {
    expect(keyed.principal).toEqual({
      entity: null, table: "app_user", attributes: [{ name: "tenant_id", column: "tenant_id", sqlType: "uuid", tenantKey: true }],
      tenant: { column: "tenant_id", root: { entity: "Org", table: "org" } },
    });
    expect(statement(emitReaders(keyed.principal), 'CREATE OR REPLACE FUNCTION "dazzle_user_attr_tenant_id"')).toBe(
      `CREATE OR REPLACE FUNCTION "dazzle_user_attr_tenant_id"() RETURNS uuid\n  LANGUAGE sql STABLE PARALLEL SAFE\n  AS $$ SELECT NULLIF(current_setting('dazzle.tenant_id', true), '')::uuid $$;`,
    );
    expect(statement(emitPrincipalLookup(keyed.principal) ?? "", 'CREATE OR REPLACE FUNCTION "dazzle_principal"')).toBe(`CREATE OR REPLACE FUNCTION "dazzle_principal"() RETURNS TABLE ("tenant_id" uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = public, pg_temp
  AS $$ SELECT p."tenant_id" FROM "app_user" p WHERE p."id" = dazzle_user_id() $$;`);
  });

  test("the injected key is no relation FK: `has_many Doc` on the root still picks the declared `org` (no DZ2014)", () => {
    expect(diagnostics(KEYED)).toEqual([]);
    expect(doc.fields.find((f) => f.name === "org")?.onDelete).toBe("set null");
  });

  test("where the key is not injected it is still unknown (DZ2003, DZ3006), exactly", () => {
    const excluded = KEYED.replace("  code: str(2) required unique\n", "  code: str(2) required unique\n  permit:\n    list: authenticated\n  scope:\n    list: tenant_id = current_user.tenant_id\n      as: *\n");
    expect(diagnostics(excluded)).toEqual([["DZ2003", "`tenant_id` is not a field of entity Country", 17]]);
    const inactive = KEYED.replace("  archetype: tenant\n", "");
    expect(diagnostics(inactive)).toEqual([
      ["DZ4012", "`tenant_id` is not a field of entity Doc", 19],
      ["DZ4012", "`tenant_id` is not a field of entity Doc", 20],
      ["DZ2013", "`tenant_id` is neither a field of this entity nor a value of the enum it is compared with", 21],
      ["DZ2003", "`tenant_id` is not a field of entity Doc", 23],
      ["DZ2003", "`tenant_id` is not a field of entity Doc", 30],
      ["DZ3002", "FK path `tenant_id.name` does not resolve", 32],
    ]);
    // Without active tenancy app_user has no key: current_user.tenant_id stays DZ3006.
    const attr = "module t\napp t \"T\"\n\nentity Org \"Org\":\n  name: str(40)\n\nentity Doc \"Doc\":\n  org: ref Org\n  permit:\n    list: authenticated\n  scope:\n    list: org = current_user.tenant_id\n      as: *\n";
    expect(diagnostics(attr)).toEqual([["DZ3006", "`current_user.tenant_id`: the generated app_user has no field `tenant_id`", 12]]);
    expect(diagnostics(`${attr}\ntenancy:\n  mode: shared_schema\n`.replace("  name: str(40)\n", "  archetype: tenant\n  name: str(40)\n"))).toEqual([]);
  });
});
