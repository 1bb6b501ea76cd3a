/**
 * The emitted Kysely `DB` (src/generated/db.ts) against what kysely-codegen 0.20 introspects from
 * the migrated database (`--date-parser string --numeric-parser string`, framework tables
 * excluded), both parsed to tables → columns → type text (GENERATED-APP.md: enum columns are
 * unions of their values, compared as `string`).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { childEnv, run } from "./app";

const CODEGEN = path.resolve(__dirname, "../../../node_modules/.bin/kysely-codegen");

export interface DbTypes {
  readonly tables: Record<string, Record<string, string>>;
  readonly aliases: Record<string, string>;
}

export async function emittedAndIntrospected(appDir: string, databaseUrl: string, tmpDir: string): Promise<{ emitted: DbTypes; introspected: DbTypes }> {
  const out = path.join(tmpDir, `codegen-db-${path.basename(appDir)}.ts`);
  const result = await run(
    CODEGEN,
    ["--dialect", "postgres", "--url", databaseUrl, "--out-file", out, "--date-parser", "string", "--numeric-parser", "string", "--exclude-pattern", "*._dazzle*"],
    { cwd: tmpDir, env: childEnv(), timeoutMs: 120_000 },
  );
  if (result.exitCode !== 0) throw new Error(`kysely-codegen exited ${result.exitCode}:\n${result.output}`);
  return {
    emitted: parseDbTypes(readFileSync(path.join(appDir, "src/generated/db.ts"), "utf8")),
    introspected: parseDbTypes(readFileSync(out, "utf8")),
  };
}

/** Tables → columns → type text, from a Kysely types file (comments dropped, enum unions as `string`). */
export function parseDbTypes(text: string): DbTypes {
  const clean = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const interfaces = new Map<string, Record<string, string>>();
  for (const m of clean.matchAll(/export interface (\w+) \{([^}]*)\}/g)) {
    const props: Record<string, string> = {};
    for (const line of m[2]!.split(";")) {
      const p = /^\s*("?[\w$]+"?)\s*:\s*([\s\S]+?)\s*$/.exec(line);
      if (p) props[p[1]!.replace(/"/g, "")] = p[2]!.replace(/\s+/g, " ").replace(/"[^"]*"(?: \| "[^"]*")*/g, "string");
    }
    interfaces.set(m[1]!, props);
  }
  const aliases: Record<string, string> = {};
  for (const m of clean.matchAll(/export type (\w+)(<[^=]*>)? = ([\s\S]*?);\s*\n(?=\n|export|$)/g)) {
    aliases[m[1]!] = m[3]!.replace(/\s+/g, " ").replace(/;\s*\}/g, "}").replace(/\s*([{}])\s*/g, "$1");
  }
  const tables: Record<string, Record<string, string>> = {};
  for (const [table, iface] of Object.entries(interfaces.get("DB") ?? {})) tables[table] = interfaces.get(iface) ?? {};
  return { tables, aliases };
}
