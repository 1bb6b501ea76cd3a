/**
 * Acceptance test for the generated app (issue 2): generate fixtures/e2e-teams/app.dz, install,
 * type-check, boot against a fresh database, and check over HTTP that authentication, permit,
 * scope, validation and events behave as GENERATED-APP.md says, and that RLS run as the
 * runtime role returns exactly the rows the API returns.
 */
import path from "node:path";
import {
  generateApp,
  http,
  installAppDependencies,
  makeTempDir,
  mintToken,
  openEventStream,
  removeTempDir,
  run,
  childEnv,
  signToken,
  startApp,
  typecheckApp,
  type HttpResponse,
  type SseStream,
  type StartedApp,
} from "../support/app";
import { adminUrl, createTestDatabase, withClient, withDatabase, type TestDatabase } from "../support/pg";

const FIXTURE = path.resolve(__dirname, "../../../fixtures/e2e-teams/app.dz");
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

type Who = "admin" | "m1" | "m2" | "m3" | "guest";

/** Principals, seeded with raw SQL (the User entity has no create route). */
const USERS: Record<Who, { id: string; email: string; name: string; team: string; roles: string[] }> = {
  admin: { id: "a0000000-0000-4000-8000-000000000001", email: "admin@example.com", name: "Ada Admin", team: "hq", roles: ["admin"] },
  m1: { id: "b0000000-0000-4000-8000-000000000001", email: "m1@example.com", name: "Mia Member", team: "core", roles: ["member"] },
  m2: { id: "b0000000-0000-4000-8000-000000000002", email: "m2@example.com", name: "Max Member", team: "core", roles: ["member"] },
  m3: { id: "b0000000-0000-4000-8000-000000000003", email: "m3@example.com", name: "Olu Other", team: "other", roles: ["member"] },
  guest: { id: "c0000000-0000-4000-8000-000000000001", email: "guest@example.com", name: "Gus Guest", team: "core", roles: ["guest"] },
};
const WHO = Object.keys(USERS) as Who[];

/** Projects, created by the admin through the API. */
const PROJECTS = {
  p1: { name: "M1 private", owner: USERS.m1.id, visibility: "private" },
  p2: { name: "M1 public", owner: USERS.m1.id, visibility: "public" },
  p3: { name: "M2 private", owner: USERS.m2.id, visibility: "private" },
  p4: { name: "M2 public", owner: USERS.m2.id, visibility: "public" },
  p5: { name: "Admin private", owner: USERS.admin.id, visibility: "private" },
} as const;
type ProjectKey = keyof typeof PROJECTS;

/** Tasks, seeded with raw SQL (fixed ids; `priority` and `done` left to their defaults where omitted). */
const TASKS = {
  t1: { id: "d0000000-0000-4000-8000-000000000001", title: "Open core task", project: "p1", team: "core", done: false, due: "2025-03-01" },
  t2: { id: "d0000000-0000-4000-8000-000000000002", title: "Done core task", project: "p2", team: "core", done: true, due: null },
  t3: { id: "d0000000-0000-4000-8000-000000000003", title: "Open other task", project: "p3", team: "other", done: false, due: null },
} as const;

interface Ctx {
  tmp?: string;
  appDir: string;
  db?: TestDatabase;
  app?: StartedApp;
  typecheck?: Promise<{ exitCode: number; output: string }>;
  tokens: Record<Who, string>;
  projects: Record<ProjectKey, Record<string, unknown> & { id: string }>;
  streams: SseStream[];
}
const ctx: Ctx = { appDir: "", tokens: {} as Record<Who, string>, projects: {} as Ctx["projects"], streams: [] };

