/**
 * Computed fields end to end (issue 4, "Computed fields are computed in SQL and returned by the
 * API"; DSL.md §4.8, §4.11): generate fixtures/e2e-computed, install, type-check under strict,
 * boot once against a fresh database, then assert the exact JSON of every computed form on create,
 * read, list and update:
 *
 * - `days_since`/`days_until` over dates relative to the database's CURRENT_DATE (UTC);
 * - arithmetic: `/` of integers is numeric division (a decimal string, never truncated), `%`
 *   and `*`/`+` stay integers (JSON numbers); scalar `min(a, b)` is LEAST; if/elif/else;
 *   `datetime + 7d`;
 * - count/sum/avg/min/max over child rows, including none (count 0, sum 0, avg/min/max null), and
 *   over only the child rows the caller may list: members do not see private tasks, outsiders
 *   may not list tasks at all;
 * - computed fields are read-only (422 naming the field) and are not columns of the Kysely DB type.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import {
  http,
  signToken,
  type HttpResponse,
  type StartedApp,
} from "../support/app";
import { bootGeneratedApp, type BootedApp } from "../support/boot";
import { withClient, type TestDatabase } from "../support/pg";

const FIXTURE = path.resolve(__dirname, "../../../fixtures/e2e-computed/app.dz");
const USER = "a0000000-0000-4000-8000-000000000003";
const TOKENS = {
  manager: signToken(USER, ["manager"]),
  member: signToken(USER, ["member"]),
  outsider: signToken(USER, ["outsider"]),
} as const;
type Who = keyof typeof TOKENS;

interface Ctx {
  booted?: BootedApp;
  tmp?: string;
  appDir: string;
  db?: TestDatabase;
  app?: StartedApp;
  typecheck?: Promise<{ exitCode: number; output: string }>;
}
const ctx: Ctx = { appDir: "" };

const api = <T = any>(who: Who, method: string, urlPath: string, body?: unknown): Promise<HttpResponse<T>> =>
  http<T>(ctx.app!.baseUrl, method, urlPath, { token: TOKENS[who], body });

/** CURRENT_DATE of the app's sessions (TimeZone UTC) plus `days`, as "YYYY-MM-DD". */
async function day(days: number): Promise<string> {
  return withClient(ctx.db!.url, async (c) => (await c.query<{ d: string }>("SELECT ((now() AT TIME ZONE 'UTC')::date + $1::int)::text AS d", [days])).rows[0]!.d);
}

/** The computed members of a Project body (everything after `created_at`). */
function computedOf(body: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, name: _name, budget: _budget, starts_on: _s, ends_on: _e, hours_per_day: _h, created_at: _c, ...computed } = body;
  return computed;
}

const plusDays = (iso: string, days: number) => new Date(Date.parse(iso) + days * 86_400_000).toISOString();

const NO_TASKS = { task_count: 0, total_hours: 0, avg_hours: null, min_hours: null, max_hours: null, last_due: null };

beforeAll(async () => {
  const booted = await bootGeneratedApp({ name: "computed", spec: { file: FIXTURE } });
  Object.assign(ctx, { booted, tmp: booted.tmp, appDir: booted.appDir, db: booted.db, app: booted.app, typecheck: booted.typecheck });
}, 10 * 60_000);

afterAll(async () => {
  await ctx.booted?.close();
}, 60_000);

describe("computed fields: build", () => {
  test("tsc --noEmit passes under strict", async () => {
    expect(await ctx.typecheck!).toEqual({ exitCode: 0, output: "" });
  }, 5 * 60_000);

  test("computed fields are not columns: neither in the table nor in the Kysely DB type", async () => {
    const columns = await withClient(ctx.db!.url, async (c) =>
      (await c.query<{ name: string }>("SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'project' ORDER BY ordinal_position")).rows.map((r) => r.name),
    );
    expect(columns).toEqual(["id", "name", "budget", "starts_on", "ends_on", "hours_per_day", "created_at"]);
    const db = await readFile(path.join(ctx.appDir, "src/generated/db.ts"), "utf8");
    expect(db).not.toMatch(/task_count|age_days|phase/);
  });
});

