/**
 * The definer helper of each invariant that reads other rows (a dotted reference, DSL.md §4.10).
 *
 * Why: the write flow checks such an invariant by a probe in the write transaction, which runs as
 * `dazzle_app` under RLS. Read inline, a referenced row the caller may not SELECT reads as NULL,
 * the comparison is NULL and the invariant passes: a caller without read scope on Project could
 * file invoices over its budget. An invariant is a data-integrity rule and must hold whatever the
 * caller may see, so the test runs in a `SECURITY DEFINER` function owned by `dazzle_definer`
 * (BYPASSRLS), which takes the would-be row's columns as parameters and returns only the
 * invariant's boolean: custom SQL calling it learns that boolean, never a column value.
 *
 * `invariant: amount <= project.budget` on Invoice:
 *
 * ```sql
 * CREATE OR REPLACE FUNCTION "dz_inv_1a2b3c4d"(integer, uuid) RETURNS boolean
 *   LANGUAGE sql STABLE SECURITY DEFINER
 *   SET search_path = public, pg_temp
 *   AS $$ SELECT ($1 <= (SELECT "dz_r1"."budget" FROM "project" AS "dz_r1" WHERE "dz_r1"."id" = $2)) $$;
 * ALTER FUNCTION "dz_inv_1a2b3c4d"(integer, uuid) OWNER TO "dazzle_definer";
 * REVOKE ALL ON FUNCTION "dz_inv_1a2b3c4d"(integer, uuid) FROM PUBLIC;
 * GRANT EXECUTE ON FUNCTION "dz_inv_1a2b3c4d"(integer, uuid) TO "dazzle_app";
 * COMMENT ON FUNCTION "dz_inv_1a2b3c4d"(integer, uuid) IS 'dazzle-gen invariant helper: Invoice: amount <= project.budget';
 * ```
 *
 * and the probe calls it over the would-be row: `"dz_inv_1a2b3c4d"("invoice"."amount", "invoice"."project")`.
 *
 * Conventions are the scope helpers' (emit-scope-helpers.ts): the name `dz_inv_<8 hex>` is a
 * sha256 of the entity's table and the invariant's expression IR (not of the tenant fence), the
 * definer gets SELECT on exactly the tables the helpers read, every statement is re-runnable, and
 * under active tenancy every tenant-scoped table read is fenced
 * (`AND "dz_r1"."tenant_id" = dazzle_tenant_id()`). Row-local invariants stay CHECK constraints
 * and time-dependent ones that read no other row stay inline probes.
 */
import { createHash } from "node:crypto";
import type { EntityIR, InvariantIR } from "../../ir/ir";
import { compileInvariantFunction } from "./compile-expression";
import { definerFunction } from "./definer-function";
import { DEFINER_ROLE } from "./emit-roles";
import { quoteIdent } from "./quote";
import type { TenantFence } from "./scope-helper";
import { sqlSection } from "./sql-section";

export interface InvariantHelper {
  /** `dz_inv_<8 hex>`: lower-case, safe unquoted. */
  readonly name: string;
  /** The entity columns passed as `$1…`, in order. */
  readonly columns: readonly string[];
  /** `(integer, uuid)`: the signature used by ALTER/GRANT/COMMENT. */
  readonly signature: string;
  /** `SELECT <boolean test>`. */
  readonly body: string;
  /** `<Entity>: <expression as written>`. */
  readonly comment: string;
  /** Tables the body reads, sorted: the definer needs SELECT on them. */
  readonly tables: readonly string[];
}

/** Tenant-scoped tables (table → partition-key column); empty without active tenancy. */
export function tenantFence(entities: readonly EntityIR[]): TenantFence {
  return new Map(entities.flatMap((e) => (e.tenant ? [[e.table, e.tenant.column] as const] : [])));
}

/** The helper of `inv` on `entity`, or null when it reads no other row (a CHECK or an inline probe). */
export function invariantHelper(entity: EntityIR, inv: InvariantIR, entities: readonly EntityIR[]): InvariantHelper | null {
  if (inv.rowLocal) return null;
  const compiled = compileInvariantFunction(inv, { entity, entities, fenced: tenantFence(entities) });
  if (compiled.tables.length === 0) return null;
  const name = "dz_inv_" + createHash("sha256").update(JSON.stringify(["inv", entity.table, inv.expr])).digest("hex").slice(0, 8);
  return {
    name,
    columns: compiled.params.map((p) => p.column),
    signature: `(${compiled.params.map((p) => parameterType(p.type)).join(", ")})`,
    body: `SELECT ${compiled.test}`,
    comment: `${entity.name}: ${inv.source}`,
    tables: compiled.tables,
  };
}

/**
 * A column type as a function parameter type: PostgreSQL ignores a parameter's typmod, and
 * `numeric(12,2)` would break the `(a, b)` signature that db:verify splits on commas.
 */
function parameterType(columnType: string): string {
  return columnType.replace(/\(.*\)$/, "");
}

/** The probe's test: the helper called with the would-be row's columns (aliased `alias`). */
export function invariantHelperCall(helper: InvariantHelper, alias: string): string {
  return `${quoteIdent(helper.name)}(${helper.columns.map((c) => `${quoteIdent(alias)}.${quoteIdent(c)}`).join(", ")})`;
}

/**
 * The section: SELECT grants for the definer, then one function per distinct helper name, sorted
 * by name. Must run after the tables (and the tenant reader) exist: SQL function bodies are
 * validated at creation.
 */
export function emitInvariantHelpers(entities: readonly EntityIR[]): string | null {
  const helpers = new Map<string, InvariantHelper>();
  for (const e of entities) {
    for (const inv of e.rules?.invariants ?? []) {
      const h = invariantHelper(e, inv, entities);
      if (h !== null && !helpers.has(h.name)) helpers.set(h.name, h);
    }
  }
  if (helpers.size === 0) return null;
  const sorted = [...helpers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const tables = [...new Set(sorted.flatMap((h) => h.tables))].sort();
  return sqlSection("Invariant helpers: invariants that read other rows, evaluated as dazzle_definer", [
    `GRANT SELECT ON ${tables.map(quoteIdent).join(", ")} TO ${quoteIdent(DEFINER_ROLE)};`,
    ...sorted.map(helperDefinition),
  ]);
}

function helperDefinition(h: InvariantHelper): string {
  return definerFunction({ ...h, returns: "boolean", comment: `dazzle-gen invariant helper: ${h.comment}` });
}
