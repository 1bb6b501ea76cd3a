/**
 * PostgreSQL for tests: the admin URL chosen by global-setup.ts and one fresh database per test
 * file. Nothing here depends on data from an earlier run: every database is created from
 * `template0` under a random name and dropped with `WITH (FORCE)`.
 */
import { randomBytes } from "node:crypto";
import { Client } from "pg";

/** The environment variable global-setup.ts exports to jest workers. */
export const ADMIN_URL_ENV = "DAZZLE_TEST_ADMIN_URL";

/** Superuser URL of the test cluster (database `postgres`). Set by global-setup.ts. */
export function adminUrl(): string {
  const url = process.env[ADMIN_URL_ENV];
  if (!url) {
    throw new Error(
      `${ADMIN_URL_ENV} is not set: run the tests through jest (jest.config.js globalSetup ` +
        `generator/tests/support/global-setup.ts picks or starts a PostgreSQL server)`,
    );
  }
  return url;
}

/** `url` with its database name replaced by `database`. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** Runs `fn` with a connected client and always closes it. */
export async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on("error", () => undefined); // a terminated backend must not crash the worker
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface TestDatabase {
  /** Connection URL of the new database, as the admin (superuser). */
  readonly url: string;
  /** `dz_<label>_<12 hex digits>`. */
  readonly name: string;
  /** `DROP DATABASE IF EXISTS … WITH (FORCE)`: terminates open connections; safe to call twice. */
  drop(): Promise<void>;
}

/** Lower-case identifier-safe form of a label, at most 30 characters. */
function sanitizeLabel(label: string): string {
  const clean = label
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 30);
  return clean || "test";
}

/** Creates an empty database `dz_<label>_<random>` on the admin server. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const admin = adminUrl();
  const name = `dz_${sanitizeLabel(label)}_${randomBytes(6).toString("hex")}`;
  const quoted = `"${name}"`; // name is [a-z0-9_] only
  await withClient(admin, (c) => c.query(`CREATE DATABASE ${quoted} TEMPLATE template0`));
  let dropped = false;
  return {
    url: withDatabase(admin, name),
    name,
    async drop() {
      if (dropped) return;
      await withClient(admin, (c) => c.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`));
      dropped = true;
    },
  };
}
