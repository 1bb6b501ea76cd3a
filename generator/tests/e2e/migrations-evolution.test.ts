/**
 * Schema evolution on a real PostgreSQL: one app regenerated through a series of spec
 * revisions. Each revision writes one new committed migration that the app's `npm run migrate`
 * (graphile-migrate) applies to a database holding rows from every earlier step; every row
 * survives; destructive revisions are refused and change neither files nor data; and at the end
 * the evolved schema (pg_catalog: columns, types, defaults, constraints, indexes, RLS, policies,
 * triggers, functions) equals a fresh migration of the final spec.
 *
 * Revisions 9–12 (issue 4): type widenings, `was:` renames of a field, a money field and an
 * entity (plus a rename with a type change) keeping their data, a refused narrowing, and the same
 * narrowing with `--allow-destructive`, whose casts and fix-ups are checked on the rows.
 * Revision 13 adds a persona, whose list scope (`author = current_user as: *`) gets a caller role
 * `dazzle_as_evolution_reader` (unique to this suite: roles are cluster-wide), so the final
 * schema and db:verify's drift kinds include the caller roles.
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { childEnv, generateApp, installAppDependencies, makeTempDir, removeTempDir, run } from "../support/app";
import { createTestDatabase, withClient, type TestDatabase } from "../support/pg";

const HEAD = `module notes

app notes "Notes"
`;

const NOTE_ACCESS = `
  permit:
    list: authenticated
    read: authenticated
    create: authenticated
    update: authenticated
    delete: authenticated

  scope:
    list: author = current_user
      as: *
    read: author = current_user
      as: *
    create: author = current_user
      as: *
    update: author = current_user
      as: *
    delete: author = current_user
      as: *
`;

const TAG_ACCESS = (extra = "") => `
  permit:
    list: authenticated
    read: authenticated
    create: authenticated${extra}
`;

const COMMENT_ENTITY = (name: string, was = "") => `
entity ${name} "${name}":${was}
  id: uuid pk
  note: ref Note required
  text: text required
  posted_at: datetime auto_add
${TAG_ACCESS()}`;

const TAG_8 = `
entity Tag "Tag":
  id: uuid pk
  label: str(40) required
  note: ref Note
  touched_at: datetime
  unique label, note
${TAG_ACCESS("\n    update: authenticated\n    delete: authenticated")}`;

/** Revisions 11 and 12: narrowings of views (decimal → int), title (shorter) and priority (value removed). */
const NARROWED = `${HEAD}
entity Note "Note":
  id: uuid pk
  author: uuid required
  content: text was: body
  pinned: bool=true required
  title: str(20)
  priority: enum[low,urgent]=low
  views: int=0 required
  code: str(12) indexed
  cost: money(EUR) was: price
  born_at: datetime was: born
${NOTE_ACCESS}${TAG_8}${COMMENT_ENTITY("Remark", "\n  was: Comment")}`;

/** Revision 13: a persona whose list scope of Note is a predicate, so it gets a caller role. */
const READER = `
persona evolution_reader "Reader":
  description: "Lists the notes they wrote"
`;

/** The note row marked in revision 9 (a price, a long title, priority high, a date). */
let marked = "";

interface Revision {
  readonly name: string;
  readonly spec: string;
  /** The DZ code a refused revision fails with (refused ones are skipped afterwards). */
  readonly refused?: string;
  readonly args?: readonly string[];
  /** Tables renamed by this revision (old → new), for the rows-survive check. */
  readonly renamedTables?: Readonly<Record<string, string>>;
  /** Runs after the migration and the rows-survive check. */
  readonly check?: () => Promise<void>;
}

