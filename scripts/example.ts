/**
 * `npm run example [-- <spec> [<out-dir>]]`: generates an app from an example spec (default
 * fixtures/e2e-teams/app.dz into out/teams), installs its dependencies and starts it on the
 * embedded PostgreSQL. Stop it with Ctrl-C.
 */
import { spawnSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { main } from "../generator/cli";

async function example(): Promise<number> {
  const root = path.resolve(__dirname, "..");
  const spec = path.resolve(process.argv[2] ?? path.join(root, "fixtures/e2e-teams/app.dz"));
  const out = path.resolve(process.argv[3] ?? path.join(root, "out/teams"));
  const io = { stdout: (s: string) => process.stdout.write(s), stderr: (s: string) => process.stderr.write(s) };
  const code = await main([spec, "-o", out], io);
  if (code !== 0) return code;
  if (!existsSync(path.join(out, "node_modules"))) {
    process.stderr.write(`installing the app's dependencies in ${path.relative(root, out)} …\n`);
    const install = spawnSync("npm", ["install", "--no-audit", "--no-fund"], { cwd: out, stdio: "inherit" });
    if (install.status !== 0) return install.status ?? 1;
  }
  process.stderr.write(
    `starting the app (embedded PostgreSQL under ${path.relative(root, out)}/.dazzle); mint a token with\n` +
      `  cd ${path.relative(process.cwd(), out)} && npm run -s token -- --user <uuid> --role admin\n`,
  );
  const child = spawn("npm", ["start"], { cwd: out, stdio: "inherit" });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  return new Promise((resolve) => child.on("exit", (c) => resolve(c ?? 0)));
}

example().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 1;
  },
);
