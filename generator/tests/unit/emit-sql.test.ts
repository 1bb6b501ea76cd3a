/**
 * emitMigrations on a hand-built IR: exact SQL for the pieces, then the whole migration applied
 * to a real PostgreSQL, where RLS, auto_update and events are checked with raw SQL as dazzle_app.
 */
import { randomBytes } from "node:crypto";
import { Client, type Notification } from "pg";
import type { AppIR, EntityIR, FieldIR, Operation, PermitExpr, Predicate, ScopeRuleIR } from "../../ir/ir";
import type { EmitContext } from "../../emit/types";
import { emitMigrations } from "../../emit/sql/emit-migrations";
import { emitRls } from "../../emit/sql/emit-rls";
import { emitTables } from "../../emit/sql/emit-tables";
import { graphileMigration } from "../../emit/sql/graphile-migration";
import { dollarQuote } from "../../emit/sql/quote";

/**
 * Superuser URL; the one place to switch to the shared harness (generator/tests/support/pg.ts).
 * DAZZLE_TEST_ADMIN_URL is what its jest globalSetup exports.
 */
function adminUrl(): string {
  return (
    process.env.DAZZLE_TEST_ADMIN_URL ?? process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
  );
}

// ---------------------------------------------------------------------------------------------
// The IR: Project (role-gated, org-scoped), Secret (default-deny), Task (owner-scoped, refs,
// defaults, auto_update, hostile literal), User (the principal).

const HOSTILE = `O'Brien \\ "x" ü`;

function field(column: string, type: FieldIR["type"], extra: Partial<FieldIR> = {}): FieldIR {
  return {
    name: column,
    column,
    type,
    required: false,
    unique: false,
    default: null,
    serverManaged: false,
    autoUpdate: false,
    indexed: type.kind === "ref",
    ...extra,
  };
}

const ID = field("id", { kind: "uuid" }, {
  required: true,
  default: { kind: "generated", fn: "uuid" },
  serverManaged: true,
});

const role = (r: string): PermitExpr => ({ kind: "role", role: r });
const AUTHENTICATED: PermitExpr = { kind: "authenticated" };
const NEVER: PermitExpr = { kind: "never" };
const TRUE: Predicate = { kind: "true" };
const ownerIsMe: Predicate = { kind: "userAttr", column: "owner", op: "=", attr: "id" };

function ops(e: Partial<Record<Operation, PermitExpr>>): Record<Operation, PermitExpr> {
  return { list: NEVER, read: NEVER, create: NEVER, update: NEVER, delete: NEVER, ...e };
}

function rule(entity: string, operation: Operation, n: number, roles: string[] | "*", predicate: Predicate, source: string): ScopeRuleIR {
  return { id: `${entity}.${operation}.${n}`, operation, roles, predicate, source };
}

function entity(name: string, table: string, fields: FieldIR[], access: EntityIR["access"]): EntityIR {
  return { name, title: name, table, route: `${table}s`, fields: [ID, ...fields], access };
}

const projectOrgIsMine: Predicate = { kind: "userAttr", column: "org", op: "=", attr: "org" };
const PROJECT = entity(
  "Project",
  "project",
  [
    field("name", { kind: "str", maxLength: 200 }, { required: true }),
    field("org", { kind: "uuid" }, { required: true, indexed: true }),
    field("visibility", { kind: "enum", values: ["private", "public"] }, {
      required: true,
      default: { kind: "literal", value: "private" },
    }),
    field("created_at", { kind: "datetime" }, {
      required: true,
      default: { kind: "generated", fn: "now" },
      serverManaged: true,
    }),
  ],
  {
    exposed: true,
    permit: ops({
      list: { kind: "or", children: [role("member"), role("admin")] },
      read: { kind: "or", children: [role("member"), role("admin")] },
      create: role("admin"),
      update: role("admin"),
    }),
    forbid: ops({}),
    scope: [
      rule("Project", "list", 1, ["admin"], TRUE, "list: all"),
      rule("Project", "list", 2, ["member"], projectOrgIsMine, "list: org = current_user.org"),
      rule("Project", "read", 1, ["admin"], TRUE, "read: all"),
      rule("Project", "read", 2, ["member"], {
        kind: "or",
        children: [projectOrgIsMine, { kind: "column", column: "visibility", op: "=", value: "public", sqlType: "text" }],
      }, "read: org = current_user.org or visibility = public"),
      rule("Project", "create", 1, ["admin"], projectOrgIsMine, "create: org = current_user.org"),
      rule("Project", "update", 1, ["admin"], TRUE, "update: all"),
    ],
  },
);