/** Spec revisions in order; `refused` ones must be rejected (and are skipped afterwards). */
const REVISIONS: readonly Revision[] = [
  {
    name: "1 initial: one entity",
    spec: `${HEAD}
entity Note "Note":
  id: uuid pk
  author: uuid required
  body: text required
  pinned: bool=false
${NOTE_ACCESS}`,
  },
  {
    name: "2 new columns: nullable, enum with default, required with default",
    spec: `${HEAD}
entity Note "Note":
  id: uuid pk
  author: uuid required
  body: text required
  pinned: bool=false
  title: str(80)
  priority: enum[low,high]=low
  views: int=0 required
${NOTE_ACCESS}`,
  },
  {
    name: "3 new entity with a reference, a unique and an auto_update trigger",
    spec: `${HEAD}
entity Note "Note":
  id: uuid pk
  author: uuid required
  body: text required
  pinned: bool=false
  title: str(80)
  priority: enum[low,high]=low
  views: int=0 required
${NOTE_ACCESS}
entity Tag "Tag":
  id: uuid pk
  label: str(40) required unique
  note: ref Note
  touched_at: datetime auto_update
${TAG_ACCESS()}`,
  },
  {
    name: "4 enum value added, default changed, NOT NULL dropped, longer str, index line",
    spec: `${HEAD}
entity Note "Note":
  id: uuid pk
  author: uuid required
  body: text
  pinned: bool=true
  title: str(200)
  priority: enum[low,high,urgent]=low
  views: int=0 required
  index title, priority
${NOTE_ACCESS}
entity Tag "Tag":
  id: uuid pk
  label: str(40) required unique
  note: ref Note
  touched_at: datetime auto_update
${TAG_ACCESS()}`,
  },
  {
    name: "5 refused: a column dropped",
    refused: "DZ5001",
    spec: `${HEAD}
entity Note "Note":
  id: uuid pk
  author: uuid required
  body: text
  title: str(200)
  priority: enum[low,high,urgent]=low
  views: int=0 required
  index title, priority
${NOTE_ACCESS}
entity Tag "Tag":
  id: uuid pk
  label: str(40) required unique
  note: ref Note
  touched_at: datetime auto_update
${TAG_ACCESS()}`,
  },
  {
    name: "6 refused: an enum value removed",
    refused: "DZ5003",
    spec: `${HEAD}
entity Note "Note":
  id: uuid pk
  author: uuid required
  body: text
  pinned: bool=true
  title: str(200)
  priority: enum[low,urgent]=low
  views: int=0 required
  index title, priority
${NOTE_ACCESS}
entity Tag "Tag":
  id: uuid pk
  label: str(40) required unique
  note: ref Note
  touched_at: datetime auto_update
${TAG_ACCESS()}`,
  },
  {
    name: "7 policies changed, unique dropped, index removed, auto_update trigger removed, optional column made required with a default",
    spec: `${HEAD}
entity Note "Note":
  id: uuid pk
  author: uuid required
  body: text
  pinned: bool=true required
  title: str(200)
  priority: enum[low,high,urgent]=low
  views: int=0 required
${NOTE_ACCESS}
entity Tag "Tag":
  id: uuid pk
  label: str(40) required
  note: ref Note
  touched_at: datetime
${TAG_ACCESS("\n    update: authenticated\n    delete: authenticated")}`,
  },
  {
    name: "8 third entity, new indexed column and composite unique",
    spec: `${HEAD}
entity Note "Note":
  id: uuid pk
  author: uuid required
  body: text
  pinned: bool=true required
  title: str(200)
  priority: enum[low,high,urgent]=low
  views: int=0 required
  code: str(12) indexed
${NOTE_ACCESS}
entity Tag "Tag":
  id: uuid pk
  label: str(40) required
  note: ref Note
  touched_at: datetime
  unique label, note
${TAG_ACCESS("\n    update: authenticated\n    delete: authenticated")}
entity Comment "Comment":
  id: uuid pk
  note: ref Note required
  text: text required
  posted_at: datetime auto_add
${TAG_ACCESS()}`,
  },
  {
    name: "9 widenings (int → decimal with its default, longer decimal), new money and date fields",
    spec: `${HEAD}
entity Note "Note":
  id: uuid pk
  author: uuid required
  body: text
  pinned: bool=true required
  title: str(200)
  priority: enum[low,high,urgent]=low
  views: decimal(14,2)=0 required
  code: str(12) indexed
  price: money(EUR)
  born: date
${NOTE_ACCESS}${TAG_8}${COMMENT_ENTITY("Comment")}`,
    check: async () => {
      expect(await sql(evolved!.url, "SELECT DISTINCT views FROM note")).toEqual([{ views: "0.00" }]);
    },
  },
  {
    name: "10 renames: field (was: body), money field (both columns), entity (was: Comment), and a rename with a date → datetime widening",
    spec: `${HEAD}
entity Note "Note":
  id: uuid pk
  author: uuid required
  content: text was: body
  pinned: bool=true required
  title: str(200)
  priority: enum[low,high,urgent]=low
  views: decimal(14,2)=0 required
  code: str(12) indexed
  cost: money(EUR) was: price
  born_at: datetime was: born
${NOTE_ACCESS}${TAG_8}${COMMENT_ENTITY("Remark", "\n  was: Comment")}`,
    renamedTables: { comment: "remark" },
    check: async () => {
      const rows = await sql(evolved!.url, "SELECT content, cost_minor, cost_currency, born_at::text AS born_at FROM note WHERE id = $1", [marked]);
      expect(rows).toEqual([{ content: "step 9", cost_minor: "1234", cost_currency: "EUR", born_at: "2024-05-06 00:00:00+00" }]);
      const remarks = await sql<{ text: string }>(evolved!.url, "SELECT DISTINCT text FROM remark");
      expect(remarks).toEqual([{ text: "hi" }]);
    },
  },
  {
    name: "11 refused: a decimal → int narrowing, a shorter str, an enum value removed",
    refused: "DZ5003",
    spec: NARROWED,
  },
  {
    name: "12 the same narrowings with --allow-destructive: explicit casts, values cut, removed enum values take the default",
    spec: NARROWED,
    args: ["--allow-destructive"],
    check: async () => {
      const rows = await sql(evolved!.url, "SELECT title, priority, views FROM note WHERE id = $1", [marked]);
      expect(rows).toEqual([{ title: "t".repeat(20), priority: "low", views: 0 }]);
      const committed = readCommitted();
      const migration = committed[committed.length - 1]!;
      expect(readFileSync(path.join(appDir, migration), "utf8")).toContain("-- DESTRUCTIVE: generated with --allow-destructive; these steps can lose data:\n");
    },
  },
  {
    name: "13 a persona with a predicate list scope: its caller role, dazzle_app NOINHERIT and a member of it, its policy on every table",
    spec: NARROWED.replace(HEAD, `${HEAD}${READER}`),
    check: async () => {
      const role = await sql(evolved!.url, `SELECT rolinherit, pg_has_role('dazzle_app', 'dazzle_as_evolution_reader', 'MEMBER') AS member FROM pg_roles WHERE rolname = 'dazzle_app'`);
      expect(role).toEqual([{ rolinherit: false, member: true }]);
      const policies = await sql(evolved!.url, `SELECT tablename FROM pg_policies WHERE policyname = 'select_as_evolution_reader' ORDER BY 1`);
      expect(policies).toEqual([{ tablename: "note" }, { tablename: "remark" }, { tablename: "tag" }]);
    },
  },
];

