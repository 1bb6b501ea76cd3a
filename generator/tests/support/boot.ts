/**
 * The set-up most end-to-end test files share: generate a spec into a temp dir, install (the
 * shared dependency cache), start `tsc --noEmit` in the background, create a fresh database and
 * boot the app on it. `close()` undoes all of it.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { generateApp, installAppDependencies, makeTempDir, removeTempDir, startApp, typecheckApp, type StartedApp } from "./app";
import { createTestDatabase, type TestDatabase } from "./pg";

export interface BootedApp {
  readonly tmp: string;
  readonly appDir: string;
  readonly db: TestDatabase;
  readonly app: StartedApp;
  /** `tsc --noEmit` of the app, started before the boot; await it in a test. */
  readonly typecheck: Promise<{ exitCode: number; output: string }>;
  close(): Promise<void>;
}

export interface BootOptions {
  /** Names the temp dir and the database (`<name>` → `dz-e2e-<name>-…`, `e2e_<name>`). */
  readonly name: string;
  /** A spec file, or the spec's text (written to `<tmp>/app.dz`). */
  readonly spec: { readonly file: string } | { readonly text: string };
  readonly args?: readonly string[];
  /** Extra environment of the app process (DATABASE_URL is set). */
  readonly env?: Readonly<Record<string, string>>;
}

export async function bootGeneratedApp(options: BootOptions): Promise<BootedApp> {
  const tmp = await makeTempDir(`dz-e2e-${options.name}-`);
  const appDir = path.join(tmp, "app");
  let spec: string;
  if ("file" in options.spec) spec = options.spec.file;
  else {
    spec = path.join(tmp, "app.dz");
    await writeFile(spec, options.spec.text);
  }
  const generated = await generateApp(spec, appDir, options.args ?? []);
  if (generated.exitCode !== 0) throw new Error(`dazzle-gen exited ${generated.exitCode}:\n${generated.stderr}\n${generated.stdout}`);
  await installAppDependencies(appDir);
  const typecheck = typecheckApp(appDir);
  typecheck.catch(() => undefined);
  const db = await createTestDatabase(`e2e_${options.name.replace(/-/g, "_")}`);
  const app = await startApp(appDir, { DATABASE_URL: db.url, ...options.env });
  return {
    tmp,
    appDir,
    db,
    app,
    typecheck,
    async close() {
      await app.stop().catch(() => undefined);
      await db.drop();
      await removeTempDir(tmp);
    },
  };
}