const LONG_COLUMN = "a_column_name_that_is_long_enough_to_push_the_unique_name_over";
const SECRET = entity(
  "Secret",
  "secret",
  [field(`we"ird`, { kind: "text" }), field(LONG_COLUMN, { kind: "int" }, { unique: true })],
  { exposed: false, permit: ops({}), forbid: ops({}), scope: null },
);

const TASK = entity(
  "Task",
  "task",
  [
    field("title", { kind: "str", maxLength: 200 }, { required: true }),
    field("status", { kind: "enum", values: ["open", "in_progress", "done"] }, {
      required: true,
      default: { kind: "literal", value: "open" },
    }),
    field("project", { kind: "ref", entity: "Project", table: "project" }, { required: true }),
    field("owner", { kind: "ref", entity: "User", table: "user" }),
    field("label", { kind: "str", maxLength: 50 }, { default: { kind: "literal", value: HOSTILE } }),
    field("order", { kind: "int" }, { default: { kind: "literal", value: -3 } }),
    field("done", { kind: "bool" }, { required: true, default: { kind: "literal", value: false } }),
    field("due", { kind: "date" }, { default: { kind: "generated", fn: "today" } }),
    field("updated_at", { kind: "datetime" }, {
      required: true,
      default: { kind: "generated", fn: "now" },
      serverManaged: true,
      autoUpdate: true,
    }),
    field("touched_on", { kind: "date" }, {
      required: true,
      default: { kind: "generated", fn: "today" },
      serverManaged: true,
      autoUpdate: true,
    }),
  ],
  {
    exposed: true,
    permit: ops({ list: AUTHENTICATED, read: AUTHENTICATED, create: AUTHENTICATED, update: AUTHENTICATED, delete: AUTHENTICATED }),
    forbid: ops({ delete: role("guest") }),
    scope: [
      rule("Task", "list", 1, "*", ownerIsMe, "list: owner = current_user"),
      rule("Task", "list", 2, ["manager"], TRUE, "list: all"),
      rule("Task", "read", 1, "*", {
        kind: "or",
        children: [ownerIsMe, { kind: "column", column: "label", op: "=", value: HOSTILE, sqlType: "text" }],
      }, `read:\n    owner = current_user or label = "O'Brien \\\\ \\"x\\" ü"`),
      rule("Task", "read", 2, ["manager"], TRUE, "read: all"),
      rule("Task", "create", 1, "*", ownerIsMe, "create: owner = current_user"),
      rule("Task", "update", 1, ["member", "manager"], {
        kind: "and",
        children: [ownerIsMe, { kind: "column", column: "status", op: "!=", value: "done", sqlType: "text" }],
      }, "update: owner = current_user and status != done"),
      rule("Task", "delete", 1, ["manager"], { kind: "column", column: "status", op: "=", value: "done", sqlType: "text" }, "delete: status = done"),
    ],
  },
);

const USER = entity(
  "User",
  "user",
  [
    field("email", { kind: "email" }, { required: true, unique: true }),
    field("name", { kind: "str", maxLength: 100 }, { required: true }),
    field("org", { kind: "uuid" }, { required: true, indexed: true }),
  ],
  { exposed: true, permit: ops({ list: AUTHENTICATED, read: AUTHENTICATED }), forbid: ops({}), scope: null },
);

const APP: AppIR = {
  name: "demo",
  title: "Demo",
  entities: [PROJECT, SECRET, TASK, USER],
  roles: ["admin", "guest", "manager", "member"],
  personas: [],
  principal: { entity: "User", table: "user", attributes: [{ name: "org", column: "org", sqlType: "uuid" }] },
  sources: ["app.dz"],
};

