/**
 * Sections g and h of `npm run bench` (called by scripts/bench.ts): the generated app's hot path
 * against DESIGN.md §4, on fixtures/e2e-teams generated into a temp folder, migrated into a
 * throwaway database (dropped afterwards) and filled with 10k users, 100k projects, 100k tasks.
 *
 *   g. HTTP throughput of `GET /api/tasks` as a member (a 20-row page of the member's team,
 *      RLS on), 16 keep-alive connections, against two minimal `node:http` + `pg` servers that
 *      verify the same JWT with the same jose and answer the same JSON with a pool of the same
 *      size (pg's default, 10):
 *        A "bare": one SELECT with the scope in its WHERE (the principal's team by subquery), as
 *          the superuser, no RLS — the floor of Node + pg here; target app ≥ 0.5× A;
 *        B "rls": the app's own transaction — the generated BEGIN_SQL (BEGIN + role switch, one
 *          message), CALLER_SQL (settings + principal, and the switch to the member's caller role),
 *          the SELECT the app sends, COMMIT — written at once (one corked write) on a pipelined
 *          connection as the app's readAsCaller does; target app ≥ 0.8× B.
 *      Every server runs in its own process (the app in production mode, the baselines as
 *      `tsx scripts/bench-app.ts baseline <bare|rls>` in the app folder, so they load the app's
 *      pg and jose); the load generator runs here. Runs alternate A, app, B with the order
 *      rotated each round; each run is 1 s warm-up + 5 s counted; medians of 3 rounds. Every
 *      response must be 200 with exactly the body A answers (checked byte for byte once before
 *      the runs, then status + 20 rows on every response).
 *   h. Events: commit → SSE delivery latency at 500 writes/s. A writer commits task inserts as
 *      `dazzle_app` with a member's context (the generated BEGIN_SQL + CALLER_SQL,
 *      INSERT, COMMIT as one multi-statement query, one round trip) straight through SQL rather
 *      than POST: the write rate then does not depend on the app under test (a POST is a probe,
 *      an insert and a read-back, competing with the event pipeline for the app's CPU and pool),
 *      and the commit instant is exact — the clock starts when COMMIT returns. An SSE client
 *      (`GET /api/events` as that member) stamps each event on arrival; p50/p95/p99 over the
 *      events committed after a 1 s warm-up (≥ 2,000). The row reports the write rate achieved;
 *      a second row repeats the run at 100 writes/s (not judged) to tell a saturated pipeline
 *      from a slow one. `DAZZLE_BENCH_ONLY_APP=1 DAZZLE_BENCH_ONLY_EVENTS=1 npm run bench` runs h alone.
 *
 * `DAZZLE_BENCH_APP_PROFILE=<dir>` starts the app with `--cpu-prof --cpu-prof-dir=<dir>` (the
 * profile shows where the app's CPU per request goes beyond B's). The building blocks are exported
 * for ad-hoc comparisons (e.g. two app folders against B).
 */
import { createRequire } from "node:module";
import http from "node:http";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes, randomUUID } from "node:crypto";
import { Client, escapeLiteral, Pool } from "pg";
import {
  childEnv,
  generateApp,
  installAppDependencies,
  run,
  signToken,
  startApp,
  TEST_JWT_SECRET,
  type StartedApp,
} from "../generator/tests/support/app";
import { populateTeams, TEAMS_MEMBER_ROW, TEAMS_SPEC, teamsUserId } from "../generator/tests/support/explain";
import { choosePostgres } from "../generator/tests/support/global-setup";
import { withDatabase } from "../generator/tests/support/pg";

const ROOT = path.resolve(__dirname, "..");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");

const HTTP_CONNECTIONS = 16;
const HTTP_WARMUP_MS = 1_000;
const HTTP_MEASURE_MS = 5_000;
const HTTP_ROUNDS = 3;
const PAGE_ROWS = 20;
const TARGET_VS_BARE = 0.5;
const TARGET_VS_RLS = 0.8;

const EVENT_RATE = 500;
/** A second, unjudged run: the pipeline's own latency when it is not saturated. */
const EVENT_RATE_LOW = 100;
const EVENT_WARMUP_MS = 1_000;
const EVENT_MEASURE_MS = 5_000;
const EVENT_TARGET_P99_MS = 20;

