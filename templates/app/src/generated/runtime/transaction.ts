/**
 * Every request's database work runs inside `withCaller`: one transaction whose first statement
 * (`CONTEXT_SQL`, generated from the spec) switches to the `dazzle_app` role and sets the
 * caller's session settings transaction-locally, so row-level security applies to everything
 * that follows and nothing leaks to the next user of the pooled connection.
 */
import { CompiledQuery, type Transaction } from "kysely";
import { CONTEXT_SQL } from "../context";
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
    return fn(trx);
  });
}
