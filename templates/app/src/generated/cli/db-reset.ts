/**
 * `npm run db:reset [-- --yes]`: deletes every row of the app's tables (those in the schema
 * snapshot of `dazzle.lock.json`, events included) in DATABASE_URL or the embedded development
 * database, after a typed confirmation unless `--yes`. The schema and migration history stay.
 */
import fs from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline/promises";
import pg from "pg";
import { findAppRoot, stateDir } from "../runtime/config";
import { type EmbeddedDatabase, startEmbedded } from "../runtime/embedded";

async function main(): Promise<void> {
  const appRoot = findAppRoot();
  const lock = JSON.parse(fs.readFileSync(path.join(appRoot, "dazzle.lock.json"), "utf8")) as { schema?: { tables: Record<string, unknown> } };
  if (!lock.schema) throw new Error("dazzle.lock.json holds no schema snapshot: regenerate the app with dazzle-gen");
  const tables = Object.keys(lock.schema.tables).sort();
  let embedded: EmbeddedDatabase | null = null;
  try {
    const url = process.env.DATABASE_URL || (embedded = await startEmbedded(path.join(stateDir(appRoot), "pg"))).url;
    if (!process.argv.includes("--yes")) {
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      const answer = await rl.question(`This deletes every row of ${tables.length} tables (${tables.join(", ")}). Type "reset" to continue: `);
      rl.close();
      if (answer.trim() !== "reset") {
        console.log("nothing was deleted");
        process.exitCode = 1;
        return;
      }
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const quoted = tables.map((t) => `"${t.replace(/"/g, '""')}"`).join(", ");
      await client.query(`TRUNCATE ${quoted} RESTART IDENTITY CASCADE`);
    } finally {
      await client.end();
    }
    console.log(`deleted every row of ${tables.length} tables`);
  } finally {
    await embedded?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
