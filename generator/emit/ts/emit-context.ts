/**
 * `src/generated/context.ts`: the two messages that open every request transaction (DSL.md
 * §6.11, §7), sent by runtime/transaction.ts:
 *
 * 1. `BEGIN_SQL` (no parameters, so a simple-protocol message with two statements, nothing
 *    interpolated) opens the transaction and switches to `dazzle_app` transaction-locally;
 * 2. `CALLER_SQL`, one parameterised statement now running as `dazzle_app`, sets the caller's id
 *    and roles and, for an authenticated caller, loads each principal attribute a rule uses into
 *    `dazzle.user_<attr>` and the caller's tenant into `dazzle.tenant_id`, from the caller's own
 *    principal row through the SECURITY DEFINER lookup `dazzle_principal()`.
 *
 * The role switch is a statement of its own because PostgreSQL checks EXECUTE on the lookup when
 * the statement starts: in the statement that switches the role it would be checked as the login
 * role, which (an authenticator: NOINHERIT, no privileges of its own) may not execute it.
 *
 * The lookup reads `dazzle.user_id`, so it must run after the `set_config` that sets it, and the
 * order in which PostgreSQL evaluates a target list is not defined. The lookup is therefore a
 * correlated subquery over the *value returned* by that `set_config` (its gate `user_id <> ''`):
 * a subquery's outer references are computed before it runs, so the setting is in place. The
 * gate also skips the lookup for anonymous callers (no principal row: the settings stay unset,
 * which reads as NULL). Every `set_config` result is an output column, so none can be optimised
 * away. The tenant is never a parameter: only the principal row decides it, so no token claim,
 * header or body can set it.
 */
import type { AppIR } from "../../ir/ir";
import { TENANT_SETTING } from "../sql/emit-readers";
import { APP_ROLE } from "../sql/emit-roles";
import { lookupColumns, PRINCIPAL_LOOKUP } from "../sql/emit-principal-lookup";
import { quoteIdent, quoteLiteral } from "../sql/quote";
import type { EmitContext, GeneratedFile } from "../types";
import { createProject, renderSource, sqlText } from "./common";

export const CONTEXT_PATH = "src/generated/context.ts";

/** The SQL of BEGIN_SQL: opens the transaction as `dazzle_app` (no parameters). */
export function beginSql(): string {
  return `begin; set local role ${quoteIdent(APP_ROLE)}`;
}

/**
 * The SQL of CALLER_SQL: `$1` = user id text or '', `$2` = comma-separated roles, `$3` = '' or a
 * caller role (caller-roles.ts) to switch to for the rest of the transaction. The switch is an
 * output column too; EXECUTE on the lookup was checked as `dazzle_app` when the statement started.
 */
export function callerSql(app: AppIR): string {
  const settings = "set_config('dazzle.user_id', $1, true) as user_id, set_config('dazzle.roles', $2, true) as roles";
  const principal = principalSubquery(app);
  if (principal === null) return `select ${settings}, ${ROLE_SWITCH}`;
  return [`select caller.user_id, caller.roles, (${principal}) as principal,`, `  ${ROLE_SWITCH}`, `from (select ${settings}) as caller`].join("\n");
}

const ROLE_SWITCH = "case when $3 <> '' then set_config('role', $3, true) end as role";

/**
 * The correlated subquery loading the principal settings, or null when there is nothing to load.
 * The outer one-row source keeps one result row (every setting '') when the caller has no
 * principal row.
 */
function principalSubquery(app: AppIR): string | null {
  const { principal } = app;
  if (lookupColumns(principal).length === 0) return null;
  const load = (setting: string, column: string) =>
    `set_config(${quoteLiteral(setting)}, coalesce(p.${quoteIdent(column)}::text, ''), true)`;
  const settings = principal.attributes.filter((a) => !a.tenantKey).map((a) => load(`dazzle.user_${a.name}`, a.column));
  const tenant = principal.tenant?.column ?? null;
  if (tenant !== null) settings.push(load(TENANT_SETTING, tenant));
  return [
    `\n    select row(${settings.join(",\n      ")})`,
    `    from (select 1) as one left join ${PRINCIPAL_LOOKUP}() p on true`,
    "    where caller.user_id <> ''\n  ",
  ].join("\n");
}

export function emitContext(app: AppIR, ctx: EmitContext): GeneratedFile {
  const attrs = app.principal.attributes.filter((a) => !a.tenantKey).map((a) => `\`dazzle.user_${a.name}\``);
  if ((app.principal.tenant?.column ?? null) !== null) attrs.push(`\`${TENANT_SETTING}\` (the caller's tenant)`);
  const loads = principalSubquery(app) !== null;
  const contents = renderSource(createProject(), CONTEXT_PATH, ctx, null, (file) => {
    file.addVariableStatement({
      isExported: true,
      docs: [
        [
          "First message of every request transaction (runtime/transaction.ts), no parameters: opens the",
          `transaction and switches to \`${APP_ROLE}\` until it ends.`,
        ].join("\n"),
      ],
      name: "BEGIN_SQL",
      initializer: sqlText(beginSql()),
    });
    file.addVariableStatement({
      isExported: true,
      docs: [
        [
          "Second statement, run as `dazzle_app`: `$1` is the caller's user id or '', `$2` its roles joined",
          ...(loads
            ? ["by commas. Sets `dazzle.user_id` and `dazzle.roles`; for an authenticated caller it also loads", `${attrs.join(", ")} from the caller's principal row ('' when unknown).`]
            : ["by commas. Sets `dazzle.user_id` and `dazzle.roles` (no rule uses a principal attribute: nothing to load)."]),
          "`$3` is '' or the caller role a list runs as (runtime/access.ts `listPlanFor`).",
        ].join("\n"),
      ],
      name: "CALLER_SQL",
      initializer: sqlText(callerSql(app)),
    });
  });
  return { path: CONTEXT_PATH, contents, owner: "generator" };
}
