/**
 * Security tests (issue 5, acceptance 3; DSL.md §6.10–6.11, pitfalls 10, 14, 18, 24, 25):
 *
 *   a. the runtime role `dazzle_app` without context (unset, or '' as a pooled connection is left)
 *      sees no row of any scoped table and raises no cast error;
 *   b. the JWT is the only source of the caller's context: ids/roles smuggled in a query, header or
 *      body change nothing, and injection attempts are bound parameters (exact responses);
 *   c. forged tokens are 401;
 *   d. custom SQL through the runtime role cannot read past RLS nor switch back to a privileged role;
 *   e. only an `anonymous` operation answers without a token (fixtures/security-anonymous);
 *   f. `_dazzle_events` is not readable by `dazzle_app` (its readers return no row data but a
 *      deleted row's last image); definer helpers return only ids; `dazzle_principal()` returns only
 *      the caller's context columns;
 *   g. the request transaction driver: a failing request's pooled connection goes back clean (the
 *      next caller on it sees none of the previous role or settings), also when the role switch
 *      after BEGIN fails; the same for reads whose four statements are pipelined (readAsCaller),
 *      which answer no rows when the context statement fails.
 *
 * Both apps (fixtures/e2e-teams and fixtures/security-anonymous) are generated, installed and booted
 * on fresh databases of their own; rows are seeded with fixed ids as the superuser.
 */
