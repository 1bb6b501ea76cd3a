/**
 * `npm run db:verify`: compares the live database (DATABASE_URL, or the embedded development
 * database) with the schema snapshot dazzle-gen keeps in `dazzle.lock.json`: tables, columns
 * (type, NOT NULL, default), constraints, indexes, row-level security enabled and forced,
 * policies, triggers, functions, and the caller roles: each exists, `dazzle_app` is a member of
 * it and does not inherit it (NOINHERIT), or its sessions would get the caller roles' policies.
 * Prints each difference and exits 1 on drift. Types, defaults and constraint texts are
 * normalised by PostgreSQL itself: the snapshot's tables are created as temporary tables in a
 * transaction that is rolled back.
 */
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { findAppRoot, stateDir } from "../runtime/config";
import { type EmbeddedDatabase, startEmbedded } from "../runtime/embedded";

interface Column { name: string; type: string; notNull: boolean; default: string | null }
interface Constraint { name: string; definition: string }
interface Table { columns: Column[]; constraints: Constraint[] }
interface Named { table: string; name: string }
interface Snapshot {
  tables: Record<string, Table>;
  indexes: { name: string; table: string }[];
  groups: { name: string; triggers: Named[]; functions: string[]; policies?: Named[]; memberships?: { role: string; member: string }[] }[];
  rls?: string[];
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;
const unq = (quoted: string) => quoted.slice(1, -1).replace(/""/g, '"');
const SERIAL: Record<string, string> = { bigserial: "bigint", serial: "integer", smallserial: "smallint" };

interface LiveColumn { tbl: string; col: string; type: string; notnull: boolean; def: string | null }
interface LiveConstraint { tbl: string; conname: string; contype: string; def: string }

async function columns(client: pg.Client, namespace: string): Promise<LiveColumn[]> {
  const { rows } = await client.query<LiveColumn>(
    `SELECT c.relname AS tbl, a.attname AS col, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
            pg_get_expr(d.adbin, d.adrelid) AS def
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE c.relnamespace = ${namespace} AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped`,
  );
  return rows;
}

async function constraints(client: pg.Client, namespace: string): Promise<LiveConstraint[]> {
  const { rows } = await client.query<LiveConstraint>(
    `SELECT c.relname AS tbl, con.conname, con.contype::text AS contype, pg_get_constraintdef(con.oid) AS def
       FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
      WHERE c.relnamespace = ${namespace} AND con.contype <> 'n'`,
  );
  return rows;
}

async function verifyDatabase(client: pg.Client, snapshot: Snapshot): Promise<string[]> {
  const drift: string[] = [];
  const PUBLIC = "'public'::regnamespace";
  const liveColumns = await columns(client, PUBLIC);
  const liveConstraints = await constraints(client, PUBLIC);

  // The snapshot as PostgreSQL would store it: temporary copies of its tables, rolled back.
  await client.query("BEGIN");
  let expectedColumns: LiveColumn[];
  let expectedConstraints: LiveConstraint[];
  try {
    for (const [name, table] of Object.entries(snapshot.tables)) {
      const lines = table.columns.map((c) => {
        const serial = SERIAL[c.type];
        return [q(c.name), serial ?? c.type, c.notNull ? "NOT NULL" : "", c.default !== null && !serial ? `DEFAULT ${c.default}` : ""].join(" ");
      });
      for (const c of table.constraints) {
        if (!c.definition.startsWith("FOREIGN KEY")) lines.push(`CONSTRAINT ${q(c.name)} ${c.definition}`);
      }
      await client.query(`CREATE TEMPORARY TABLE ${q(name)} (${lines.join(", ")})`);
    }
    expectedColumns = await columns(client, "pg_my_temp_schema()");
    expectedConstraints = await constraints(client, "pg_my_temp_schema()");
  } finally {
    await client.query("ROLLBACK");
  }

  const key = (...parts: string[]) => parts.join("\u0000");
  const liveTables = new Set(liveColumns.map((c) => c.tbl));
  for (const table of Object.keys(snapshot.tables)) if (!liveTables.has(table)) drift.push(`missing table ${q(table)}`);
  for (const table of [...liveTables].sort()) if (!(table in snapshot.tables)) drift.push(`unexpected table ${q(table)}`);

  const live = new Map(liveColumns.map((c) => [key(c.tbl, c.col), c]));
  const expected = new Map(expectedColumns.map((c) => [key(c.tbl, c.col), c]));
  for (const [name, table] of Object.entries(snapshot.tables)) {
    if (!liveTables.has(name)) continue;
    for (const column of table.columns) {
      const want = expected.get(key(name, column.name))!;
      const got = live.get(key(name, column.name));
      const where = `${q(name)}.${q(column.name)}`;
      if (got === undefined) {
        drift.push(`missing column ${where}`);
        continue;
      }
      if (got.type !== want.type) drift.push(`column ${where} has type ${got.type}, expected ${want.type}`);
      if (got.notnull !== want.notnull) drift.push(`column ${where} is ${got.notnull ? "NOT NULL" : "nullable"}, expected ${want.notnull ? "NOT NULL" : "nullable"}`);
      if (!SERIAL[column.type] && got.def !== want.def) drift.push(`column ${where} has default ${got.def ?? "none"}, expected ${want.def ?? "none"}`);
    }
    const names = new Set(table.columns.map((c) => c.name));
    for (const c of liveColumns) if (c.tbl === name && !names.has(c.col)) drift.push(`unexpected column ${q(name)}.${q(c.col)}`);
  }

  const liveCons = new Map(liveConstraints.map((c) => [key(c.tbl, c.conname), c]));
  const wantCons = new Map(expectedConstraints.map((c) => [key(c.tbl, c.conname), c]));
  const squash = (s: string) => s.replace(/["\s()]/g, "");
  for (const [name, table] of Object.entries(snapshot.tables)) {
    if (!liveTables.has(name)) continue;
    for (const c of table.constraints) {
      const got = liveCons.get(key(name, c.name));
      if (got === undefined) {
        drift.push(`missing constraint ${q(c.name)} on ${q(name)}`);
        continue;
      }
      const want = c.definition.startsWith("FOREIGN KEY") ? c.definition : wantCons.get(key(name, c.name))!.def;
      if (squash(got.def) !== squash(want)) drift.push(`constraint ${q(c.name)} on ${q(name)} is ${got.def}, expected ${want}`);
    }
    const names = new Set(table.constraints.map((c) => c.name));
    for (const c of liveConstraints) if (c.tbl === name && !names.has(c.conname)) drift.push(`unexpected constraint ${q(c.conname)} on ${q(name)}`);
  }

  const { rows: indexes } = await client.query<{ tablename: string; indexname: string }>(
    "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'public'",
  );
  const liveIndexes = new Set(indexes.map((i) => key(i.tablename, i.indexname)));
  for (const index of snapshot.indexes) {
    if (liveTables.has(index.table) && !liveIndexes.has(key(index.table, index.name))) drift.push(`missing index ${q(index.name)} on ${q(index.table)}`);
  }

  const { rows: rls } = await client.query<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>(
    "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'",
  );
  const rlsByTable = new Map(rls.map((r) => [r.relname, r]));
  for (const table of snapshot.rls ?? []) {
    const r = rlsByTable.get(table);
    if (r === undefined) continue;
    if (!r.relrowsecurity) drift.push(`row-level security is not enabled on ${q(table)}`);
    if (!r.relforcerowsecurity) drift.push(`row-level security is not forced on ${q(table)}`);
  }

  const { rows: policies } = await client.query<{ tablename: string; policyname: string }>(
    "SELECT tablename, policyname FROM pg_policies WHERE schemaname = 'public'",
  );
  const wantPolicies = snapshot.groups.flatMap((g) => g.policies ?? []).map((p) => ({ table: unq(p.table), name: unq(p.name) }));
  const livePolicies = new Set(policies.map((p) => key(p.tablename, p.policyname)));
  for (const p of wantPolicies) if (!livePolicies.has(key(p.table, p.name))) drift.push(`missing policy ${q(p.name)} on ${q(p.table)}`);
  const wantPolicyKeys = new Set(wantPolicies.map((p) => key(p.table, p.name)));
  for (const p of policies) if (!wantPolicyKeys.has(key(p.tablename, p.policyname))) drift.push(`unexpected policy ${q(p.policyname)} on ${q(p.tablename)}`);

  const { rows: triggers } = await client.query<{ tbl: string; tgname: string }>(
    `SELECT c.relname AS tbl, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      WHERE NOT t.tgisinternal AND c.relnamespace = 'public'::regnamespace`,
  );
  const wantTriggers = snapshot.groups.flatMap((g) => g.triggers).map((t) => ({ table: unq(t.table), name: unq(t.name) }));
  const liveTriggers = new Set(triggers.map((t) => key(t.tbl, t.tgname)));
  for (const t of wantTriggers) if (!liveTriggers.has(key(t.table, t.name))) drift.push(`missing trigger ${q(t.name)} on ${q(t.table)}`);
  const wantTriggerKeys = new Set(wantTriggers.map((t) => key(t.table, t.name)));
  for (const t of triggers) if (!wantTriggerKeys.has(key(t.tbl, t.tgname))) drift.push(`unexpected trigger ${q(t.tgname)} on ${q(t.tbl)}`);

  for (const fn of snapshot.groups.flatMap((g) => g.functions)) {
    // `"f"(p uuid)` → `"f"(uuid)`: regprocedure takes argument types only.
    const signature = fn.replace(/\(([^)]*)\)$/, (_all, args: string) =>
      `(${args.split(",").map((a) => a.trim()).filter((a) => a !== "").map((a) => (/^[a-z_][a-z0-9_]*\s+\S/i.test(a) && !/^(double|timestamp|time|character|bit)\b/i.test(a) ? a.replace(/^\S+\s+/, "") : a)).join(", ")})`,
    );
    const { rows } = await client.query<{ ok: string | null }>("SELECT to_regprocedure($1)::text AS ok", [`public.${signature}`]);
    if (rows[0]?.ok === null) drift.push(`missing function ${fn}`);
  }

  drift.push(...(await verifyMemberships(client, snapshot)));
  return drift;
}

/** The granted roles exist, and each member holds them without inheriting (cluster-wide roles). */
async function verifyMemberships(client: pg.Client, snapshot: Snapshot): Promise<string[]> {
  const drift: string[] = [];
  const memberships = snapshot.groups.flatMap((g) => g.memberships ?? []).map((m) => ({ role: unq(m.role), member: unq(m.member) }));
  const { rows } = await client.query<{ rolname: string; rolinherit: boolean }>(
    "SELECT rolname, rolinherit FROM pg_catalog.pg_roles WHERE rolname = ANY($1::text[])",
    [memberships.flatMap((m) => [m.role, m.member])],
  );
  const inherits = new Map(rows.map((r) => [r.rolname, r.rolinherit]));
  for (const member of new Set(memberships.map((m) => m.member))) {
    if (!inherits.has(member)) drift.push(`missing role ${q(member)}`);
    else if (inherits.get(member)) drift.push(`role ${q(member)} inherits: its sessions would get the caller roles' policies`);
  }
  for (const m of memberships) {
    if (!inherits.has(m.role)) {
      drift.push(`missing role ${q(m.role)}`);
      continue;
    }
    if (!inherits.has(m.member)) continue;
    const { rows: held } = await client.query<{ ok: boolean }>("SELECT pg_catalog.pg_has_role($1::name, $2::name, 'MEMBER') AS ok", [m.member, m.role]);
    if (!held[0]!.ok) drift.push(`role ${q(m.member)} is not a member of ${q(m.role)}`);
  }
  return drift;
}

async function main(): Promise<void> {
  const appRoot = findAppRoot();
  const lock = JSON.parse(fs.readFileSync(path.join(appRoot, "dazzle.lock.json"), "utf8")) as { schema?: Snapshot };
  if (!lock.schema) throw new Error("dazzle.lock.json holds no schema snapshot: regenerate the app with dazzle-gen");
  let embedded: EmbeddedDatabase | null = null;
  try {
    const url = process.env.DATABASE_URL || (embedded = await startEmbedded(path.join(stateDir(appRoot), "pg"))).url;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    let drift: string[];
    try {
      drift = await verifyDatabase(client, lock.schema);
    } finally {
      await client.end();
    }
    if (drift.length > 0) {
      console.log(`the database differs from the schema snapshot in dazzle.lock.json (${drift.length}):`);
      for (const line of drift) console.log(`  - ${line}`);
      process.exitCode = 1;
      return;
    }
    console.log(`the database matches the schema snapshot (${Object.keys(lock.schema.tables).length} tables)`);
  } finally {
    await embedded?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
