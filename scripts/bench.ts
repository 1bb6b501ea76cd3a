/**
 * `npm run bench`: the generator's speed (DESIGN.md §4, issue 3 acceptance 4), as a small table
 * of medians with a baseline measured in the same run, so the ratios carry across machines:
 *
 *   a. parse+link+check+lower (`readProject` + `analyze`) of the largest corpus project, warm,
 *      against reading and `JSON.parse`-ing a JSON document of the same byte size;
 *   b. `dazzle-gen check` of that project as a cold process, against `node -e 0`;
 *   c. full generation of fixtures/e2e-teams as a cold process;
 *   d. full generation of synthetic specs of 50…500 entities, to show the cost is linear;
 *   e. RLS at the SQL level (issue 5 acceptance 4): a scoped list of 20 rows of a 1,000,000-row
 *      table of fixtures/e2e-teams, EXPLAIN (ANALYZE, TIMING OFF) execution time, median of alternating runs, as
 *      `dazzle_app` with the caller's context (policy + app filter) against the superuser running
 *      the same SQL with RLS bypassed — target: RLS adds at most 10 %;
 *   f. EXPLAIN of every generated list query of fixtures/e2e-teams on that populated database, as
 *      `dazzle_app` with a member's context: the index the plan scans (printed after the table);
 *   g. the generated app's throughput (scripts/bench-app.ts): `GET /api/tasks` of fixtures/e2e-teams
 *      as a member (20 rows, RLS), 16 connections, against two minimal node:http + pg servers
 *      verifying the same JWT — A: the bare SELECT with the scope in its WHERE, no RLS (target
 *      ≥ 0.5×); B: the app's own RLS transaction statement by statement (target ≥ 0.8×) — plus
 *      each server's CPU per request;
 *   h. events: commit → SSE delivery latency p50/p95/p99 at 500 writes/s (target p99 < 20 ms).
 *
 * e–h build their tables with generate_series in a throwaway database (dropped afterwards) on
 * DATABASE_URL, else 127.0.0.1:5432, else an embedded PostgreSQL (as the tests choose).
 * DAZZLE_BENCH_ONLY_DB=1 runs e and f alone, DAZZLE_BENCH_SKIP_DB=1 runs a–d alone,
 * DAZZLE_BENCH_ONLY_APP=1 runs g and h alone.
 * Targets are reported, never asserted; the script exits 0 unless something could not run.
 * The processes run `dist/`, which is rebuilt first when a source is newer.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { analyze } from "../generator/compile";
import { readProject } from "../generator/read-project";
import { Client } from "pg";
import { CORPUS_DIR, corpusPresent, corpusProjects } from "../generator/tests/support/corpus";
import {
  applyMigration,
  appListQuery,
  asCaller,
  explain,
  irOf,
  listQueries,
  populateTeams,
  scanNodes,
  TEAMS_SPEC,
  teamsMember,
  teamsUserId,
  type Caller,
  type ListQuery,
} from "../generator/tests/support/explain";
import { choosePostgres } from "../generator/tests/support/global-setup";
import { withDatabase } from "../generator/tests/support/pg";
import { benchApp } from "./bench-app";

const ROOT = path.resolve(__dirname, "..");
const CLI = path.join(ROOT, "dist/generator/cli.js");
const TMP = mkdtempSync(path.join(os.tmpdir(), "dazzle-bench-"));

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The mean of the middle 80 % (10 % cut at each end). */
function trimmedMean(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const cut = Math.floor(s.length / 10);
  const kept = s.slice(cut, s.length - cut);
  return kept.reduce((a, b) => a + b, 0) / kept.length;
}

/** Median wall time in ms of `runs` calls, after `warmup` untimed ones. */
function time(runs: number, f: () => void, warmup = 0): number {
  for (let i = 0; i < warmup; i++) f();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    f();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

/** Runs `node <args>` and fails loudly unless it exits with `expectStatus`. */
function node(args: readonly string[], expectStatus = 0): void {
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8" });
  if (r.status !== expectStatus) throw new Error(`node ${args.join(" ")} exited ${r.status}:\n${r.stderr}`);
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "tests") newest = Math.max(newest, newestSource(full));
    } else if (/\.(ts|js)$/.test(e.name)) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