import { createHmac, randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { Client } from "pg";
import {
  childEnv,
  generateApp,
  http,
  installAppDependencies,
  makeTempDir,
  openEventStream,
  removeTempDir,
  run,
  signToken,
  startApp,
  TEST_JWT_SECRET,
  type HttpResponse,
  type StartedApp,
} from "../support/app";
import { adminUrl, createTestDatabase, withClient, type TestDatabase } from "../support/pg";

const FIXTURES = path.resolve(__dirname, "../../../fixtures");
const OTHER_SECRET = "another-secret-of-the-same-length-0123456789";

const U = {
  admin: "a0000000-0000-4000-8000-000000000001",
  m1: "b0000000-0000-4000-8000-000000000001",
  m2: "b0000000-0000-4000-8000-000000000002",
  m3: "b0000000-0000-4000-8000-000000000003",
  guest: "c0000000-0000-4000-8000-000000000001",
} as const;
const USERS = [
  { id: U.admin, email: "admin@example.com", name: "Ada", team: "hq", roles: ["admin"] },
  { id: U.m1, email: "m1@example.com", name: "Mia", team: "core", roles: ["member"] },
  { id: U.m2, email: "m2@example.com", name: "Max", team: "core", roles: ["member"] },
  { id: U.m3, email: "m3@example.com", name: "Olu", team: "other", roles: ["member"] },
  { id: U.guest, email: "guest@example.com", name: "Gus", team: "core", roles: ["guest"] },
];
const P = {
  p1: "e0000000-0000-4000-8000-000000000001", // m1 private
  p2: "e0000000-0000-4000-8000-000000000002", // m1 public
  p3: "e0000000-0000-4000-8000-000000000003", // m2 private
  p4: "e0000000-0000-4000-8000-000000000004", // m2 public
  p5: "e0000000-0000-4000-8000-000000000005", // admin private
} as const;
const T = {
  t1: "f0000000-0000-4000-8000-000000000001", // core, open
  t2: "f0000000-0000-4000-8000-000000000002", // core, done
  t3: "f0000000-0000-4000-8000-000000000003", // other, open
} as const;
/** Tables of fixtures/e2e-teams; every one is scoped. */
const TEAMS_TABLES = ["project", "task", "user"] as const;

const member1 = () => signToken(U.m1, ["member"]);
const admin = () => signToken(U.admin, ["admin"]);

interface Ctx {
  tmp?: string;
  teamsDb?: TestDatabase;
  anonDb?: TestDatabase;
  teams?: StartedApp;
  anon?: StartedApp;
  /** A LOGIN role that is only a NOINHERIT member of dazzle_app (an authenticator, DSL.md §6.11). */
  login: string;
  password: string;
}
const ctx: Ctx = { login: `dz_sec_auth_${randomBytes(5).toString("hex")}`, password: randomBytes(12).toString("hex") };

const teamsApi = (method: string, urlPath: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
  http(ctx.teams!.baseUrl, method, urlPath, options);
const anonApi = (method: string, urlPath: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
  http(ctx.anon!.baseUrl, method, urlPath, options);

function expectError(res: HttpResponse, status: number, type: string): void {
  expect({ status: res.status, type: res.body?.error?.type, keys: Object.keys(res.body ?? {}) }).toEqual({ status, type, keys: ["error"] });
  // Never SQL or a stack trace.
  expect(res.text).not.toMatch(/SELECT|INSERT|syntax error|at .*\.ts:\d+/);
}

const ids = (res: HttpResponse) => (res.body.data as Array<{ id: string }>).map((r) => r.id);

/** The SQLSTATE of a failed statement, or "ok". */
async function sqlState(client: Client, text: string, values: unknown[] = []): Promise<string> {
  await client.query("SAVEPOINT s");
  try {
    await client.query(text, values);
    await client.query("RELEASE SAVEPOINT s");
    return "ok";
  } catch (error) {
    await client.query("ROLLBACK TO SAVEPOINT s");
    return (error as { code?: string }).code ?? String(error);
  }
}

/** Runs `fn` in a transaction (rolled back) as `dazzle_app`, with the given settings set locally first. */
async function asApp<T>(url: string, settings: Record<string, string> | null, fn: (c: Client) => Promise<T>): Promise<T> {
  return withClient(url, async (c) => {
    await c.query("BEGIN");
    try {
      await c.query("SET LOCAL ROLE dazzle_app");
      for (const [name, value] of Object.entries(settings ?? {})) await c.query("SELECT set_config($1, $2, true)", [name, value]);
      return await fn(c);
    } finally {
      await c.query("ROLLBACK");
    }
  });
}

const memberContext = (id: string, team: string) => ({ "dazzle.user_id": id, "dazzle.roles": "member", "dazzle.user_team": team });
const idsOf = async (c: Client, table: string) => (await c.query<{ id: string }>(`SELECT id FROM "${table}" ORDER BY id`)).rows.map((r) => r.id);

beforeAll(async () => {
  ctx.tmp = await makeTempDir("dz-e2e-security-");
  const teamsDir = path.join(ctx.tmp, "teams");
  const anonDir = path.join(ctx.tmp, "anon");
  for (const [spec, dir] of [
    [path.join(FIXTURES, "e2e-teams/app.dz"), teamsDir],
    [path.join(FIXTURES, "security-anonymous/app.dz"), anonDir],
  ] as const) {
    const generated = await generateApp(spec, dir);
    if (generated.exitCode !== 0) throw new Error(`dazzle-gen ${spec} exited ${generated.exitCode}:\n${generated.stderr}`);
    await installAppDependencies(dir);
  }
  ctx.teamsDb = await createTestDatabase("security_teams");
  ctx.anonDb = await createTestDatabase("security_anon");
  [ctx.teams, ctx.anon] = await Promise.all([
    startApp(teamsDir, { DATABASE_URL: ctx.teamsDb.url }),
    startApp(anonDir, { DATABASE_URL: ctx.anonDb.url }),
  ]);

  // Both servers migrated on boot; seed as the superuser (RLS does not apply to it).
  await withClient(ctx.teamsDb.url, async (c) => {
    for (const u of USERS) await c.query('INSERT INTO "user" (id, email, name, team) VALUES ($1, $2, $3, $4)', [u.id, u.email, u.name, u.team]);
    await c.query(
      `INSERT INTO project (id, name, owner, visibility) VALUES
         ($1, 'M1 private', $6, 'private'), ($2, 'M1 public', $6, 'public'), ($3, 'M2 private', $7, 'private'),
         ($4, 'M2 public', $7, 'public'), ($5, 'Admin private', $8, 'private')`,
      [P.p1, P.p2, P.p3, P.p4, P.p5, U.m1, U.m2, U.admin],
    );
    await c.query(
      `INSERT INTO task (id, title, project, team, done) VALUES ($1, 'open core', $4, 'core', false), ($2, 'done core', $5, 'core', true), ($3, 'open other', $6, 'other', false)`,
      [T.t1, T.t2, T.t3, P.p1, P.p2, P.p3],
    );
    // An authenticator: LOGIN, NOINHERIT, no privileges of its own, member of dazzle_app.
    await c.query(`CREATE ROLE "${ctx.login}" LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS PASSWORD '${ctx.password}'`);
    await c.query(`GRANT dazzle_app TO "${ctx.login}"`);
  });
}, 10 * 60_000);

afterAll(async () => {
  await Promise.all([ctx.teams?.stop().catch(() => undefined), ctx.anon?.stop().catch(() => undefined)]);
  await ctx.teamsDb?.drop();
  await ctx.anonDb?.drop();
  await withClient(adminUrl(), (c) => c.query(`DROP ROLE IF EXISTS "${ctx.login}"`)).catch(() => undefined);
  await removeTempDir(ctx.tmp);
}, 60_000);

/** The database URL of the teams app, logged in as the authenticator. */
function loginUrl(): string {
  const u = new URL(ctx.teamsDb!.url);
  u.username = ctx.login;
  u.password = ctx.password;
  return u.toString();
}

// ---------------------------------------------------------------------------------------------

describe("a. dazzle_app without context sees nothing (fail closed)", () => {
  test("the tables below are every table dazzle_app may read, each under FORCE ROW LEVEL SECURITY", async () => {
    const rows = await withClient(ctx.teamsDb!.url, async (c) =>
      (
        await c.query(`
          SELECT c.relname AS table, c.relrowsecurity AS rls, c.relforcerowsecurity AS force
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind = 'r' AND has_table_privilege('dazzle_app', c.oid, 'SELECT')
           ORDER BY 1`)
      ).rows,
    );
    expect(rows).toEqual(TEAMS_TABLES.map((table) => ({ table, rls: true, force: true })));
  });

  test.each(TEAMS_TABLES)("no setting at all: zero rows of %s", async (table) => {
    expect(await withClient(ctx.teamsDb!.url, (c) => idsOf(c, table))).not.toEqual([]); // the rows exist
    expect(await asApp(ctx.teamsDb!.url, null, (c) => idsOf(c, table))).toEqual([]);
  });

  test.each(TEAMS_TABLES)("every setting '' (pooled-connection leftovers, pitfall 24): zero rows of %s, no cast error", async (table) => {
    const empty = { "dazzle.user_id": "", "dazzle.roles": "", "dazzle.user_team": "" };
    expect(await asApp(ctx.teamsDb!.url, empty, (c) => idsOf(c, table))).toEqual([]);
  });

  test("the readers turn '' into NULL (and dazzle_has_role into false)", async () => {
    const empty = { "dazzle.user_id": "", "dazzle.roles": "", "dazzle.user_team": "" };
    const row = await asApp(ctx.teamsDb!.url, empty, async (c) =>
      (await c.query("SELECT dazzle_user_id() AS uid, dazzle_has_role('admin') AS admin, dazzle_user_attr_team() AS team")).rows[0],
    );
    expect(row).toEqual({ uid: null, admin: false, team: null });
  });

  test("a transaction-local context leaves '' behind after COMMIT; the next transaction on that connection sees nothing", async () => {
    await withClient(ctx.teamsDb!.url, async (c) => {
      await c.query("BEGIN");
      await c.query("SET LOCAL ROLE dazzle_app");
      await c.query("SELECT set_config('dazzle.user_id', $1, true), set_config('dazzle.roles', 'admin', true)", [U.admin]);
      expect((await idsOf(c, "project")).length).toBe(5);
      await c.query("COMMIT");
      const leftover = await c.query("SELECT current_setting('dazzle.user_id', true) AS uid, current_setting('dazzle.roles', true) AS roles");
      expect(leftover.rows[0]).toEqual({ uid: "", roles: "" });
      await c.query("BEGIN");
      await c.query("SET LOCAL ROLE dazzle_app");
      for (const table of TEAMS_TABLES) expect(await idsOf(c, table)).toEqual([]);
      await c.query("ROLLBACK");
    });
  });

  test("without context nothing can be written either", async () => {
    const states = await asApp(ctx.teamsDb!.url, null, async (c) => ({
      insert: await sqlState(c, "INSERT INTO project (name, owner) VALUES ('x', $1)", [U.m1]),
      update: (await c.query("UPDATE project SET name = 'x'")).rowCount,
      delete: (await c.query("DELETE FROM task")).rowCount,
    }));
    expect(states).toEqual({ insert: "42501", update: 0, delete: 0 });
  });
});

// ---------------------------------------------------------------------------------------------

describe("b. the JWT is the only source of the caller's context", () => {
  let baseline: HttpResponse;
  let baselineTasks: HttpResponse;

  beforeAll(async () => {
    baseline = await teamsApi("GET", "/api/projects", { token: member1() });
    baselineTasks = await teamsApi("GET", "/api/tasks", { token: member1() });
  });

  test("baseline: member m1 lists own + public projects and the open tasks of its team", () => {
    expect({ status: baseline.status, ids: ids(baseline) }).toEqual({ status: 200, ids: [P.p1, P.p2, P.p4] });
    expect({ status: baselineTasks.status, ids: ids(baselineTasks) }).toEqual({ status: 200, ids: [T.t1] });
  });

  test.each([
    ["query parameters", "/api/projects?user_id=" + U.admin + "&roles=admin&role=admin&dazzle.roles=admin&dazzle.user_id=" + U.admin + "&sub=" + U.admin],
    ["filter-like parameters with SQL", "/api/projects?owner=" + encodeURIComponent("' OR 1=1 --") + "&visibility=" + encodeURIComponent("private' OR 'a'='a")],
  ])("%s change nothing", async (_what, url) => {
    const res = await teamsApi("GET", url, { token: member1() });
    expect({ status: res.status, body: res.body }).toStrictEqual({ status: 200, body: baseline.body });
  });

  test("headers change nothing", async () => {
    const res = await teamsApi("GET", "/api/projects", {
      token: member1(),
      headers: {
        "x-user-id": U.admin,
        "x-dazzle-user-id": U.admin,
        "x-roles": "admin",
        "x-dazzle-roles": "admin",
        "x-forwarded-user": U.admin,
        "x-tenant-id": U.admin,
        cookie: `dazzle.roles=admin; dazzle.user_id=${U.admin}`,
      },
    });
    expect({ status: res.status, body: res.body }).toStrictEqual({ status: 200, body: baseline.body });
  });

  test("a token in a cookie is not a credential (bearer header only)", async () => {
    const res = await teamsApi("GET", "/api/projects", { headers: { cookie: `token=${admin()}; authorization=Bearer ${admin()}` } });
    expectError(res, 401, "unauthorized");
  });

  test("extra token claims (team, roles-like keys) change nothing: attributes come from the principal row", async () => {
    const token = signToken(U.m1, ["member"], { extraClaims: { team: "other", user_team: "other", "dazzle.roles": "admin", role: "postgres", tenant_id: U.admin } });
    const projects = await teamsApi("GET", "/api/projects", { token });
    expect({ status: projects.status, body: projects.body }).toStrictEqual({ status: 200, body: baseline.body });
    const tasks = await teamsApi("GET", "/api/tasks", { token });
    expect({ status: tasks.status, body: tasks.body }).toStrictEqual({ status: 200, body: baselineTasks.body });
  });

  test("a body cannot carry context: unknown keys are 422, server-managed keys are ignored", async () => {
    for (const key of ["roles", "user_id", "dazzle.roles", "role"]) {
      const res = await teamsApi("POST", "/api/projects", { token: member1(), body: { name: "smuggle", [key]: key === "roles" ? ["admin"] : "admin" } });
      expectError(res, 422, "validation_error");
    }
    const chosenId = "99999999-9999-4999-8999-999999999999";
    const created = await teamsApi("POST", "/api/projects", { token: member1(), body: { id: chosenId, name: "own id?" } });
    expect(created.status).toBe(201);
    expect(created.body.id).not.toBe(chosenId);
    expect(created.body.owner).toBe(U.m1);
    await withClient(ctx.teamsDb!.url, (c) => c.query("DELETE FROM project WHERE id = $1", [created.body.id]));
  });

  test("a body cannot create or move a row into another user's scope", async () => {
    expectError(await teamsApi("POST", "/api/projects", { token: member1(), body: { name: "for m2", owner: U.m2 } }), 403, "scope_create_denied");
    expectError(await teamsApi("PATCH", `/api/projects/${P.p1}`, { token: member1(), body: { owner: U.m2 } }), 404, "not_found");
    expectError(
      await teamsApi("POST", "/api/tasks", { token: member1(), body: { title: "x", project: P.p1, team: "core' OR '1'='1" } }),
      403,
      "scope_create_denied",
    );
    const owners = await withClient(ctx.teamsDb!.url, async (c) => (await c.query("SELECT owner FROM project WHERE id = $1", [P.p1])).rows);
    expect(owners).toEqual([{ owner: U.m1 }]);
  });

  test("injection in ids and query values: 404 / 422, never a query", async () => {
    for (const id of ["' OR '1'='1", `${P.p3}' OR '1'='1`, "1;DROP TABLE project", `${P.p3}--`]) {
      expectError(await teamsApi("GET", `/api/projects/${encodeURIComponent(id)}`, { token: member1() }), 404, "not_found");
      expectError(await teamsApi("DELETE", `/api/projects/${encodeURIComponent(id)}`, { token: admin() }), 404, "not_found");
    }
    for (const q of ["page=1;DROP TABLE project", "page_size=1 OR 1=1", "page=' OR 1=1--", "page=1e3", "page=-1"]) {
      expectError(await teamsApi("GET", `/api/projects?${q.replace(/ /g, "%20").replace(/'/g, "%27")}`, { token: member1() }), 422, "validation_error");
    }
  });

  test("injection in bodies is stored verbatim (bound parameters) and the table survives", async () => {
    const name = `Robert'); DROP TABLE project; -- \\ "quoted" ünïcödé`;
    const created = await teamsApi("POST", "/api/projects", { token: member1(), body: { name, visibility: "private" } });
    expect({ status: created.status, name: created.body.name, owner: created.body.owner }).toEqual({ status: 201, name, owner: U.m1 });
    const read = await teamsApi("GET", `/api/projects/${created.body.id}`, { token: member1() });
    expect({ status: read.status, body: read.body }).toStrictEqual({ status: 200, body: created.body });
    expectError(await teamsApi("PATCH", `/api/projects/${created.body.id}`, { token: member1(), body: { visibility: "public' OR 'x'='x" } }), 422, "validation_error");
    const rows = await withClient(ctx.teamsDb!.url, async (c) => {
      const r = (await c.query("SELECT name FROM project WHERE id = $1", [created.body.id])).rows;
      await c.query("DELETE FROM project WHERE id = $1", [created.body.id]);
      return { r, count: Number((await c.query("SELECT count(*) FROM project")).rows[0].count) };
    });
    expect(rows).toEqual({ r: [{ name }], count: 5 });
  });
});

// ---------------------------------------------------------------------------------------------

describe("c. forged tokens are 401", () => {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = () => Math.floor(Date.now() / 1000);

  const forged: Array<[string, () => string]> = [
    ["signed with another secret", () => signToken(U.admin, ["admin"], { secret: OTHER_SECRET })],
    ["alg none, no signature", () => `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: U.admin, roles: ["admin"], iat: now(), exp: now() + 600 })}.`],
    ["alg none with the real signature of another payload", () => {
      const real = member1().split(".");
      return `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: U.admin, roles: ["admin"] })}.${real[2]}`;
    }],
    ["payload swapped under a valid signature", () => {
      const [h, , s] = member1().split(".");
      return `${h}.${b64({ sub: U.m1, roles: ["admin"], iat: now(), exp: now() + 600 })}.${s}`;
    }],
    ["HS512 with the right secret (algorithm pinned to HS256)", () => {
      const head = `${b64({ alg: "HS512", typ: "JWT" })}.${b64({ sub: U.admin, roles: ["admin"], iat: now(), exp: now() + 600 })}`;
      return `${head}.${createHmac("sha512", TEST_JWT_SECRET).update(head).digest("base64url")}`;
    }],
    ["expired a minute ago", () => signToken(U.admin, ["admin"], { expiresInSeconds: -60 })],
    ["roles with a comma (would inject a second role into dazzle.roles)", () => signToken(U.m1, ["member,admin"])],
    ["a role with SQL in it", () => signToken(U.m1, ["admin') OR TRUE --"])],
    ["roles as a string", () => signToken(U.m1, [], { extraClaims: { roles: "admin" } })],
    ["sub not a uuid", () => signToken("' OR 1=1 --", ["admin"])],
    ["no sub", () => signToken(U.m1, ["admin"], { extraClaims: { sub: undefined } })],
    ["not a JWT", () => "not-a-jwt"],
  ];

  test.each(forged)("%s", async (_what, make) => {
    expectError(await teamsApi("GET", "/api/projects", { token: make() }), 401, "unauthorized");
    expectError(await teamsApi("GET", `/api/projects/${P.p5}`, { token: make() }), 401, "unauthorized");
  });

  test("a malformed Authorization header is 401", async () => {
    for (const value of ["Bearer", `Basic ${Buffer.from("admin:admin").toString("base64")}`, `Bearer ${admin()} extra`, `Token ${admin()}`]) {
      expectError(await teamsApi("GET", "/api/projects", { headers: { authorization: value } }), 401, "unauthorized");
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe("d. custom SQL through the runtime role cannot read past RLS", () => {
  /** A session logged in as the authenticator, switched to dazzle_app with m1's context. */
  async function asLogin<T>(fn: (c: Client) => Promise<T>, settings: Record<string, string> | null = memberContext(U.m1, "core")): Promise<T> {
    return withClient(loginUrl(), async (c) => {
      await c.query("BEGIN");
      try {
        await c.query("SET LOCAL ROLE dazzle_app");
        for (const [name, value] of Object.entries(settings ?? {})) await c.query("SELECT set_config($1, $2, true)", [name, value]);
        return await fn(c);
      } finally {
        await c.query("ROLLBACK");
      }
    });
  }

  test("SELECT * FROM each table returns exactly the member's visible rows", async () => {
    const seen = await asLogin(async (c) => ({
      project: (await c.query("SELECT * FROM project ORDER BY id")).rows.map((r) => r.id),
      task: await idsOf(c, "task"),
      user: await idsOf(c, "user"),
      count: (await c.query("SELECT count(*)::int AS n FROM project WHERE true OR owner <> $1", [U.m1])).rows[0].n,
    }));
    // SELECT admits the union of read and list: own + public projects; core tasks; own row + own team.
    expect(seen).toEqual({ project: [P.p1, P.p2, P.p4], task: [T.t1, T.t2], user: [U.m1, U.m2, U.guest], count: 3 });
  });

  test("writes without WHERE touch only the rows the policies allow", async () => {
    const result = await asLogin(async (c) => ({
      update: (await c.query("UPDATE project SET name = name")).rowCount, // update scope: own projects only
      delete: (await c.query("DELETE FROM project")).rowCount, // no delete rule for members
      insertForeign: await sqlState(c, "INSERT INTO project (name, owner) VALUES ('x', $1)", [U.m2]),
      moveOut: await sqlState(c, "UPDATE project SET owner = $1 WHERE id = $2", [U.m2, P.p1]),
      insertUser: await sqlState(c, `INSERT INTO "user" (email, name, team) VALUES ('x@y.z', 'x', 'core')`),
    }));
    expect(result).toEqual({ update: 2, delete: 0, insertForeign: "42501", moveOut: "42501", insertUser: "42501" });
  });

  test("the role cannot be switched back to a privileged one, nor RLS turned off", async () => {
    const result = await asLogin(async (c) => {
      const owner = (await c.query("SELECT pg_get_userbyid(relowner) AS o FROM pg_class WHERE relname = 'project'")).rows[0].o as string;
      return {
        owner: await sqlState(c, `SET ROLE "${owner}"`),
        definer: await sqlState(c, "SET ROLE dazzle_definer"),
        setConfigRole: await sqlState(c, `SELECT set_config('role', '${owner}', true)`),
        sessionAuth: await sqlState(c, `SET SESSION AUTHORIZATION "${owner}"`),
        disable: await sqlState(c, "ALTER TABLE project DISABLE ROW LEVEL SECURITY"),
        noForce: await sqlState(c, "ALTER TABLE project NO FORCE ROW LEVEL SECURITY"),
        dropPolicy: await sqlState(c, 'DROP POLICY "scope_select" ON project'),
        rowSecurityOff: await sqlState(c, "SET LOCAL row_security = off; SELECT * FROM project"),
        // RESET ROLE lands on the authenticator, which has no privileges of its own.
        reset: await sqlState(c, "RESET ROLE; SELECT * FROM project"),
      };
    });
    expect(result).toEqual({
      owner: "42501",
      definer: "42501",
      setConfigRole: "42501",
      sessionAuth: "42501",
      disable: "42501",
      noForce: "42501",
      dropPolicy: "42501",
      rowSecurityOff: "42501",
      reset: "42501",
    });
  });

  test("with no context, custom SQL through the authenticator sees nothing", async () => {
    const seen = await asLogin(async (c) => ({ project: await idsOf(c, "project"), task: await idsOf(c, "task"), user: await idsOf(c, "user") }), null);
    expect(seen).toEqual({ project: [], task: [], user: [] });
  });

  // With the authenticator DSL.md §6.11 recommends (LOGIN, NOINHERIT, member of dazzle_app), the
  // context switches the role first and loads the principal attributes in a second statement as
  // dazzle_app, and the events hub reads through definer functions as dazzle_app: requests and the
  // event stream work although the login role has no privileges of its own.
  test("the generated server runs as the authenticator in production and serves the same rows and events (pitfall 25, positive side)", async () => {
    const app = await startApp(path.join(ctx.tmp!, "teams"), { DATABASE_URL: loginUrl(), NODE_ENV: "production" });
    const stream = await openEventStream(app.baseUrl, "/api/events", { token: member1() });
    try {
      const res = await http(app.baseUrl, "GET", "/api/projects", { token: member1() });
      expect({ status: res.status, ids: res.status === 200 ? ids(res) : res.body }).toEqual({ status: 200, ids: [P.p1, P.p2, P.p4] });
      expectError(await http(app.baseUrl, "GET", "/api/projects"), 401, "unauthorized");
      expect(stream.status).toBe(200);
      await new Promise((r) => setTimeout(r, 200));
      const renamed = await http(app.baseUrl, "PATCH", `/api/projects/${P.p1}`, { token: member1(), body: { name: "M1 private" } });
      expect(renamed.status).toBe(200);
      const event = await stream.waitFor((e) => e.event === "Project.updated" && JSON.parse(e.data).id === P.p1);
      // The id is the stream's position: this (latest) seq, then any lower seqs not seen yet (runtime/event-position.ts).
      expect(JSON.parse(event.data)).toStrictEqual({ seq: event.id?.split(":")[0], type: "Project.updated", entity: "Project", id: P.p1 });
    } finally {
      stream.close();
      await app.stop();
    }
  }, 120_000);

  test("the generated server refuses a superuser login in production (pitfall 25)", async () => {
    await expect(startApp(path.join(ctx.tmp!, "teams"), { DATABASE_URL: ctx.teamsDb!.url, NODE_ENV: "production" })).rejects.toThrow(
      /superuser, has BYPASSRLS or owns a table/,
    );
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------

describe("e. anonymous only where the spec says so (fixtures/security-anonymous)", () => {
  const B = { core: "0b000000-0000-4000-8000-000000000001", other: "0b000000-0000-4000-8000-000000000002" };
  const N = {
    n1: "0c000000-0000-4000-8000-000000000001", // published, core board
    n2: "0c000000-0000-4000-8000-000000000002", // draft, core board
    n3: "0c000000-0000-4000-8000-000000000003", // published, other board
  };
  const A = { admin: "0a000000-0000-4000-8000-000000000001", member: "0a000000-0000-4000-8000-000000000002" };

  beforeAll(async () => {
    await withClient(ctx.anonDb!.url, async (c) => {
      await c.query(`INSERT INTO "user" (id, email, team) VALUES ($1, 'a@x.org', 'core'), ($2, 'm@x.org', 'core')`, [A.admin, A.member]);
      await c.query(`INSERT INTO board (id, name, team) VALUES ($1, 'Core', 'core'), ($2, 'Other', 'other')`, [B.core, B.other]);
      await c.query(`INSERT INTO notice (id, title, published, board) VALUES ($1, 'n1', true, $4), ($2, 'n2', false, $4), ($3, 'n3', true, $5)`, [
        N.n1, N.n2, N.n3, B.core, B.other,
      ]);
    });
  });

  test("GET /api/notices without a token: 200, exactly the published notices", async () => {
    const res = await anonApi("GET", "/api/notices");
    expect({ status: res.status, body: res.body }).toStrictEqual({
      status: 200,
      body: {
        data: [
          { id: N.n1, title: "n1", published: true, board: B.core },
          { id: N.n3, title: "n3", published: true, board: B.other },
        ],
        page: 1,
        page_size: 20,
      },
    });
  });

  test("every other operation without a token is 401", async () => {
    const cases: Array<[string, string, unknown?]> = [
      ["GET", `/api/notices/${N.n1}`],
      ["POST", "/api/notices", { title: "x", board: B.core, published: true }],
      ["PATCH", `/api/notices/${N.n1}`, { title: "x" }],
      ["DELETE", `/api/notices/${N.n1}`],
      ["GET", "/api/boards"],
      ["GET", `/api/boards/${B.core}`],
      ["GET", `/api/users/${A.member}`],
    ];
    for (const [method, url, body] of cases) {
      const res = await anonApi(method, url, { body });
      expect({ method, url, status: res.status, type: res.body?.error?.type }).toEqual({ method, url, status: 401, type: "unauthorized" });
    }
    const rows = await withClient(ctx.anonDb!.url, async (c) => (await c.query("SELECT id, title FROM notice ORDER BY id")).rows);
    expect(rows).toEqual([{ id: N.n1, title: "n1" }, { id: N.n2, title: "n2" }, { id: N.n3, title: "n3" }]);
  });

  test("a bad token on the anonymous operation is 401, not downgraded to anonymous", async () => {
    expectError(await anonApi("GET", "/api/notices", { token: signToken(A.member, ["member"], { secret: OTHER_SECRET }) }), 401, "unauthorized");
    expectError(await anonApi("GET", "/api/notices", { token: "garbage" }), 401, "unauthorized");
  });

  test("with a token: list is the same, read follows the FK path, writes need admin", async () => {
    const member = signToken(A.member, ["member"]);
    const list = await anonApi("GET", "/api/notices", { token: member });
    expect(ids(list)).toEqual([N.n1, N.n3]);
    expect((await anonApi("GET", `/api/notices/${N.n2}`, { token: member })).status).toBe(200);
    expectError(await anonApi("GET", `/api/notices/${N.n3}`, { token: member }), 404, "not_found");
    expectError(await anonApi("POST", "/api/notices", { token: member, body: { title: "x", board: B.core } }), 403, "forbidden");
    const created = await anonApi("POST", "/api/notices", { token: signToken(A.admin, ["admin"]), body: { title: "new", board: B.core } });
    expect({ status: created.status, published: created.body.published }).toEqual({ status: 201, published: false });
    await withClient(ctx.anonDb!.url, (c) => c.query("DELETE FROM notice WHERE id = $1", [created.body.id]));
  });

  test("RLS agrees: dazzle_app without context sees the published notices and nothing else", async () => {
    const seen = await asApp(ctx.anonDb!.url, null, async (c) => ({ notice: await idsOf(c, "notice"), board: await idsOf(c, "board"), user: await idsOf(c, "user") }));
    expect(seen).toEqual({ notice: [N.n1, N.n3], board: [], user: [] });
  });
});

// ---------------------------------------------------------------------------------------------

describe("f. framework table and definer helpers do not leak rows", () => {
  test("dazzle_app cannot read or write _dazzle_events (events exist)", async () => {
    expect(Number((await withClient(ctx.teamsDb!.url, (c) => c.query("SELECT count(*) FROM _dazzle_events"))).rows[0].count)).toBeGreaterThan(0);
    const states = await asApp(ctx.teamsDb!.url, memberContext(U.m1, "core"), async (c) => ({
      select: await sqlState(c, "SELECT * FROM _dazzle_events"),
      count: await sqlState(c, "SELECT count(*) FROM _dazzle_events"),
      insert: await sqlState(c, "INSERT INTO _dazzle_events (topic, event_type, entity, entity_id, payload) VALUES ('t', 'e', 'x', gen_random_uuid(), '{}')"),
      delete: await sqlState(c, "DELETE FROM _dazzle_events"),
      recordEvent: await sqlState(c, "SELECT dazzle_record_event()"),
    }));
    expect(states).toEqual({ select: "42501", count: "42501", insert: "42501", delete: "42501", recordEvent: "0A000" });
  });

  test("every dz_* helper returns only ids, is definer-owned and not executable by PUBLIC", async () => {
    const rows = await withClient(ctx.anonDb!.url, async (c) =>
      (
        await c.query(`
          SELECT p.proname AS name, format_type(p.prorettype, NULL) AS returns, p.proretset AS setof, pg_get_userbyid(p.proowner) AS owner,
                 has_function_privilege('public', p.oid, 'EXECUTE') AS public
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname = 'public' AND p.proname LIKE 'dz\\_%' ORDER BY 1`)
      ).rows,
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect({ ...r, name: undefined }).toEqual({ name: undefined, returns: "uuid", setof: true, owner: "dazzle_definer", public: false });
  });

  test("a dz_path helper called directly yields board ids only, never board rows", async () => {
    const result = await asApp(ctx.anonDb!.url, null, async (c) => {
      const fn = (await c.query("SELECT proname FROM pg_proc WHERE proname LIKE 'dz\\_path\\_%'")).rows[0].proname as string;
      const { rows, fields } = await c.query(`SELECT * FROM ${fn}('other')`);
      return { columns: fields.map((f) => f.dataTypeID), count: rows.length, boards: await idsOf(c, "board") };
    });
    expect(result).toEqual({ columns: [2950], count: 1, boards: [] }); // 2950 = uuid
  });

  // `dazzle_principal` takes no argument and returns only the columns the context needs (here
  // `team`) of the row of dazzle.user_id: it cannot be asked for another principal's row, and it
  // never hands out a principal row's other columns (email, name) past the User policy.
  test("dazzle_principal does not hand out principal rows that RLS hides", async () => {
    const result = await asApp(ctx.teamsDb!.url, memberContext(U.m1, "core"), async (c) => ({
      viaTable: (await c.query('SELECT email FROM "user" WHERE id = $1', [U.m3])).rows,
      viaHelper: await sqlState(c, "SELECT email FROM dazzle_principal($1)", [U.m3]),
      own: (await c.query("SELECT * FROM dazzle_principal()")).rows,
      emailColumn: await sqlState(c, "SELECT email FROM dazzle_principal()"),
    }));
    expect(result).toEqual({ viaTable: [], viaHelper: "42883", own: [{ team: "core" }], emailColumn: "42703" });
  });

  test("the events readers hand dazzle_app no row data, and a deleted row's last image only when asked for its seq", async () => {
    const gone = "e0000000-0000-4000-8000-0000000000ff";
    await withClient(ctx.teamsDb!.url, async (c) => {
      await c.query("INSERT INTO project (id, name, owner, visibility) VALUES ($1, 'Gone', $2, 'private')", [gone, U.m3]);
      await c.query("DELETE FROM project WHERE id = $1", [gone]);
    });
    const result = await asApp(ctx.teamsDb!.url, memberContext(U.m1, "core"), async (c) => {
      const read = await c.query("SELECT * FROM dazzle_read_events(0, 100000)");
      const mine = read.rows.filter((r) => r.entity_id === gone) as Array<{ seq: string; event_type: string }>;
      const images = (project: string, seqs: string[]) =>
        c.query("SELECT seq::text AS seq, old ->> 'name' AS name FROM dazzle_deleted_images($1, $2::bigint[]) ORDER BY seq", [project, seqs]).then((r) => r.rows);
      const byId = await c.query("SELECT * FROM dazzle_read_events_by_id(ARRAY(SELECT id FROM project))");
      return {
        columns: [read.fields, byId.fields].map((fields) => fields.map((f) => f.name)),
        mine: mine.map((r) => r.event_type),
        asked: await images("Project", mine.map((r) => String(r.seq))),
        otherEntity: await images("Task", mine.map((r) => String(r.seq))),
        notAsked: await images("Project", []),
        deletedSeq: String(mine[1]!.seq),
      };
    });
    expect(result).toEqual({
      columns: [0, 1].map(() => ["seq", "event_type", "entity", "entity_id"]),
      mine: ["Project.created", "Project.deleted"],
      asked: [{ seq: result.deletedSeq, name: "Gone" }],
      otherEntity: [],
      notAsked: [],
      deletedSeq: result.deletedSeq,
    });
  });
});

// ---------------------------------------------------------------------------------------------

/**
 * A script run inside the generated teams app (its own runtime modules, kysely and pg): drives
 * `withCaller` on a pool whose idle connection is reused (pg's pool is LIFO, and every step runs
 * after the previous one finished), and reports what each step saw, with the backend pid so the
 * test can check the steps really shared one connection.
 */
const DRIVER_SCRIPT = `
import { sql } from "kysely";
import { ANONYMOUS } from "./src/generated/runtime/auth";
import { connect } from "./src/generated/runtime/database";
import { readAsCaller, withCaller } from "./src/generated/runtime/transaction";

const STATE = sql<Record<string, unknown>>\`select pg_backend_pid() as pid, current_user as role,
  current_setting('dazzle.user_id', true) as user_id, current_setting('dazzle.roles', true) as roles,
  current_setting('dazzle.user_team', true) as team\`;
const member = { userId: process.env.MEMBER_ID!, roles: ["member"] };
const code = (err: unknown) => (err as { code?: string }).code ?? String(err);
const projects = async (trx: Parameters<Parameters<typeof withCaller>[2]>[0]) =>
  (await sql<{ id: string }>\`select id from project order by id\`.execute(trx)).rows.map((r) => r.id);

async function main(): Promise<void> {
  const out: Record<string, unknown> = {};
  const app = connect(process.env.DATABASE_URL!);
  // 1. A request that fails after its context is set: rolled back, its error passed on.
  let inside: unknown = null;
  out.failing = await withCaller(app, member, async (trx) => {
    inside = (await STATE.execute(trx)).rows[0];
    await sql\`select 1 / 0\`.execute(trx);
  }).then(() => "resolved", code);
  out.inside = inside;
  // 2. The next caller (anonymous) on the same connection, 3. the pool outside any request,
  // 4. the member again: the context is set afresh.
  out.anonymous = await withCaller(app, ANONYMOUS, async (trx) => ({ ...(await STATE.execute(trx)).rows[0], projects: await projects(trx) }));
  out.pool = (await app.pool.query(STATE.compile(app.db).sql)).rows[0];
  out.again = await withCaller(app, member, async (trx) => ({ ...(await STATE.execute(trx)).rows[0], projects: await projects(trx) }));
  // 6. readAsCaller (the four statements pipelined): a failing read passes its error on and the
  // connection comes back clean; a read as the member's caller role runs as it; a caller role that
  // does not exist fails the context statement, so the read's rows are never answered.
  const read = (caller: typeof member, query: { sql: string; parameters: readonly unknown[] }, role = "") =>
    readAsCaller<Record<string, unknown>>(app, caller, query as never, role);
  out.readFailing = await read(member, sql\`select 1 / 0\`.compile(app.db)).then(() => "resolved", code);
  out.readPool = (await app.pool.query(STATE.compile(app.db).sql)).rows[0];
  out.readAs = (await read(member, STATE.compile(app.db), "dazzle_as_member"))[0];
  out.readUnknownRole = await read(member, STATE.compile(app.db), "dazzle_as_nobody").then(() => "resolved", code);
  out.readAfter = (await read(ANONYMOUS, STATE.compile(app.db)))[0];
  out.readPids = app.pool.totalCount;
  await app.close();
  // 5. A login that may not switch to dazzle_app: BEGIN succeeds, the role switch fails; the
  // connection must come back out of the aborted transaction.
  const denied = connect(process.env.DENIED_URL!);
  out.deniedBegin = await withCaller(denied, member, async () => "ran").then((r) => r, code);
  out.deniedPool = (await denied.pool.query(STATE.compile(denied.db).sql)).rows[0];
  out.deniedPids = denied.pool.totalCount;
  out.deniedRead = await readAsCaller(denied, member, STATE.compile(denied.db) as never).then(() => "resolved", code);
  out.deniedReadPool = (await denied.pool.query(STATE.compile(denied.db).sql)).rows[0];
  await denied.close();
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
`;

describe("g. the request transaction driver (runtime/transaction.ts) leaves pooled connections clean", () => {
  const denied = `dz_sec_denied_${randomBytes(5).toString("hex")}`;

  afterAll(async () => {
    await withClient(ctx.teamsDb!.url, (c) => c.query(`DROP ROLE IF EXISTS "${denied}"`)).catch(() => undefined);
  });

  // BEGIN + role switch go out as one message and the settings + principal lookup as one
  // statement (4 round trips a request): a failing request is rolled back and the next caller on
  // the same connection starts from nothing; a role switch that fails after BEGIN is rolled back
  // too (Kysely does not roll back when its begin step throws).
  test("a failing request's connection goes back clean: the next caller on it sees none of the previous role or settings", async () => {
    const teamsDir = path.join(ctx.tmp!, "teams");
    await fs.writeFile(path.join(teamsDir, "driver-check.ts"), DRIVER_SCRIPT);
    await withClient(ctx.teamsDb!.url, (c) => c.query(`CREATE ROLE "${denied}" LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS PASSWORD '${ctx.password}'`));
    const deniedUrl = new URL(ctx.teamsDb!.url);
    deniedUrl.username = denied;
    deniedUrl.password = ctx.password;
    const result = await run(path.join(teamsDir, "node_modules", ".bin", "tsx"), ["driver-check.ts"], {
      cwd: teamsDir,
      env: childEnv({ DATABASE_URL: loginUrl(), DENIED_URL: deniedUrl.toString(), MEMBER_ID: U.m1 }),
      timeoutMs: 120_000,
    });
    expect(result.stderr).toBe("");
    const out = JSON.parse(result.stdout);
    const pid = out.inside.pid;
    expect(out).toEqual({
      failing: "22012",
      inside: { pid, role: "dazzle_app", user_id: U.m1, roles: "member", team: "core" },
      anonymous: { pid, role: "dazzle_app", user_id: "", roles: "", team: "", projects: [] },
      pool: { pid, role: ctx.login, user_id: "", roles: "", team: "" },
      again: { pid, role: "dazzle_app", user_id: U.m1, roles: "member", team: "core", projects: [P.p1, P.p2, P.p4] },
      deniedBegin: "42501",
      deniedPool: { pid: out.deniedPool.pid, role: denied, user_id: null, roles: null, team: null },
      deniedPids: 1,
      readFailing: "22012",
      readPool: { pid, role: ctx.login, user_id: "", roles: "", team: "" },
      readAs: { pid, role: "dazzle_as_member", user_id: U.m1, roles: "member", team: "core" },
      readUnknownRole: "22023",
      readAfter: { pid, role: "dazzle_app", user_id: "", roles: "", team: "" },
      readPids: 1,
      deniedRead: "42501",
      deniedReadPool: { pid: out.deniedPool.pid, role: denied, user_id: null, roles: null, team: null },
    });
    expect(out.deniedPool.pid).not.toBe(pid);
  }, 180_000);
});
