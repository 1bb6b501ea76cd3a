/**
 * Tenancy end to end (DSL.md §7, §6.10–6.11) on a real database:
 *
 * 1. fixtures/e2e-tenancy, generated, installed, booted: over HTTP and connected as `dazzle_app`
 *    with a caller context, no cross-tenant reads, updates, deletes or FK references; the
 *    partition key in a POST/PATCH body is ignored; the tenant comes only from the caller's
 *    principal row (not from token claims, headers or the query); an unset context inserts
 *    nothing and sees nothing; `unique` holds per tenant; the FK-path helper re-applies the fence.
 * 2. the corpus fixtures/tenant_rls (generated with `--principal=Member`), DSL.md §7's last
 *    bullet: connected as `dazzle_app`, no cross-tenant reads, writes or FK references; `worker`
 *    reads its own projects and lists its own plus public ones; INSERT and DELETE on project are
 *    denied. Skipped with a message when ../shared/corpus is absent.
 *
 * 3. a spec written in the test with no principal entity: rules naming the injected key
 *    (`tenant_id = current_user.tenant_id`, `tenant_id.name = …`) and `current_user.tenant_id`
 *    read from the generated app_user; generated, type-checked, booted, exact rows per caller.
 *
 * Rows are seeded with fixed ids as the superuser (RLS does not apply to it).
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { Client } from "pg";
import { generateApp, http, installAppDependencies, makeTempDir, openEventStream, removeTempDir, signToken, startApp, typecheckApp, type HttpResponse, type StartedApp } from "../support/app";
import { CORPUS_DIR, corpusPresent, skipMessage } from "../support/corpus";
import { emittedAndIntrospected } from "../support/db-types";
import { createTestDatabase, withClient, type TestDatabase } from "../support/pg";

const FIXTURE = path.resolve(__dirname, "../../../fixtures/e2e-tenancy/app.dz");
const TENANT_RLS = path.join(CORPUS_DIR, "fixtures/tenant_rls");

const O = { one: "01000000-0000-4000-8000-000000000001", two: "01000000-0000-4000-8000-000000000002" } as const;
const U = {
  a1: "0a000000-0000-4000-8000-000000000001", // org one, manager
  b1: "0b000000-0000-4000-8000-000000000001", // org one, member
  a2: "0a000000-0000-4000-8000-000000000002", // org two, manager
} as const;
const C1 = "0c000000-0000-4000-8000-000000000001";
const P = { p1: "0d000000-0000-4000-8000-000000000001", p2: "0d000000-0000-4000-8000-000000000002" } as const; // p1 in one, p2 in two
const T = { t1: "0e000000-0000-4000-8000-000000000001", t2: "0e000000-0000-4000-8000-000000000002" } as const;

interface Ctx {
  tmp?: string;
  db?: TestDatabase;
  app?: StartedApp;
  rlsDb?: TestDatabase;
  rlsApp?: StartedApp;
}
const ctx: Ctx = {};

const api = (method: string, url: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
  http(ctx.app!.baseUrl, method, url, options);
const manager1 = () => signToken(U.a1, ["manager"]);
const manager2 = () => signToken(U.a2, ["manager"]);
const member1 = () => signToken(U.b1, ["member"]);
const ids = (res: HttpResponse) => (res.body.data as Array<{ id: string }>).map((r) => r.id);
const project = (id: string, tenant: string, code: string, name: string, owner: string, country: string | null = null) => ({
  id,
  tenant_id: tenant,
  code,
  name,
  owner,
  country,
});

/** The SQLSTATE of a statement (inside a savepoint), or "ok". */
async function sqlState(c: Client, text: string, values: unknown[] = []): Promise<string> {
  await c.query("SAVEPOINT s");
  try {
    await c.query(text, values);
    await c.query("RELEASE SAVEPOINT s");
    return "ok";
  } catch (error) {
    await c.query("ROLLBACK TO SAVEPOINT s");
    return (error as { code?: string }).code ?? String(error);
  }
}

/**
 * A rolled-back transaction as `dazzle_app` with a caller's context set the way the runtime does
 * (role, user id and roles, then the tenant from the caller's principal row through
 * dazzle_principal()); `null` sets nothing.
 */
