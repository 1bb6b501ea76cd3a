/**
 * Every request's database work runs inside `withCaller`: one transaction, opened as the
 * `dazzle_app` role, in which the caller's session settings are set transaction-locally before
 * anything else. Row-level security applies to everything that follows and nothing leaks to the
 * next user of the pooled connection. The tenant comes only from the principal row, never from
 * the request.
 *
 * Round trips per request (DESIGN.md §4): four for a write (five with Kysely's own `begin` and a
 * separate principal statement), one for a read.
 * 1. `BEGIN_SQL` — `begin; set local role dazzle_app`: no parameters, so pg sends it as one
 *    simple-protocol message with two statements (nothing is interpolated). Sent by `AppDriver`,
 *    which replaces Kysely's plain `begin`.
 * 2. `CALLER_SQL` — one parameterised statement, already as `dazzle_app` (so EXECUTE on the
 *    principal lookup is checked for `dazzle_app`, which a NOINHERIT authenticator login needs):
 *    sets `dazzle.user_id` / `dazzle.roles` and, for an authenticated caller, loads the principal
 *    attributes and tenant (the ordering inside that statement: generator/emit/ts/emit-context.ts).
 * 3. The request's own statements.
 * 4. COMMIT — or ROLLBACK when anything throws (Kysely's transaction).
 * A read of one SELECT (`readAsCaller`) sends the same four without waiting between them: one
 * round trip (five statements when an audited list adds its log row, still one round trip).
 * The role and every setting are transaction-local: COMMIT or ROLLBACK drops them. If opening
 * the transaction fails half-way (the role switch fails after BEGIN), `AppDriver` rolls back
 * before the connection goes back to the pool; a connection whose ROLLBACK fails is discarded.
 */
import { CompiledQuery, PostgresDialect, PostgresDriver, type Driver, type Transaction } from "kysely";
import type pg from "pg";
import { BEGIN_SQL, CALLER_SQL } from "../context";
import type { DB } from "../db";
import type { Caller } from "./auth";
import type { Database } from "./database";

/**
 * Runs `fn` in the caller's transaction. `role`, when not '', is a caller role (a list plan of
 * runtime/access.ts `listPlanFor`) that CALLER_SQL switches to after setting the context.
 */
export function withCaller<T>(
  database: Database,
  caller: Caller,
  fn: (trx: Transaction<DB>) => Promise<T>,
  role = "",
): Promise<T> {
  return database.db.transaction().execute(async (trx) => {
    await trx.executeQuery(CompiledQuery.raw(CALLER_SQL, [caller.userId ?? "", caller.roles.join(","), role]));
    return fn(trx);
  });
}

/**
 * One read-only statement for the caller (a list page, a row by id) in ONE round trip: BEGIN_SQL,
 * CALLER_SQL (switching to `role` when given), the statement, `extra` when given (the access-log
 * row of an audited list, DSL.md §9.1: committed only with the read) and COMMIT are written at once on a
 * pipelined connection (pg's `pipeline` mode, runtime/database.ts) and answered in order, where
 * `withCaller` waits for each. They share the transaction block BEGIN opens: after a failure the
 * rest fail (25P02) and COMMIT rolls back. The rows are returned only when all of them succeeded, so
 * a statement that ran without the caller's context (were BEGIN_SQL itself to fail) is never
 * answered; being a SELECT, it changed nothing (`extra` could at most append one log row, through
 * a function only the runtime roles may execute). A connection that failed at the protocol level is
 * discarded instead of going back to the pool.
 */
export async function readAsCaller<R>(database: Database, caller: Caller, query: CompiledQuery, role = "", extra?: CompiledQuery): Promise<R[]> {
  const client = await database.pool.connect();
  // Corked, the statements go out in one write (pg writes each query as it is submitted).
  const socket = socketOf(client);
  socket?.cork();
  let sent: Promise<pg.QueryResult>[];
  try {
    sent = [
      client.query(BEGIN_SQL),
      client.query(CALLER_SQL, [caller.userId ?? "", caller.roles.join(","), role]),
      client.query(query.sql, [...query.parameters]),
      ...(extra === undefined ? [] : [client.query(extra.sql, [...extra.parameters])]),
      client.query("commit"),
    ];
  } finally {
    socket?.uncork();
  }
  const settled = await Promise.allSettled(sent);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  // A server error (with a SQLSTATE) leaves the connection usable and idle after COMMIT.
  client.release(failure !== undefined && typeof (failure.reason as { code?: unknown })?.code !== "string" ? (failure.reason as Error) : undefined);
  if (failure !== undefined) throw failure.reason;
  return (settled[2] as PromiseFulfilledResult<pg.QueryResult>).value.rows as R[];
}

/** The socket under a pooled client (`client.connection.stream`, not in pg's types), if it can be corked. */
function socketOf(client: pg.PoolClient): { cork(): void; uncork(): void } | null {
  const stream = (client as unknown as { connection?: { stream?: { cork?: unknown; uncork?: unknown } } }).connection?.stream;
  return typeof stream?.cork === "function" && typeof stream.uncork === "function" ? (stream as { cork(): void; uncork(): void }) : null;
}

/**
 * Kysely's PostgreSQL driver whose transactions open with `BEGIN_SQL`: every transaction on the
 * app's Kysely instance runs as `dazzle_app` (isolation level and access mode settings are not
 * used by the app and not supported). Kysely does not roll back when `beginTransaction` throws,
 * so this does.
 */
class AppDriver extends PostgresDriver {
  override async beginTransaction(connection: Parameters<PostgresDriver["rollbackTransaction"]>[0]): Promise<void> {
    try {
      await connection.executeQuery(CompiledQuery.raw(BEGIN_SQL));
    } catch (err) {
      // Outside a transaction ROLLBACK only warns; if it fails, Kysely discards the connection.
      await this.rollbackTransaction(connection).catch(() => undefined);
      throw err;
    }
  }
}

/** The PostgreSQL dialect with `AppDriver`, for runtime/database.ts. */
export class AppDialect extends PostgresDialect {
  readonly #config: ConstructorParameters<typeof PostgresDialect>[0];

  constructor(config: ConstructorParameters<typeof PostgresDialect>[0]) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new AppDriver(this.#config);
  }
}
