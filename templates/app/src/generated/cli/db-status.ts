/**
 * `npm run db:status`: the committed migrations and which of them DATABASE_URL (or the embedded
 * development database) has not applied yet. Runs no DDL.
 */
import fs from "node:fs";
import path from "node:path";
import { findAppRoot, stateDir } from "../runtime/config";
import { type EmbeddedDatabase, startEmbedded } from "../runtime/embedded";
import { pendingMigrations } from "../runtime/migrate";

async function main(): Promise<void> {
  const appRoot = findAppRoot();
  let embedded: EmbeddedDatabase | null = null;
  try {
    const url = process.env.DATABASE_URL || (embedded = await startEmbedded(path.join(stateDir(appRoot), "pg"))).url;
    const dir = path.join(appRoot, "migrations", "committed");
    const committed = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^[0-9]+(-[-_a-zA-Z0-9]*)?\.sql$/.test(f)).sort() : [];
    const pending = await pendingMigrations(url, appRoot);
    console.log(`${committed.length} committed migration(s), ${committed.length - pending.length} applied, ${pending.length} pending`);
    for (const file of committed) console.log(`  ${pending.includes(file) ? "pending" : "applied"}  ${file}`);
    if (pending.length > 0) console.log("run `npm run migrate` to apply the pending ones");
  } finally {
    await embedded?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