const CTX: EmitContext = { specName: "app.dz", generatorVersion: "0.0.0-test", templates: new Map() };

// ---------------------------------------------------------------------------------------------
// Exact text.

describe("graphileMigration", () => {
  // Expected hashes computed with graphile-migrate 1.4.1 dist/hash.js calculateHash.
  test("first migration", () => {
    expect(graphileMigration("\n\nSELECT 1;\n\n", null, "initial")).toEqual({
      hash: "sha1:d30d858bf9fa5d8979af2d32c3be5e09b07da877",
      contents: "--! Previous: -\n--! Hash: sha1:d30d858bf9fa5d8979af2d32c3be5e09b07da877\n--! Message: initial\n\nSELECT 1;\n",
    });
  });

  test("chained migration", () => {
    expect(graphileMigration("SELECT 2;", "sha1:abc", "second")).toEqual({
      hash: "sha1:f9afdf1ae67aabb6c45889d12662727d59a633c1",
      contents: "--! Previous: sha1:abc\n--! Hash: sha1:f9afdf1ae67aabb6c45889d12662727d59a633c1\n--! Message: second\n\nSELECT 2;\n",
    });
  });
});

describe("dollarQuote", () => {
  test("picks a tag the body cannot close", () => {
    expect(dollarQuote(" SELECT 1 ")).toBe("$$ SELECT 1 $$");
    expect(dollarQuote("a $$ b")).toBe("$dz$a $$ b$dz$");
    expect(dollarQuote("ends with $")).toBe("$dz$ends with $$dz$");
    expect(dollarQuote("$$ and $dz$")).toBe("$dz1$$$ and $dz$$dz1$");
  });
});