function ensureBuilt(): void {
  let built = 0;
  try {
    built = statSync(CLI).mtimeMs;
  } catch {
    // not built yet
  }
  if (built >= newestSource(path.join(ROOT, "generator"))) return;
  process.stderr.write("dist/ is stale: npm run build\n");
  const r = spawnSync("npm", ["run", "-s", "build"], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error("npm run build failed");
}

/** A valid spec with `n` entities (User plus n − 1 others), every field type, refs and rules. */
function syntheticSpec(n: number): string {
  const out = [
    "module synth",
    "",
    `app synth "Synthetic ${n}":`,
    '  description: "generated by scripts/bench.ts"',
    "",
    'persona admin "Admin":',
    '  description: "everything"',
    'persona member "Member":',
    '  description: "own rows and their team"',
    "",
    'entity User "User":',
    "  id: uuid pk",
    "  email: email required unique",
    "  team: str(40) required",
    "  permit:",
    "    list: role(admin) or role(member)",
    "    read: role(admin) or role(member)",
    "  scope:",
    "    list: all",
    "      as: admin",
    "    list: team = current_user.team",
    "      as: member",
    "    read: id = current_user",
    "      as: member",
    "    read: all",
    "      as: admin",
  ];
  for (let i = 1; i < n; i++) {
    out.push(
      "",
      `entity Thing${i} "Thing ${i}":`,
      "  id: uuid pk",
      "  title: str(120) required",
      "  body: text",
      "  quantity: int=0",
      "  done: bool=false",
      "  due: date",
      "  created_at: datetime auto_add",
      "  updated_at: datetime auto_update",
      "  contact: email",
      "  state: enum[draft,open,closed]=draft",
      "  team: str(40) required",
      "  owner: ref User required",
      ...(i > 1 ? [`  parent: ref Thing${i - 1}`] : []),
      "  permit:",
      "    list: role(admin) or role(member)",
      "    read: role(admin) or role(member)",
      "    create: role(admin) or role(member)",
      "    update: role(admin) or role(member)",
      "    delete: role(admin)",
      "  scope:",
      "    list: all",
      "      as: admin",
      "    list: owner = current_user or (team = current_user.team and state = open)",
      "      as: member",
      "    read: all",
      "      as: admin",
      "    read: owner = current_user or team = current_user.team",
      "      as: member",
      "    create: team = current_user.team",
      "      as: member",
      "    create: all",
      "      as: admin",
      "    update: owner = current_user and not (state = closed)",
      "      as: member",
      "    update: all",
      "      as: admin",
      "    delete: all",
      "      as: admin",
    );
  }
  return out.join("\n") + "\n";
}

/** The corpus project with the most spec bytes. */
function largestCorpusProject(): { dir: string; bytes: number } {
  const sized = [...corpusProjects("examples"), ...corpusProjects("fixtures")].map((dir) => ({
    dir,
    bytes: readProject(dir).files.reduce((sum, f) => sum + Buffer.byteLength(f.text), 0),
  }));
  return sized.reduce((a, b) => (b.bytes > a.bytes ? b : a));
}

/** A JSON document (spec-like records) of at least `bytes` bytes. */
function jsonOfSize(bytes: number): string {
  const rows: object[] = [];
  let size = 2;
  for (let i = 0; size < bytes; i++) {
    const row = { entity: `Entity${i % 97}`, field: `field_${i}`, type: i % 3 === 0 ? "str(120)" : "ref User", required: i % 2 === 0, rule: "owner = current_user" };
    rows.push(row);
    size += JSON.stringify(row).length + 1;
  }
  return JSON.stringify(rows);
}

const ms = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(x < 10 ? 2 : 0)} ms`);
const verdict = (x: number, target: number) => `< ${target >= 1000 ? `${target / 1000} s` : `${target} ms`} ${x < target ? "ok" : "MISSED"}`;

function bench(rows: string[][]): void {
  ensureBuilt();

  const nodeStart = time(7, () => node(["-e", "0"]), 1);
  if (corpusPresent) {
    const { dir, bytes } = largestCorpusProject();
    const name = path.relative(CORPUS_DIR, dir);
    const kb = `${Math.round(bytes / 1024)} KB`;
    const jsonFile = path.join(TMP, "same-size.json");
    writeFileSync(jsonFile, jsonOfSize(bytes));
    const parseJson = time(25, () => JSON.parse(readFileSync(jsonFile, "utf8")), 5);
    const front = time(25, () => analyze(readProject(dir)), 5);
    rows.push(["a", `analyze ${name} (${kb}), warm, 25 runs`, ms(front), `JSON.parse ${kb} ${ms(parseJson)}`, `${(front / parseJson).toFixed(0)}×`, verdict(front, 150)]);
    const check = time(7, () => node([CLI, "check", dir]), 1);
    rows.push(["b", `cli check ${name}, cold, 7 runs`, ms(check), `node -e 0 ${ms(nodeStart)}`, `${(check / nodeStart).toFixed(1)}×`, verdict(check, 1000)]);
  } else {
    rows.push(["a,b", `skipped: shared corpus not found at ${CORPUS_DIR}`, "", "", "", ""]);
  }

  let runNo = 0;
  const generate = (spec: string) => node([CLI, spec, "-o", path.join(TMP, `out-${runNo++}`)]);
  const teams = time(5, () => generate(path.join(ROOT, "fixtures/e2e-teams/app.dz")), 1);
  rows.push(["c", "cli generate fixtures/e2e-teams, cold, 5 runs", ms(teams), `node -e 0 ${ms(nodeStart)}`, `${(teams / nodeStart).toFixed(1)}×`, verdict(teams, 1500)]);

  let first: { n: number; t: number } | null = null;
  for (const n of [50, 100, 250, 500]) {
    const spec = path.join(TMP, `synthetic-${n}.dz`);
    writeFileSync(spec, syntheticSpec(n));
    const t = time(3, () => generate(spec));
    first ??= { n, t };
    // Linear cost: the time grows no faster than the size (less, while the fixed cost amortises).
    const growth = n === first.n ? "" : `${n / first.n}× size → ${(t / first.t).toFixed(1)}× time`;
    rows.push(["d", `cli generate synthetic ${n} entities, 3 runs`, ms(t), growth, `${(t / n).toFixed(1)} ms/entity`, n === 500 ? verdict(t, 10000) : ""]);
  }

}

// ---------------------------------------------------------------------------------------------
// e, f: RLS cost and index use at the SQL level

const RLS_ROWS = 1_000_000;
/**
 * EXPLAIN ANALYZE reports whole microseconds, and these lists take 20–500 µs: a median of so few
 * distinct values moves by a whole step (5 % of 20 µs) on noise. The statistic is the mean of the
 * middle 80 % of many alternating runs, which resolves well below a microsecond.
 */
const RLS_RUNS = 201;
const RLS_WARMUP = 5;
const RLS_TARGET = 1.1;

/**
 * `EXPLAIN (ANALYZE, TIMING OFF)` execution time in ms of one run: as dazzle_app (RLS on) or as the
 * superuser (bypassed). TIMING OFF keeps the total but not the per-node clock reads, which would
 * otherwise charge every extra plan node (a policy's init-plans) with instrumentation cost.
 */
async function executionMs(client: Client, sql: string, rls: boolean, member: Caller = teamsMember(), role = "dazzle_app"): Promise<number> {
  const run = async () => (await client.query(`EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ${sql}`)).rows[0]["QUERY PLAN"][0]["Execution Time"] as number;
  if (rls) return asCaller(client, member, run, role);
  // The same context settings, so the app filter's `(SELECT dazzle_user_id())` reads the same values.
  await client.query("BEGIN");
  try {
    await client.query("SELECT set_config('dazzle.user_id', $1, true), set_config('dazzle.roles', 'member', true), set_config('dazzle.user_team', $2, true)", [
      member.userId,
      member.attrs!.team,
    ]);
    return await run();
  } finally {
    await client.query("ROLLBACK");
  }
}

const planSummary = (plan: unknown, table: string) =>
  scanNodes(plan)
    .filter((n) => n.relation === table || n.index !== undefined)
    .map((n) => `${n.node}${n.index ? ` ${n.index}` : ""}`)
    .join(" + ");

async function benchDatabase(rows: string[][], plans: string[]): Promise<void> {
  const pg = await choosePostgres(process.env);
  const name = `dz_bench_${randomBytes(6).toString("hex")}`;
  const admin = new Client({ connectionString: pg.url });
  await admin.connect();
  let client: Client | null = null;
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE template0`);
    client = new Client({ connectionString: withDatabase(pg.url, name) });
    await client.connect();
    const ir = irOf(TEAMS_SPEC);
    await applyMigration(client, ir);
    const load = performance.now();
    const sectionStart = load;
    await populateTeams(client, { users: 10_000, projects: RLS_ROWS, tasks: RLS_ROWS });
    const loadMs = performance.now() - load;
    const version = (await client.query("SHOW server_version")).rows[0].server_version as string;

    const measure = async (q: ListQuery, caller: Caller, note: string) => {
      const table = q.table;
      const total = Number((await client!.query(`SELECT count(*) FROM "${table}"`)).rows[0].count);
      // RLS on: the query the app sends for this caller, as the role it runs as (a caller role
      // with the residual filter when the role has a list plan). RLS off: the rule's whole
      // filter as the superuser (policies bypassed). Both return the same rows.
      const app = appListQuery(ir, q, caller.roles[0]!);
      const returned = await asCaller(client!, caller, async () => (await client!.query(app.sql)).rowCount ?? 0, app.role);
      const bare = await asCaller(client!, caller, async () => (await client!.query(q.sql)).rowCount ?? 0);
      if (returned !== bare) throw new Error(`${q.rule}: ${returned} rows as ${app.role}, ${bare} with the whole filter as dazzle_app`);
      const on: number[] = [];
      const off: number[] = [];
      for (let i = 0; i < RLS_WARMUP; i++) {
        await executionMs(client!, app.sql, true, caller, app.role);
        await executionMs(client!, q.sql, false, caller);
      }
      for (let i = 0; i < RLS_RUNS; i++) {
        // Alternate the order so drift (caches, autovacuum) hits both sides alike.
        if (i % 2 === 0) {
          on.push(await executionMs(client!, app.sql, true, caller, app.role));
          off.push(await executionMs(client!, q.sql, false, caller));
        } else {
          off.push(await executionMs(client!, q.sql, false, caller));
          on.push(await executionMs(client!, app.sql, true, caller, app.role));
        }
      }
      const ratio = trimmedMean(on) / trimmedMean(off);
      const size = total >= 1_000_000 ? `${total / 1_000_000}M` : `${Math.round(total / 1000)}k`;
      rows.push([
        "e",
        `${q.rule} list of ${returned} rows${note}, ${size} rows, RLS on as ${app.role}, ${RLS_RUNS} runs`,
        `${(trimmedMean(on) * 1000).toFixed(1)} µs`,
        `RLS off ${(trimmedMean(off) * 1000).toFixed(1)} µs`,
        `${ratio.toFixed(2)}×`,
        `≤ ${RLS_TARGET.toFixed(2)}× ${ratio <= RLS_TARGET ? "ok" : "MISSED"}`,
      ]);
    };
    const queries = listQueries(ir, ["list"]);
    for (const q of queries) await measure(q, teamsMember(), "");
    // Worst case of `ORDER BY id LIMIT 20` walking the primary key: a caller whose scope matches
    // nothing (a team without tasks) makes the walk read the whole index.
    const task = queries.find((q) => q.rule === "Task.list.2");
    if (task) await measure(task, { userId: teamsUserId(1), roles: ["member"], attrs: { team: "team_without_tasks" } }, " (empty team: worst case)");
    rows.push(["e", `  (PostgreSQL ${version.split(" ")[0]}; load ${RLS_ROWS / 1_000_000}M projects + ${RLS_ROWS / 1_000_000}M tasks ${ms(loadMs)}; e+f total SECTION_TIME)`, "", "", "", ""]);
    const timeRow = rows.length - 1;

    for (const q of listQueries(ir, ["list"])) {
      const caller = teamsMember();
      const app = appListQuery(ir, q, caller.roles[0]!);
      const plan = await explain(client, caller, app.sql, false, app.role);
      const summary = planSummary(plan, q.table);
      const wanted = q.columns.flat();
      const indexes = (await client.query<{ indexname: string; indexdef: string }>("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1", [q.table])).rows;
      const onColumn = indexes.filter((i) => wanted.some((c) => new RegExp(`\\("?${c}"?[,)]`).test(i.indexdef))).map((i) => i.indexname);
      const used = scanNodes(plan).filter((n) => n.index !== undefined).map((n) => n.index!);
      const seq = scanNodes(plan).some((n) => n.node === "Seq Scan" && n.relation === q.table);
      const verdict = seq ? "SEQ SCAN" : used.some((i) => onColumn.includes(i)) ? "index on filter ok" : used.length > 0 ? `other index (${onColumn.join(", ") || "none"} unused)` : "no index";
      rows.push(["f", `EXPLAIN ${q.rule}: ${q.source}`, summary, "", "", verdict]);
      const analyzed = await asCaller(
        client,
        caller,
        async () => (await client!.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) ${app.sql}`)).rows.map((r) => r["QUERY PLAN"] as string),
        app.role,
      );
      plans.push(`-- ${q.rule} (${q.source}) as ${app.role}, member of ${caller.attrs!.team}:\n${app.sql}\n${analyzed.filter((l) => !/^\s*(InitPlan|->\s+Result)/.test(l)).join("\n")}`);
    }
    rows[timeRow]![1] = rows[timeRow]![1]!.replace("SECTION_TIME", ms(performance.now() - sectionStart));
  } finally {
    await client?.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
    await admin.end().catch(() => undefined);
    if (pg.source === "embedded") {
      await pg.embedded?.stop();
      if (pg.tempDir) rmSync(pg.tempDir, { recursive: true, force: true });
    }
  }
}

async function main(): Promise<void> {
  const rows: string[][] = [["", "what", "median", "baseline", "ratio", "target"]];
  const plans: string[] = [];
  const started = performance.now();
  // DAZZLE_BENCH_ONLY_DB=1 runs e and f alone; DAZZLE_BENCH_SKIP_DB=1 runs a–d alone;
  // DAZZLE_BENCH_ONLY_APP=1 runs g and h alone (scripts/bench-app.ts).
  const env = process.env;
  const onlyApp = env.DAZZLE_BENCH_ONLY_APP === "1";
  if (env.DAZZLE_BENCH_ONLY_DB === "1" || onlyApp) rows.push(["a–d", `skipped: DAZZLE_BENCH_ONLY_${onlyApp ? "APP" : "DB"}=1`, "", "", "", ""]);
  else bench(rows);
  if (env.DAZZLE_BENCH_SKIP_DB === "1" || onlyApp) rows.push(["e,f", `skipped: DAZZLE_BENCH_${onlyApp ? "ONLY_APP" : "SKIP_DB"}=1`, "", "", "", ""]);
  else await benchDatabase(rows, plans);
  if (env.DAZZLE_BENCH_SKIP_DB === "1" || env.DAZZLE_BENCH_ONLY_DB === "1") rows.push(["g,h", `skipped: DAZZLE_BENCH_${env.DAZZLE_BENCH_SKIP_DB === "1" ? "SKIP" : "ONLY"}_DB=1`, "", "", "", ""]);
  else await benchApp(rows);

  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  process.stdout.write(`bench: node ${process.version}, ${os.cpus().length} cpus, load average ${os.loadavg()[0]!.toFixed(1)} (medians, e: trimmed means; ratios against baselines of this run)\n`);
  for (const r of rows) process.stdout.write(r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd() + "\n");
  for (const p of plans) process.stdout.write(`\n${p}\n`);
  process.stdout.write(`\nbench: total ${ms(performance.now() - started)}\n`);
}

main()
  .catch((e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  })
  .finally(() => rmSync(TMP, { recursive: true, force: true }));