const SIZES = { users: 10_000, projects: 100_000, tasks: 100_000 };
const MEMBER_ID = teamsUserId(TEAMS_MEMBER_ROW);
const MEMBER_TEAM = `team_${TEAMS_MEMBER_ROW % 500}`;
const LIST_PATH = "/api/tasks";

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The value below which `p` of the sorted sample lies (nearest rank). */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} ms`;
const rps = (x: number) => `${Math.round(x)} req/s`;
const atLeast = (ratio: number, target: number) => `≥ ${target.toFixed(2)}× ${ratio >= target ? "ok" : "MISSED"}`;

// ---------------------------------------------------------------------------------------------
// the generated app and its database

export interface Bench {
  readonly appDir: string;
  readonly dbUrl: string;
}

/** Generates fixtures/e2e-teams, links the shared dependencies, migrates with the app's own `npm run migrate`. */
export async function prepareApp(tmp: string, dbUrl: string): Promise<string> {
  const appDir = path.join(tmp, "teams");
  const generated = await generateApp(TEAMS_SPEC, appDir);
  if (generated.exitCode !== 0) throw new Error(`generating ${TEAMS_SPEC} failed:\n${generated.stderr}`);
  await installAppDependencies(appDir);
  const migrated = await run(path.join(appDir, "node_modules/.bin/tsx"), ["src/generated/cli/migrate.ts"], {
    cwd: appDir,
    env: childEnv({ DATABASE_URL: dbUrl }),
    timeoutMs: 120_000,
  });
  if (migrated.exitCode !== 0) throw new Error(`npm run migrate failed:\n${migrated.output}`);
  return appDir;
}

/** A module of the generated app (TypeScript, loaded through tsx), e.g. `./src/generated/context.ts`. */
function appModule<T>(appDir: string, file: string): T {
  return createRequire(path.join(appDir, "package.json"))(file) as T;
}

interface GeneratedContext {
  readonly BEGIN_SQL: string;
  readonly CALLER_SQL: string;
}

/**
 * Starts the app in production mode (no DDL, no development conveniences) as the superuser:
 * `DAZZLE_ALLOW_PRIVILEGED_LOGIN=1`, since the baselines connect as the same login and a
 * superuser is subject to RLS once it switches to `dazzle_app`.
 */
export function startGeneratedApp(b: Bench): Promise<StartedApp> {
  const profileDir = process.env.DAZZLE_BENCH_APP_PROFILE;
  const env = { NODE_ENV: "production", DATABASE_URL: b.dbUrl, DAZZLE_ALLOW_PRIVILEGED_LOGIN: "1" };
  if (!profileDir) return startApp(b.appDir, env); // `tsx src/server.ts`, as `npm start`
  // --cpu-prof is refused in NODE_OPTIONS: run node itself with tsx as its loader.
  const command = [process.execPath, "--cpu-prof", `--cpu-prof-dir=${path.resolve(profileDir)}`, "--import", "tsx", "src/server.ts"] as const;
  return startApp(b.appDir, env, { command, stopSignalTarget: "process" });
}

export function startBaseline(b: Bench, kind: BaselineKind): Promise<StartedApp> {
  return startApp(b.appDir, { NODE_ENV: "production", DATABASE_URL: b.dbUrl }, { command: [TSX, __filename, "baseline", kind] });
}

// ---------------------------------------------------------------------------------------------
// the baseline servers (run in a child process, cwd = the generated app)

export type BaselineKind = "bare" | "rls";

/** The part of jose the baselines use (loaded from the app's node_modules, untyped here). */
interface Jose {
  jwtVerify(token: string, key: Uint8Array, options: { algorithms: string[]; clockTolerance: number }): Promise<{ payload: Record<string, unknown> }>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BEARER = /^Bearer +(\S+)$/i;

/**
 * `GET /api/tasks` for a member, with the app's pg and jose, the app's type parsers (dates as
 * text, so the JSON is the same) and a pool of pg's default size, as the app's. Anything else: 404.
 */
async function serveBaseline(kind: BaselineKind): Promise<void> {
  const appDir = process.cwd();
  const appRequire = createRequire(path.join(appDir, "package.json"));
  const pg = appRequire("pg") as typeof import("pg");
  const jose = appRequire("jose") as Jose;
  const { BEGIN_SQL, CALLER_SQL } = appModule<GeneratedContext>(appDir, "./src/generated/context.ts");
  const { ACCESS } = appModule<{ ACCESS: { scope: { list: { roles: string[] | "*"; sql: string }[] }; listAs?: Record<string, string> } }>(
    appDir,
    "./src/generated/task/access.ts",
  );
  // A member-only caller lists as its caller role with no filter of its own (runtime/access.ts listPlanFor).
  const listAs = ACCESS.listAs?.["member"] ?? "";
  const memberScope = listAs !== "" ? "TRUE" : ACCESS.scope.list.find((r) => r.roles !== "*" && r.roles.includes("member"))!.sql;
  const secret = new TextEncoder().encode(process.env.DAZZLE_JWT_SECRET!);
  const textTypes = new Set([1082, 20, 1700]);
  const pool = new pg.Pool({
    connectionString: process.env.DATABASE_URL,
    options: "-c TimeZone=UTC",
    idleTimeoutMillis: 0,
    keepAlive: true,
    pipeline: true,
    types: { getTypeParser: ((oid: number, format: "text" | "binary") => (textTypes.has(oid) ? (v: string) => v : pg.types.getTypeParser(oid, format))) as never },
  });
  // The SELECT Kysely compiles for the app's list (`selectAll … where <scope> order by id limit offset`).
  const APP_SELECT = `select * from "task" where ${memberScope} order by "id" limit $1 offset $2`;
  const BARE_SELECT = `SELECT * FROM "task" WHERE "team" = (SELECT "team" FROM "user" WHERE "id" = $1) AND "done" = FALSE ORDER BY "id" LIMIT $2 OFFSET $3`;

  const rowsFor = async (userId: string, roles: readonly string[], limit: number, offset: number): Promise<unknown[]> => {
    if (kind === "bare") return (await pool.query(BARE_SELECT, [userId, limit, offset])).rows;
    // As the app's runtime/transaction.ts readAsCaller: the four statements written at once on a
    // pipelined connection, answered in order.
    const client = await pool.connect();
    try {
      const socket = (client as unknown as { connection: { stream: { cork(): void; uncork(): void } } }).connection.stream;
      socket.cork();
      const sent = [
        client.query(BEGIN_SQL),
        client.query(CALLER_SQL, [userId, roles.join(","), roles.length === 1 ? listAs : ""]),
        client.query(APP_SELECT, [limit, offset]),
        client.query("commit"),
      ];
      socket.uncork();
      const settled = await Promise.allSettled(sent);
      const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
      if (failure !== undefined) throw failure.reason;
      return (settled[2] as PromiseFulfilledResult<{ rows: unknown[] }>).value.rows;
    } finally {
      client.release();
    }
  };

  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
    res.end(text);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method !== "GET" || url.pathname !== LIST_PATH) return send(res, 404, { error: { type: "not_found", message: "not found" } });
    const token = BEARER.exec(req.headers.authorization ?? "")?.[1];
    if (token === undefined) return send(res, 401, { error: { type: "unauthorized", message: "authentication required" } });
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jose.jwtVerify(token, secret, { algorithms: ["HS256"], clockTolerance: 5 }));
    } catch {
      return send(res, 401, { error: { type: "unauthorized", message: "invalid token" } });
    }
    const { sub, roles } = payload;
    if (typeof sub !== "string" || !UUID.test(sub) || !Array.isArray(roles)) return send(res, 401, { error: { type: "unauthorized", message: "bad claims" } });
    if (!roles.includes("member")) return send(res, 403, { error: { type: "forbidden", message: "members only" } });
    const page = Number(url.searchParams.get("page") ?? 1);
    const pageSize = Number(url.searchParams.get("page_size") ?? PAGE_ROWS);
    const rows = await rowsFor(sub.toLowerCase(), roles as string[], pageSize, (page - 1) * pageSize);
    send(res, 200, { data: rows, page, page_size: pageSize });
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      console.error(err);
      if (!res.headersSent) send(res, 500, { error: { type: "internal", message: "internal error" } });
    });
  });
  const port = Number(process.env.PORT);
  server.listen(port, "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${port}`));
  process.once("SIGTERM", () => {
    server.close();
    server.closeAllConnections();
    void pool.end().then(() => process.exit(0));
  });
}

