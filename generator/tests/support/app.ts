/**
 * Helpers for end-to-end tests of a generated app: generate → install → type-check → start →
 * HTTP. Generated apps share one `npm install` per distinct dependency set, cached under
 * os.tmpdir() and reused across runs; each app gets `node_modules` as a symlink to it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { existsSync, promises as fs } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

/** Secret passed as `DAZZLE_JWT_SECRET` to apps started by `startApp` and to `mintToken`. */
export const TEST_JWT_SECRET = "dazzle-e2e-test-secret-0123456789abcdef";

/** Set `DAZZLE_TEST_KEEP=1` to keep temp folders (generated apps) for inspection. */
export const KEEP_TEMP = process.env.DAZZLE_TEST_KEEP === "1";

// ---------------------------------------------------------------------------------------------
// processes

export interface RunResult {
  readonly exitCode: number;
  /** stdout and stderr interleaved in arrival order. */
  readonly output: string;
  readonly stdout: string;
  readonly stderr: string;
}

const NPM_KEEP = /^npm_config_(registry|cache|userconfig|globalconfig|cafile|proxy|https_proxy|noproxy|strict_ssl)$/i;

/**
 * The environment for child processes (npm, the app, its tools): the test process's own,
 * minus what would leak the harness into the app (npm's script variables, jest's, the
 * libpq/DATABASE_URL settings), plus `extra`.
 */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    // npm's script variables (npm_config_local_prefix, npm_config_allow_scripts, npm_package_*,
    // …) would steer a nested npm at the parent project; keep only where and how to download.
    if (/^npm_/i.test(key) && !NPM_KEEP.test(key)) continue;
    if (key.startsWith("JEST_") || key.startsWith("DAZZLE_")) continue;
    if (/^PG[A-Z]+$/.test(key) || /^(DATABASE_URL|SHADOW_DATABASE_URL|ROOT_DATABASE_URL|NODE_ENV|PORT|INIT_CWD)$/.test(key)) continue;
    env[key] = value;
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Runs a command to completion, capturing its output. Never rejects on a non-zero exit. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? childEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let output = "";
    child.stdout.on("data", (d: Buffer) => ((stdout += d), (output += d)));
    child.stderr.on("data", (d: Buffer) => ((stderr += d), (output += d)));
    child.stdin.end(options.input ?? "");
    const timer = setTimeout(() => {
      output += `\n[killed after ${options.timeoutMs} ms]`;
      child.kill("SIGKILL");
    }, options.timeoutMs ?? 10 * 60_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${error.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? (signal ? 128 : 1), output, stdout, stderr });
    });
  });
}

/** mkdtemp under os.tmpdir(), made world-traversable (embedded PostgreSQL runs as `postgres`). */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  await fs.chmod(dir, 0o755);
  return dir;
}

