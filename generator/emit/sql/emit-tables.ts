/**
 * One `CREATE TABLE` per entity (DSL.md §4.2–4.5), plus `app_user` first when the spec declares
 * no principal entity. Constraints are named and inline: `pk_<t>`, then per column in declaration
 * order `uq_<t>_<col>`, `ck_<t>_<col>_len|enum|slug|ccy`, then the entity's `unique a, b` lines as
 * `uq_<t>_<a>_<b>`, then each row-local, time-independent invariant as `ck_<t>_<code|inv_n>`
 * (DSL.md §4.10; the other invariants are checked by the app). A `pii(…)` field gets a `COMMENT ON COLUMN`. Foreign keys and indexes come
 * later (emit-foreign-keys, emit-indexes), so tables need no ordering.
 *
 * ```sql
 * CREATE TABLE "task" (
 *   "id" uuid NOT NULL DEFAULT gen_random_uuid(),
 *   "title" text NOT NULL,
 *   CONSTRAINT "pk_task" PRIMARY KEY ("id"),
 *   CONSTRAINT "ck_task_title_len" CHECK (char_length("title") <= 200)
 * );
 * ```
 */
import type { EntityIR, FieldIR, IndexIR, InvariantIR, PrincipalIR } from "../../ir/ir";
import { compileInvariant } from "./compile-expression";
import { columnType } from "../../ir/column-type";
import { defaultExpression } from "./default-expression";
import { objectName } from "./object-name";
import { quoteIdent, quoteLiteral } from "./quote";
import { sqlSection } from "./sql-section";

export function emitTables(entities: readonly EntityIR[], principal: PrincipalIR): string {
  const tables = entities.map((e) =>
    [createTable(e.table, e.fields, e.rules?.indexes ?? [], invariantChecks(e, entities), e.tenant?.column ?? null), ...piiComments(e)].join("\n"),
  );
  if (principal.entity === null) {
    tables.unshift(`-- Principal table (the spec declares no principal entity)\n${createTable(principal.table, appUserFields(principal))}`);
    const key = appUserTenantKey(principal);
    // After every CREATE TABLE: the root may come later in this section.
    if (key !== null) tables.push(appUserTenantForeignKey(principal.table, key));
  }
  return sqlSection("Tables", tables);
}

/**
 * `tenant` is the partition-key column of a tenant-scoped table (DSL.md §7): it gets
 * `uq_<t>_<key>_id UNIQUE (<key>, id)` (the target of composite FKs, and the index on the key) and
 * leads every other unique constraint, so uniqueness is per tenant; constraint names stay those
 * of the declared columns.
 */
function createTable(
  table: string,
  fields: readonly FieldIR[],
  indexes: readonly IndexIR[] = [],
  checks: readonly string[] = [],
  tenant: string | null = null,
): string {
  if (!fields.some((f) => f.column === "id")) throw new Error(`table ${table} has no id field`);
  const lines = fields.map(columnDefinition);
  lines.push(`CONSTRAINT ${quoteIdent(objectName("pk", table))} PRIMARY KEY (${quoteIdent("id")})`);
  if (tenant !== null) {
    lines.push(`CONSTRAINT ${quoteIdent(objectName("uq", table, tenant, "id"))} UNIQUE (${quoteIdent(tenant)}, ${quoteIdent("id")})`);
  }
  for (const f of fields) lines.push(...fieldConstraints(table, f, tenant));
  for (const columns of uniqueLines(fields, indexes)) {
    lines.push(`CONSTRAINT ${quoteIdent(objectName("uq", table, ...columns))} UNIQUE (${tenantKeyed(columns, tenant).map(quoteIdent).join(", ")})`);
  }
  lines.push(...checks);
  return `CREATE TABLE ${quoteIdent(table)} (\n${lines.map((l) => `  ${l}`).join(",\n")}\n);`;
}

function columnDefinition(f: FieldIR): string {
  const parts = [quoteIdent(f.column), columnType(f.type)];
  if (f.required || f.column === "id") parts.push("NOT NULL");
  if (f.default !== null) parts.push(`DEFAULT ${defaultExpression(f.default)}`);
  return parts.join(" ");
}


/**
 * The columns with the partition key first on a tenant-scoped table (DSL.md §7). A line that
 * names the key itself (`unique tenant_id, code`) gets it once, leading: PostgreSQL rejects a
 * column twice in a UNIQUE constraint.
 */
export function tenantKeyed(columns: readonly string[], tenant: string | null): string[] {
  return tenant === null ? [...columns] : [tenant, ...columns.filter((c) => c !== tenant)];
}