describe("emitMigrations text", () => {
  const [file] = emitMigrations(APP, CTX);

  test("one initial migration owned by the migration history", () => {
    expect(emitMigrations(APP, CTX).map((f) => [f.path, f.owner])).toEqual([
      ["migrations/committed/000001-initial.sql", "migration"],
    ]);
  });

  test("graphile-migrate headers, then the generated-code header", () => {
    const body = file!.contents.split("\n\n").slice(1).join("\n\n");
    const expected = graphileMigration(body, null, "initial");
    expect(file!.contents).toBe(expected.contents);
    expect(file!.contents.startsWith(
      `--! Previous: -\n--! Hash: ${expected.hash}\n--! Message: initial\n\n` +
        "-- Code generated by dazzle-gen from app.dz. DO NOT EDIT.\n\n-- Roles",
    )).toBe(true);
    expect(file!.contents.endsWith(";\n")).toBe(true);
  });

  test("deterministic", () => {
    expect(emitMigrations(APP, CTX)).toEqual(emitMigrations(APP, CTX));
  });

  test("table DDL", () => {
    const tables = emitTables([TASK, SECRET], APP.principal);
    expect(tables).toBe(`-- Tables
CREATE TABLE "task" (
  "id" uuid NOT NULL DEFAULT gen_random_uuid(),
  "title" text NOT NULL,
  "status" text NOT NULL DEFAULT 'open',
  "project" uuid NOT NULL,
  "owner" uuid,
  "label" text DEFAULT 'O''Brien \\ "x" ü',
  "order" integer DEFAULT -3,
  "done" boolean NOT NULL DEFAULT FALSE,
  "due" date DEFAULT CURRENT_DATE,
  "updated_at" timestamptz NOT NULL DEFAULT now(),
  "touched_on" date NOT NULL DEFAULT CURRENT_DATE,
  CONSTRAINT "pk_task" PRIMARY KEY ("id"),
  CONSTRAINT "ck_task_title_len" CHECK (char_length("title") <= 200),
  CONSTRAINT "ck_task_status_enum" CHECK ("status" IN ('open', 'in_progress', 'done')),
  CONSTRAINT "ck_task_label_len" CHECK (char_length("label") <= 50)
);

CREATE TABLE "secret" (
  "id" uuid NOT NULL DEFAULT gen_random_uuid(),
  "we""ird" text,
  "${LONG_COLUMN}" integer,
  CONSTRAINT "pk_secret" PRIMARY KEY ("id"),
  CONSTRAINT "uq_secret_a_column_name_that_is_long_enough_to_push_th_1a5b69e7" UNIQUE ("${LONG_COLUMN}")
);`);
  });

  test("app_user when the spec has no principal entity", () => {
    expect(emitTables([], { entity: null, table: "app_user", attributes: [] })).toBe(`-- Tables
-- Principal table (the spec declares no principal entity)
CREATE TABLE "app_user" (
  "id" uuid NOT NULL DEFAULT gen_random_uuid(),
  "email" text,
  CONSTRAINT "pk_app_user" PRIMARY KEY ("id"),
  CONSTRAINT "uq_app_user_email" UNIQUE ("email")
);`);
  });

  test("policies of one entity", () => {
    expect(emitRls([TASK])).toBe(`-- Row-level security
-- Task
ALTER TABLE "task" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "task" FORCE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON "task" TO "dazzle_app";
-- scope_select (read, list)
--   Task.list.1: list: owner = current_user
--   Task.list.2: list: all
--   Task.read.1: read: owner = current_user or label = "O'Brien \\\\ \\"x\\" ü"
--   Task.read.2: read: all
DROP POLICY IF EXISTS "scope_select" ON "task";
CREATE POLICY "scope_select" ON "task" FOR SELECT TO "dazzle_app"
  USING ((((SELECT dazzle_user_id()) IS NOT NULL) AND ("owner" = (SELECT dazzle_user_id()) OR "label" = 'O''Brien \\ "x" ü')) OR ((SELECT dazzle_has_role('manager')) AND ((SELECT dazzle_user_id()) IS NOT NULL)));
-- scope_insert (create)
--   Task.create.1: create: owner = current_user
DROP POLICY IF EXISTS "scope_insert" ON "task";
CREATE POLICY "scope_insert" ON "task" FOR INSERT TO "dazzle_app"
  WITH CHECK (((SELECT dazzle_user_id()) IS NOT NULL) AND "owner" = (SELECT dazzle_user_id()));
-- scope_update (update)
--   Task.update.1: update: owner = current_user and status != done
DROP POLICY IF EXISTS "scope_update" ON "task";
CREATE POLICY "scope_update" ON "task" FOR UPDATE TO "dazzle_app"
  USING ((((SELECT dazzle_has_role('member')) OR (SELECT dazzle_has_role('manager'))) AND ((SELECT dazzle_user_id()) IS NOT NULL)) AND ("owner" = (SELECT dazzle_user_id()) AND "status" <> 'done'))
  WITH CHECK ((((SELECT dazzle_has_role('member')) OR (SELECT dazzle_has_role('manager'))) AND ((SELECT dazzle_user_id()) IS NOT NULL)) AND ("owner" = (SELECT dazzle_user_id()) AND "status" <> 'done'));
-- scope_delete (delete)
--   Task.delete.1: delete: status = done
DROP POLICY IF EXISTS "scope_delete" ON "task";
CREATE POLICY "scope_delete" ON "task" FOR DELETE TO "dazzle_app"
  USING (((SELECT dazzle_has_role('manager')) AND ((SELECT dazzle_user_id()) IS NOT NULL) AND NOT (SELECT dazzle_has_role('guest'))) AND "status" = 'done');`);
  });

  test("a default-deny entity gets RLS and no policy", () => {
    expect(emitRls([SECRET])).toBe(`-- Row-level security
-- Secret (default-deny: no permit rule, so no policy)
ALTER TABLE "secret" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "secret" FORCE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON "secret" TO "dazzle_app";
-- scope_select (read, list): no policy, denied
DROP POLICY IF EXISTS "scope_select" ON "secret";
-- scope_insert (create): no policy, denied
DROP POLICY IF EXISTS "scope_insert" ON "secret";
-- scope_update (update): no policy, denied
DROP POLICY IF EXISTS "scope_update" ON "secret";
-- scope_delete (delete): no policy, denied
DROP POLICY IF EXISTS "scope_delete" ON "secret";`);
  });
});

