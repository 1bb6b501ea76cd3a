/**
 * The definer helpers of FK-path and `via` scope leaves (DSL.md §6.10), one per distinct helper
 * name, sorted by name, plus the indexes their junction lookups need. Must run after the tables
 * exist (SQL function bodies are validated at creation) and before the RLS policies that call
 * them. Every statement is re-runnable: CREATE OR REPLACE, ALTER OWNER, GRANT/REVOKE, COMMENT and
 * CREATE INDEX IF NOT EXISTS converge on the same state.
 *
 * ```sql
 * CREATE OR REPLACE FUNCTION "dz_path_1a2b3c4d"(uuid) RETURNS SETOF uuid
 *   LANGUAGE sql STABLE SECURITY DEFINER
 *   SET search_path = public, pg_temp
 *   AS $$ SELECT t1."id" FROM "project" t1 WHERE t1."org" = $1 $$;
 * ALTER FUNCTION "dz_path_1a2b3c4d"(uuid) OWNER TO "dazzle_definer";
 * REVOKE ALL ON FUNCTION "dz_path_1a2b3c4d"(uuid) FROM PUBLIC;
 * GRANT EXECUTE ON FUNCTION "dz_path_1a2b3c4d"(uuid) TO "dazzle_app";
 * COMMENT ON FUNCTION "dz_path_1a2b3c4d"(uuid) IS 'dazzle-gen scope helper: FK path project.org = $1: ids of project rows';
 * ```
 *
 * The definer (BYPASSRLS) gets SELECT on exactly the tables the helpers read, so a helper sees
 * past the referenced tables' own policies: the rule, not the caller's other rights, decides.
 * Under tenancy each helper re-applies the tenant fence to the tenant-scoped tables it reads
 * (`AND t1."tenant_id" = dazzle_tenant_id()`, DSL.md §6.10).
 */
import type { EntityIR } from "../../ir/ir";
import { definerFunction } from "./definer-function";
import { APP_ROLE, DEFINER_ROLE } from "./emit-roles";
import { tenantKeyed } from "./emit-tables";
import { objectName } from "./object-name";
import { quoteIdent } from "./quote";
import { pathHelper, viaHelper, type ScopeHelper, type TenantFence } from "./scope-helper";
import { sqlSection } from "./sql-section";
import { predicateLeaves } from "../../ir/predicate-leaves";

/** `grantees`: the roles that run requests (caller-roles.ts runtimeRoles); policies call the helpers. */
export function emitScopeHelpers(entities: readonly EntityIR[], grantees: readonly string[] = [APP_ROLE]): string | null {
  const fenced: TenantFence = new Map(entities.flatMap((e) => (e.tenant ? [[e.table, e.tenant.column] as const] : [])));
  const helpers = new Map<string, ScopeHelper>();
  const junctionColumns = new Map<string, Set<string>>();
  for (const e of entities) {
    for (const leaf of (e.access.scope ?? []).flatMap((rule) => predicateLeaves(rule.predicate))) {
      if (leaf.kind === "path") {
        const h = pathHelper(leaf, fenced);
        helpers.set(h.name, h);
      } else if (leaf.kind === "exists") {
        const h = viaHelper(leaf, fenced);
        helpers.set(h.name, h);
        const columns = junctionColumns.get(leaf.junction.table) ?? new Set<string>();
        for (const b of [...leaf.entityBindings, ...leaf.principalBindings, ...leaf.nullBindings]) columns.add(b.path.hops[0]?.column ?? b.path.column);
        junctionColumns.set(leaf.junction.table, columns);
      }
    }
  }
  if (helpers.size === 0) return null;

  const sorted = [...helpers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const tables = [...new Set(sorted.flatMap((h) => h.tables))].sort();
  const blocks = [
    `GRANT SELECT ON ${tables.map(quoteIdent).join(", ")} TO ${quoteIdent(DEFINER_ROLE)};`,
    ...sorted.map((h) => definerFunction({ ...h, comment: `dazzle-gen scope helper: ${h.comment}` }, grantees)),
  ];
  const indexes = junctionIndexes(entities, junctionColumns);
  if (indexes.length > 0) blocks.push(indexes.join("\n"));
  return sqlSection("Scope helpers: FK paths and via junctions read other tables as dazzle_definer", blocks);
}

/**
 * `ix_<junction>_<col>` for each junction column a helper filters or returns on, unless the
 * indexes section already covers it (FK columns, `indexed` fields, unique and primary keys).
 */
function junctionIndexes(entities: readonly EntityIR[], columns: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const statements: string[] = [];
  for (const e of entities) {
    const used = columns.get(e.table);
    if (!used) continue;
    for (const f of e.fields) {
      if (!used.has(f.column) || f.column === "id" || f.unique || f.indexed || f.type.kind === "ref") continue;
      const name = objectName("ix", e.table, f.column);
      const columns = tenantKeyed([f.column], e.tenant?.column ?? null);
      statements.push(`CREATE INDEX IF NOT EXISTS ${quoteIdent(name)} ON ${quoteIdent(e.table)} (${columns.map(quoteIdent).join(", ")});`);
    }
  }
  return statements;
}
