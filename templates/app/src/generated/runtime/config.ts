/**
 * Process configuration, read once from the environment:
 *
 * | variable            | meaning                                                          |
 * |---------------------|------------------------------------------------------------------|
 * | `PORT`              | HTTP port (default 3000; 0 picks a free port)                    |
 * | `DATABASE_URL`      | PostgreSQL to use; unset → the embedded server under `.dazzle/`  |
 * | `DAZZLE_JWT_SECRET` | HS256 secret; unset in development → `.dazzle/jwt-secret`        |
 * | `NODE_ENV`          | `production` disables the development conveniences               |
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export interface Config {
  readonly port: number;
  readonly databaseUrl: string | null;
  readonly jwtSecret: Uint8Array;
  readonly production: boolean;
  readonly appRoot: string;
}

const DEFAULT_PORT = 3000;
/** HS256 keys shorter than the hash output (32 bytes) are weak (RFC 7518 §3.2). */
const MIN_SECRET_LENGTH = 32;

export function loadConfig(env: NodeJS.ProcessEnv = process.env, appRoot: string = findAppRoot()): Config {
  const production = env.NODE_ENV === "production";
  return {
    port: parsePort(env.PORT),
    databaseUrl: env.DATABASE_URL || null,
    jwtSecret: new TextEncoder().encode(jwtSecret(env.DAZZLE_JWT_SECRET, production, appRoot)),
    production,
    appRoot,
  };
}

/** The app's folder: the nearest ancestor of this file holding a package.json (works from `dist/` too). */
export function findAppRoot(start: string = __dirname): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) return process.cwd();
  }
}

/** Development state (embedded database, secrets) lives in `<appRoot>/.dazzle/`, git-ignored. */
export function stateDir(appRoot: string): string {
  return path.join(appRoot, ".dazzle");
}

/** Reads a secret file, creating it first (random hex, mode 600) when missing. */
export function readOrCreateSecret(file: string): string {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Written aside, then hard-linked into place: link() fails when the file exists, so two
    // processes starting together agree on one value and nobody reads a half-written file.
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, randomBytes(32).toString("hex") + "\n", { mode: 0o600 });
    try {
      fs.linkSync(temp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    } finally {
      fs.unlinkSync(temp);
    }
  }
  return fs.readFileSync(file, "utf8").trim();
}

function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw === "") return DEFAULT_PORT;
  const port = Number(raw);
  if (!/^[0-9]+$/.test(raw) || port > 65535) throw new Error(`PORT must be an integer from 0 to 65535, got '${raw}'`);
  return port;
}

function jwtSecret(fromEnv: string | undefined, production: boolean, appRoot: string): string {
  if (fromEnv) {
    if (production && fromEnv.length < MIN_SECRET_LENGTH) {
      throw new Error(`DAZZLE_JWT_SECRET must be at least ${MIN_SECRET_LENGTH} characters in production`);
    }
    return fromEnv;
  }
  if (production) {
    throw new Error(
      "DAZZLE_JWT_SECRET is not set; in production the JWT secret must come from the environment " +
        "(e.g. DAZZLE_JWT_SECRET=$(openssl rand -hex 32))",
    );
  }
  return readOrCreateSecret(path.join(stateDir(appRoot), "jwt-secret"));
}