const AUTHOR = "a0000000-0000-4000-8000-000000000001";

let tmp: string | undefined;
let appDir = "";
let specFile = "";
let evolved: TestDatabase | undefined;
let fresh: TestDatabase | undefined;

beforeAll(async () => {
  tmp = await makeTempDir("dz-e2e-evolution-");
  appDir = path.join(tmp, "app");
  specFile = path.join(tmp, "app.dz");
  evolved = await createTestDatabase("evolution");
  fresh = await createTestDatabase("evolution_fresh");
}, 60_000);

afterAll(async () => {
  await evolved?.drop();
  await fresh?.drop();
  if (process.env.DZ_KEEP_EVOLUTION) process.stderr.write(`kept ${tmp}\n`);
  else await removeTempDir(tmp);
}, 60_000);

async function migrate(dir: string, url: string): Promise<void> {
  const result = await run("npm", ["run", "migrate"], { cwd: dir, env: childEnv({ DATABASE_URL: url }), timeoutMs: 120_000 });
  if (result.exitCode !== 0) throw new Error(`npm run migrate failed:\n${result.output}`);
}

const sql = <R extends Record<string, unknown> = Record<string, unknown>>(url: string, text: string, values: unknown[] = []) =>
  withClient(url, async (c) => (await c.query<R>(text, values)).rows);

/** Rows inserted so far, per table, by id: all must be there after every step. */
const inserted: Record<string, string[]> = { note: [], tag: [], comment: [], remark: [] };

