/**
 * The session readers (DSL.md §6.11) that policies and app-layer fragments call: each turns an
 * unset or empty transaction-local setting into NULL (`dazzle_has_role` into false), so a pooled
 * connection left with `''` fails closed instead of raising a cast error.
 *
 * ```sql
 * CREATE OR REPLACE FUNCTION "dazzle_user_attr_org"() RETURNS uuid
 *   LANGUAGE sql STABLE PARALLEL SAFE
 *   AS $$ SELECT NULLIF(current_setting('dazzle.user_org', true), '')::uuid $$;
 * ```
 */
import type { PrincipalIR } from "../../ir/ir";
import { APP_ROLE } from "./emit-roles";
import { userAttrReader } from "./predicate";
import { dollarQuote, quoteIdent, quoteLiteral } from "./quote";
import { sqlSection } from "./sql-section";

/** `grantees`: the roles that run requests (caller-roles.ts runtimeRoles). */
export function emitReaders(principal: PrincipalIR, grantees: readonly string[] = [APP_ROLE]): string {
  const readers: Reader[] = [
    {
      name: quoteIdent("dazzle_user_id"),
      param: null,
      returns: "uuid",
      body: `SELECT ${readSetting("dazzle.user_id")}::uuid`,
    },
    {
      name: quoteIdent("dazzle_has_role"),
      param: { name: "r", type: "text" },
      returns: "boolean",
      body: `SELECT coalesce(r = ANY (string_to_array(${readSetting("dazzle.roles")}, ',')), false)`,
    },
  ];
  if (principal.tenant !== undefined) readers.push(TENANT_READER);
  for (const attr of principal.attributes) {
    if (attr.name === "id") continue; // `current_user.id` is dazzle_user_id()
    readers.push({
      name: readerIdent(attr.name),
      param: null,
      returns: attr.sqlType,
      // `current_user.<partition_key>` is the caller's tenant (DSL.md §7), one setting for both.
      body: `SELECT ${readSetting(attr.tenantKey ? TENANT_SETTING : `dazzle.user_${attr.name}`)}::${attr.sqlType}`,
    });
  }
  const definitions = readers.map((r) =>
    [
      `CREATE OR REPLACE FUNCTION ${r.name}(${r.param ? `${r.param.name} ${r.param.type}` : ""}) RETURNS ${r.returns}`,
      "  LANGUAGE sql STABLE PARALLEL SAFE",
      `  AS ${dollarQuote(` ${r.body} `)};`,
    ].join("\n"),
  );
  const signatures = readers.map((r) => `${r.name}(${r.param?.type ?? ""})`);
  return sqlSection("Session readers: unset or '' settings read as NULL (dazzle_has_role as false)", [
    ...definitions,
    `GRANT EXECUTE ON FUNCTION ${signatures.join(", ")} TO ${grantees.map(quoteIdent).join(", ")};`,
  ]);
}

/** The caller's tenant under active tenancy (DSL.md §7): the fence and the scope helpers read it. */
export const TENANT_SETTING = "dazzle.tenant_id";
export const TENANT_READER_NAME = "dazzle_tenant_id";

const TENANT_READER: Reader = {
  name: quoteIdent(TENANT_READER_NAME),
  param: null,
  returns: "uuid",
  body: `SELECT ${readSetting(TENANT_SETTING)}::uuid`,
};

interface Reader {
  readonly name: string;
  readonly param: { readonly name: string; readonly type: string } | null;
  readonly returns: string;
  readonly body: string;
}

function readSetting(name: string): string {
  return `NULLIF(current_setting(${quoteLiteral(name)}, true), '')`;
}

/**
 * predicate.ts calls the attribute readers unquoted, which PostgreSQL folds to lower case (DSL
 * names are ASCII), so the definition quotes the folded name.
 */
function readerIdent(attr: string): string {
  return quoteIdent(userAttrReader(attr).toLowerCase());
}
