/**
 * The connection pool and the Kysely instance every generated query runs on. Its transactions
 * open as `dazzle_app` (`AppDialect`, runtime/transaction.ts): run them through `withCaller`.
 */
import { Kysely } from "kysely";
import pg from "pg";
import type { DB } from "../db";
import { AppDialect } from "./transaction";

export interface Database {
  readonly pool: pg.Pool;
  readonly db: Kysely<DB>;
  close(): Promise<void>;
}

/** Type OIDs returned as the server's text: exact values, no time-zone or float surprises. */
const TEXT_TYPES = new Set([
  1082, // date → "YYYY-MM-DD"
  20, // int8 → string (beyond 2^53)
  1700, // numeric → string (arbitrary precision)
]);

const types: pg.CustomTypesConfig = {
  getTypeParser: (oid, format) =>
    TEXT_TYPES.has(oid) ? (value: string) => value : pg.types.getTypeParser(oid, format),
};

/** Hooks run by `close()` before the pool ends (e.g. the events listener). */
const closeHooks = new WeakMap<Database, Array<() => Promise<void>>>();

export function connect(url: string): Database {
  const pool = new pg.Pool({
    connectionString: url,
    types,
    // Sessions run in UTC so `timestamptz` text and `now()::date` do not depend on the server.
    options: "-c TimeZone=UTC",
    // pg's default (10 s) makes bursty traffic reconnect over and over; keep connections.
    idleTimeoutMillis: 0,
    keepAlive: true,
    // Write each query at once instead of after the previous answer (pg ≥ 8.23): the statements of
    // a read (runtime/transaction.ts readAsCaller) then cost one round trip instead of four.
    pipeline: true,
  });
  let closing: Promise<void> | null = null;
  // An idle connection that dies (server restart) must not crash the process. pool.end()
  // resolves before the sockets are closed, so errors after close() are expected noise.
  pool.on("error", (err) => {
    if (closing === null) console.error("database connection error:", err.message);
  });
  const db = new Kysely<DB>({ dialect: new AppDialect({ pool }) });
  const database: Database = {
    pool,
    db,
    close: () => (closing ??= closeDatabase(database)),
  };
  closeHooks.set(database, []);
  return database;
}

/** Registers work to do when `database.close()` is called, before the pool ends. */
export function onClose(database: Database, hook: () => Promise<void>): void {
  closeHooks.get(database)?.push(hook);
}

async function closeDatabase(database: Database): Promise<void> {
  await Promise.all((closeHooks.get(database) ?? []).map((hook) => hook()));
  // The pool is ours: end it directly (Kysely's destroy() skips it when Kysely never queried).
  await database.pool.end();
}