// ---------------------------------------------------------------------------------------------
// g: HTTP load

interface HttpReply {
  readonly status: number;
  readonly text: string;
}

function get(agent: http.Agent, baseUrl: string, urlPath: string, token: string): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${baseUrl}${urlPath}`, { agent, headers: { authorization: `Bearer ${token}`, accept: "application/json" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

/** True when a response is the page the bench expects: 200 with exactly PAGE_ROWS rows. */
function isFullPage(r: HttpReply): boolean {
  if (r.status !== 200) return false;
  const body = JSON.parse(r.text) as { data?: unknown[] };
  return Array.isArray(body.data) && body.data.length === PAGE_ROWS;
}

/**
 * CPU time (user + system, ms) of every process in the group `pgid` — the started server and its
 * children (tsx runs the app in a child node): a load-independent cost per request, from
 * /proc (Linux); null where there is none.
 */
function groupCpuMs(pgid: number): number | null {
  let ticks = 0;
  try {
    for (const pid of readdirSync("/proc")) {
      if (!/^[0-9]+$/.test(pid)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      } catch {
        continue; // exited meanwhile
      }
      // Fields after the parenthesised command: state ppid pgrp … utime(14) stime(15).
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid) ticks += Number(fields[11]) + Number(fields[12]);
    }
  } catch {
    return null;
  }
  return (ticks * 1000) / CLOCK_TICKS_PER_S;
}

/** USER_HZ: 100 on every Linux build Node supports. */
const CLOCK_TICKS_PER_S = 100;

export interface Throughput {
  readonly rps: number;
  /** The server's CPU time per request over the counted window (null without /proc). */
  readonly cpuMsPerRequest: number | null;
}

/**
 * Requests/s over HTTP_MEASURE_MS after HTTP_WARMUP_MS, HTTP_CONNECTIONS requests in flight on as
 * many keep-alive sockets. Throws on any response that is not a full page.
 */
export async function throughput(server: StartedApp, token: string): Promise<Throughput> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: HTTP_CONNECTIONS });
  const start = performance.now();
  const from = start + HTTP_WARMUP_MS;
  const until = from + HTTP_MEASURE_MS;
  let counted = 0;
  let bad: HttpReply | null = null;
  let cpuFrom: number | null = null;
  let cpuUntil: number | null = null;
  const marks = [
    setTimeout(() => (cpuFrom = groupCpuMs(server.pid)), HTTP_WARMUP_MS),
    setTimeout(() => (cpuUntil = groupCpuMs(server.pid)), HTTP_WARMUP_MS + HTTP_MEASURE_MS),
  ];
  const worker = async () => {
    while (performance.now() < until && bad === null) {
      const r = await get(agent, server.baseUrl, LIST_PATH, token);
      const done = performance.now();
      if (!isFullPage(r)) bad = r;
      else if (done >= from && done < until) counted++;
    }
  };
  await Promise.all(Array.from({ length: HTTP_CONNECTIONS }, worker));
  marks.forEach(clearTimeout);
  agent.destroy();
  if (bad !== null) throw new Error(`${server.baseUrl}${LIST_PATH}: expected 200 with ${PAGE_ROWS} rows, got ${(bad as HttpReply).status} ${(bad as HttpReply).text.slice(0, 300)}`);
  const cpu = cpuFrom !== null && cpuUntil !== null && counted > 0 ? (cpuUntil - cpuFrom) / counted : null;
  return { rps: counted / (HTTP_MEASURE_MS / 1000), cpuMsPerRequest: cpu };
}

async function benchHttp(rows: string[][], b: Bench, app: StartedApp, token: string): Promise<void> {
  const bare = await startBaseline(b, "bare");
  const rls = await startBaseline(b, "rls");
  try {
    const servers = { A: bare, app, B: rls } as const;
    // Same answer from all three, byte for byte, before anything is timed.
    const agent = new http.Agent({ keepAlive: false });
    const bodies = await Promise.all(Object.values(servers).map((s) => get(agent, s.baseUrl, LIST_PATH, token)));
    for (const [i, name] of Object.keys(servers).entries()) {
      if (!isFullPage(bodies[i]!) || bodies[i]!.text !== bodies[0]!.text) {
        throw new Error(`${name} answered differently from A:\n${bodies[i]!.status} ${bodies[i]!.text.slice(0, 400)}\nA: ${bodies[0]!.text.slice(0, 400)}`);
      }
    }
    const results: Record<keyof typeof servers, Throughput[]> = { A: [], app: [], B: [] };
    const order = Object.keys(servers) as (keyof typeof servers)[];
    for (let round = 0; round < HTTP_ROUNDS; round++) {
      // Rotate the order each round so drift (other processes, caches) hits every server alike.
      for (let k = 0; k < order.length; k++) {
        const name = order[(k + round) % order.length]!;
        results[name].push(await throughput(servers[name], token));
      }
    }
    const rate = (name: keyof typeof servers) => median(results[name].map((t) => t.rps));
    const a = rate("A");
    const x = rate("app");
    const r = rate("B");
    const runs = `${HTTP_CONNECTIONS} conns, ${HTTP_MEASURE_MS / 1000} s × ${HTTP_ROUNDS}`;
    rows.push(["g", `app GET ${LIST_PATH} (member, ${PAGE_ROWS} rows, RLS), ${runs}`, rps(x), `A bare SELECT ${rps(a)}`, `${(x / a).toFixed(2)}×`, atLeast(x / a, TARGET_VS_BARE)]);
    rows.push(["g", `app GET ${LIST_PATH} (member, ${PAGE_ROWS} rows, RLS), ${runs}`, rps(x), `B RLS transaction ${rps(r)}`, `${(x / r).toFixed(2)}×`, atLeast(x / r, TARGET_VS_RLS)]);
    const each = (name: keyof typeof servers) => results[name].map((t) => Math.round(t.rps)).join("/");
    rows.push(["g", `  (runs: A ${each("A")}, app ${each("app")}, B ${each("B")} req/s; B/A ${(r / a).toFixed(2)}×)`, "", "", "", ""]);
    // Throughput on a shared machine follows the CPU share each process gets; the CPU each
    // server spends per request does not, so it says where the time goes.
    const cpu = (name: keyof typeof servers) => {
      const xs = results[name].map((t) => t.cpuMsPerRequest).filter((c): c is number => c !== null);
      return xs.length === 0 ? null : median(xs);
    };
    const [cpuA, cpuApp, cpuB] = [cpu("A"), cpu("app"), cpu("B")];
    if (cpuA !== null && cpuApp !== null && cpuB !== null) {
      rows.push(["g", "server CPU (user+sys) per request, median of the runs", ms(cpuApp), `A ${ms(cpuA)}, B ${ms(cpuB)}`, `${(cpuApp / cpuB).toFixed(2)}× B`, ""]);
    }
  } finally {
    await bare.stop();
    await rls.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// h: events latency

/** Opens `GET /api/events` and stamps every event's entity id with its arrival time. */
function openStamper(baseUrl: string, token: string): Promise<{ arrivals: Map<string, number>; close(): void }> {
  return new Promise((resolve, reject) => {
    const arrivals = new Map<string, number>();
    const req = http.get(`${baseUrl}/api/events`, { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`GET /api/events answered ${res.statusCode}`));
      let buffer = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        const now = performance.now();
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").find((l) => l.startsWith("data: "));
          if (data !== undefined) arrivals.set((JSON.parse(data.slice(6)) as { id: string }).id, now);
        }
      });
      res.on("error", () => undefined);
      resolve({ arrivals, close: () => req.destroy() });
    });
    req.on("error", reject);
  });
}

/**
 * One events run at `rate` writes/s: a row with p50/p95/p99 (judged against the target when
 * `judged`; otherwise a diagnostic row: at a rate the pipeline keeps up with, its own latency).
 */
export async function benchEvents(rows: string[][], b: Bench, app: StartedApp, token: string, rate: number, judged: boolean): Promise<void> {
  const { BEGIN_SQL, CALLER_SQL } = appModule<GeneratedContext>(b.appDir, "./src/generated/context.ts");
  const project = (await withPool(b.dbUrl, 1, (p) => p.query<{ id: string }>('SELECT "id" FROM "project" ORDER BY "id" LIMIT 1'))).rows[0]!.id;
  const stream = await openStamper(app.baseUrl, token);
  const commits = new Map<string, number>();
  let failed: unknown = null;
  const writes = await withPool(b.dbUrl, 16, async (pool) => {
    // One round trip per write (a multi-statement simple query), so the writer keeps its pace on
    // a loaded machine; the values are the bench's own uuids and constants, quoted by pg.
    const quote = escapeLiteral;
    const context = CALLER_SQL.replace("$1", quote(MEMBER_ID)).replace("$2", quote("member")).replaceAll("$3", "''");
    const insert = async () => {
      const id = randomUUID();
      await pool.query(
        `${BEGIN_SQL}; ${context};
         INSERT INTO "task" ("id", "title", "project", "team") VALUES (${quote(id)}, 'bench event', ${quote(project)}, ${quote(MEMBER_TEAM)});
         COMMIT`,
      );
      commits.set(id, performance.now());
    };
    // Paced by the clock, not by completions: at t ms, rate·t/1000 inserts have been started.
    const start = performance.now();
    const end = start + EVENT_WARMUP_MS + EVENT_MEASURE_MS;
    const inFlight = new Set<Promise<void>>();
    let started = 0;
    while (performance.now() < end && failed === null) {
      const due = Math.floor(((performance.now() - start) * rate) / 1000);
      for (; started < due; started++) {
        const p: Promise<void> = insert()
          .catch((e: unknown) => void (failed = e))
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(inFlight);
    return { started, seconds: (performance.now() - start) / 1000, start };
  });
  if (failed !== null) throw failed;
  // Let the stream catch up with the last commits (or show how far behind it is).
  const deadline = performance.now() + 5_000;
  while (performance.now() < deadline && [...commits.keys()].some((id) => !stream.arrivals.has(id))) await new Promise((r) => setTimeout(r, 20));
  stream.close();
  const counted = [...commits].filter(([, at]) => at >= writes.start + EVENT_WARMUP_MS);
  const missing = counted.filter(([id]) => !stream.arrivals.has(id)).length;
  const latencies = counted.filter(([id]) => stream.arrivals.has(id)).map(([id, at]) => stream.arrivals.get(id)! - at).sort((x, y) => x - y);
  if (latencies.length === 0) throw new Error("no event arrived");
  const p99 = percentile(latencies, 0.99);
  const achieved = writes.started / writes.seconds;
  rows.push([
    "h",
    `${judged ? "" : "  "}events: INSERT commit → SSE delivery, ${latencies.length} events, paced ${rate}/s, committed ${Math.round(achieved)}/s${missing > 0 ? ` (${missing} NOT DELIVERED within 5 s)` : ""}`,
    `p50 ${ms(percentile(latencies, 0.5))}`,
    `p95 ${ms(percentile(latencies, 0.95))}`,
    `p99 ${ms(p99)} (max ${ms(latencies[latencies.length - 1]!)})`,
    judged ? `p99 < ${EVENT_TARGET_P99_MS} ms ${p99 < EVENT_TARGET_P99_MS && missing === 0 ? "ok" : "MISSED"}` : "",
  ]);
}

async function withPool<T>(url: string, max: number, fn: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = new Pool({ connectionString: url, max });
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

// ---------------------------------------------------------------------------------------------

/** Sections g and h: appends rows `["g"|"h", what, median, baseline, ratio, target]`. */
export async function benchApp(rows: string[][]): Promise<void> {
  const started = performance.now();
  const loadBefore = os.loadavg()[0]!;
  const pg = await choosePostgres(process.env);
  const name = `dz_bench_app_${randomBytes(6).toString("hex")}`;
  const tmp = mkdtempSync(path.join(os.tmpdir(), "dazzle-bench-app-"));
  const admin = new Client({ connectionString: pg.url });
  await admin.connect();
  let app: StartedApp | null = null;
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE template0`);
    const b: Bench = { appDir: "", dbUrl: withDatabase(pg.url, name) };
    const appDir = await prepareApp(tmp, b.dbUrl);
    const bench: Bench = { ...b, appDir };
    const client = new Client({ connectionString: bench.dbUrl });
    await client.connect();
    try {
      await populateTeams(client, SIZES);
    } finally {
      await client.end();
    }
    app = await startGeneratedApp(bench);
    const token = signToken(MEMBER_ID, ["member"], { secret: TEST_JWT_SECRET });
    // DAZZLE_BENCH_ONLY_EVENTS=1: section h alone (the events pipeline), e.g. to compare before/after.
    if (process.env.DAZZLE_BENCH_ONLY_EVENTS === "1") rows.push(["g", "skipped: DAZZLE_BENCH_ONLY_EVENTS=1", "", "", "", ""]);
    else await benchHttp(rows, bench, app, token);
    await benchEvents(rows, bench, app, token, EVENT_RATE, true);
    await benchEvents(rows, bench, app, token, EVENT_RATE_LOW, false);
    rows.push(["g,h", `  (fixtures/e2e-teams, ${SIZES.tasks / 1000}k tasks; load average ${loadBefore.toFixed(1)} → ${os.loadavg()[0]!.toFixed(1)}; g+h total ${((performance.now() - started) / 1000).toFixed(1)} s)`, "", "", "", ""]);
  } finally {
    await app?.stop();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
    await admin.end().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
    if (pg.source === "embedded") {
      await pg.embedded?.stop();
      if (pg.tempDir) rmSync(pg.tempDir, { recursive: true, force: true });
    }
  }
}

if (require.main === module && process.argv[2] === "baseline") {
  const kind = process.argv[3];
  if (kind !== "bare" && kind !== "rls") throw new Error(`baseline must be bare or rls, got ${kind}`);
  void serveBaseline(kind);
}
