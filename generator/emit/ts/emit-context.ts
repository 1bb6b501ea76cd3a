/**
 * `src/generated/context.ts`: the statements that open every request transaction (DSL.md §6.11,
 * §7), run by runtime/transaction.ts:
 *
 * 1. `CONTEXT_SQL` switches to `dazzle_app` and sets the caller's id and roles (bound parameters);
 * 2. `PRINCIPAL_SQL` (null when the rules use no principal attribute and tenancy is off), run as
 *    `dazzle_app` for an authenticated caller, loads each principal attribute a rule uses into
 *    `dazzle.user_<attr>` and the caller's tenant into `dazzle.tenant_id`, from the caller's own
 *    principal row through the SECURITY DEFINER lookup `dazzle_principal()`.
 *
 * Two statements because PostgreSQL checks EXECUTE on the lookup when the statement starts: in
 * the statement that switches the role it would be checked as the login role, which (an
 * authenticator: NOINHERIT, no privileges of its own) may not execute it. The tenant is never a
 * parameter: only the principal row decides it, so no token claim, header or body can set it.
 */
import type { AppIR } from "../../ir/ir";
import { TENANT_SETTING } from "../sql/emit-readers";
import { lookupColumns, PRINCIPAL_LOOKUP } from "../sql/emit-principal-lookup";
import { quoteIdent, quoteLiteral } from "../sql/quote";
import type { EmitContext, GeneratedFile } from "../types";
import { createProject, renderSource, sqlText } from "./common";

export const CONTEXT_PATH = "src/generated/context.ts";

/** The SQL of CONTEXT_SQL: `$1` = user id text or '', `$2` = comma-separated roles. */
export function contextSql(_app: AppIR): string {
  const settings = ["set_config('role', 'dazzle_app', true)", "set_config('dazzle.user_id', $1, true)", "set_config('dazzle.roles', $2, true)"];
  return `select ${settings.join(",\n  ")}`;
}

/** The SQL of PRINCIPAL_SQL (no parameters), or null when there is nothing to load. */
export function principalSql(app: AppIR): string | null {
  const { principal } = app;
  if (lookupColumns(principal).length === 0) return null;
  const load = (setting: string, column: string) =>
    `set_config(${quoteLiteral(setting)}, coalesce(p.${quoteIdent(column)}::text, ''), true)`;
  const settings = principal.attributes.filter((a) => !a.tenantKey).map((a) => load(`dazzle.user_${a.name}`, a.column));
  const tenant = principal.tenant?.column ?? null;
  if (tenant !== null) settings.push(load(TENANT_SETTING, tenant));
  // The outer one-row source keeps one result row (every setting '') when the caller has no principal row.
  return `select ${settings.join(",\n  ")}\nfrom (select 1) as caller left join ${PRINCIPAL_LOOKUP}() p on true`;
}

export function emitContext(app: AppIR, ctx: EmitContext): GeneratedFile {
  const attrs = app.principal.attributes.filter((a) => !a.tenantKey).map((a) => `\`dazzle.user_${a.name}\``);
  if ((app.principal.tenant?.column ?? null) !== null) attrs.push(`\`${TENANT_SETTING}\` (the caller's tenant)`);
  const principal = principalSql(app);
  const contents = renderSource(createProject(), CONTEXT_PATH, ctx, null, (file) => {
    file.addVariableStatement({
      isExported: true,
      docs: [
        [
          "First statement of every request transaction (runtime/transaction.ts): `$1` is the caller's",
          "user id or '', `$2` its roles joined by commas. Sets `role`, `dazzle.user_id` and `dazzle.roles`.",
        ].join("\n"),
      ],
      name: "CONTEXT_SQL",
      initializer: sqlText(contextSql(app)),
    });
    file.addVariableStatement({
      isExported: true,
      docs: [
        principal === null
          ? "Second statement for an authenticated caller: none (no rule uses a principal attribute)."
          : [
              "Second statement for an authenticated caller, run as `dazzle_app`: loads",
              `${attrs.join(", ")} from the caller's principal row ('' when unknown).`,
            ].join("\n"),
      ],
      name: "PRINCIPAL_SQL",
      type: "string | null",
      initializer: principal === null ? "null" : sqlText(principal),
    });
  });
  return { path: CONTEXT_PATH, contents, owner: "generator" };
}