/** Deletes a folder made by `makeTempDir`, unless DAZZLE_TEST_KEEP=1. */
export async function removeTempDir(dir: string | undefined): Promise<void> {
  if (!dir) return;
  if (KEEP_TEMP) {
    process.stderr.write(`[dazzle-test] kept ${dir}\n`);
    return;
  }
  await fs.rm(dir, { recursive: true, force: true });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// generate

export interface CliIo {
  stdout(s: string): void;
  stderr(s: string): void;
}
export type CliMain = (argv: string[], io: CliIo) => Promise<number>;

export interface GenerateResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in-process: `main([specPath, "-o", outDir], io)`. */
export async function generateApp(specPath: string, outDir: string, extraArgs: readonly string[] = []): Promise<GenerateResult> {
  // Loaded lazily (and typed here) so this helper compiles before generator/cli.ts exists.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cli = require("../../cli") as { main: CliMain };
  let stdout = "";
  let stderr = "";
  const exitCode = await cli.main([specPath, "-o", outDir, ...extraArgs], {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
  });
  return { exitCode, stdout, stderr };
}

// ---------------------------------------------------------------------------------------------
// install

interface AppPackageJson {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  allowScripts?: Record<string, boolean>;
  overrides?: unknown;
}

export interface InstallResult {
  /** The shared folder whose `node_modules` the app links to. */
  readonly cacheDir: string;
  /** True when this call ran `npm install`; false when the cache was already complete. */
  readonly installed: boolean;
  readonly ms: number;
}

export const DEPS_CACHE_ROOT = path.join(os.tmpdir(), "dazzle-gen-app-deps");
const COMPLETE_MARKER = ".dazzle-complete";
const LOCK_STALE_MS = 20 * 60_000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes a lock folder whose owner died or that is older than LOCK_STALE_MS. */
async function breakStaleLock(lockDir: string): Promise<void> {
  let owner: { pid?: number; at?: number } = {};
  try {
    owner = JSON.parse(await fs.readFile(path.join(lockDir, "owner.json"), "utf8"));
  } catch {
    // Owner file not written yet (lock just taken) or lock gone: judge by the folder's age.
    const stat = await fs.stat(lockDir).catch(() => null);
    if (!stat || Date.now() - stat.mtimeMs < 30_000) return;
  }
  const stale = (owner.pid !== undefined && !pidAlive(owner.pid)) || (owner.at !== undefined && Date.now() - owner.at > LOCK_STALE_MS)
    || (owner.pid === undefined && owner.at === undefined);
  if (!stale) return;
  // Rename first so only one waiter breaks it.
  const trash = `${lockDir}.stale-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await fs.rename(lockDir, trash);
  } catch {
    return;
  }
  await fs.rm(trash, { recursive: true, force: true });
}

/** The cache key: sha256 of the dependency sets, install-script policy and platform. */
export function dependencyKey(pkg: AppPackageJson): string {
  const key = {
    dependencies: pkg.dependencies ?? {},
    devDependencies: pkg.devDependencies ?? {},
    allowScripts: pkg.allowScripts ?? {},
    overrides: pkg.overrides ?? null,
    platform: `${process.platform}-${process.arch}-node${process.versions.node.split(".")[0]}`,
  };
  return createHash("sha256").update(JSON.stringify(key)).digest("hex");
}

/**
 * Installs the app's dependencies once per distinct set (shared by all jest workers and later
 * runs), then makes `<appDir>/node_modules` a symlink to the shared `node_modules`.
 */
export async function installAppDependencies(appDir: string, options: { timeoutMs?: number } = {}): Promise<InstallResult> {
  const started = Date.now();
  const pkg = JSON.parse(await fs.readFile(path.join(appDir, "package.json"), "utf8")) as AppPackageJson;
  const hash = dependencyKey(pkg);
  await fs.mkdir(DEPS_CACHE_ROOT, { recursive: true, mode: 0o755 });
  const cacheDir = path.join(DEPS_CACHE_ROOT, hash);
  const marker = path.join(cacheDir, COMPLETE_MARKER);
  const lockDir = `${cacheDir}.lock`;
  const deadline = Date.now() + (options.timeoutMs ?? 15 * 60_000);
  let installed = false;

  while (!existsSync(marker)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for the dependency install in ${cacheDir} (lock ${lockDir})`);
    try {
      await fs.mkdir(lockDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      await breakStaleLock(lockDir);
      await sleep(500);
      continue;
    }
    try {
      await fs.writeFile(path.join(lockDir, "owner.json"), JSON.stringify({ pid: process.pid, at: Date.now() }));
      if (existsSync(marker)) break; // finished by another worker between our check and the lock
      const staging = `${cacheDir}.staging-${process.pid}-${randomBytes(4).toString("hex")}`;
      await fs.mkdir(staging, { mode: 0o755 });
      try {
        const manifest = {
          name: "dazzle-gen-app-deps",
          version: "0.0.0",
          private: true,
          dependencies: pkg.dependencies ?? {},
          devDependencies: pkg.devDependencies ?? {},
          ...(pkg.allowScripts ? { allowScripts: pkg.allowScripts } : {}),
          ...(pkg.overrides ? { overrides: pkg.overrides } : {}),
        };
        await fs.writeFile(path.join(staging, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
        const result = await run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=warn"], {
          cwd: staging,
          env: childEnv({ CI: "true" }),
          timeoutMs: Math.max(60_000, deadline - Date.now()),
        });
        if (result.exitCode !== 0) {
          throw new Error(`npm install for ${appDir} failed (exit ${result.exitCode}) in ${staging}:\n${result.output.slice(-6000)}`);
        }
        await fs.writeFile(path.join(staging, COMPLETE_MARKER), `${new Date().toISOString()}\n`);
        await fs.rm(cacheDir, { recursive: true, force: true }); // leftovers of an interrupted run
        await fs.rename(staging, cacheDir);
        installed = true;
      } finally {
        await fs.rm(staging, { recursive: true, force: true });
      }
    } finally {
      await fs.rm(lockDir, { recursive: true, force: true });
    }
  }

  // Link atomically: a temp symlink renamed over whatever is there (a real folder is removed first).
  const link = path.join(appDir, "node_modules");
  const tempLink = `${link}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  await fs.symlink(path.join(cacheDir, "node_modules"), tempLink, "dir");
  const stat = await fs.lstat(link).catch(() => null);
  if (stat && !stat.isSymbolicLink()) await fs.rm(link, { recursive: true, force: true });
  await fs.rename(tempLink, link);
  return { cacheDir, installed, ms: Date.now() - started };
}

// ---------------------------------------------------------------------------------------------
// type-check

/** `node_modules/.bin/tsc --noEmit -p appDir`. */
export async function typecheckApp(appDir: string): Promise<{ exitCode: number; output: string }> {
  const tsc = path.join(appDir, "node_modules", ".bin", "tsc");
  const result = await run(tsc, ["--noEmit", "-p", appDir], { cwd: appDir, timeoutMs: 5 * 60_000 });
  return { exitCode: result.exitCode, output: result.output };
}

// ---------------------------------------------------------------------------------------------
// start

export interface StopResult {
  /** Exit code of the started process (null when killed by a signal). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when the grace period ran out and the group had to be SIGKILLed. */
  readonly forced: boolean;
}

export interface StartedApp {
  readonly baseUrl: string;
  readonly port: number;
  readonly pid: number;
  /** Everything the process printed so far (stdout and stderr interleaved). */
  output(): string;
  /** Resolves when the process exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * SIGTERM (see `StartOptions.stopSignalTarget`), then waits until the started process has
   * exited and no process of its group (the app was spawned as a group leader) is left. After
   * `graceMs` (default 20 s) the group gets SIGKILL and `forced` is true. Idempotent.
   */
  stop(graceMs?: number): Promise<StopResult>;
}

export interface StartOptions {
  /** Default: `node_modules/.bin/tsx src/server.ts`. E.g. `["npm", "start"]`. */
  readonly command?: readonly [string, ...string[]];
  readonly timeoutMs?: number;
  readonly port?: number;
  /**
   * Who gets the SIGTERM of `stop()`: the started process (default for the default command)
   * or its whole process group (default when `command` is given, e.g. `npm start`).
   */
  readonly stopSignalTarget?: "process" | "group";
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) {
    try {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

/**
 * Starts the app (cwd `appDir`) with `PORT` set to a free port, `NODE_ENV=development` and
 * `DAZZLE_JWT_SECRET=TEST_JWT_SECRET` (both overridable through `env`; a key set to undefined
 * is removed), and waits for `listening on http://127.0.0.1:<port>` on stdout.
 */
export async function startApp(
  appDir: string,
  env: Record<string, string | undefined> = {},
  options: StartOptions = {},
): Promise<StartedApp> {
  const port = options.port ?? (await freePort());
  const [command, ...args] = options.command ?? [path.join(appDir, "node_modules", ".bin", "tsx"), "src/server.ts"];
  const child = spawn(command, args, {
    cwd: appDir,
    env: childEnv({ NODE_ENV: "development", DAZZLE_JWT_SECRET: TEST_JWT_SECRET, ...env, PORT: String(port) }),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // own process group, so a stuck app and its children can be killed together
  });
  running.add(child);
  let output = "";
  let stdoutLine = "";
  const expected = `listening on http://127.0.0.1:${port}`;
  const listening = new RegExp(`listening on http://127\\.0\\.0\\.1:${port}(?!\\d)`);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.on("error", (error) => reject(new Error(`cannot start ${command}: ${error.message}`)));
    child.stdout!.on("data", (d: Buffer) => {
      output += d;
      stdoutLine += d;
      const lines = stdoutLine.split("\n");
      stdoutLine = lines.pop() ?? "";
      if (lines.some((l) => listening.test(l))) resolve();
    });
    child.stderr!.on("data", (d: Buffer) => void (output += d));
    void exited.then(({ code, signal }) =>
      reject(new Error(`app exited before listening (code ${code}, signal ${signal}):\n${output.slice(-8000)}`)),
    );
  });
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`app did not print "${expected}" within ${timeoutMs} ms:\n${output.slice(-8000)}`)),
      timeoutMs,
    );
  });

  // `kill <pid>` of the started process, as a process manager does. `npm start` runs the app
  // under `sh -c`, which dies of a SIGTERM without passing it on, so for a custom command the
  // whole group gets it instead (as a terminal's Ctrl-C does with SIGINT).
  const signalTarget = options.stopSignalTarget ?? (options.command ? "group" : "process");
  const pgid = child.pid!;
  const signalGroup = (signal: NodeJS.Signals | 0): boolean => {
    try {
      process.kill(-pgid, signal);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "EPERM";
    }
  };
  let stopping: Promise<StopResult> | undefined;
  const stop = (graceMs = 20_000): Promise<StopResult> =>
    (stopping ??= (async () => {
      if (signalTarget === "group") signalGroup("SIGTERM");
      else child.kill("SIGTERM");
      const deadline = Date.now() + graceMs;
      let topExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      void exited.then((e) => (topExit = e));
      while (Date.now() < deadline && (topExit === undefined || signalGroup(0))) await sleep(100);
      const forced = topExit === undefined || signalGroup(0);
      if (forced) {
        signalGroup("SIGKILL");
        await exited;
      }
      const { code, signal } = await exited;
      return { code, signal, forced };
    })());
  try {
    await Promise.race([ready, timeout]);
  } catch (error) {
    await stop(5000);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    output: () => output,
    exited,
    stop,
  };
}