async function asCaller<T>(url: string, caller: { userId: string; roles: string } | null, fn: (c: Client) => Promise<T>): Promise<T> {
  return withClient(url, async (c) => {
    await c.query("BEGIN");
    try {
      await c.query("SET LOCAL ROLE dazzle_app");
      if (caller !== null) {
        await c.query("SELECT set_config('dazzle.user_id', $1, true), set_config('dazzle.roles', $2, true)", [caller.userId, caller.roles]);
        await c.query("SELECT set_config('dazzle.tenant_id', coalesce((SELECT tenant_id::text FROM dazzle_principal()), ''), true)");
      }
      return await fn(c);
    } finally {
      await c.query("ROLLBACK");
    }
  });
}

const idsOf = async (c: Client, table: string) => (await c.query<{ id: string }>(`SELECT id FROM "${table}" ORDER BY id`)).rows.map((r) => r.id);

beforeAll(async () => {
  ctx.tmp = await makeTempDir("dz-e2e-tenancy-");
  const dirs: Array<[string, string, string[]]> = [[FIXTURE, path.join(ctx.tmp, "tenancy"), []]];
  if (corpusPresent) dirs.push([TENANT_RLS, path.join(ctx.tmp, "tenant_rls"), ["--principal=Member"]]);
  for (const [spec, dir, args] of dirs) {
    const generated = await generateApp(spec, dir, args);
    if (generated.exitCode !== 0) throw new Error(`dazzle-gen ${spec} exited ${generated.exitCode}:\n${generated.stderr}`);
    await installAppDependencies(dir);
  }
  ctx.db = await createTestDatabase("tenancy");
  ctx.app = await startApp(path.join(ctx.tmp, "tenancy"), { DATABASE_URL: ctx.db.url });
  await withClient(ctx.db.url, async (c) => {
    await c.query("INSERT INTO org (id, name) VALUES ($1, 'One'), ($2, 'Two')", [O.one, O.two]);
    await c.query(
      `INSERT INTO "user" (id, tenant_id, email, name) VALUES ($1, $4, 'ann@one.org', 'Ann'), ($2, $4, 'bob@one.org', 'Bob'), ($3, $5, 'ann@one.org', 'Ann Two')`,
      [U.a1, U.b1, U.a2, O.one, O.two],
    );
    await c.query("INSERT INTO country (id, code, name) VALUES ($1, 'NZ', 'New Zealand')", [C1]);
    // The same code in both tenants: unique is per tenant.
    await c.query("INSERT INTO project (id, tenant_id, code, name, owner) VALUES ($1, $3, 'alpha', 'Alpha one', $4), ($2, $5, 'alpha', 'Alpha two', $6)", [
      P.p1, P.p2, O.one, U.a1, O.two, U.a2,
    ]);
    await c.query("INSERT INTO task (id, tenant_id, title, project, assignee) VALUES ($1, $3, 'first', $4, $5), ($2, $6, 'first', $7, $8)", [
      T.t1, T.t2, O.one, P.p1, U.b1, O.two, P.p2, U.a2,
    ]);
  });
}, 10 * 60_000);

afterAll(async () => {
  await Promise.all([ctx.app?.stop().catch(() => undefined), ctx.rlsApp?.stop().catch(() => undefined)]);
  await ctx.db?.drop();
  await ctx.rlsDb?.drop();
  await removeTempDir(ctx.tmp);
}, 60_000);

// ---------------------------------------------------------------------------------------------

