/**
 * `src/generated/context.ts`: the one statement that opens every request transaction (DSL.md
 * §6.11). It switches to `dazzle_app`, sets the caller's id and roles and, for each principal
 * attribute a scope rule uses, loads that attribute from the principal row through the SECURITY
 * DEFINER lookup `dazzle_principal(uuid)`: one round trip, all settings transaction-local.
 */
import type { AppIR } from "../../ir/ir";
import { quoteIdent, quoteLiteral } from "../sql/quote";
import type { EmitContext, GeneratedFile } from "../types";
import { createProject, renderSource, sqlText } from "./common";

export const CONTEXT_PATH = "src/generated/context.ts";

/** The SQL of CONTEXT_SQL: `$1` = user id text or '', `$2` = comma-separated roles. */
export function contextSql(app: AppIR): string {
  const settings = [
    "set_config('role', 'dazzle_app', true)",
    "set_config('dazzle.user_id', $1, true)",
    "set_config('dazzle.roles', $2, true)",
    ...app.principal.attributes.map(
      (a) =>
        `set_config(${quoteLiteral(`dazzle.user_${a.name}`)}, coalesce((select ${quoteIdent(a.column)}::text ` +
        `from dazzle_principal(nullif($1, '')::uuid)), ''), true)`,
    ),
  ];
  return `select ${settings.join(",\n  ")}`;
}

export function emitContext(app: AppIR, ctx: EmitContext): GeneratedFile {
  const attrs = app.principal.attributes.map((a) => `\`dazzle.user_${a.name}\``);
  const contents = renderSource(createProject(), CONTEXT_PATH, ctx, null, (file) => {
    file.addVariableStatement({
      isExported: true,
      docs: [
        [
          "First statement of every request transaction (runtime/transaction.ts): `$1` is the caller's",
          "user id or '', `$2` its roles joined by commas. Sets `role`, `dazzle.user_id`, `dazzle.roles`",
          attrs.length === 0
            ? "(no principal attribute is used by a scope rule)."
            : `and the principal attribute${attrs.length === 1 ? "" : "s"} ${attrs.join(", ")} ('' when unknown).`,
        ].join("\n"),
      ],
      name: "CONTEXT_SQL",
      initializer: sqlText(contextSql(app)),
    });
  });
  return { path: CONTEXT_PATH, contents, owner: "generator" };
}
