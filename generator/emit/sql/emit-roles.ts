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
 */
import { quoteIdent, quoteLiteral } from "./quote";
import { sqlSection } from "./sql-section";

export const APP_ROLE = "dazzle_app";
export const DEFINER_ROLE = "dazzle_definer";

export function emitRoles(): string {
  return sqlSection("Roles (cluster-wide; created once, tolerating concurrent creators)", [
    createRole(APP_ROLE, "NOLOGIN NOBYPASSRLS"),
    createRole(DEFINER_ROLE, "NOLOGIN BYPASSRLS"),
    `GRANT USAGE ON SCHEMA public TO ${quoteIdent(APP_ROLE)}, ${quoteIdent(DEFINER_ROLE)};`,
  ]);
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
