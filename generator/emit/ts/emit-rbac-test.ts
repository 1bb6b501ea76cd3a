/**
 * `test/rbac.test.ts`: the RBAC matrix every generated app ships (issue 5, DSL.md §6). The data —
 * seed rows, callers, expected statuses and id sets — comes from rbac-model.ts, which evaluates
 * the predicate IR over the seed rows at generation time, independently of the SQL compiler. The
 * runner below is static: it creates a fresh database, migrates it, seeds it, boots the app
 * in-process and compares the HTTP answers and the rows RLS alone admits with the expectations.
 */
import path from "node:path";
import type { AppIR } from "../../ir/ir";
import type { EmitContext, GeneratedFile } from "../types";
import { tsHeader } from "../types";
import { formatTypeScript } from "./common";
import { callerRoleName, callerRoles } from "../sql/caller-roles";
import { buildRbacModel } from "./rbac-model";

export const RBAC_TEST_PATH = "test/rbac.test.ts";
export const RBAC_DATA_PATH = "test/rbac.data.json";

const DOC = `/**
 * RBAC matrix (DSL.md §6), generated. For every exposed entity × operation × caller (one caller
 * per role, one with an unknown role, and an anonymous one without a token):
 *
 * - list: the HTTP status and the exact set of ids returned;
 * - read, update (a PATCH that sets a field to its current value), delete: the status per seeded row;
 * - create: 201 or 401/403 per candidate payload;
 * - RLS alone: the ids a raw \`SELECT id\` returns as dazzle_app with the caller's session
 *   context (BEGIN_SQL + CALLER_SQL, no app filter) equal the expected read ∪ list ids, and equal what
 *   the app returned through list and read; for a caller with one role that has a caller role
 *   (\`dazzle_as_<role>\`, what its lists run as), the list ids as that role, which without a
 *   caller's context sees no row at all.
 *
 * The expectations (test/rbac.data.json) were computed by dazzle-gen at generation time with an evaluator of
 * the access IR (permit/forbid, scope rules, FK paths, via junctions, three-valued logic) over
 * the seed rows — not by running the compiled SQL — so this test fails when the SQL the app or
 * the database enforces disagrees with the rules. Mutations are undone by re-seeding.
 *
 * Database: DATABASE_URL, else the embedded development server; a database
 * \`<name>_rbac_<random>\` is created for the run and dropped afterwards. Seeding needs a
 * superuser login (it disables triggers and FK checks while loading rows).
 */`;

