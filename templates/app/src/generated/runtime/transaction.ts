/**
 * Every request's database work runs inside `withCaller`: one transaction that first switches to
 * the `dazzle_app` role and sets the caller's session settings transaction-locally
 * (`CONTEXT_SQL`, generated from the spec), then, for an authenticated caller, loads the
 * principal attributes and tenant the rules need from the caller's own principal row
 * (`PRINCIPAL_SQL`, already as `dazzle_app`, so a NOINHERIT authenticator login works). Row-level
 * security applies to everything that follows and nothing leaks to the next user of the pooled
 * connection. The tenant comes only from the principal row, never from the request.
 */
import { CompiledQuery, type Transaction } from "kysely";
import { CONTEXT_SQL, PRINCIPAL_SQL } from "../context";
import type { DB } from "../db";
import type { Caller } from "./auth";
import type { Database } from "./database";

export function withCaller<T>(
  database: Database,
  caller: Caller,
  fn: (trx: Transaction<DB>) => Promise<T>,
): Promise<T> {
  return database.db.transaction().execute(async (trx) => {
    await trx.executeQuery(CompiledQuery.raw(CONTEXT_SQL, [caller.userId ?? "", caller.roles.join(",")]));
    // Anonymous callers have no principal row: the settings stay unset, which reads as NULL.
    if (PRINCIPAL_SQL !== null && caller.userId !== null) await trx.executeQuery(CompiledQuery.raw(PRINCIPAL_SQL, []));
    return fn(trx);
  });
}
