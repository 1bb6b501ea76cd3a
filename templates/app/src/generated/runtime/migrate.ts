/**
 * Applies the committed migrations (`migrations/committed/*.sql`) with graphile-migrate, the
 * same tool and settings as the `.gmrc` used by `npx graphile-migrate …` during development.
 */
import fs from "node:fs";
import path from "node:path";
import { migrate } from "graphile-migrate";
import { clearAllPools } from "graphile-migrate/dist/pgReal"; // internal, stable: the version is pinned
import pg from "pg";

/** graphile-migrate's own pattern for committed migration files. */
const MIGRATION_FILE = /^([0-9]+)(-[-_a-zA-Z0-9]*)?\.sql$/;

/** Runs every committed migration the database has not seen yet, in order, each in a transaction. */
export async function migrateDatabase(url: string, appRoot: string): Promise<void> {
  // No root or shadow connection: plain `migrate` only touches the target database.
  await migrate({ connectionString: url, migrationsFolder: migrationsFolder(appRoot) });
  // graphile-migrate keeps its pool open a moment after use and exits the process (code 1) if
  // one of its connections breaks meanwhile, e.g. when the embedded server stops right after.
  clearAllPools();
}

/**
 * Committed migrations not yet applied to the database, without running any DDL (graphile-migrate's
 * own `status` would create its bookkeeping schema): used to refuse to boot in production.
 */
export async function pendingMigrations(url: string, appRoot: string): Promise<string[]> {
  const committedDir = path.join(migrationsFolder(appRoot), "committed");
  const committed = fs.existsSync(committedDir)
    ? fs.readdirSync(committedDir).filter((name) => MIGRATION_FILE.test(name)).sort()
    : [];
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ filename: string }>("SELECT filename FROM graphile_migrate.migrations");
    const applied = new Set(rows.map((row) => row.filename));
    return committed.filter((name) => !applied.has(recordedName(name)));
  } catch (err) {
    // The bookkeeping table does not exist yet: nothing was ever applied.
    if ((err as { code?: string }).code === "42P01") return committed;
    throw err;
  } finally {
    await client.end();
  }
}

/** graphile-migrate records `000002-add-tags.sql` as `000002.sql`. */
function recordedName(file: string): string {
  return `${MIGRATION_FILE.exec(file)?.[1]}.sql`;
}

function migrationsFolder(appRoot: string): string {
  return path.join(appRoot, "migrations");
}