const RUNNER = `
const APP_ROOT = findAppRoot(__dirname);
const quoteIdent = (name: string): string => \`"\${name.replace(/"/g, '""')}"\`;

let embedded: EmbeddedDatabase | null = null;
let adminUrl = "";
let dbName = "";
let rbacUrl = "";
let admin: pg.Pool | null = null;
let database: Database | null = null;
let server: http.Server | null = null;
let baseUrl = "";
const tokens = new Map<string, string>();

/** Runs \`fn\` in one transaction as the admin login with triggers and FK checks off (seeding only). */
async function asSeeder(fn: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  const client = await admin!.connect();
  await client.query("BEGIN");
  try {
    await client.query("SET LOCAL session_replication_role = replica");
    await fn(client);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK");
    throw err;
  } finally {
    client.release();
  }
}

/** Inserts rows given as JSON objects (column → value), typed by the table itself. */
async function insertRows(client: pg.PoolClient, table: string, rows: readonly Record<string, Value>[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!).map(quoteIdent).join(", ");
  await client.query(
    \`INSERT INTO \${quoteIdent(table)} (\${columns}) SELECT \${columns} FROM json_populate_recordset(NULL::\${quoteIdent(table)}, $1)\`,
    [JSON.stringify(rows)],
  );
}

function seed(): Promise<void> {
  return asSeeder(async (client) => {
    await client.query(\`TRUNCATE \${SEED.map((t) => quoteIdent(t.table)).join(", ")}\`);
    for (const t of SEED) await insertRows(client, t.table, t.rows);
  });
}

/** Allowed: listed rows plus reads, updates, deletes and creates that succeed. Cases: per entity and caller, the list, each row's read, RLS, each row's update and delete, each create candidate. */
const CASES = ENTITIES.reduce(
  (n, e) => n + e.expectations.reduce((m, x) => m + 2 + Object.keys(x.read).length + Object.keys(x.update).length + Object.keys(x.delete).length + x.create.length, 0),
  0,
);

const ALLOWED = ENTITIES.reduce(
  (n, e) =>
    n +
    e.expectations.reduce(
      (m, x) => m + x.list.ids.length + [...Object.values(x.read), ...Object.values(x.update), ...Object.values(x.delete), ...x.create].filter((s) => s < 300).length,
      0,
    ),
  0,
);

const rowsOf = (table: string) => SEED.find((t) => t.table === table)!.rows;

/** Undoes a successful write to one row: the seeded row back (or, for an id not seeded, gone). */
async function restoreRow(entity: { table: string; cascades: boolean }, id: string, deleted = false): Promise<void> {
  // A delete that cascaded or nulled references changed other rows too: re-seed everything.
  if (deleted && entity.cascades) return seed();
  const row = rowsOf(entity.table).find((r) => r["id"] === id);
  await asSeeder(async (client) => {
    await client.query(\`DELETE FROM \${quoteIdent(entity.table)} WHERE id = $1\`, [id]);
    if (row !== undefined) await insertRows(client, entity.table, [row]);
  });
}

before(async () => {
  console.log(\`# rbac matrix cases: \${CASES} (\${ALLOWED} allowed)\`);
  if (ENTITIES.length === 0) return;
  const config = loadConfig(process.env, APP_ROOT);
  if (config.databaseUrl !== null) {
    adminUrl = config.databaseUrl;
  } else {
    embedded = await startEmbedded(path.join(stateDir(APP_ROOT), "pg"));
    adminUrl = embedded.url;
  }
  const url = new URL(adminUrl);
  dbName = \`\${(decodeURIComponent(url.pathname.slice(1)) || "postgres").slice(0, 40)}_rbac_\${randomBytes(4).toString("hex")}\`;
  const creator = new pg.Client({ connectionString: adminUrl });
  await creator.connect();
  try {
    await creator.query(\`CREATE DATABASE \${quoteIdent(dbName)}\`);
  } finally {
    await creator.end();
  }
  url.pathname = \`/\${encodeURIComponent(dbName)}\`;
  rbacUrl = url.toString();
  await migrateDatabase(rbacUrl, APP_ROOT);
  admin = new pg.Pool({ connectionString: rbacUrl, max: 4 });
  // pool.end() resolves before its sockets close; DROP DATABASE … WITH (FORCE) may then end them.
  admin.on("error", () => undefined);
  await seed();
  database = connect(rbacUrl);
  const app = buildApp(database, config);
  server = await new Promise<http.Server>((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  baseUrl = \`http://127.0.0.1:\${(server.address() as AddressInfo).port}\`;
  for (const caller of CALLERS) {
    if (caller.userId !== null) tokens.set(caller.name, await mintToken(config.jwtSecret, { userId: caller.userId, roles: caller.roles ?? [] }));
  }
});

after(async () => {
  if (server !== null) await new Promise<void>((resolve) => server!.close(() => resolve()));
  if (database !== null) await database.close();
  if (admin !== null) await admin.end();
  if (dbName !== "") {
    const dropper = new pg.Client({ connectionString: adminUrl });
    await dropper.connect();
    try {
      await dropper.query(\`DROP DATABASE IF EXISTS \${quoteIdent(dbName)} WITH (FORCE)\`);
    } finally {
      await dropper.end();
    }
  }
  if (embedded !== null) await embedded.stop();
});

async function call(caller: string, method: string, url: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> = {};
  const token = tokens.get(caller);
  if (token !== undefined) headers["authorization"] = \`Bearer \${token}\`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(baseUrl + url, body === undefined ? { method, headers } : { method, headers, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text === "" ? null : (JSON.parse(text) as unknown) };
}

/**
 * The ids RLS alone lets the caller SELECT: dazzle_app + the caller's context, no app filter; as
 * the caller role \`role\` (what a list of a caller with one role runs as) when given.
 */
async function rlsIds(table: string, caller: Caller, role = ""): Promise<string[]> {
  const client = await admin!.connect();
  await client.query(BEGIN_SQL);
  try {
    await client.query(CALLER_SQL, [caller.userId ?? "", (caller.roles ?? []).join(","), role]);
    const { rows } = await client.query<{ id: string }>(\`SELECT id::text AS id FROM \${quoteIdent(table)}\`);
    return rows.map((r) => r.id).sort();
  } finally {
    await client.query("ROLLBACK");
    client.release();
  }
}

if (ENTITIES.length === 0) test("no exposed entity: nothing to check", () => undefined);

/** The caller role of a caller holding exactly one role that has one, else null. */
function callerRoleOf(caller: Caller): string | null {
  const only = caller.userId !== null && caller.roles?.length === 1 ? caller.roles[0]! : null;
  return only !== null && Object.hasOwn(CALLER_ROLES, only) ? CALLER_ROLES[only]! : null;
}

for (const role of Object.values(CALLER_ROLES)) {
  test(\`\${role} without a caller's context sees no row\`, async () => {
    for (const entity of ENTITIES) {
      assert.deepEqual(await rlsIds(entity.table, { name: "nobody", userId: null, roles: null }, role), [], \`\${entity.table} as \${role}\`);
    }
  });
}


for (const entity of ENTITIES) {
  describe(entity.name, () => {
    for (const expected of entity.expectations) {
      const caller = CALLERS.find((c) => c.name === expected.caller)!;
      const who = \`\${entity.name} as \${caller.name}\`;

      test(\`list, read and RLS: \${caller.name}\`, async () => {
        const list = await call(caller.name, "GET", \`/api/\${entity.route}?page_size=100\`);
        assert.equal(list.status, expected.list.status, \`\${who}: list status\`);
        const listed = list.status === 200 ? (list.json as { data: { id: string }[] }).data.map((r) => r.id).sort() : [];
        assert.deepEqual(listed, expected.list.ids, \`\${who}: list ids\`);
        // Reads, updates and creates of different rows are independent: sent concurrently.
        const reads = await Promise.all(
          Object.entries(expected.read).map(async ([id, status]) => ({ id, status, res: await call(caller.name, "GET", \`/api/\${entity.route}/\${id}\`) })),
        );
        for (const { id, status, res } of reads) assert.equal(res.status, status, \`\${who}: read \${id}\`);
        const readable = reads.filter((r) => r.res.status === 200).map((r) => r.id);
        const rls = await rlsIds(entity.table, caller);
        assert.deepEqual(rls, expected.rls, \`\${who}: rows visible through RLS alone\`);
        const app = [...new Set([...listed, ...readable])].sort();
        if (caller.userId !== null || expected.list.status !== 401 || expected.rls.length === 0) {
          assert.deepEqual(rls, app, \`\${who}: RLS rows = app-layer rows (list ∪ read)\`);
        }
        const role = callerRoleOf(caller);
        // The caller role admits exactly the list rows (its lists send no filter of their own).
        const listIds = expected.list.status === 200 ? expected.list.ids : [];
        if (role !== null) assert.deepEqual(await rlsIds(entity.table, caller, role), listIds, \`\${who}: rows visible through RLS alone as \${role}\`);
      });

      test(\`update: \${caller.name}\`, async () => {
        const results = await Promise.all(
          Object.entries(expected.update).map(async ([id, status]) => {
            const row = rowsOf(entity.table).find((r) => r["id"] === id)!;
            const body = entity.updateColumn === null ? {} : { [entity.updateColumn]: row[entity.updateColumn] };
            const res = await call(caller.name, "PATCH", \`/api/\${entity.route}/\${id}\`, body);
            if (res.status < 300) await restoreRow(entity, id);
            return { id, status, res };
          }),
        );
        for (const { id, status, res } of results) assert.equal(res.status, status, \`\${who}: update \${id}\`);
      });

      test(\`delete: \${caller.name}\`, async () => {
        // One at a time: a deleted row could otherwise unblock another row's delete.
        for (const [id, status] of Object.entries(expected.delete)) {
          const res = await call(caller.name, "DELETE", \`/api/\${entity.route}/\${id}\`);
          if (res.status < 300) await restoreRow(entity, id, true);
          assert.equal(res.status, status, \`\${who}: delete \${id}\`);
        }
      });

      test(\`create: \${caller.name}\`, async () => {
        const results = await Promise.all(
          entity.candidates.map(async (candidate) => {
            const res = await call(caller.name, "POST", \`/api/\${entity.route}\`, candidate);
            if (res.status < 300) await restoreRow(entity, (res.json as { id: string }).id);
            return res;
          }),
        );
        for (const [n, res] of results.entries()) {
          assert.equal(res.status, expected.create[n], \`\${who}: create candidate \${n} \${JSON.stringify(res.json)}\`);
        }
      });
    }
  });
}
`;

