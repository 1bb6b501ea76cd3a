/**
 * The access-decision log of `audit:` (DSL.md §9.1): the framework table `_dazzle_audit_log`, and
 * the one way to write it, the SECURITY DEFINER function `dazzle_log_decision`. Emitted only when
 * some entity audits an operation.
 *
 * Why a definer function: the log is evidence about callers, so callers must not read it or forge
 * it. The table is under RLS (ENABLE + FORCE) with no policy and no privilege for `dazzle_app` or
 * the caller roles: a direct SELECT or INSERT is refused (42501). The function, owned by
 * `dazzle_definer` (which alone holds INSERT on the table), takes what the request decided and
 * fills who decided it from the session settings the request's transaction set (`dazzle_user_id()`,
 * `dazzle.roles`, `dazzle_tenant_id()` under tenancy), so a row cannot claim another caller.
 *
 * ```sql
 * CREATE OR REPLACE FUNCTION "dazzle_log_decision"(text, text, uuid, text, text, text, text, jsonb) RETURNS void
 *   LANGUAGE sql VOLATILE SECURITY DEFINER
 *   SET search_path = public, pg_temp
 *   AS $$ INSERT INTO "_dazzle_audit_log" (…) VALUES ("dazzle_user_id"(), …, $1, $2, …) $$;
 * ```
 *
 * Parameters: entity, operation, entity_id, decision, reason, request_method, request_path,
 * field_changes. The runtime calls it (runtime/crud.ts): allow rows inside the operation's
 * transaction, deny rows in a short transaction of their own.
 */
import type { AppIR } from "../../ir/ir";
import { definerFunction } from "./definer-function";
import { TENANT_READER_NAME } from "./emit-readers";
import { DEFINER_ROLE } from "./emit-roles";
import { objectName } from "./object-name";
import { quoteIdent, quoteLiteral } from "./quote";
import { sqlSection } from "./sql-section";

export const AUDIT_TABLE = "_dazzle_audit_log";
export const AUDIT_FUNCTION = "dazzle_log_decision";

/** `grantees`: the roles that run requests (caller-roles.ts runtimeRoles); a caller role runs lists. */
export function emitAudit(app: Pick<AppIR, "entities" | "principal">, grantees: readonly string[]): string | null {
  if (!app.entities.some((e) => (e.rules?.auditOperations ?? []).length > 0)) return null;
  return sqlSection("Access-decision log (audit:): written only through dazzle_log_decision, readable by no runtime role", [
    auditTable(),
    `CREATE INDEX ${quoteIdent(objectName("ix", AUDIT_TABLE, "entity", "at"))} ON ${quoteIdent(AUDIT_TABLE)} (${quoteIdent("entity")}, ${quoteIdent("at")});`,
    [
      `ALTER TABLE ${quoteIdent(AUDIT_TABLE)} ENABLE ROW LEVEL SECURITY;`,
      `ALTER TABLE ${quoteIdent(AUDIT_TABLE)} FORCE ROW LEVEL SECURITY;`,
      `GRANT INSERT ON ${quoteIdent(AUDIT_TABLE)} TO ${quoteIdent(DEFINER_ROLE)};`,
    ].join("\n"),
    definerFunction(
      {
        name: AUDIT_FUNCTION,
        signature: "(text, text, uuid, text, text, text, text, jsonb)",
        returns: "void",
        volatility: "VOLATILE",
        body: insertDecision(app.principal.tenant !== undefined),
        comment: "dazzle-gen audit log: records one access decision with the session's caller",
      },
      grantees,
    ),
  ]);
}

function auditTable(): string {
  const t = AUDIT_TABLE;
  const decision = quoteIdent("decision");
  const columns = [
    `${quoteIdent("id")} uuid NOT NULL DEFAULT gen_random_uuid()`,
    `${quoteIdent("at")} timestamptz NOT NULL DEFAULT now()`,
    `${quoteIdent("user_id")} uuid`,
    `${quoteIdent("roles")} text[] NOT NULL`,
    `${quoteIdent("tenant_id")} uuid`,
    `${quoteIdent("operation")} text NOT NULL`,
    `${quoteIdent("entity")} text NOT NULL`,
    `${quoteIdent("entity_id")} uuid`,
    `${decision} text NOT NULL`,
    `${quoteIdent("reason")} text NOT NULL`,
    `${quoteIdent("request_method")} text NOT NULL`,
    `${quoteIdent("request_path")} text NOT NULL`,
    `${quoteIdent("field_changes")} jsonb`,
    `CONSTRAINT ${quoteIdent(objectName("pk", t))} PRIMARY KEY (${quoteIdent("id")})`,
    `CONSTRAINT ${quoteIdent(objectName("ck", t, "decision"))} CHECK (${decision} IN (${["allow", "deny"].map(quoteLiteral).join(", ")}))`,
  ];
  return `CREATE TABLE ${quoteIdent(t)} (\n${columns.map((c) => `  ${c}`).join(",\n")}\n);`;
}

/** The function body: the caller from the session (no roles: `{}`), the rest from the parameters. */
function insertDecision(tenancy: boolean): string {
  const columns = ["user_id", "roles", "tenant_id", "entity", "operation", "entity_id", "decision", "reason", "request_method", "request_path", "field_changes"];
  const roles = `coalesce(string_to_array(NULLIF(current_setting(${quoteLiteral("dazzle.roles")}, true), ''), ','), '{}')`;
  const tenant = tenancy ? `${quoteIdent(TENANT_READER_NAME)}()` : "NULL";
  const values = [`${quoteIdent("dazzle_user_id")}()`, roles, tenant, "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8"];
  return `INSERT INTO ${quoteIdent(AUDIT_TABLE)} (${columns.map(quoteIdent).join(", ")}) VALUES (${values.join(", ")})`;
}
