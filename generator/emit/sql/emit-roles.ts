/**
 * The cluster-wide roles (DSL.md §6.11), created idempotently and race-safely: several databases
 * on one cluster may migrate at once, so a concurrent creator's duplicate is swallowed; an
 * existing role is not re-created, so a migration owner without CREATEROLE works once an
 * operator has created the roles.
 *
 * `dazzle_app` is the role every request switches to; `dazzle_definer` owns the SECURITY DEFINER
 * principal lookup, scope helpers and event readers and bypasses RLS for them. The login role is
 * not created here: an operator creates an authenticator (`LOGIN NOINHERIT`, `GRANT dazzle_app`,
 * DSL.md §6.11), which needs no privilege of its own because the runtime switches to `dazzle_app`
 * before anything else.
 *
 * The caller roles `dazzle_as_<role>` (caller-roles.ts) hold no LOGIN and no BYPASSRLS.
 * `dazzle_app` is made NOINHERIT and a member of each: a login granted `dazzle_app` may then
 * switch to them (membership is transitive for SET ROLE), while a `dazzle_app` session gets none
 * of their privileges or policies — policies apply to the roles whose privileges a session has.
 * Both changes are made only when missing, so re-running needs no privilege once they hold.
 */
import type { AppIR } from "../../ir/ir";
import { callerRoleName, callerRoles } from "./caller-roles";
import { quoteIdent, quoteLiteral } from "./quote";
import { sqlSection } from "./sql-section";

export const APP_ROLE = "dazzle_app";
export const DEFINER_ROLE = "dazzle_definer";

export function emitRoles(app: Pick<AppIR, "roles" | "entities">): string {
  const callers = callerRoles(app).map((role) => callerRoleName(role)!);
  return sqlSection("Roles (cluster-wide; created once, tolerating concurrent creators)", [
    createRole(APP_ROLE, "NOLOGIN NOBYPASSRLS NOINHERIT"),
    createRole(DEFINER_ROLE, "NOLOGIN BYPASSRLS"),
    ...(callers.length === 0 ? [] : [appNoInherit(), ...callers.flatMap((name) => [createRole(name, "NOLOGIN NOBYPASSRLS"), appMemberOf(name)])]),
    `GRANT USAGE ON SCHEMA public TO ${[APP_ROLE, DEFINER_ROLE, ...callers].map(quoteIdent).join(", ")};`,
  ]);
}

/**
 * `dazzle_app` NOINHERIT, for clusters where an earlier version created it inheriting. A
 * concurrent migration's identical change is swallowed once the attribute holds.
 */
function appNoInherit(): string {
  const inherits = `(SELECT rolinherit FROM pg_catalog.pg_roles WHERE rolname = ${quoteLiteral(APP_ROLE)})`;
  return idempotent(inherits, `ALTER ROLE ${quoteIdent(APP_ROLE)} NOINHERIT;`);
}

/** `dazzle_app` a member of the caller role (without inheriting it: `dazzle_app` is NOINHERIT). */
function appMemberOf(role: string): string {
  const missing = `NOT pg_catalog.pg_has_role(${quoteLiteral(APP_ROLE)}, ${quoteLiteral(role)}, 'MEMBER')`;
  return idempotent(missing, `GRANT ${quoteIdent(role)} TO ${quoteIdent(APP_ROLE)};`);
}

/** Runs `statement` while `missing` holds; a concurrent creator's error is swallowed once `missing` no longer holds. */
function idempotent(missing: string, statement: string): string {
  return [
    "DO $$",
    "BEGIN",
    `  IF ${missing} THEN`,
    `    ${statement}`,
    "  END IF;",
    "EXCEPTION WHEN unique_violation OR duplicate_object OR internal_error THEN",
    `  IF ${missing} THEN RAISE; END IF;`,
    "END",
    "$$;",
  ].join("\n");
}

function createRole(name: string, options: string): string {
  return [
    "DO $$",
    "BEGIN",
    `  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${quoteLiteral(name)}) THEN`,
    `    CREATE ROLE ${quoteIdent(name)} ${options};`,
    "  END IF;",
    "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;",
    "END",
    "$$;",
  ].join("\n");
}