// ---------------------------------------------------------------------------------------------
// Applied to PostgreSQL.

const U1 = "00000000-0000-4000-8000-0000000000a1"; // org A
const U2 = "00000000-0000-4000-8000-0000000000a2"; // org A
const U3 = "00000000-0000-4000-8000-0000000000b3"; // org B
const ORG_A = "00000000-0000-4000-8000-00000000000a";
const ORG_B = "00000000-0000-4000-8000-00000000000b";
const P_A = "00000000-0000-4000-8000-0000000001a1"; // org A, private
const P_A_PUB = "00000000-0000-4000-8000-0000000001a2"; // org A, public
const P_B = "00000000-0000-4000-8000-0000000001b1"; // org B, private
const P_B_PUB = "00000000-0000-4000-8000-0000000001b2"; // org B, public
const T1 = "00000000-0000-4000-8000-0000000002a1"; // owner u1, hostile label
const T2 = "00000000-0000-4000-8000-0000000002a2"; // owner u2, hostile label
const T3 = "00000000-0000-4000-8000-0000000002a3"; // no owner, plain label, done
const T4 = "00000000-0000-4000-8000-0000000002a4"; // owner u2, plain label

interface Caller {
  readonly userId?: string;
  readonly roles?: readonly string[];
  readonly org?: string;
}

