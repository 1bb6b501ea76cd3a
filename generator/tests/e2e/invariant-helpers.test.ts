/**
 * Invariants that read other rows hold whatever the caller may see (DSL.md §4.10, issue 4).
 *
 * The spec below (written to a temp dir, not a golden fixture): a clerk may file invoices but has
 * neither a permit nor a scope rule to read projects, so under RLS a Project row is invisible to
 * the clerk's transaction. `invariant: amount <= project.budget` on Invoice used to be probed
 * inline, where the hidden budget read as NULL and the invariant passed; it now goes through its
 * `SECURITY DEFINER` helper `dz_inv_…`, so
 *
 * - the clerk gets 422 invariant_violation over budget and 201 within it, on create and update;
 * - connected as `dazzle_app` (no session: RLS hides every project), the helper answers the
 *   boolean and nothing else, is owned by dazzle_definer, and only dazzle_app may execute it;
 * - db:verify knows the helper: no drift, then `missing function` once it is dropped (last test).
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import {
  childEnv,
  generateApp,
  http,
  installAppDependencies,
  makeTempDir,
  removeTempDir,
  run,
  signToken,
  startApp,
  type HttpResponse,
  type StartedApp,
} from "../support/app";
import { createTestDatabase, withClient, type TestDatabase } from "../support/pg";

const SPEC = `module invhelpers

app invhelpers "Invariant helpers"

persona admin "Administrator":
  description: "Runs the projects and their budgets"

persona clerk "Clerk":
  description: "Files invoices; may not read projects"

entity Project "Project":
  name: str(80) required
  budget: int

  permit:
    list: role(admin)
    read: role(admin)
    create: role(admin)

  scope:
    list: all
      as: admin
    read: all
      as: admin
    create: all
      as: admin

entity Invoice "Invoice":
  project: ref Project required
  amount: int required
  invariant: amount <= project.budget
    message: "Amount exceeds the project's budget"
    code: within_budget

  permit:
    list: authenticated
    read: authenticated
    create: authenticated
    update: authenticated
`;

const TOKENS = {
  admin: signToken("a0000000-0000-4000-8000-000000000001", ["admin"]),
  clerk: signToken("a0000000-0000-4000-8000-000000000002", ["clerk"]),
} as const;

const ctx: { tmp?: string; appDir: string; db?: TestDatabase; app?: StartedApp; helper: string } = { appDir: "", helper: "" };

const api = <T = any>(who: keyof typeof TOKENS, method: string, urlPath: string, body?: unknown): Promise<HttpResponse<T>> =>
  http<T>(ctx.app!.baseUrl, method, urlPath, { token: TOKENS[who], body });
const outcome = (res: HttpResponse) => ({ status: res.status, body: res.body });

/** Runs `text` as dazzle_app on a connection without any dazzle.* session setting. */
const asApp = <R extends Record<string, unknown>>(text: string, values: unknown[] = []) =>
  withClient(ctx.db!.url, async (c) => {
    await c.query("SET ROLE dazzle_app");
    return (await c.query<R>(text, values)).rows;
  });
const sql = <R extends Record<string, unknown>>(text: string, values: unknown[] = []) =>
  withClient(ctx.db!.url, async (c) => (await c.query<R>(text, values)).rows);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const OVER_BUDGET = {
  status: 422,
  body: { error: { type: "invariant_violation", message: "Amount exceeds the project's budget", code: "within_budget" } },
};

