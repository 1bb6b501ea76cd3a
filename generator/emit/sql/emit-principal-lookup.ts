/**
 * `dazzle_principal() RETURNS TABLE (<columns>)` (DSL.md §6.11, §7): the lookup that fills the
 * `dazzle.user_<attr>` settings and, under tenancy, `dazzle.tenant_id`. It must see the principal
 * row whatever the caller's policies allow, and FORCE ROW LEVEL SECURITY binds the table owner
 * too, so the function is SECURITY DEFINER owned by `dazzle_definer` (BYPASSRLS, SELECT on that
 * one table only). Only `dazzle_app` may execute it.
 *
 * It takes no argument and returns only what the context needs: the columns of the principal
 * attributes the rules use and the tenant column, of the row whose id is `dazzle.user_id` (set
 * by `CALLER_SQL` before it calls the lookup, generator/emit/ts/emit-context.ts). A
 * `(uuid) RETURNS SETOF <table>` lookup let custom SQL running as `dazzle_app` read any
 * principal's whole row past RLS. Without attributes and tenancy there is nothing to look up and
 * no function.
 *
 * ```sql
 * CREATE OR REPLACE FUNCTION "dazzle_principal"() RETURNS TABLE ("org" uuid)
 *   LANGUAGE sql STABLE SECURITY DEFINER
 *   SET search_path = public, pg_temp
 *   AS $$ SELECT p."org" FROM "user" p WHERE p."id" = dazzle_user_id() $$;
 * ```
 */
import type { PrincipalIR } from "../../ir/ir";
import { APP_ROLE, DEFINER_ROLE } from "./emit-roles";
import { dollarQuote, quoteIdent } from "./quote";
import { sqlSection } from "./sql-section";

export const PRINCIPAL_LOOKUP = "dazzle_principal";

/** A column of the principal row the context reads, with its SQL type. */
export interface LookupColumn {
  readonly column: string;
  readonly sqlType: string;
}

/** The columns `dazzle_principal()` returns, in order: attribute columns (sorted), then the tenant column. */
export function lookupColumns(principal: PrincipalIR): LookupColumn[] {
  const columns: LookupColumn[] = principal.attributes.filter((a) => !a.tenantKey).map((a) => ({ column: a.column, sqlType: a.sqlType }));
  const tenant = principal.tenant?.column ?? null;
  if (tenant !== null) columns.push({ column: tenant, sqlType: "uuid" });
  return columns.filter((c, i) => columns.findIndex((d) => d.column === c.column) === i);
}

export function emitPrincipalLookup(principal: PrincipalIR): string | null {
  const columns = lookupColumns(principal);
  if (columns.length === 0) return null;
  const fn = quoteIdent(PRINCIPAL_LOOKUP);
  const table = quoteIdent(principal.table);
  const returns = columns.map((c) => `${quoteIdent(c.column)} ${c.sqlType}`).join(", ");
  const body = ` SELECT ${columns.map((c) => `p.${quoteIdent(c.column)}`).join(", ")} FROM ${table} p WHERE p.${quoteIdent("id")} = dazzle_user_id() `;
  const statements = [
    `CREATE OR REPLACE FUNCTION ${fn}() RETURNS TABLE (${returns})`,
    "  LANGUAGE sql STABLE SECURITY DEFINER",
    "  SET search_path = public, pg_temp",
    `  AS ${dollarQuote(body)};`,
    `GRANT SELECT ON ${table} TO ${quoteIdent(DEFINER_ROLE)};`,
    `ALTER FUNCTION ${fn}() OWNER TO ${quoteIdent(DEFINER_ROLE)};`,
    `REVOKE ALL ON FUNCTION ${fn}() FROM PUBLIC;`,
    `GRANT EXECUTE ON FUNCTION ${fn}() TO ${quoteIdent(APP_ROLE)};`,
  ];
  return sqlSection("Principal lookup: the caller's own context columns, read past RLS as dazzle_definer", [statements.join("\n")]);
}
