/**
 * `npm start` of a generated app with no DATABASE_URL: the app starts its embedded PostgreSQL
 * (data under `<app>/.dazzle/`), migrates, serves, and shuts everything down on SIGTERM.
 */
import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import {
  generateApp,
  http,
  installAppDependencies,
  makeTempDir,
  removeTempDir,
  startApp,
  type StartedApp,
  type StopResult,
} from "../support/app";

const FIXTURE = path.resolve(__dirname, "../../../fixtures/e2e-teams/app.dz");

let tmp: string | undefined;
let appDir = "";
let app: StartedApp | undefined;
/** What the last stopped app printed (shown in failure diffs). */
let lastOutput = "";

/** Processes whose command line mentions `needle` (Linux /proc). */
async function processesMentioning(needle: string): Promise<string[]> {
  if (!existsSync("/proc")) return [];
  const found: string[] = [];
  for (const entry of await fs.readdir("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await fs.readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(needle)) found.push(`${entry}: ${cmdline.replace(/\0/g, " ").trim()}`);
  }
  return found;
}

beforeAll(async () => {
  tmp = await makeTempDir("dz-e2e-embedded-"); // world-traversable: PostgreSQL runs as `postgres`
  appDir = path.join(tmp, "app");
  const generated = await generateApp(FIXTURE, appDir);
  if (generated.exitCode !== 0) {
    throw new Error(`dazzle-gen exited ${generated.exitCode}:\n${generated.stderr}\n${generated.stdout}`);
  }
  await installAppDependencies(appDir);
}, 10 * 60_000);

afterAll(async () => {
  await app?.stop(5000).catch(() => undefined);
  await removeTempDir(tmp);
}, 60_000);

/** Starts the app with no DATABASE_URL (startApp also strips PG* and npm's variables). */
async function startAndCheck(command?: readonly [string, ...string[]]): Promise<void> {
  app = await startApp(appDir, { DATABASE_URL: undefined }, { command, timeoutMs: 120_000 });
  const health = await http(app.baseUrl, "GET", "/api/health");
  expect({ status: health.status, body: health.body }).toStrictEqual({ status: 200, body: { status: "ok" } });
  // Migrated: the API answers with its own errors (401 before anything else), not a 500.
  const unauthenticated = await http(app.baseUrl, "GET", "/api/projects");
  expect({ status: unauthenticated.status, type: unauthenticated.body?.error?.type }).toEqual({ status: 401, type: "unauthorized" });
  const dataDir = path.join(appDir, ".dazzle", "pg");
  expect(existsSync(path.join(dataDir, "PG_VERSION"))).toBe(true);
  expect(existsSync(path.join(dataDir, "postmaster.pid"))).toBe(true);
}

/** SIGTERM; the app and its PostgreSQL must be gone within the grace period, not killed. */
async function stopAndCheck(): Promise<StopResult> {
  const started = app!;
  app = undefined;
  const exit = await started.stop(20_000);
  lastOutput = started.output().slice(-4000);
  expect({ forced: exit.forced, output: lastOutput }).toEqual({ forced: false, output: expect.any(String) });
  const dataDir = path.join(appDir, ".dazzle", "pg");
  expect(existsSync(path.join(dataDir, "postmaster.pid"))).toBe(false); // PostgreSQL shut down cleanly
  expect(await processesMentioning(dataDir)).toEqual([]);
  return exit;
}

test("npm start with no DATABASE_URL runs on an embedded PostgreSQL under .dazzle/ and stops on SIGTERM", async () => {
  await startAndCheck(["npm", "start"]);
  const exit = await stopAndCheck();
  // The signal goes to the process group (as Ctrl-C would); `sh -c` under npm dies of it and
  // npm re-raises it, so npm's own status is SIGTERM. The app's exit code is checked below.
  expect({ status: [{ code: 0, signal: null }, { code: null, signal: "SIGTERM" }].some((s) => s.code === exit.code && s.signal === exit.signal), exit, output: lastOutput })
    .toEqual({ status: true, exit, output: expect.any(String) });
}, 180_000);

test("the server entry restarts on the existing embedded data and exits 0 on SIGTERM", async () => {
  await startAndCheck(); // node_modules/.bin/tsx src/server.ts, what `npm start` runs
  const exit = await stopAndCheck();
  expect({ exit, output: lastOutput }).toEqual({ exit: { code: 0, signal: null, forced: false }, output: expect.any(String) });
}, 120_000);
