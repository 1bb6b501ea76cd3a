/**
 * `npm run migrate`: applies the committed migrations to DATABASE_URL, or to the embedded
 * development database (`.dazzle/pg`) when DATABASE_URL is unset. This is the way to migrate
 * a production database: the server never runs DDL in production.
 */
import path from "node:path";
import { findAppRoot, stateDir } from "../runtime/config";
import { type EmbeddedDatabase, startEmbedded } from "../runtime/embedded";
import { migrateDatabase } from "../runtime/migrate";

async function main(): Promise<void> {
  const appRoot = findAppRoot();
  let embedded: EmbeddedDatabase | null = null;
  try {
    const url = process.env.DATABASE_URL || (embedded = await startEmbedded(path.join(stateDir(appRoot), "pg"))).url;
    await migrateDatabase(url, appRoot);
  } finally {
    await embedded?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