/**
 * JSON with objects and arrays expanded to `depth` levels (two-space indent) and everything deeper
 * on one line: a seed row, a caller's expectations or a create candidate per line, so a
 * regeneration's diff shows which ones changed.
 */
function jsonLines(value: unknown, depth: number, indent = ""): string {
  if (depth === 0 || value === null || typeof value !== "object") return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => `${inner}${jsonLines(v, depth - 1, inner)}`).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return "{}";
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${jsonLines(v, depth - 1, inner)}`).join(",\n")}\n${indent}}`;
}

/**
 * The matrix as two files: `test/rbac.test.ts` (the typed runner) and `test/rbac.data.json`
 * (seed rows, callers and expectations). The data is plain JSON rather than a TypeScript literal
 * so that neither the formatter nor `tsc` has to read it: for a 500-entity spec it is megabytes.
 */
export function emitRbacTest(app: AppIR, ctx: EmitContext): GeneratedFile[] {
  const model = buildRbacModel(app);
  const callerRoleNames = Object.fromEntries(callerRoles(app).map((role) => [role, callerRoleName(role)!]));
  const data = jsonLines({ seed: model.seed, callers: model.callers, callerRoles: callerRoleNames, entities: model.entities }, 4);
  const types = [
    "type Value = string | number | boolean | null;",
    "interface Caller { readonly name: string; readonly userId: string | null; readonly roles: readonly string[] | null }",
    `interface EntityCase {
  name: string; table: string; route: string; updateColumn: string | null; cascades: boolean;
  candidates: readonly Record<string, Value>[];
  expectations: readonly {
    caller: string; list: { status: number; ids: readonly string[] };
    read: Record<string, number>; update: Record<string, number>; delete: Record<string, number>;
    create: readonly number[]; rls: readonly string[];
  }[];
}`,
    "",
    "/**",
    " * The matrix data, computed from the access IR by dazzle-gen: SEED, the rows loaded into every",
    " * table (columns as in the migration); CALLERS, two principals per role, neighbouring role pairs,",
    " * all roles, an unknown role and anonymous (roles null: no token); ENTITIES, the expected outcomes.",
    " */",
    `const DATA = JSON.parse(readFileSync(path.join(__dirname, ${JSON.stringify(path.posix.basename(RBAC_DATA_PATH))}), "utf8")) as {`,
    "  seed: readonly { table: string; rows: readonly Record<string, Value>[] }[];",
    "  callers: readonly Caller[];",
    "  callerRoles: Readonly<Record<string, string>>;",
    "  entities: readonly EntityCase[];",
    "};",
    "const SEED = DATA.seed;",
    "const CALLERS = DATA.callers;",
    "/** App role → its caller role (the database role a list of a caller with only that role runs as). */",
    "const CALLER_ROLES = DATA.callerRoles;",
    "const ENTITIES = DATA.entities;",
  ].join("\n");
  const imports = [
    'import assert from "node:assert/strict";',
    'import { randomBytes } from "node:crypto";',
    'import { readFileSync } from "node:fs";',
    'import type http from "node:http";',
    'import type { AddressInfo } from "node:net";',
    'import path from "node:path";',
    'import { after, before, describe, test } from "node:test";',
    'import pg from "pg";',
    'import { buildApp } from "../src/generated/app";',
    'import { BEGIN_SQL, CALLER_SQL } from "../src/generated/context";',
    'import { mintToken } from "../src/generated/runtime/auth";',
    'import { findAppRoot, loadConfig, stateDir } from "../src/generated/runtime/config";',
    'import { connect, type Database } from "../src/generated/runtime/database";',
    'import { startEmbedded, type EmbeddedDatabase } from "../src/generated/runtime/embedded";',
    'import { migrateDatabase } from "../src/generated/runtime/migrate";',
  ].join("\n");
  const contents = formatTypeScript(`${tsHeader(ctx)}${DOC}\n${imports}\n\n${types}\n${RUNNER}`);
  return [
    { path: RBAC_TEST_PATH, contents, owner: "generator" },
    { path: RBAC_DATA_PATH, contents: `${data}\n`, owner: "generator" },
  ];
}