// ---------------------------------------------------------------------------------------------
// auth

const JWT_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Mints a token with the app's own script: `npm run -s token -- --user <id> --role <r>…` with
 * `DAZZLE_JWT_SECRET=secret`. Returns the JWT printed on stdout.
 */
export async function mintToken(
  appDir: string,
  userId: string,
  roles: readonly string[],
  secret: string = TEST_JWT_SECRET,
): Promise<string> {
  const args = ["run", "-s", "token", "--", "--user", userId, ...roles.flatMap((r) => ["--role", r])];
  const result = await run("npm", args, {
    cwd: appDir,
    env: childEnv({ DAZZLE_JWT_SECRET: secret, NODE_ENV: "development" }),
    timeoutMs: 60_000,
  });
  const token = result.stdout.split(/\r?\n/).map((l) => l.trim()).filter((l) => JWT_PATTERN.test(l)).pop();
  if (result.exitCode !== 0 || !token) {
    throw new Error(`npm run token failed (exit ${result.exitCode}):\n${result.output.slice(-4000)}`);
  }
  return token;
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

/**
 * Signs an HS256 JWT directly (no app script): claims `sub`, `roles`, `iat`, `exp`. The key is
 * the UTF-8 bytes of `secret`, as jose's `new TextEncoder().encode(secret)`.
 */
export function signToken(
  userId: string,
  roles: readonly string[],
  options: { secret?: string; expiresInSeconds?: number; extraClaims?: Record<string, unknown> } = {},
): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = b64url(
    JSON.stringify({ sub: userId, roles, iat: now, exp: now + (options.expiresInSeconds ?? 3600), ...options.extraClaims }),
  );
  const signature = createHmac("sha256", Buffer.from(options.secret ?? TEST_JWT_SECRET, "utf8"))
    .update(`${header}.${payload}`)
    .digest("base64url");
  return `${header}.${payload}.${signature}`;
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface HttpResponse<T = any> {
  readonly status: number;
  /** Parsed JSON, the raw text when it is not JSON, or null for an empty body. */
  readonly body: T;
  readonly text: string;
  readonly headers: Headers;
}

/** One request with global fetch; `body` is sent as JSON (a string is sent as is). */
export async function http<T = any>(
  baseUrl: string,
  method: string,
  urlPath: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResponse<T>> {
  const headers: Record<string, string> = { accept: "application/json", ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let payload: string | undefined;
  if (options.body !== undefined) {
    headers["content-type"] ??= "application/json";
    payload = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
  }
  const response = await fetch(`${baseUrl}${urlPath}`, { method, headers, body: payload });
  const text = await response.text();
  let body: unknown = null;
  if (text !== "") {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: response.status, body: body as T, text, headers: response.headers };
}

// ---------------------------------------------------------------------------------------------
// Server-Sent Events

export interface SseEvent {
  readonly id: string | null;
  readonly event: string;
  readonly data: string;
}

export interface SseStream {
  readonly status: number;
  readonly headers: Headers;
  /** Events received so far. */
  readonly events: readonly SseEvent[];
  /** Resolves with the first (already received or future) event matching `predicate`. */
  waitFor(predicate: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

/** Opens `GET <path>` as an event stream with fetch and parses events as they arrive. */
export async function openEventStream(
  baseUrl: string,
  urlPath: string,
  options: { token?: string; lastEventId?: string } = {},
): Promise<SseStream> {
  const controller = new AbortController();
  const headers: Record<string, string> = { accept: "text/event-stream" };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.lastEventId !== undefined) headers["last-event-id"] = options.lastEventId;
  const response = await fetch(`${baseUrl}${urlPath}`, { headers, signal: controller.signal });
  const events: SseEvent[] = [];
  const waiters: Array<{ predicate: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }> = [];
  let closed = false;

  const dispatch = (event: SseEvent) => {
    events.push(event);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(event)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  };

  if (response.ok && response.body) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
          let index: number;
          while ((index = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, index);
            buffer = buffer.slice(index + 2);
            let id: string | null = null;
            let name = "message";
            const data: string[] = [];
            for (const line of block.split("\n")) {
              if (line === "" || line.startsWith(":")) continue;
              const colon = line.indexOf(":");
              const field = colon < 0 ? line : line.slice(0, colon);
              const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
              if (field === "id") id = value;
              else if (field === "event") name = value;
              else if (field === "data") data.push(value);
            }
            if (data.length > 0 || id !== null) dispatch({ id, event: name, data: data.join("\n") });
          }
        }
      } catch {
        // aborted by close() or the server went away
      }
    })();
  } else {
    await response.body?.cancel().catch(() => undefined);
  }

  return {
    status: response.status,
    headers: response.headers,
    events,
    waitFor(predicate, timeoutMs = 10_000) {
      const found = events.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise<SseEvent>((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (e: SseEvent) => {
            clearTimeout(timer);
            resolve(e);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no matching event within ${timeoutMs} ms; received: ${JSON.stringify(events)}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    close() {
      if (closed) return;
      closed = true;
      controller.abort();
    },
  };
}
