/**
 * The process lifecycle behind `npm start`:
 *
 * 1. database: `DATABASE_URL`, or (development only) the embedded PostgreSQL under `.dazzle/pg`;
 * 2. schema: development applies pending committed migrations; production never runs DDL and
 *    refuses to start while migrations are pending (apply them with `npm run migrate`);
 * 3. production also refuses a login role that could bypass row-level security
 *    (`DAZZLE_ALLOW_PRIVILEGED_LOGIN=1` overrides);
 * 4. HTTP on `PORT`, then one line `listening on http://127.0.0.1:<port>` on stdout;
 * 5. SIGINT/SIGTERM/SIGHUP: stop accepting, end event streams, let requests finish (at most
 *    5 s), close the pool, stop the embedded server, exit 0.
 *
 * A start-up failure prints one `error: …` line on stderr and exits 1.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type express from "express";
import { type Config, loadConfig, stateDir } from "./config";
import { connect, type Database } from "./database";
import { type EmbeddedDatabase, startEmbedded } from "./embedded";
import { closeEventStreams } from "./events";
import { migrateDatabase, pendingMigrations } from "./migrate";

const DRAIN_MS = 5_000;
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

type AppFactory = (database: Database, config: Config) => express.Express;

interface Resources {
  embedded: EmbeddedDatabase | null;
  database: Database | null;
  server: http.Server | null;
}

export async function serve(buildApp: AppFactory): Promise<void> {
  const resources: Resources = { embedded: null, database: null, server: null };
  for (const signal of SIGNALS) process.once(signal, () => void shutdown(resources));
  try {
    await start(buildApp, resources);
  } catch (err) {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    await release(resources).catch(() => undefined);
    process.exit(1);
  }
}

async function start(buildApp: AppFactory, resources: Resources): Promise<void> {
  const config = loadConfig();
  const url = config.databaseUrl ?? (await embeddedUrl(config, resources));
  if (config.production) await refusePendingMigrations(url, config.appRoot);
  else await migrateDatabase(url, config.appRoot);
  const database = (resources.database = connect(url));
  if (config.production) await refusePrivilegedLogin(database);
  resources.server = await listen(buildApp(database, config), config.port);
  const { port } = resources.server.address() as AddressInfo;
  console.log(`listening on http://127.0.0.1:${port}`);
}

async function embeddedUrl(config: Config, resources: Resources): Promise<string> {
  if (config.production) throw new Error("DATABASE_URL must be set in production");
  resources.embedded = await startEmbedded(path.join(stateDir(config.appRoot), "pg"));
  return resources.embedded.url;
}

async function refusePendingMigrations(url: string, appRoot: string): Promise<void> {
  let pending: string[];
  try {
    pending = await pendingMigrations(url, appRoot);
  } catch (err) {
    if ((err as { code?: string }).code !== "42501") throw err;
    console.warn(
      "warning: cannot check for pending migrations: the login role may not read graphile_migrate.migrations " +
        "(GRANT USAGE ON SCHEMA graphile_migrate and SELECT ON graphile_migrate.migrations to it)",
    );
    return;
  }
  if (pending.length > 0) {
    throw new Error(`${pending.length} pending migration(s) (${pending.join(", ")}); run \`npm run migrate\` first`);
  }
}

/** Row-level security is the enforcement of record: the login role must not be able to skip it. */
async function refusePrivilegedLogin(database: Database): Promise<void> {
  if (process.env.DAZZLE_ALLOW_PRIVILEGED_LOGIN === "1") return;
  const { rows } = await database.pool.query<{ privileged: boolean }>(`
    SELECT r.rolsuper OR r.rolbypassrls OR EXISTS (
             SELECT 1 FROM pg_class c
              WHERE c.relkind = 'r' AND c.relrowsecurity AND pg_has_role(current_user, c.relowner, 'USAGE')
           ) AS privileged
      FROM pg_roles r WHERE r.rolname = current_user`);
  if (rows[0]?.privileged) {
    throw new Error(
      "the database login role is a superuser, has BYPASSRLS or owns a table with row-level security; " +
        "connect as a role without those privileges (or set DAZZLE_ALLOW_PRIVILEGED_LOGIN=1)",
    );
  }
}

function listen(app: express.Express, port: number): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(app);
    server.once("error", (err: NodeJS.ErrnoException) => {
      reject(err.code === "EADDRINUSE" ? new Error(`port ${port} is already in use (set PORT)`) : err);
    });
    server.listen(port, () => resolve(server));
  });
}

let shuttingDown = false;

async function shutdown(resources: Resources): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  try {
    await release(resources);
    process.exit(0);
  } catch (err) {
    console.error("error during shutdown:", err);
    process.exit(1);
  }
}

/** Releases whatever `start` got as far as acquiring, in reverse order. */
async function release(resources: Resources): Promise<void> {
  const { server, database, embedded } = resources;
  if (server !== null) {
    const closed = closeServer(server);
    // Event streams never end on their own; ending them lets their sockets close.
    if (database !== null) await closeEventStreams(database);
    await closed;
  }
  await database?.close();
  await embedded?.stop();
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