async function project(budget: number | null): Promise<string> {
  const res = await api("admin", "POST", "/api/projects", { name: `P ${budget}`, budget });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

beforeAll(async () => {
  ctx.tmp = await makeTempDir("dz-e2e-invhelpers-");
  const spec = path.join(ctx.tmp, "app.dz");
  await fs.writeFile(spec, SPEC);
  ctx.appDir = path.join(ctx.tmp, "app");
  const generated = await generateApp(spec, ctx.appDir);
  if (generated.exitCode !== 0) throw new Error(`dazzle-gen exited ${generated.exitCode}:\n${generated.stderr}`);
  const migration = await fs.readFile(path.join(ctx.appDir, "migrations/committed/000001-initial.sql"), "utf8");
  const names = [...new Set(migration.match(/dz_inv_[0-9a-f]{8}/g))];
  expect(names).toHaveLength(1);
  ctx.helper = names[0]!;
  await installAppDependencies(ctx.appDir);
  ctx.db = await createTestDatabase("e2e_invhelpers");
  ctx.app = await startApp(ctx.appDir, { DATABASE_URL: ctx.db.url });
}, 10 * 60_000);

afterAll(async () => {
  await ctx.app?.stop().catch(() => undefined);
  await ctx.db?.drop();
  await removeTempDir(ctx.tmp);
}, 60_000);

describe("a caller who cannot read the referenced row", () => {
  test("the clerk cannot see the project (permit 403; RLS hides it from dazzle_app)", async () => {
    const id = await project(100);
    expect(outcome(await api("clerk", "GET", `/api/projects/${id}`))).toEqual({
      status: 403,
      body: { error: { type: "forbidden", message: "not permitted to read Project", rule: "Project.read.permit" } },
    });
    expect(await asApp("SELECT id FROM project WHERE id = $1", [id])).toEqual([]);
  });

  test("create: over budget is 422 invariant_violation; within budget is 201", async () => {
    const id = await project(100);
    expect(outcome(await api("clerk", "POST", "/api/invoices", { project: id, amount: 101 }))).toEqual(OVER_BUDGET);
    expect(await sql("SELECT amount FROM invoice WHERE project = $1", [id])).toEqual([]);
    const ok = await api("clerk", "POST", "/api/invoices", { project: id, amount: 100 });
    expect(outcome(ok)).toEqual({ status: 201, body: { id: expect.stringMatching(UUID), project: id, amount: 100 } });
    expect(await sql("SELECT id, amount FROM invoice WHERE project = $1", [id])).toEqual([{ id: ok.body.id, amount: 100 }]);
  });

  test("update: raising the amount over budget is 422 and changes nothing; within budget is 200", async () => {
    const id = await project(100);
    const created = await api("clerk", "POST", "/api/invoices", { project: id, amount: 50 });
    expect(created.status).toBe(201);
    const invoice = created.body.id as string;
    expect(outcome(await api("clerk", "PATCH", `/api/invoices/${invoice}`, { amount: 150 }))).toEqual(OVER_BUDGET);
    expect(await sql("SELECT amount FROM invoice WHERE id = $1", [invoice])).toEqual([{ amount: 50 }]);
    expect(outcome(await api("clerk", "PATCH", `/api/invoices/${invoice}`, { amount: 100 }))).toEqual({
      status: 200,
      body: { id: invoice, project: id, amount: 100 },
    });
    expect(await sql("SELECT amount FROM invoice WHERE id = $1", [invoice])).toEqual([{ amount: 100 }]);
  });

  test("a project without a budget: `amount <= NULL` is NULL, which passes (CHECK semantics)", async () => {
    const id = await project(null);
    const res = await api("clerk", "POST", "/api/invoices", { project: id, amount: 1_000_000 });
    expect(outcome(res)).toEqual({ status: 201, body: { id: expect.stringMatching(UUID), project: id, amount: 1_000_000 } });
  });
});

describe("the helper as dazzle_app", () => {
  test("returns only the invariant's boolean over rows RLS hides from dazzle_app", async () => {
    const id = await project(100);
    expect(await asApp("SELECT count(*)::int AS n FROM project")).toEqual([{ n: 0 }]);
    expect(await asApp(`SELECT "${ctx.helper}"($1, $2) AS ok`, [101, id])).toEqual([{ ok: false }]);
    expect(await asApp(`SELECT "${ctx.helper}"($1, $2) AS ok`, [100, id])).toEqual([{ ok: true }]);
    // The inline form the probe used before: the hidden budget reads NULL, so 101 <= budget "passed".
    const inline = `SELECT ($1::integer <= (SELECT "dz_r1"."budget" FROM "project" AS "dz_r1" WHERE "dz_r1"."id" = $2)) AS ok`;
    expect(await asApp(inline, [101, id])).toEqual([{ ok: null }]);
  });

  test("is SECURITY DEFINER, STABLE, returns boolean, search_path pinned, owned by dazzle_definer, executable by dazzle_app only", async () => {
    expect(
      await sql(
        `SELECT pg_get_function_identity_arguments(p.oid) AS args, pg_get_function_result(p.oid) AS result, p.prosecdef AS definer,
                p.provolatile AS volatility, p.proconfig AS config, pg_get_userbyid(p.proowner) AS owner, p.proacl::text[] AS acl,
                obj_description(p.oid, 'pg_proc') AS comment
           FROM pg_proc p WHERE p.proname = $1`,
        [ctx.helper],
      ),
    ).toEqual([
      {
        args: "integer, uuid",
        result: "boolean",
        definer: true,
        volatility: "s",
        config: ["search_path=public, pg_temp"],
        owner: "dazzle_definer",
        acl: ["dazzle_definer=X/dazzle_definer", "dazzle_app=X/dazzle_definer"],
        comment: "dazzle-gen invariant helper: Invoice: amount <= project.budget",
      },
    ]);
  });
});

describe("db:verify", () => {
  const verify = async () => {
    const result = await run("npm", ["run", "--silent", "db:verify"], { cwd: ctx.appDir, env: childEnv({ DATABASE_URL: ctx.db!.url }), timeoutMs: 120_000 });
    return { exitCode: result.exitCode, stdout: result.stdout };
  };

  // Last in the file: it drops the helper.
  test("reports no drift with the helper, and the missing helper once it is dropped", async () => {
    expect(await verify()).toEqual({ exitCode: 0, stdout: "the database matches the schema snapshot (4 tables)\n" });
    await sql(`DROP FUNCTION "${ctx.helper}"(integer, uuid)`);
    expect(await verify()).toEqual({ exitCode: 1, stdout: expect.stringContaining(`missing function "${ctx.helper}"(integer, uuid)\n`) });
  }, 5 * 60_000);
});
