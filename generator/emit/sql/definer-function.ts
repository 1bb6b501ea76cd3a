/**
 * A `SECURITY DEFINER` SQL function as every generated helper is declared (DSL.md §6.10): STABLE
 * (VOLATILE for the one that writes, the audit log's writer), `search_path` pinned, owned by
 * `dazzle_definer` (which holds SELECT on exactly the tables the helpers read, and INSERT on the
 * audit log), EXECUTE revoked from PUBLIC and granted to `dazzle_app` (and the caller roles, for
 * the scope helpers their policies call and the audit writer of a list) only, and a COMMENT
 * saying what it is for. `CREATE OR REPLACE` keeps re-applying the statement idempotent.
 */
import { APP_ROLE, DEFINER_ROLE } from "./emit-roles";
import { dollarQuote, quoteIdent, quoteLiteral } from "./quote";

export interface DefinerFunction {
  readonly name: string;
  /** `(uuid, text)`: the parameter types, parenthesised. */
  readonly signature: string;
  readonly returns: string;
  /** The SQL body (one statement). */
  readonly body: string;
  readonly comment: string;
  /** VOLATILE for a function that writes (a STABLE SQL function may not INSERT); STABLE by default. */
  readonly volatility?: "STABLE" | "VOLATILE";
}

export function definerFunction(f: DefinerFunction, grantees: readonly string[] = [APP_ROLE]): string {
  const fn = `${quoteIdent(f.name)}${f.signature}`;
  return [
    `CREATE OR REPLACE FUNCTION ${fn} RETURNS ${f.returns}`,
    `  LANGUAGE sql ${f.volatility ?? "STABLE"} SECURITY DEFINER`,
    "  SET search_path = public, pg_temp",
    `  AS ${dollarQuote(` ${f.body} `)};`,
    `ALTER FUNCTION ${fn} OWNER TO ${quoteIdent(DEFINER_ROLE)};`,
    `REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC;`,
    `GRANT EXECUTE ON FUNCTION ${fn} TO ${grantees.map(quoteIdent).join(", ")};`,
    `COMMENT ON FUNCTION ${fn} IS ${quoteLiteral(f.comment)};`,
  ].join("\n");
}