function fieldConstraints(table: string, f: FieldIR, tenant: string | null): string[] {
  const col = quoteIdent(f.column);
  const out: string[] = [];
  const unique = uniqueColumns(f);
  if (unique !== null) {
    out.push(`CONSTRAINT ${quoteIdent(objectName("uq", table, ...unique))} UNIQUE (${tenantKeyed(unique, tenant).map(quoteIdent).join(", ")})`);
  }
  if (f.type.kind === "str") {
    const name = objectName("ck", table, f.column, "len");
    out.push(`CONSTRAINT ${quoteIdent(name)} CHECK (char_length(${col}) <= ${f.type.maxLength})`);
  }
  if (f.type.kind === "enum") {
    const name = objectName("ck", table, f.column, "enum");
    const values = f.type.values.map(quoteLiteral).join(", ");
    out.push(`CONSTRAINT ${quoteIdent(name)} CHECK (${col} IN (${values}))`);
  }
  if (f.type.kind === "slug") {
    const name = objectName("ck", table, f.column, "slug");
    out.push(`CONSTRAINT ${quoteIdent(name)} CHECK (${col} ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(${col}) BETWEEN 3 AND 40)`);
  }
  if (f.type.kind === "moneyCurrency") {
    const name = objectName("ck", table, f.column, "ccy");
    out.push(`CONSTRAINT ${quoteIdent(name)} CHECK (${col} ~ '^[A-Z]{3}$')`);
  }
  return out;
}

/**
 * The columns of a field's own `unique` (null without one): the column, or for `money` the pair
 * `(<f>_currency, <f>_minor)`, as a `unique` line naming the field gives (DSL.md §4.7).
 */
export function uniqueColumns(f: FieldIR): string[] | null {
  if (!f.unique || f.column === "id" || f.type.kind === "moneyCurrency") return null;
  return f.type.kind === "moneyMinor" ? [`${f.name}_currency`, f.column] : [f.column];
}

/**
 * The `unique a, b` lines as column lists (DSL.md §4.7), without those a column's own `unique`
 * already gives.
 */
export function uniqueLines(fields: readonly FieldIR[], indexes: readonly IndexIR[]): string[][] {
  const taken = new Set(["id", ...fields.flatMap((f) => uniqueColumns(f)?.join() ?? [])]);
  return indexes.filter((i) => i.unique && !taken.has(i.columns.join())).map((i) => [...i.columns]);
}

/** The name of an invariant's CHECK constraint: `ck_<t>_<code|inv_n>`. */
export function invariantConstraintName(e: EntityIR, inv: InvariantIR): string {
  return objectName("ck", e.table, inv.name);
}

/** `CONSTRAINT "ck_<t>_<code|inv_n>" CHECK (<sql>)` for each row-local invariant, in declaration order. */
function invariantChecks(e: EntityIR, entities: readonly EntityIR[]): string[] {
  return (e.rules?.invariants ?? [])
    .filter((inv) => inv.rowLocal)
    .map((inv) => {
      const body = compileInvariant(inv, { entity: e, entities, row: { kind: "policy" } });
      return `CONSTRAINT ${quoteIdent(invariantConstraintName(e, inv))} CHECK (${body})`;
    });
}

/** `pii(…)` (METADATA) as a column comment, e.g. `pii: category=contact, sensitivity=high`. */
function piiComments(e: EntityIR): string[] {
  return e.fields.flatMap((f) => {
    if (!f.pii) return [];
    const parts = [f.pii.category && `category=${f.pii.category}`, f.pii.sensitivity && `sensitivity=${f.pii.sensitivity}`].filter(Boolean);
    const text = parts.length === 0 ? "pii" : `pii: ${parts.join(", ")}`;
    return [`COMMENT ON COLUMN ${quoteIdent(e.table)}.${quoteIdent(f.column)} IS ${quoteLiteral(text)};`];
  });
}

/**
 * The generated principal table; under active tenancy it carries the partition key (DSL.md §5.3,
 * §7): a nullable ref to the root, set by operators. A user without one has no tenant and sees no
 * fenced row.
 */
function appUserFields(principal: PrincipalIR): readonly FieldIR[] {
  const key = appUserTenantKey(principal);
  return key === null ? APP_USER_FIELDS : [...APP_USER_FIELDS, key];
}

function appUserTenantKey(principal: PrincipalIR): FieldIR | null {
  const column = principal.tenant?.column ?? null;
  if (principal.tenant === undefined || column === null) return null;
  const { entity, table } = principal.tenant.root;
  return { name: column, column, type: { kind: "ref", entity, table }, required: false, unique: false, default: null, serverManaged: false, autoUpdate: false, indexed: true };
}

function appUserTenantForeignKey(table: string, key: FieldIR): string {
  const target = key.type.kind === "ref" ? key.type.table : "";
  return (
    `ALTER TABLE ${quoteIdent(table)} ADD CONSTRAINT ${quoteIdent(objectName("fk", table, key.column))} ` +
    `FOREIGN KEY (${quoteIdent(key.column)}) REFERENCES ${quoteIdent(target)} (${quoteIdent("id")});`
  );
}

const APP_USER_FIELDS: readonly FieldIR[] = [
  {
    name: "id",
    column: "id",
    type: { kind: "uuid" },
    required: true,
    unique: false,
    default: { kind: "generated", fn: "uuid" },
    serverManaged: true,
    autoUpdate: false,
    indexed: false,
  },
  {
    name: "email",
    column: "email",
    type: { kind: "email" },
    required: false,
    unique: true,
    default: null,
    serverManaged: false,
    autoUpdate: false,
    indexed: false,
  },
];