describe("the emitted migration on PostgreSQL", () => {
  const dbName = `dazzle_emit_sql_${randomBytes(6).toString("hex")}`;
  let admin: Client;
  let db: Client;

  function dbUrl(): string {
    const url = new URL(adminUrl());
    url.pathname = `/${dbName}`;
    return url.toString();
  }

  /** One transaction as dazzle_app with the caller's settings; rolled back unless `commit`. */
  async function as<T>(caller: Caller | null, fn: (c: Client) => Promise<T>, commit = false): Promise<T> {
    await db.query("BEGIN");
    try {
      await db.query("SET LOCAL ROLE dazzle_app");
      if (caller !== null) {
        await db.query(
          "SELECT set_config('dazzle.user_id', $1, true), set_config('dazzle.roles', $2, true), set_config('dazzle.user_org', $3, true)",
          [caller.userId ?? "", (caller.roles ?? []).join(","), caller.org ?? ""],
        );
      }
      const result = await fn(db);
      await db.query(commit ? "COMMIT" : "ROLLBACK");
      return result;
    } catch (err) {
      await db.query("ROLLBACK");
      throw err;
    }
  }

  async function visible(caller: Caller | null, table: string): Promise<string[]> {
    return as(caller, async (c) => (await c.query(`SELECT id FROM "${table}" ORDER BY id`)).rows.map((r) => r.id));
  }

  async function sqlState(caller: Caller, sql: string, params: unknown[] = []): Promise<string> {
    return as(caller, async (c) => {
      try {
        await c.query(sql, params);
        return "ok";
      } catch (err) {
        return (err as { code: string }).code;
      }
    });
  }

  async function rowCount(caller: Caller, sql: string, params: unknown[] = []): Promise<number | null> {
    return as(caller, async (c) => (await c.query(sql, params)).rowCount);
  }

  beforeAll(async () => {
    admin = new Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${dbName}"`);
    db = new Client({ connectionString: dbUrl() });
    await db.connect();
    const [file] = emitMigrations(APP, CTX);
    // What graphile-migrate runs: the body after the header block, in one transaction.
    const body = file!.contents.slice(file!.contents.indexOf("\n\n") + 2);
    await db.query(`BEGIN;\n${body}\nCOMMIT;`);
    // Seed as the superuser (RLS does not apply to it).
    await db.query(
      `INSERT INTO "user" (id, email, name, org) VALUES
         ($1, 'u1@example.com', 'U1', $4), ($2, 'u2@example.com', 'U2', $4), ($3, 'u3@example.com', 'U3', $5)`,
      [U1, U2, U3, ORG_A, ORG_B],
    );
    await db.query(
      `INSERT INTO project (id, name, org, visibility) VALUES
         ($1, 'A', $5, 'private'), ($2, 'A public', $5, 'public'), ($3, 'B', $6, DEFAULT), ($4, 'B public', $6, 'public')`,
      [P_A, P_A_PUB, P_B, P_B_PUB, ORG_A, ORG_B],
    );
    await db.query(
      `INSERT INTO task (id, title, project, owner, label, status) VALUES
         ($1, 't1', $5, $7, DEFAULT, 'open'), ($2, 't2', $5, $8, DEFAULT, 'open'),
         ($3, 't3', $6, NULL, 'plain', 'done'), ($4, 't4', $6, $8, 'plain', 'open')`,
      [T1, T2, T3, T4, P_A, P_B, U1, U2],
    );
  }, 60_000);

  afterAll(async () => {
    await db?.end();
    await admin?.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin?.end();
  });

  test("defaults and constraints", async () => {
    const { rows } = await db.query(`SELECT label, "order", done, due = CURRENT_DATE AS today FROM task WHERE id = $1`, [T1]);
    expect(rows).toEqual([{ label: HOSTILE, order: -3, done: false, today: true }]);
    const violation = async (sql: string) => {
      try {
        await db.query(sql);
        return "ok";
      } catch (err) {
        return (err as { constraint?: string }).constraint;
      }
    };
    expect(await violation(`UPDATE task SET status = 'nope' WHERE id = '${T1}'`)).toBe("ck_task_status_enum");
    expect(await violation(`UPDATE task SET label = repeat('x', 51) WHERE id = '${T1}'`)).toBe("ck_task_label_len");
    expect(await violation(`UPDATE task SET project = gen_random_uuid() WHERE id = '${T1}'`)).toBe("fk_task_project");
    expect(await violation(`DELETE FROM project WHERE id = '${P_A}'`)).toBe("fk_task_project");
    expect(await violation(`INSERT INTO "user" (email, name, org) VALUES ('u1@example.com', 'x', '${ORG_A}')`)).toBe(
      "uq_user_email",
    );
    const indexes = await db.query(
      `SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE 'ix_%' ORDER BY indexname`,
    );
    expect(indexes.rows.map((r) => r.indexname)).toEqual([
      "ix__dazzle_events_entity_entity_id",
      "ix__dazzle_events_topic_seq",
      "ix_project_org",
      "ix_task_owner",
      "ix_task_project",
      "ix_user_org",
    ]);
  });

  test("no context sees nothing; an unset user id fails `authenticated`", async () => {
    for (const table of ["project", "secret", "task", "user"]) {
      expect(await visible(null, table)).toEqual([]);
      expect(await visible({ userId: "", roles: [], org: "" }, table)).toEqual([]); // pooled leftovers
    }
    for (const table of ["secret", "task", "user"]) {
      expect(await visible({ roles: ["admin", "manager"] }, table)).toEqual([]);
    }
  });

  test("Project: select admits read ∪ list, per role", async () => {
    expect(await visible({ userId: U1, roles: ["member"], org: ORG_A }, "project")).toEqual([P_A, P_A_PUB, P_B_PUB]);
    expect(await visible({ userId: U3, roles: ["member"], org: ORG_B }, "project")).toEqual([P_A_PUB, P_B, P_B_PUB]);
    expect(await visible({ userId: U1, roles: ["admin"], org: ORG_A }, "project")).toEqual([P_A, P_A_PUB, P_B, P_B_PUB]);
    expect(await visible({ userId: U1, roles: [], org: ORG_A }, "project")).toEqual([]);
    expect(await visible({ userId: U1, roles: ["member"] }, "project")).toEqual([P_A_PUB, P_B_PUB]); // org unset
  });

  test("Project: create scoped to the admin's org, no delete policy", async () => {
    const admin = { userId: U1, roles: ["admin"], org: ORG_A };
    const insert = "INSERT INTO project (name, org) VALUES ('new', $1)";
    expect(await sqlState(admin, insert, [ORG_A])).toBe("ok");
    expect(await sqlState(admin, insert, [ORG_B])).toBe("42501");
    expect(await sqlState({ ...admin, roles: ["member"] }, insert, [ORG_A])).toBe("42501");
    expect(await rowCount(admin, "UPDATE project SET name = 'x'")).toBe(4);
    expect(await rowCount(admin, "DELETE FROM project WHERE id = $1", [P_A_PUB])).toBe(0);
  });

  test("Task: select per role, with the hostile literal", async () => {
    expect(await visible({ userId: U1, roles: ["member"] }, "task")).toEqual([T1, T2]);
    expect(await visible({ userId: U2, roles: [] }, "task")).toEqual([T1, T2, T4]);
    expect(await visible({ userId: U3, roles: ["manager"] }, "task")).toEqual([T1, T2, T3, T4]);
  });

  test("Task: insert, update and delete policies", async () => {
    const member = { userId: U1, roles: ["member"] };
    const insert = "INSERT INTO task (title, project, owner) VALUES ('n', $1, $2)";
    expect(await sqlState(member, insert, [P_A, U1])).toBe("ok");
    expect(await sqlState(member, insert, [P_A, U2])).toBe("42501");
    expect(await rowCount(member, "UPDATE task SET title = 'x'")).toBe(1); // only t1
    expect(await sqlState(member, "UPDATE task SET status = 'done' WHERE id = $1", [T1])).toBe("42501");
    expect(await rowCount({ userId: U1, roles: [] }, "UPDATE task SET title = 'x'")).toBe(0);
    expect(await rowCount(member, "DELETE FROM task")).toBe(0);
    expect(await rowCount({ userId: U1, roles: ["manager"] }, "DELETE FROM task")).toBe(1); // only t3 (done)
    expect(await rowCount({ userId: U1, roles: ["manager", "guest"] }, "DELETE FROM task")).toBe(0); // forbid
  });

  test("dazzle_principal reads the caller's context columns past RLS; framework tables are not granted", async () => {
    // No argument: only the row of dazzle.user_id, only the columns the context needs.
    const principal = await as({ userId: U1, roles: [] }, async (c) => (await c.query("SELECT * FROM dazzle_principal()")).rows);
    expect(principal).toEqual([{ org: ORG_A }]);
    expect(await as(null, async (c) => (await c.query("SELECT * FROM dazzle_principal()")).rows)).toEqual([]);
    expect(await sqlState({ userId: U1, roles: ["manager"] }, "SELECT * FROM _dazzle_events")).toBe("42501");
    const readers = await as({ userId: U1, roles: ["a", "b"], org: ORG_B }, async (c) =>
      (await c.query("SELECT dazzle_user_id() AS id, dazzle_has_role('b') AS b, dazzle_has_role('c') AS c, dazzle_user_attr_org() AS org")).rows,
    );
    expect(readers).toEqual([{ id: U1, b: true, c: false, org: ORG_B }]);
  });

  test("events: rows, payload, NOTIFY with the event id, auto_update", async () => {
    const listener = new Client({ connectionString: dbUrl() });
    await listener.connect();
    const notes: Notification[] = [];
    listener.on("notification", (n) => notes.push(n));
    await listener.query("LISTEN dazzle_events");
    const nextNote = async (): Promise<Notification> => {
      for (let i = 0; i < 100 && notes.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      const note = notes.shift();
      if (note === undefined) throw new Error("no notification");
      return note;
    };
    try {
      const me = { userId: U1, roles: ["member"] };
      const id = "00000000-0000-4000-8000-0000000003a1";
      await as(me, (c) =>
        c.query(
          "INSERT INTO task (id, title, project, owner, touched_on, updated_at) VALUES ($1, 'e', $2, $3, '2000-01-01', '2000-01-01T00:00:00Z')",
          [id, P_A, U1],
        ), true);
      const created = await nextNote();
      expect(created.channel).toBe("dazzle_events");
      const event = await db.query(
        `SELECT id, topic, event_type, version, entity, entity_id, tenant_id, actor_id,
                payload->'new'->>'title' AS title, payload->'old' AS old, payload->'changed' AS changed
           FROM _dazzle_events WHERE id = $1`,
        [created.payload],
      );
      expect(event.rows).toEqual([{
        id: created.payload, topic: "app.Task", event_type: "Task.created", version: "1.0", entity: "Task",
        entity_id: id, tenant_id: null, actor_id: U1, title: "e", old: null, changed: [],
      }]);

      await as(me, (c) => c.query("UPDATE task SET title = 'f' WHERE id = $1", [id]), true);
      const updated = await db.query(
        `SELECT event_type, payload->'changed' AS changed, payload->'old'->>'title' AS old_title,
                payload->'new'->>'title' AS new_title
           FROM _dazzle_events WHERE id = $1`,
        [(await nextNote()).payload],
      );
      expect(updated.rows).toEqual([
        { event_type: "Task.updated", changed: ["title", "touched_on", "updated_at"], old_title: "e", new_title: "f" },
      ]);
      const touched = await db.query(
        "SELECT touched_on = CURRENT_DATE AS today, updated_at > '2001-01-01' AS recent FROM task WHERE id = $1",
        [id],
      );
      expect(touched.rows).toEqual([{ today: true, recent: true }]);

      await db.query("DELETE FROM task WHERE id = $1", [id]);
      const deleted = await db.query(
        `SELECT event_type, actor_id, payload->'new' AS new, payload->'old'->>'title' AS old_title, payload->'changed' AS changed
           FROM _dazzle_events WHERE id = $1`,
        [(await nextNote()).payload],
      );
      expect(deleted.rows).toEqual([{ event_type: "Task.deleted", actor_id: null, new: null, old_title: "f", changed: [] }]);

      const all = await db.query("SELECT entity, event_type FROM _dazzle_events ORDER BY seq");
      expect(all.rows.map((r) => `${r.entity} ${r.event_type}`)).toEqual([
        ...Array(3).fill("User User.created"),
        ...Array(4).fill("Project Project.created"),
        ...Array(4).fill("Task Task.created"),
        "Task Task.created",
        "Task Task.updated",
        "Task Task.deleted",
      ]);
    } finally {
      await listener.end();
    }
  });
});

describe("a minimal app without a principal entity, migrated twice concurrently", () => {
  const NOTE = entity("Note", "note", [field("body", { kind: "text" }, { required: true })], {
    exposed: true,
    permit: ops({ list: { kind: "anyone" }, read: { kind: "anyone" } }),
    forbid: ops({}),
    scope: null,
  });
  const MINIMAL: AppIR = {
    ...APP,
    entities: [NOTE],
    roles: [],
    principal: { entity: null, table: "app_user", attributes: [] },
  };
  const names = [0, 1].map(() => `dazzle_emit_sql_${randomBytes(6).toString("hex")}`);
  let admin: Client;

  beforeAll(async () => {
    admin = new Client({ connectionString: adminUrl() });
    await admin.connect();
  });

  afterAll(async () => {
    for (const name of names) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });

  test("app_user, no dazzle_principal (nothing to look up) and an `anyone` policy", async () => {
    const [file] = emitMigrations(MINIMAL, CTX);
    const body = file!.contents.slice(file!.contents.indexOf("\n\n") + 2);
    const results = await Promise.all(
      names.map(async (name) => {
        await admin.query(`CREATE DATABASE "${name}"`);
        const url = new URL(adminUrl());
        url.pathname = `/${name}`;
        const c = new Client({ connectionString: url.toString() });
        await c.connect();
        try {
          await c.query(`BEGIN;\n${body}\nCOMMIT;`);
          await c.query("INSERT INTO app_user (email) VALUES ('a@example.com')");
          await c.query("INSERT INTO note (body) VALUES ('hello')");
          await c.query("BEGIN; SET LOCAL ROLE dazzle_app");
          const notes = (await c.query("SELECT body FROM note")).rows;
          const principal = (await c.query("SELECT proname FROM pg_proc WHERE proname = 'dazzle_principal'")).rows;
          const direct = await c.query("SELECT * FROM app_user").then(() => "ok", (e: { code: string }) => e.code);
          await c.query("ROLLBACK");
          return { notes, principal, direct };
        } finally {
          await c.end();
        }
      }),
    );
    const expected = { notes: [{ body: "hello" }], principal: [], direct: "42501" };
    expect(results).toEqual([expected, expected]);
  });
});