async function insertRows(step: number): Promise<void> {
  const url = evolved!.url;
  const text = step >= 10 ? "content" : "body";
  const note = await sql<{ id: string }>(url, `INSERT INTO note (author, ${text}) VALUES ($1, $2) RETURNING id`, [AUTHOR, `step ${step}`]);
  inserted.note!.push(note[0]!.id);
  if (step === 9) {
    marked = note[0]!.id;
    await sql(url, `UPDATE note SET price_minor = 1234, title = repeat('t', 30), priority = 'high', born = '2024-05-06' WHERE id = $1`, [marked]);
  }
  if (step >= 3) {
    const tag = await sql<{ id: string }>(url, `INSERT INTO tag (label, note) VALUES ($1, $2) RETURNING id`, [`tag-${step}`, note[0]!.id]);
    inserted.tag!.push(tag[0]!.id);
  }
  if (step >= 8) {
    const table = step >= 10 ? "remark" : "comment";
    const c = await sql<{ id: string }>(url, `INSERT INTO ${table} (note, text) VALUES ($1, 'hi') RETURNING id`, [note[0]!.id]);
    inserted[table]!.push(c[0]!.id);
  }
}

async function expectRowsSurvive(): Promise<void> {
  for (const [table, ids] of Object.entries(inserted)) {
    if (ids.length === 0) continue;
    const rows = await sql<{ id: string }>(evolved!.url, `SELECT id FROM "${table}" ORDER BY id`);
    expect([table, rows.map((r) => r.id)]).toEqual([table, [...ids].sort()]);
  }
}