describe("computed fields: scalar expressions", () => {
  test("create answers every computed value, typed: ints as numbers, decimals as strings, dates as the API prints them", async () => {
    const res = await api("manager", "POST", "/api/projects", {
      name: "Apollo",
      budget: "100.50",
      starts_on: await day(-10),
      ends_on: await day(5),
      hours_per_day: 7,
    });
    expect(res.status).toBe(201);
    expect(computedOf(res.body)).toEqual({
      age_days: 10,
      days_left: 5,
      overdue: false,
      per_day: "2.3333333333333333",
      leftover: 1,
      doubled: 15,
      half_budget: "50.2500000000000000",
      capped: 7,
      phase: "running",
      review_at: plusDays(res.body.created_at, 7),
      ...NO_TASKS,
    });
  });

  test("null inputs give null (three-valued) except in LEAST, a future start is `upcoming`, a past end is overdue, min(a, b) is LEAST", async () => {
    const empty = await api("manager", "POST", "/api/projects", { name: "Empty" });
    expect(empty.status).toBe(201);
    expect(computedOf(empty.body)).toEqual({
      age_days: null,
      days_left: null,
      overdue: null,
      per_day: null,
      leftover: null,
      doubled: null,
      half_budget: null,
      capped: 8, // LEAST/GREATEST skip NULL arguments (PostgreSQL), unlike the operators
      phase: "unplanned",
      review_at: plusDays(empty.body.created_at, 7),
      ...NO_TASKS,
    });
    const late = await api("manager", "POST", "/api/projects", { name: "Late", starts_on: await day(3), ends_on: await day(-2), hours_per_day: 10 });
    expect(late.status).toBe(201);
    expect(computedOf(late.body)).toEqual({
      age_days: -3,
      days_left: -2,
      overdue: true,
      per_day: "3.3333333333333333",
      leftover: 1,
      doubled: 21,
      half_budget: null,
      capped: 8,
      phase: "upcoming",
      review_at: plusDays(late.body.created_at, 7),
      ...NO_TASKS,
    });
  });

  test("read, list and update answer the same computed values, recomputed after the change", async () => {
    const created = await api("manager", "POST", "/api/projects", { name: "Gemini", hours_per_day: 9 });
    const id = created.body.id as string;
    const read = await api("member", "GET", `/api/projects/${id}`);
    expect({ status: read.status, body: read.body }).toEqual({ status: 200, body: created.body });
    const list = await api("member", "GET", "/api/projects?page_size=100");
    expect(list.body.data.find((p: { id: string }) => p.id === id)).toEqual(created.body);
    const updated = await api("manager", "PATCH", `/api/projects/${id}`, { hours_per_day: 4, budget: "3.00" });
    expect(updated.status).toBe(200);
    expect(computedOf(updated.body)).toEqual({
      age_days: null,
      days_left: null,
      overdue: null,
      per_day: "1.3333333333333333",
      leftover: 1,
      doubled: 9,
      half_budget: "1.5000000000000000",
      capped: 4,
      phase: "unplanned",
      review_at: plusDays(created.body.created_at, 7),
      ...NO_TASKS,
    });
  });
});

describe("computed fields: aggregates over child rows the caller may list", () => {
  let project = "";
  beforeAll(async () => {
    project = (await api("manager", "POST", "/api/projects", { name: "Tasks" })).body.id as string;
    const tasks = [
      { title: "a", hours: 2, due_on: await day(1) },
      { title: "b", hours: 4, due_on: await day(4) },
      { title: "c", hours: 9, due_on: await day(20), private: true },
      { title: "d", hours: null, due_on: null },
    ];
    for (const t of tasks) expect((await api("manager", "POST", "/api/tasks", { project, ...t })).status).toBe(201);
  });

  const aggregates = async (who: Who) => {
    const res = await api(who, "GET", `/api/projects/${project}`);
    expect(res.status).toBe(200);
    const { task_count, total_hours, avg_hours, min_hours, max_hours, last_due } = res.body;
    return { task_count, total_hours, avg_hours, min_hours, max_hours, last_due };
  };

  test("a manager (list scope `all`) aggregates every task; NULL hours are counted but not summed", async () => {
    expect(await aggregates("manager")).toEqual({
      task_count: 4,
      total_hours: 15,
      avg_hours: "5.0000000000000000",
      min_hours: 2,
      max_hours: 9,
      last_due: await day(20),
    });
  });

  test("a member (list scope `private = false`, read scope `all`) aggregates only the public tasks", async () => {
    expect(await aggregates("member")).toEqual({
      task_count: 3,
      total_hours: 6,
      avg_hours: "3.0000000000000000",
      min_hours: 2,
      max_hours: 4,
      last_due: await day(4),
    });
  });

  test("an outsider, who may not list tasks, aggregates no row: count 0, sum 0, avg/min/max null", async () => {
    expect(await aggregates("outsider")).toEqual(NO_TASKS);
  });

  test("the list answers the caller's aggregates too", async () => {
    const list = await api("member", "GET", "/api/projects?page_size=100");
    const { task_count, total_hours, avg_hours, min_hours, max_hours, last_due } = list.body.data.find((p: { id: string }) => p.id === project);
    expect({ task_count, total_hours, avg_hours, min_hours, max_hours, last_due }).toEqual({
      task_count: 3,
      total_hours: 6,
      avg_hours: "3.0000000000000000",
      min_hours: 2,
      max_hours: 4,
      last_due: await day(4),
    });
  });
});

describe("computed fields are read-only", () => {
  test("a computed field in a POST body is a 422 naming it", async () => {
    const res = await api("manager", "POST", "/api/projects", { name: "X", task_count: 3 });
    expect({ status: res.status, body: res.body }).toEqual({
      status: 422,
      body: { error: { type: "validation_error", message: "invalid request body: task_count", details: [{ field: "task_count", message: "is computed (read-only)" }] } },
    });
  });

  test("a computed field in a PATCH body is a 422 naming it, and nothing changes", async () => {
    const created = await api("manager", "POST", "/api/projects", { name: "Y", hours_per_day: 1 });
    const res = await api("manager", "PATCH", `/api/projects/${created.body.id}`, { hours_per_day: 2, phase: "done" });
    expect({ status: res.status, body: res.body }).toEqual({
      status: 422,
      body: { error: { type: "validation_error", message: "invalid request body: phase", details: [{ field: "phase", message: "is computed (read-only)" }] } },
    });
    expect((await api("manager", "GET", `/api/projects/${created.body.id}`)).body).toEqual(created.body);
  });
});
