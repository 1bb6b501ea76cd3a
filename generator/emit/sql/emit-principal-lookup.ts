/**
 * `dazzle_principal(p uuid) RETURNS SETOF <principal table>` (DSL.md §6.11): the lookup that
 * fills the `dazzle.user_<attr>` settings. It must see the principal row whatever the caller's
 * policies allow, and FORCE ROW LEVEL SECURITY binds the table owner too, so the function is
 * SECURITY DEFINER owned by `dazzle_definer` (BYPASSRLS, SELECT on that one table only).
 * Only `dazzle_app` may execute it.
 */
import type { PrincipalIR } from "../../ir/ir";
import { APP_ROLE, DEFINER_ROLE } from "./emit-roles";
import { dollarQuote, quoteIdent } from "./quote";
import { sqlSection } from "./sql-section";

export function emitPrincipalLookup(principal: PrincipalIR): string {
  const fn = quoteIdent("dazzle_principal");
  const table = quoteIdent(principal.table);
  // `$1`, not `p`: in a SQL function a column named `p` would shadow the parameter.
  const body = ` SELECT * FROM ${table} WHERE ${quoteIdent("id")} = $1 `;
  const statements = [
    `CREATE OR REPLACE FUNCTION ${fn}(p uuid) RETURNS SETOF ${table}`,
    "  LANGUAGE sql STABLE SECURITY DEFINER",
    "  SET search_path = public, pg_temp",
    `  AS ${dollarQuote(body)};`,
    `GRANT SELECT ON ${table} TO ${quoteIdent(DEFINER_ROLE)};`,
    `ALTER FUNCTION ${fn}(uuid) OWNER TO ${quoteIdent(DEFINER_ROLE)};`,
    `REVOKE ALL ON FUNCTION ${fn}(uuid) FROM PUBLIC;`,
    `GRANT EXECUTE ON FUNCTION ${fn}(uuid) TO ${quoteIdent(APP_ROLE)};`,
  ];
  return sqlSection("Principal lookup (reads past RLS as dazzle_definer)", [statements.join("\n")]);
}