/** The public schema as pg_catalog sees it, in a comparable, order-independent form. */
async function describeSchema(url: string): Promise<Record<string, unknown>> {
  const q = (text: string) => sql(url, text);
  return {
    columns: await q(`SELECT table_name, column_name, data_type, is_nullable, column_default, numeric_precision, numeric_scale
      FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2`),
    // Not PostgreSQL 18's NOT NULL constraints (contype 'n', named `<table>_<column>_not_null` at
    // creation and not renamed with the column): NOT NULL is compared through the columns, as
    // db:verify does.
    constraints: await q(`SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def
      FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND contype <> 'n' ORDER BY 1, 2`),
    indexes: await q(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2`),
    rls: await q(`SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class
      WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' ORDER BY 1`),
    policies: await q(`SELECT tablename, policyname, cmd, roles::text, qual, with_check FROM pg_policies WHERE schemaname = 'public' ORDER BY 1, 2`),
    triggers: await q(`SELECT tgrelid::regclass::text AS tbl, tgname, pg_get_triggerdef(oid) AS def FROM pg_trigger
      WHERE NOT tgisinternal AND tgrelid::regclass::text NOT LIKE 'graphile_migrate.%' ORDER BY 1, 2`),
    functions: await q(`SELECT proname, pg_get_function_identity_arguments(oid) AS args, md5(pg_get_functiondef(oid)) AS def
      FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 1, 2`),
  };
}

test("thirteen spec revisions: each migrates with rows kept; refused ones change nothing; the result equals a fresh migration", async () => {
  let installed = false;
  let migrations = 0;
  for (const [i, revision] of REVISIONS.entries()) {
    const step = i + 1;
    writeFileSync(specFile, revision.spec);
    if (revision.refused !== undefined) {
      const before = readTree(appDir);
      const result = await generateApp(specFile, appDir, revision.args);
      expect([revision.name, result.exitCode]).toEqual([revision.name, 1]);
      expect(result.stderr).toContain(`error[${revision.refused}]: destructive schema change`);
      expect(result.stderr).toContain("nothing was changed");
      expect(readTree(appDir)).toEqual(before);
      await expectRowsSurvive();
      continue;
    }
    const result = await generateApp(specFile, appDir, revision.args);
    if (result.exitCode !== 0) throw new Error(`${revision.name}: dazzle-gen exited ${result.exitCode}:\n${result.stderr}`);
    migrations += 1;
    const committed = readCommitted();
    expect([revision.name, committed.length]).toEqual([revision.name, migrations]);
    if (!installed) {
      await installAppDependencies(appDir);
      installed = true;
    }
    await migrate(appDir, evolved!.url);
    for (const [from, to] of Object.entries(revision.renamedTables ?? {})) {
      inserted[to] = inserted[from]!;
      delete inserted[from];
    }
    await expectRowsSurvive();
    await revision.check?.();
    await insertRows(step);
    // Regenerating the same spec writes nothing new.
    const again = await generateApp(specFile, appDir);
    expect([revision.name, again.exitCode, readCommitted().length]).toEqual([revision.name, 0, migrations]);
  }
  await expectRowsSurvive();

  // Defaults and NOT NULL of later steps applied to the early rows.
  const early = await sql<{ views: number; priority: string; pinned: boolean }>(evolved!.url, `SELECT views, priority, pinned FROM note WHERE id = $1`, [inserted.note![0]]);
  expect(early).toEqual([{ views: 0, priority: "low", pinned: false }]);

  // A fresh generation of the final spec, migrated into an empty database, has the same schema.
  const freshDir = path.join(tmp!, "fresh");
  const generated = await generateApp(specFile, freshDir);
  expect(generated.exitCode).toBe(0);
  await installAppDependencies(freshDir);
  await migrate(freshDir, fresh!.url);
  const schema = await describeSchema(evolved!.url);
  expect(schema).toEqual(await describeSchema(fresh!.url));
  // …and the comparison is not vacuous.
  const count = (k: string) => (schema[k] as unknown[]).length;
  expect(["columns", "constraints", "indexes", "policies", "triggers", "functions"].map((k) => [k, count(k) >= 3])).toEqual(
    ["columns", "constraints", "indexes", "policies", "triggers", "functions"].map((k) => [k, true]),
  );
  expect(schema.triggers).toEqual(expect.arrayContaining([expect.objectContaining({ tbl: "remark", tgname: "dazzle_events" })]));
  // The lock's snapshot of both is the same too.
  const verified = await npmRun(appDir, "db:verify", evolved!.url);
  expect(verified).toEqual({ exitCode: 0, stdout: expect.stringContaining("the database matches the schema snapshot (5 tables)") });
  const status = await npmRun(appDir, "db:status", evolved!.url);
  expect(status.stdout).toContain("10 committed migration(s), 10 applied, 0 pending\n  applied  000001-initial.sql\n");
  // db:reset: refused without the typed confirmation, then every row gone with --yes.
  const declined = await run("npm", ["run", "--silent", "db:reset"], { cwd: appDir, env: childEnv({ DATABASE_URL: evolved!.url }), input: "no\n" });
  expect([declined.exitCode, declined.stdout.trim().endsWith("nothing was deleted")]).toEqual([1, true]);
  expect(await sql(evolved!.url, "SELECT count(*)::int AS n FROM note")).toEqual([{ n: inserted.note!.length }]);
  const reset = await run("npm", ["run", "--silent", "db:reset", "--", "--yes"], { cwd: appDir, env: childEnv({ DATABASE_URL: evolved!.url }) });
  expect([reset.exitCode, reset.stdout]).toEqual([0, "deleted every row of 5 tables\n"]);
  expect(await sql(evolved!.url, "SELECT (SELECT count(*) FROM note)::int + (SELECT count(*) FROM tag)::int AS n")).toEqual([{ n: 0 }]);
  const lock = (dir: string) => (JSON.parse(readFileSync(path.join(dir, "dazzle.lock.json"), "utf8")) as { schema: unknown }).schema;
  expect(lock(appDir)).toEqual(lock(freshDir));
}, 10 * 60_000);

async function npmRun(dir: string, script: string, url: string): Promise<{ exitCode: number; stdout: string }> {
  const result = await run("npm", ["run", "--silent", script], { cwd: dir, env: childEnv({ DATABASE_URL: url }), timeoutMs: 120_000 });
  return { exitCode: result.exitCode, stdout: result.stdout };
}

/** Each kind of drift db:verify reports: [change, undo, the line it prints]. */
const DRIFTS: readonly [string, string, string][] = [
  ["CREATE TABLE extra (id int)", "DROP TABLE extra", 'unexpected table "extra"'],
  ["ALTER TABLE note ADD COLUMN extra int", "ALTER TABLE note DROP COLUMN extra", 'unexpected column "note"."extra"'],
  ["ALTER TABLE note ALTER COLUMN views TYPE bigint", "ALTER TABLE note ALTER COLUMN views TYPE integer", 'column "note"."views" has type bigint, expected integer'],
  ["ALTER TABLE note ALTER COLUMN views DROP NOT NULL", "ALTER TABLE note ALTER COLUMN views SET NOT NULL", 'column "note"."views" is nullable, expected NOT NULL'],
  ["ALTER TABLE note ALTER COLUMN views SET DEFAULT 7", "ALTER TABLE note ALTER COLUMN views SET DEFAULT 0", 'column "note"."views" has default 7, expected 0'],
  ["ALTER TABLE note DROP CONSTRAINT ck_note_priority_enum", `ALTER TABLE note ADD CONSTRAINT ck_note_priority_enum CHECK (priority IN ('low', 'urgent'))`, 'missing constraint "ck_note_priority_enum" on "note"'],
  [
    "ALTER TABLE note DROP CONSTRAINT ck_note_code_len, ADD CONSTRAINT ck_note_code_len CHECK (char_length(code) <= 13)",
    "ALTER TABLE note DROP CONSTRAINT ck_note_code_len, ADD CONSTRAINT ck_note_code_len CHECK (char_length(code) <= 12)",
    'constraint "ck_note_code_len" on "note" is CHECK ((char_length(code) <= 13)), expected CHECK ((char_length(code) <= 12))',
  ],
  ["ALTER TABLE note ADD CONSTRAINT ck_extra CHECK (views >= 0)", "ALTER TABLE note DROP CONSTRAINT ck_extra", 'unexpected constraint "ck_extra" on "note"'],
  ["DROP INDEX ix_note_code", "CREATE INDEX ix_note_code ON note (code)", 'missing index "ix_note_code" on "note"'],
  ["ALTER TABLE note NO FORCE ROW LEVEL SECURITY", "ALTER TABLE note FORCE ROW LEVEL SECURITY", 'row-level security is not forced on "note"'],
  ["ALTER TABLE note DISABLE ROW LEVEL SECURITY", "ALTER TABLE note ENABLE ROW LEVEL SECURITY", 'row-level security is not enabled on "note"'],
  ["ALTER POLICY scope_select ON note RENAME TO other", "ALTER POLICY other ON note RENAME TO scope_select", 'missing policy "scope_select" on "note"'],
  ["ALTER TRIGGER dazzle_events ON tag RENAME TO other", "ALTER TRIGGER other ON tag RENAME TO dazzle_events", 'missing trigger "dazzle_events" on "tag"'],
  ["ALTER FUNCTION dazzle_record_event() RENAME TO other", "ALTER FUNCTION other() RENAME TO dazzle_record_event", 'missing function "dazzle_record_event"()'],
  // Cluster-wide roles of this suite only, undone right after db:verify even when the expectation
  // fails. Not `ALTER ROLE dazzle_app INHERIT` (db:verify reports it too): the role is shared by
  // every suite running at the same time, whose dazzle_app sessions would get caller-role policies.
  ["REVOKE dazzle_as_evolution_reader FROM dazzle_app", "GRANT dazzle_as_evolution_reader TO dazzle_app", 'role "dazzle_app" is not a member of "dazzle_as_evolution_reader"'],
  [
    "ALTER ROLE dazzle_as_evolution_reader RENAME TO dazzle_as_evolution_renamed",
    "ALTER ROLE dazzle_as_evolution_renamed RENAME TO dazzle_as_evolution_reader",
    'missing role "dazzle_as_evolution_reader"',
  ],
  // Last: not undone.
  ["ALTER TABLE note DROP COLUMN code", "", 'missing column "note"."code"'],
  ["DROP TABLE remark CASCADE", "", 'missing table "remark"'],
];

test("db:verify reports each kind of drift on a fresh database of the final spec, and exits 1", async () => {
  const freshDir = path.join(tmp!, "fresh");
  expect(await npmRun(freshDir, "db:verify", fresh!.url)).toEqual({ exitCode: 0, stdout: expect.stringContaining("matches") });
  for (const [change, undo, line] of DRIFTS) {
    await sql(fresh!.url, change);
    try {
      const result = await npmRun(freshDir, "db:verify", fresh!.url);
      expect([change, result.exitCode, result.stdout.split("\n").filter((l) => l.startsWith("  - "))]).toEqual([change, 1, expect.arrayContaining([`  - ${line}`])]);
    } finally {
      if (undo !== "") await sql(fresh!.url, undo);
    }
  }
}, 5 * 60_000);

function readCommitted(): string[] {
  return [...readTree(appDir).keys()].filter((f) => f.startsWith("migrations/committed/")).sort();
}

/** Every file of the app (path → text), without node_modules (a symlink to the shared install). */
function readTree(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === "node_modules" || e.name === ".dazzle") continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else files.set(path.relative(root, full).split(path.sep).join("/"), readFileSync(full, "utf8"));
    }
  };
  if (existsSync(root)) walk(root);
  return files;
}