const api = <T = any>(method: string, urlPath: string, options: { as?: Who; token?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
  http<T>(ctx.app!.baseUrl, method, urlPath, { token: options.token ?? (options.as ? ctx.tokens[options.as] : undefined), body: options.body, headers: options.headers });

/**
 * An error response: exact status and `type`, a non-empty `message`, and no keys beyond the
 * contract's `{"error": {"type", "message", "details"?, "rule"?}}`.
 */
function expectError(res: HttpResponse, status: number, type: string): void {
  expect({ status: res.status, type: res.body?.error?.type }).toEqual({ status, type });
  expect(Object.keys(res.body)).toEqual(["error"]);
  expect(typeof res.body.error.message).toBe("string");
  expect(res.body.error.message.length).toBeGreaterThan(0);
  for (const key of Object.keys(res.body.error)) expect(["type", "message", "details", "rule"]).toContain(key);
  expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
}

const sortIds = (ids: readonly string[]) => [...ids].sort();
const idsOf = (...keys: ProjectKey[]) => sortIds(keys.map((k) => ctx.projects[k].id));

/** Runs `sql` as `dazzle_app` with the caller's session settings, as the generated runtime does. */
async function idsUnderRls(who: Who, table: string): Promise<string[]> {
  const user = USERS[who];
  return withClient(ctx.db!.url, async (c) => {
    await c.query("BEGIN");
    try {
      await c.query("SET LOCAL ROLE dazzle_app");
      await c.query(
        "SELECT set_config('dazzle.user_id', $1, true), set_config('dazzle.roles', $2, true), set_config('dazzle.user_team', $3, true)",
        [user.id, user.roles.join(","), user.team],
      );
      const { rows } = await c.query<{ id: string }>(`SELECT id FROM "${table}" ORDER BY id`);
      return rows.map((r) => r.id);
    } finally {
      await c.query("ROLLBACK");
    }
  });
}

/** All ids of a table, as the superuser (RLS does not apply). */
async function allIds(table: string): Promise<string[]> {
  return withClient(ctx.db!.url, async (c) => (await c.query<{ id: string }>(`SELECT id FROM "${table}" ORDER BY id`)).rows.map((r) => r.id));
}

beforeAll(async () => {
  ctx.tmp = await makeTempDir("dz-e2e-teams-");
  ctx.appDir = path.join(ctx.tmp, "app");

  const generated = await generateApp(FIXTURE, ctx.appDir);
  if (generated.exitCode !== 0) {
    throw new Error(`dazzle-gen exited ${generated.exitCode}:\n${generated.stderr}\n${generated.stdout}`);
  }
  await installAppDependencies(ctx.appDir);
  ctx.typecheck = typecheckApp(ctx.appDir); // runs while the server boots; awaited in its test
  ctx.typecheck.catch(() => undefined);

  ctx.db = await createTestDatabase("e2e_teams");
  ctx.app = await startApp(ctx.appDir, { DATABASE_URL: ctx.db.url });

  // The server migrated on boot: seed principals and tasks' prerequisites as the superuser.
  await withClient(ctx.db.url, async (c) => {
    for (const u of Object.values(USERS)) {
      await c.query('INSERT INTO "user" (id, email, name, team) VALUES ($1, $2, $3, $4)', [u.id, u.email, u.name, u.team]);
    }
  });
  const tokens = await Promise.all(WHO.map((w) => mintToken(ctx.appDir, USERS[w].id, USERS[w].roles)));
  WHO.forEach((w, i) => (ctx.tokens[w] = tokens[i]!));

  for (const [key, body] of Object.entries(PROJECTS) as Array<[ProjectKey, (typeof PROJECTS)[ProjectKey]]>) {
    const res = await api("POST", "/api/projects", { as: "admin", body });
    if (res.status !== 201) throw new Error(`seeding ${key}: POST /api/projects as admin → ${res.status} ${res.text}\n${ctx.app.output().slice(-4000)}`);
    ctx.projects[key] = res.body;
  }
  await withClient(ctx.db.url, async (c) => {
    for (const t of Object.values(TASKS)) {
      await c.query("INSERT INTO task (id, title, project, team, done, due) VALUES ($1, $2, $3, $4, $5, $6)", [
        t.id, t.title, ctx.projects[t.project].id, t.team, t.done, t.due,
      ]);
    }
  });
}, 10 * 60_000);

afterAll(async () => {
  for (const s of ctx.streams) s.close();
  const stopped = ctx.app?.stop();
  await stopped?.catch(() => undefined);
  await ctx.db?.drop();
  await removeTempDir(ctx.tmp);
}, 60_000);

describe("generated app: build", () => {
  test("tsc --noEmit passes", async () => {
    const result = await ctx.typecheck!;
    expect(result).toEqual({ exitCode: 0, output: "" });
  }, 5 * 60_000);

  test("graphile-migrate status is up to date after boot", async () => {
    const result = await run(path.join(ctx.appDir, "node_modules", ".bin", "graphile-migrate"), ["status"], {
      cwd: ctx.appDir,
      env: childEnv({
        DATABASE_URL: ctx.db!.url,
        SHADOW_DATABASE_URL: withDatabase(adminUrl(), `${ctx.db!.name}_shadow`),
        ROOT_DATABASE_URL: adminUrl(),
      }),
      timeoutMs: 60_000,
    });
    expect({ exitCode: result.exitCode, output: result.output }).toEqual({ exitCode: 0, output: expect.stringContaining("Up to date.") });
  }, 60_000);

  test("GET /api/health answers without credentials", async () => {
    const res = await api("GET", "/api/health");
    expect({ status: res.status, body: res.body }).toStrictEqual({ status: 200, body: { status: "ok" } });
  });
});

describe("generated app: authentication and permit", () => {
  test("401 unauthorized without a token", async () => {
    expectError(await api("GET", "/api/projects"), 401, "unauthorized");
  });

  test("401 unauthorized with a malformed token or one signed with another secret", async () => {
    expectError(await api("GET", "/api/projects", { token: "not-a-jwt" }), 401, "unauthorized");
    const forged = signToken(USERS.admin.id, ["admin"], { secret: "some-other-secret-0123456789abcdef" });
    expectError(await api("GET", "/api/projects", { token: forged }), 401, "unauthorized");
  });

  test("a guest (no permit) gets 403 forbidden on list, read and create", async () => {
    expectError(await api("GET", "/api/projects", { as: "guest" }), 403, "forbidden");
    expectError(await api("GET", `/api/projects/${ctx.projects.p2.id}`, { as: "guest" }), 403, "forbidden");
    expectError(await api("POST", "/api/projects", { as: "guest", body: { name: "nope" } }), 403, "forbidden");
    expect(await allIds("project")).toEqual(idsOf("p1", "p2", "p3", "p4", "p5"));
  });

  test("a member without delete permit gets 403 forbidden, and the row stays", async () => {
    expectError(await api("DELETE", `/api/projects/${ctx.projects.p1.id}`, { as: "m1" }), 403, "forbidden");
    expect(await allIds("project")).toEqual(idsOf("p1", "p2", "p3", "p4", "p5"));
  });
});

describe("generated app: scope", () => {
  test("a member lists exactly their own and public projects, with full rows", async () => {
    const res = await api("GET", "/api/projects", { as: "m1" });
    const expected = (["p1", "p2", "p4"] as const).map((k) => ctx.projects[k]).sort((a, b) => (a.id < b.id ? -1 : 1));
    expect({ status: res.status, body: res.body }).toStrictEqual({
      status: 200,
      body: { data: expected, page: 1, page_size: 20 },
    });
    const m2 = await api("GET", "/api/projects", { as: "m2" });
    expect(m2.body.data.map((r: { id: string }) => r.id)).toEqual(idsOf("p2", "p3", "p4"));
    const m3 = await api("GET", "/api/projects", { as: "m3" });
    expect(m3.body.data.map((r: { id: string }) => r.id)).toEqual(idsOf("p2", "p4"));
  });

  test("an admin lists every project", async () => {
    const res = await api("GET", "/api/projects?page_size=100", { as: "admin" });
    expect(res.status).toBe(200);
    expect(res.body.data.map((r: { id: string }) => r.id)).toEqual(await allIds("project"));
    expect(res.body.page_size).toBe(100);
  });

  test("rows seeded by the admin come back exactly as created", () => {
    for (const key of Object.keys(PROJECTS) as ProjectKey[]) {
      expect(ctx.projects[key]).toStrictEqual({
        id: expect.stringMatching(UUID),
        ...PROJECTS[key],
        created_at: expect.stringMatching(ISO_TIMESTAMP),
        updated_at: expect.stringMatching(ISO_TIMESTAMP),
      });
    }
  });

  test("404 not_found for a row out of scope, a missing row and a malformed id", async () => {
    expectError(await api("GET", `/api/projects/${ctx.projects.p3.id}`, { as: "m1" }), 404, "not_found");
    expectError(await api("GET", "/api/projects/00000000-0000-4000-8000-000000000000", { as: "m1" }), 404, "not_found");
    expectError(await api("GET", "/api/projects/not-a-uuid", { as: "m1" }), 404, "not_found");
    expectError(await api("PATCH", `/api/projects/${ctx.projects.p3.id}`, { as: "m1", body: { name: "taken over" } }), 404, "not_found");
    const read = await api("GET", `/api/projects/${ctx.projects.p4.id}`, { as: "m1" });
    expect({ status: read.status, body: read.body }).toStrictEqual({ status: 200, body: ctx.projects.p4 });
  });

  test("tasks: members list open tasks of their team, read any task of their team", async () => {
    const m1 = await api("GET", "/api/tasks", { as: "m1" });
    expect({ status: m1.status, body: m1.body }).toStrictEqual({
      status: 200,
      body: {
        data: [{ ...TASKS.t1, project: ctx.projects.p1.id, priority: 3 }],
        page: 1,
        page_size: 20,
      },
    });
    const done = await api("GET", `/api/tasks/${TASKS.t2.id}`, { as: "m1" });
    expect({ status: done.status, body: done.body }).toStrictEqual({
      status: 200,
      body: { ...TASKS.t2, project: ctx.projects.p2.id, priority: 3 },
    });
    expectError(await api("GET", `/api/tasks/${TASKS.t3.id}`, { as: "m1" }), 404, "not_found");
    const admin = await api("GET", "/api/tasks", { as: "admin" });
    expect(admin.body.data.map((r: { id: string }) => r.id)).toEqual(sortIds([TASKS.t1.id, TASKS.t2.id, TASKS.t3.id]));
  });

  test("users: members list their team and read only themselves", async () => {
    const list = await api("GET", "/api/users", { as: "m1" });
    expect(list.status).toBe(200);
    expect(list.body.data.map((r: { id: string }) => r.id)).toEqual(sortIds([USERS.m1.id, USERS.m2.id, USERS.guest.id]));
    const self = await api("GET", `/api/users/${USERS.m1.id}`, { as: "m1" });
    const { roles: _roles, ...m1Row } = USERS.m1;
    expect({ status: self.status, body: self.body }).toStrictEqual({ status: 200, body: m1Row });
    expectError(await api("GET", `/api/users/${USERS.m2.id}`, { as: "m1" }), 404, "not_found");
  });

  test("RLS as dazzle_app with the caller's settings returns exactly the project ids the API lists", async () => {
    for (const who of WHO) {
      const res = await api("GET", "/api/projects?page_size=100", { as: who });
      expect(res.status).toBe(who === "guest" ? 403 : 200);
      const listed = res.status === 200 ? res.body.data.map((r: { id: string }) => r.id) : [];
      expect({ who, ids: await idsUnderRls(who, "project") }).toEqual({ who, ids: listed });
    }
  });

  test("RLS SELECT admits exactly the rows the API lists or reads (every entity, every caller)", async () => {
    // The SELECT policy is the union of the read and list scopes (DSL.md §6.11); Task differs:
    // members list only open tasks but read every task of their team.
    for (const [table, route] of [["project", "projects"], ["task", "tasks"], ["user", "users"]] as const) {
      const every = await allIds(table);
      for (const who of WHO) {
        const res = await api("GET", `/api/${route}?page_size=100`, { as: who });
        const visible = new Set<string>(res.status === 200 ? res.body.data.map((r: { id: string }) => r.id) : []);
        for (const id of every) {
          if ((await api("GET", `/api/${route}/${id}`, { as: who })).status === 200) visible.add(id);
        }
        expect({ table, who, ids: await idsUnderRls(who, table) }).toEqual({ table, who, ids: sortIds([...visible]) });
      }
    }
  });
});

describe("generated app: writes", () => {
  test("201 on create: the owner defaults to the caller and the body is the row", async () => {
    const before = await allIds("project");
    const res = await api("POST", "/api/projects", { as: "m3", body: { name: "Created by m3" } });
    expect({ status: res.status, body: res.body }).toStrictEqual({
      status: 201,
      body: {
        id: expect.stringMatching(UUID),
        name: "Created by m3",
        owner: USERS.m3.id,
        visibility: "private",
        created_at: expect.stringMatching(ISO_TIMESTAMP),
        updated_at: expect.stringMatching(ISO_TIMESTAMP),
      },
    });
    expect(await allIds("project")).toEqual(sortIds([...before, res.body.id]));
    const read = await api("GET", `/api/projects/${res.body.id}`, { as: "m3" });
    expect({ status: read.status, body: read.body }).toStrictEqual({ status: 200, body: res.body });
  });

  test("403 scope_create_denied when a member creates a project for someone else", async () => {
    const before = await allIds("project");
    const res = await api("POST", "/api/projects", { as: "m3", body: { name: "For m1", owner: USERS.m1.id } });
    expectError(res, 403, "scope_create_denied");
    expect(await allIds("project")).toEqual(before);
  });

  test.each([
    ["a missing required field", {}],
    ["a wrong type", { name: 123 }],
    ["a value outside the enum", { name: "x", visibility: "secret" }],
    ["a string over its max length", { name: "x".repeat(121) }],
    ["an unknown field", { name: "x", colour: "red" }],
    ["a JSON array instead of an object", [{ name: "x" }]],
  ])("422 validation_error on %s, and nothing is written", async (_label, body) => {
    const before = await allIds("project");
    expectError(await api("POST", "/api/projects", { as: "m3", body }), 422, "validation_error");
    expect(await allIds("project")).toEqual(before);
  });

  test("400 bad_request on malformed JSON", async () => {
    expectError(await api("POST", "/api/projects", { as: "m3", body: '{"name": ' }), 400, "bad_request");
  });
});

describe("generated app: events", () => {
  test("an SSE client on /api/events receives the event for a write", async () => {
    const stream = await openEventStream(ctx.app!.baseUrl, "/api/events", { token: ctx.tokens.admin });
    ctx.streams.push(stream);
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type") ?? "").toMatch(/^text\/event-stream/);
    await new Promise((r) => setTimeout(r, 200));

    const created = await api("POST", "/api/projects", { as: "m3", body: { name: "Evented", owner: USERS.m3.id } });
    expect(created.status).toBe(201);
    const event = await stream.waitFor((e) => e.event === "Project.created" && JSON.parse(e.data).id === created.body.id);
    const data = JSON.parse(event.data);
    expect(data).toStrictEqual({ seq: expect.anything(), type: "Project.created", entity: "Project", id: created.body.id });
    // The id is the stream's position: this (latest) seq, then any lower seqs not seen yet — e.g.
    // of inserts rolled back by earlier tests (runtime/event-position.ts).
    expect(event.id).toMatch(new RegExp(`^${data.seq}(:[0-9]+(,[0-9]+)*)?$`));
    stream.close();
  });

  test("GET /api/events needs credentials", async () => {
    expectError(await api("GET", "/api/events", { headers: { accept: "text/event-stream" } }), 401, "unauthorized");
  });

  test("an SSE client only receives events for rows it may see", async () => {
    const stream = await openEventStream(ctx.app!.baseUrl, "/api/events", { token: ctx.tokens.m1 });
    ctx.streams.push(stream);
    expect(stream.status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));

    const hidden = await api("PATCH", `/api/projects/${ctx.projects.p3.id}`, { as: "admin", body: { name: "M2 private (renamed)" } });
    expect(hidden.status).toBe(200);
    const visible = await api("PATCH", `/api/projects/${ctx.projects.p2.id}`, { as: "admin", body: { name: "M1 public (renamed)" } });
    expect(visible.status).toBe(200);
    await stream.waitFor((e) => e.event === "Project.updated" && JSON.parse(e.data).id === ctx.projects.p2.id);
    await new Promise((r) => setTimeout(r, 300));
    const seen = stream.events.map((e) => JSON.parse(e.data).id);
    expect(seen).not.toContain(ctx.projects.p3.id);
    stream.close();
  });
});