describe("e2e-tenancy over HTTP: one tenant never reaches another", () => {
  test("lists and reads show the caller's tenant only; the excluded Country is shared", async () => {
    const one = await api("GET", "/api/projects", { token: manager1() });
    expect({ status: one.status, body: one.body }).toStrictEqual({
      status: 200,
      body: { data: [project(P.p1, O.one, "alpha", "Alpha one", U.a1)], page: 1, page_size: 20 },
    });
    expect(ids(await api("GET", "/api/projects", { token: manager2() }))).toEqual([P.p2]);
    expect(ids(await api("GET", "/api/tasks", { token: manager1() }))).toEqual([T.t1]);
    expect(ids(await api("GET", "/api/users", { token: manager1() }))).toEqual([U.a1, U.b1]);
    expect(ids(await api("GET", "/api/orgs", { token: manager2() }))).toEqual([O.two]);
    expect(ids(await api("GET", "/api/countries", { token: manager2() }))).toEqual([C1]);
    for (const url of [`/api/projects/${P.p2}`, `/api/tasks/${T.t2}`, `/api/users/${U.a2}`, `/api/orgs/${O.two}`]) {
      const res = await api("GET", url, { token: manager1() });
      expect({ url, status: res.status, type: res.body?.error?.type }).toEqual({ url, status: 404, type: "not_found" });
    }
  });

  test("another tenant's rows cannot be updated or deleted (404, rows unchanged)", async () => {
    const patch = await api("PATCH", `/api/projects/${P.p2}`, { token: manager1(), body: { name: "taken over" } });
    const del = await api("DELETE", `/api/tasks/${T.t2}`, { token: manager1() });
    expect([patch.status, patch.body.error.type, del.status, del.body.error.type]).toEqual([404, "not_found", 404, "not_found"]);
    const rows = await withClient(ctx.db!.url, async (c) => ({
      project: (await c.query("SELECT name FROM project WHERE id = $1", [P.p2])).rows,
      task: (await c.query("SELECT title FROM task WHERE id = $1", [T.t2])).rows,
    }));
    expect(rows).toEqual({ project: [{ name: "Alpha two" }], task: [{ title: "first" }] });
  });

  test("a reference to another tenant's row is refused by the composite FK (422 on the field)", async () => {
    const res = await api("POST", "/api/tasks", { token: manager1(), body: { title: "sneaky", project: P.p2 } });
    expect({ status: res.status, body: res.body }).toStrictEqual({
      status: 422,
      body: {
        error: {
          type: "validation_error",
          message: "invalid request body: project",
          details: [{ field: "project", message: "must reference an existing Project" }],
        },
      },
    });
    const patch = await api("PATCH", `/api/tasks/${T.t1}`, { token: manager1(), body: { assignee: U.a2 } });
    expect({ status: patch.status, details: patch.body.error?.details }).toEqual({
      status: 422,
      details: [{ field: "assignee", message: "must reference an existing User" }],
    });
    expect(await withClient(ctx.db!.url, async (c) => (await c.query("SELECT count(*)::int AS n FROM task WHERE title = 'sneaky'")).rows[0].n)).toBe(0);
  });

  test("tenant_id in a POST or PATCH body is ignored: the row lands in, and stays in, the caller's tenant", async () => {
    const created = await api("POST", "/api/projects", { token: manager1(), body: { code: "beta", name: "Beta", tenant_id: O.two } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(created.body).toStrictEqual(project(id, O.one, "beta", "Beta", U.a1));
    const patched = await api("PATCH", `/api/projects/${id}`, { token: manager1(), body: { name: "Beta 2", tenant_id: O.two } });
    expect({ status: patched.status, body: patched.body }).toStrictEqual({ status: 200, body: project(id, O.one, "beta", "Beta 2", U.a1) });
    expect(ids(await api("GET", "/api/projects", { token: manager2() }))).toEqual([P.p2]);
    await withClient(ctx.db!.url, (c) => c.query("DELETE FROM project WHERE id = $1", [id]));
  });

  test("the tenant comes from the principal row only: token claims, headers and the query change nothing", async () => {
    const token = signToken(U.a1, ["manager"], { extraClaims: { tenant_id: O.two, tenant: O.two, "dazzle.tenant_id": O.two } });
    const res = await api("GET", `/api/projects?tenant_id=${O.two}`, { token, headers: { "x-tenant-id": O.two, "x-dazzle-tenant-id": O.two } });
    expect({ status: res.status, ids: ids(res) }).toEqual({ status: 200, ids: [P.p1] });
    // A token for a user id that is no principal row has no tenant: nothing fenced is visible.
    const stranger = signToken("0f000000-0000-4000-8000-000000000001", ["manager"], { extraClaims: { tenant_id: O.one } });
    expect(ids(await api("GET", "/api/projects", { token: stranger }))).toEqual([]);
    // Its insert fails the fence's WITH CHECK (42501, before the key's NOT NULL): the create is denied.
    const create = await api("POST", "/api/projects", { token: stranger, body: { code: "x", name: "x", owner: U.a1 } });
    expect({ status: create.status, type: create.body.error?.type }).toEqual({ status: 403, type: "scope_create_denied" });
    expect(await withClient(ctx.db!.url, async (c) => (await c.query("SELECT count(*)::int AS n FROM project WHERE code = 'x'")).rows[0].n)).toBe(0);
  });

  test("unique is per tenant: the same value in two tenants is fine, twice in one tenant is a 422 on the field", async () => {
    const one = await api("POST", "/api/projects", { token: manager1(), body: { code: "gamma", name: "G1" } });
    const two = await api("POST", "/api/projects", { token: manager2(), body: { code: "gamma", name: "G2" } });
    expect([one.status, two.status, one.body.tenant_id, two.body.tenant_id]).toEqual([201, 201, O.one, O.two]);
    const again = await api("POST", "/api/projects", { token: manager1(), body: { code: "gamma", name: "G1 again" } });
    expect({ status: again.status, body: again.body }).toStrictEqual({
      status: 422,
      body: { error: { type: "validation_error", message: "invalid request body: code", details: [{ field: "code", message: "is already taken" }] } },
    });
    // `unique project, title` too: "first" exists in both tenants already (seeded); a second one in tenant one is refused.
    const dup = await api("POST", "/api/tasks", { token: manager1(), body: { title: "first", project: P.p1 } });
    expect({ status: dup.status, details: dup.body.error?.details }).toEqual({ status: 422, details: [{ field: "project", message: "is already taken with the same title" }] });
    await withClient(ctx.db!.url, (c) => c.query("DELETE FROM project WHERE code = 'gamma'"));
  });

  test("the event stream carries no event of another tenant, deletions included", async () => {
    const stream = await openEventStream(ctx.app!.baseUrl, "/api/events", { token: manager1() });
    try {
      expect(stream.status).toBe(200);
      await new Promise((r) => setTimeout(r, 200));
      const other = await api("POST", "/api/tasks", { token: manager2(), body: { title: "elsewhere" } });
      expect((await api("DELETE", `/api/tasks/${other.body.id}`, { token: manager2() })).status).toBe(204);
      const marker = await api("POST", "/api/tasks", { token: manager1(), body: { title: "marker" } });
      await stream.waitFor((e) => e.event === "Task.created" && JSON.parse(e.data).id === marker.body.id);
      // Events reach a stream in commit order: everything before the marker has been decided.
      expect(stream.events.map((e) => ({ type: e.event, id: JSON.parse(e.data).id }))).toEqual([{ type: "Task.created", id: marker.body.id }]);
      await withClient(ctx.db!.url, (c) => c.query("DELETE FROM task WHERE id = $1", [marker.body.id]));
    } finally {
      stream.close();
    }
  });

  test("a member sees the tasks of its own tenant that its scope allows (FK-path helper under the fence)", async () => {
    expect(ids(await api("GET", "/api/tasks", { token: member1() }))).toEqual([T.t1]);
    expect(ids(await api("GET", "/api/tasks", { token: signToken(U.a2, ["member"]) }))).toEqual([T.t2]);
  });
});

// ---------------------------------------------------------------------------------------------

describe("e2e-tenancy as dazzle_app with a caller context", () => {
  const a1 = { userId: U.a1, roles: "manager" };

  test("reads, updates and deletes reach the caller's tenant only", async () => {
    const result = await asCaller(ctx.db!.url, a1, async (c) => ({
      tenant: (await c.query("SELECT dazzle_tenant_id()::text AS t")).rows[0].t,
      project: await idsOf(c, "project"),
      task: await idsOf(c, "task"),
      user: await idsOf(c, "user"),
      update: (await c.query("UPDATE project SET name = name")).rowCount,
      updateOther: (await c.query("UPDATE project SET name = 'x' WHERE id = $1", [P.p2])).rowCount,
      deleteOther: (await c.query("DELETE FROM task WHERE id = $1", [T.t2])).rowCount,
    }));
    expect(result).toEqual({ tenant: O.one, project: [P.p1], task: [T.t1], user: [U.a1, U.b1], update: 1, updateOther: 0, deleteOther: 0 });
  });

  test("writing into another tenant, or moving a row there, is refused by the fence (42501); a cross-tenant FK by the composite FK (23503)", async () => {
    const result = await asCaller(ctx.db!.url, a1, async (c) => ({
      insertOther: await sqlState(c, "INSERT INTO project (tenant_id, code, name, owner) VALUES ($1, 'z', 'z', $2)", [O.two, U.a2]),
      moveOut: await sqlState(c, "UPDATE project SET tenant_id = $1 WHERE id = $2", [O.two, P.p1]),
      refOther: await sqlState(c, "INSERT INTO task (title, project) VALUES ('z', $1)", [P.p2]),
      refOtherUser: await sqlState(c, "UPDATE task SET assignee = $1 WHERE id = $2", [U.a2, T.t1]),
      insertOwn: await sqlState(c, "INSERT INTO task (title, project) VALUES ('z', $1)", [P.p1]),
      landedIn: (await c.query("SELECT tenant_id::text AS t FROM task WHERE title = 'z'")).rows,
    }));
    expect(result).toEqual({ insertOther: "42501", moveOut: "42501", refOther: "23503", refOtherUser: "23503", insertOwn: "ok", landedIn: [{ t: O.one }] });
  });

  test("the composite FK holds even past RLS (as the superuser)", async () => {
    const states = await withClient(ctx.db!.url, async (c) => {
      await c.query("BEGIN");
      try {
        return {
          task: await sqlState(c, "INSERT INTO task (tenant_id, title, project) VALUES ($1, 'z', $2)", [O.one, P.p2]),
          project: await sqlState(c, "INSERT INTO project (tenant_id, code, name, owner) VALUES ($1, 'z', 'z', $2)", [O.two, U.a1]),
          nullRef: await sqlState(c, "INSERT INTO task (tenant_id, title) VALUES ($1, 'no project')", [O.one]),
        };
      } finally {
        await c.query("ROLLBACK");
      }
    });
    expect(states).toEqual({ task: "23503", project: "23503", nullRef: "ok" });
  });

  test("an unset context sees no tenant-scoped row and cannot insert one (fence 42501; past RLS the key's NOT NULL, 23502)", async () => {
    const result = await asCaller(ctx.db!.url, null, async (c) => ({
      project: await idsOf(c, "project"),
      task: await idsOf(c, "task"),
      user: await idsOf(c, "user"),
      insert: await sqlState(c, "INSERT INTO task (title) VALUES ('orphan')"),
    }));
    expect(result).toEqual({ project: [], task: [], user: [], insert: "42501" });
    // User and roles without a tenant: same.
    const noTenant = await withClient(ctx.db!.url, async (c) => {
      await c.query("BEGIN");
      try {
        await c.query("SET LOCAL ROLE dazzle_app");
        await c.query("SELECT set_config('dazzle.user_id', $1, true), set_config('dazzle.roles', 'manager', true), set_config('dazzle.tenant_id', '', true)", [U.a1]);
        return { project: await idsOf(c, "project"), insert: await sqlState(c, "INSERT INTO project (code, name, owner) VALUES ('n', 'n', $1)", [U.a1]) };
      } finally {
        await c.query("ROLLBACK");
      }
    });
    expect(noTenant).toEqual({ project: [], insert: "42501" });
    // Past RLS (a superuser or BYPASSRLS session) without a tenant setting the key's default is NULL: NOT NULL refuses the row.
    const bypass = await withClient(ctx.db!.url, async (c) => {
      await c.query("BEGIN");
      try {
        return await sqlState(c, "INSERT INTO task (title) VALUES ('orphan')");
      } finally {
        await c.query("ROLLBACK");
      }
    });
    expect(bypass).toBe("23502");
  });

  test("the FK-path helper re-applies the fence: another tenant's owner yields no project", async () => {
    const result = await asCaller(ctx.db!.url, a1, async (c) => {
      const fn = (await c.query("SELECT proname FROM pg_proc WHERE proname LIKE 'dz\\_path\\_%'")).rows.map((r) => r.proname as string);
      return {
        helpers: fn.length,
        own: (await c.query(`SELECT * FROM ${fn[0]}($1)`, [U.a1])).rows.map((r) => Object.values(r)[0]),
        other: (await c.query(`SELECT * FROM ${fn[0]}($1)`, [U.a2])).rows.map((r) => Object.values(r)[0]),
      };
    });
    expect(result).toEqual({ helpers: 1, own: [P.p1], other: [] });
  });

  test("dazzle_principal() returns the caller's tenant and nothing else", async () => {
    const result = await asCaller(ctx.db!.url, a1, async (c) => ({
      rows: (await c.query("SELECT * FROM dazzle_principal()")).rows,
      withArgument: await sqlState(c, "SELECT * FROM dazzle_principal($1)", [U.a2]),
    }));
    expect(result).toEqual({ rows: [{ tenant_id: O.one }], withArgument: "42883" });
  });
});

// ---------------------------------------------------------------------------------------------

const maybe = corpusPresent ? describe : describe.skip;
if (!corpusPresent) console.warn(`[tenancy] ${skipMessage()}`);

maybe("corpus fixtures/tenant_rls (--principal=Member) as dazzle_app (DSL.md §7)", () => {
  const W = { one: "11000000-0000-4000-8000-000000000001", two: "11000000-0000-4000-8000-000000000002" } as const;
  const M = {
    m1: "12000000-0000-4000-8000-000000000001", // workspace one
    m2: "12000000-0000-4000-8000-000000000002", // workspace one
    m3: "12000000-0000-4000-8000-000000000003", // workspace two
  } as const;
  const PR = {
    own: "13000000-0000-4000-8000-000000000001", // one, m1, private
    pub: "13000000-0000-4000-8000-000000000002", // one, m2, public
    hidden: "13000000-0000-4000-8000-000000000003", // one, m2, private
    far: "13000000-0000-4000-8000-000000000004", // two, m3, public
  } as const;
  const TK = { near: "14000000-0000-4000-8000-000000000001", far: "14000000-0000-4000-8000-000000000002" } as const;
  const worker = (id: string) => ({ userId: id, roles: "worker" });

  beforeAll(async () => {
    ctx.rlsDb = await createTestDatabase("tenant_rls");
    ctx.rlsApp = await startApp(path.join(ctx.tmp!, "tenant_rls"), { DATABASE_URL: ctx.rlsDb.url });
    await withClient(ctx.rlsDb.url, async (c) => {
      await c.query("INSERT INTO workspace (id, name) VALUES ($1, 'One'), ($2, 'Two')", [W.one, W.two]);
      await c.query("INSERT INTO member (id, tenant_id, email) VALUES ($1, $4, 'a@x.org'), ($2, $4, 'b@x.org'), ($3, $5, 'a@x.org')", [M.m1, M.m2, M.m3, W.one, W.two]);
      await c.query(
        `INSERT INTO project (id, tenant_id, name, owner, visibility) VALUES
           ($1, $5, 'own', $6, 'private'), ($2, $5, 'public', $7, 'public'), ($3, $5, 'hidden', $7, 'private'), ($4, $8, 'far', $9, 'public')`,
        [PR.own, PR.pub, PR.hidden, PR.far, W.one, M.m1, M.m2, W.two, M.m3],
      );
      await c.query("INSERT INTO task (id, tenant_id, title, project) VALUES ($1, $3, 'near', $4), ($2, $5, 'far', $6)", [TK.near, TK.far, W.one, PR.own, W.two, PR.far]);
    });
  }, 5 * 60_000);

  test("the tenant-scoped tables carry the fence; the root does not", async () => {
    const policies = await withClient(ctx.rlsDb!.url, async (c) =>
      (await c.query("SELECT tablename AS t, permissive AS p, cmd FROM pg_policies WHERE policyname = 'tenant_fence' ORDER BY 1")).rows,
    );
    expect(policies).toEqual(["member", "member_profile", "project", "task"].map((t) => ({ t, p: "RESTRICTIVE", cmd: "ALL" })));
  });

  test("worker: SELECT is own + public of its own workspace, never another workspace's", async () => {
    const seen = await asCaller(ctx.rlsDb!.url, worker(M.m1), async (c) => ({ project: await idsOf(c, "project"), task: await idsOf(c, "task") }));
    // Task has no permit rule: default-deny, no policy.
    expect(seen).toEqual({ project: [PR.own, PR.pub], task: [] });
    expect(await asCaller(ctx.rlsDb!.url, worker(M.m3), (c) => idsOf(c, "project"))).toEqual([PR.far]);
  });

  test("worker over HTTP: read is its own projects only, list its own plus public ones", async () => {
    const token = signToken(M.m1, ["worker"]);
    const list = await http(ctx.rlsApp!.baseUrl, "GET", "/api/projects", { token });
    expect({ status: list.status, ids: ids(list) }).toEqual({ status: 200, ids: [PR.own, PR.pub] });
    const read = async (id: string) => (await http(ctx.rlsApp!.baseUrl, "GET", `/api/projects/${id}`, { token })).status;
    expect({ own: await read(PR.own), pub: await read(PR.pub), hidden: await read(PR.hidden), far: await read(PR.far) }).toEqual({ own: 200, pub: 404, hidden: 404, far: 404 });
  });

  test("worker: UPDATE reaches its own projects only; INSERT and DELETE on project are denied", async () => {
    const result = await asCaller(ctx.rlsDb!.url, worker(M.m1), async (c) => ({
      update: (await c.query("UPDATE project SET name = name || '!'")).rowCount,
      updateFar: (await c.query("UPDATE project SET name = 'x' WHERE id = $1", [PR.far])).rowCount,
      insert: await sqlState(c, "INSERT INTO project (name, owner) VALUES ('new', $1)", [M.m1]),
      delete: (await c.query("DELETE FROM project")).rowCount,
      moveOut: await sqlState(c, "UPDATE project SET tenant_id = $1 WHERE id = $2", [W.two, PR.own]),
    }));
    expect(result).toEqual({ update: 1, updateFar: 0, insert: "42501", delete: 0, moveOut: "42501" });
  });

  test("no cross-tenant FK reference can be stored, even past RLS; unique is per workspace", async () => {
    const states = await withClient(ctx.rlsDb!.url, async (c) => {
      await c.query("BEGIN");
      try {
        return {
          taskToFar: await sqlState(c, "INSERT INTO task (tenant_id, title, project) VALUES ($1, 'x', $2)", [W.one, PR.far]),
          projectOwnedFar: await sqlState(c, "UPDATE project SET owner = $1 WHERE id = $2", [M.m3, PR.own]),
          sameEmailOtherWorkspace: await sqlState(c, "INSERT INTO member (tenant_id, email) VALUES ($1, 'b@x.org')", [W.two]),
          sameEmailSameWorkspace: await sqlState(c, "INSERT INTO member (tenant_id, email) VALUES ($1, 'b@x.org')", [W.one]),
        };
      } finally {
        await c.query("ROLLBACK");
      }
    });
    expect(states).toEqual({ taskToFar: "23503", projectOwnedFar: "23503", sameEmailOtherWorkspace: "ok", sameEmailSameWorkspace: "23505" });
  });

  test("without a context nothing is visible", async () => {
    expect(await asCaller(ctx.rlsDb!.url, null, async (c) => ({ project: await idsOf(c, "project"), member: await idsOf(c, "member") }))).toEqual({ project: [], member: [] });
  });
});

// ---------------------------------------------------------------------------------------------

/**
 * Rules naming the injected partition key, with no principal entity (DSL.md §7 "Caller's
 * tenant"): `tenant_id = current_user.tenant_id` on an entity that never declares `tenant_id`,
 * and `current_user.tenant_id` read from the generated app_user's key (dazzle.tenant_id). The spec
 * is written here, generated, type-checked, booted.
 */
describe("rules on the injected key with the generated app_user", () => {
  const SPEC = `module keyed
app keyed "Keyed"

tenancy:
  mode: shared_schema

entity Org "Org":
  archetype: tenant
  name: str(40) required
  permit:
    list: authenticated
  scope:
    list: id = current_user.tenant_id
      as: *

entity Note "Note":
  title: str(40) required
  permit:
    list: authenticated
    read: authenticated
  scope:
    list: tenant_id = current_user.tenant_id
      as: *
    read: tenant_id.name = "One"
      as: *
`;
  const N = { n1: "0e100000-0000-4000-8000-000000000001", n2: "0e100000-0000-4000-8000-000000000002", n3: "0e100000-0000-4000-8000-000000000003" } as const;
  const A = { one: "0a100000-0000-4000-8000-000000000001", two: "0a100000-0000-4000-8000-000000000002", none: "0a100000-0000-4000-8000-000000000003" } as const;
  const local: { dir?: string; db?: TestDatabase; app?: StartedApp; typecheck?: { exitCode: number; output: string } } = {};
  const get = (url: string, user: string) => http(local.app!.baseUrl, "GET", url, { token: signToken(user, ["staff"]) });

  beforeAll(async () => {
    const tmp = await makeTempDir("dz-e2e-tenancy-keyed-");
    local.dir = path.join(tmp, "app");
    const spec = path.join(tmp, "app.dz");
    await writeFile(spec, SPEC);
    const generated = await generateApp(spec, local.dir);
    if (generated.exitCode !== 0) throw new Error(`dazzle-gen exited ${generated.exitCode}:\n${generated.stderr}`);
    await installAppDependencies(local.dir);
    local.typecheck = await typecheckApp(local.dir);
    local.db = await createTestDatabase("tenancy_keyed");
    local.app = await startApp(local.dir, { DATABASE_URL: local.db.url });
    await withClient(local.db.url, async (c) => {
      await c.query("INSERT INTO org (id, name) VALUES ($1, 'One'), ($2, 'Two')", [O.one, O.two]);
      await c.query("INSERT INTO app_user (id, email, tenant_id) VALUES ($1, 'a@one.org', $3), ($2, 'a@two.org', $4), ($5, 'x@none.org', NULL)", [
        A.one, A.two, O.one, O.two, A.none,
      ]);
      await c.query("INSERT INTO note (id, tenant_id, title) VALUES ($1, $4, 'one a'), ($2, $4, 'one b'), ($3, $5, 'two a')", [N.n1, N.n2, N.n3, O.one, O.two]);
    });
  }, 10 * 60_000);

  afterAll(async () => {
    await local.app?.stop().catch(() => undefined);
    await local.db?.drop();
    if (local.dir !== undefined) await removeTempDir(path.dirname(local.dir));
  }, 60_000);

  test("the generated app type-checks", () => {
    expect(local.typecheck?.exitCode === 0 ? "no type errors" : local.typecheck?.output).toBe("no type errors");
  });

  test("list: exactly the caller's tenant rows; current_user.tenant_id on the root is the caller's own org", async () => {
    const notes = async (user: string) => {
      const res = await get("/api/notes", user);
      return { status: res.status, ids: ids(res) };
    };
    expect(await notes(A.one)).toEqual({ status: 200, ids: [N.n1, N.n2] });
    expect(await notes(A.two)).toEqual({ status: 200, ids: [N.n3] });
    expect(await notes(A.none)).toEqual({ status: 200, ids: [] });
    const orgs = await get("/api/orgs", A.two);
    expect({ status: orgs.status, body: orgs.body }).toStrictEqual({ status: 200, body: { data: [{ id: O.two, name: "Two" }], page: 1, page_size: 20 } });
    expect(ids(await get("/api/orgs", A.none))).toEqual([]);
  });

  test("read through the key's path: `tenant_id.name = \"One\"` admits tenant One's own rows only", async () => {
    const read = async (id: string, user: string) => (await get(`/api/notes/${id}`, user)).status;
    expect({ own: await read(N.n1, A.one), other: await read(N.n3, A.one), twoOwn: await read(N.n3, A.two) }).toEqual({ own: 200, other: 404, twoOwn: 404 });
    const one = await get(`/api/notes/${N.n1}`, A.one);
    expect(one.body).toStrictEqual({ id: N.n1, tenant_id: O.one, title: "one a" });
  });
});

test("db.ts equals what kysely-codegen introspects from the migrated tenancy database (injected keys included)", async () => {
  const { emitted, introspected } = await emittedAndIntrospected(path.join(ctx.tmp!, "tenancy"), ctx.db!.url, ctx.tmp!);
  expect(emitted.tables).toEqual(introspected.tables);
  // kysely-codegen also declares the aliases of the excluded framework tables (`Timestamp` for
  // `_dazzle_events.created_at`); every alias db.ts declares must be codegen's.
  for (const [name, type] of Object.entries(emitted.aliases)) expect([name, type]).toEqual([name, introspected.aliases[name]]);
  expect(introspected.tables.task).toMatchObject({ tenant_id: "Generated<string>" });
}, 180_000);
