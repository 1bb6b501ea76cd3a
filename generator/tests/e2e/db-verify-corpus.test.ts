/**
 * Every corpus project (../shared/corpus/examples, skipped with a message when absent) and every
 * tree fixture generates, its committed migrations apply to a fresh database with the app's
 * `npm run migrate`, and `npm run db:verify` then reports no drift.
 */
import path from "node:path";
import { childEnv, generateApp, installAppDependencies, makeTempDir, removeTempDir, run } from "../support/app";
import { corpusPresent, corpusProjects, skipMessage } from "../support/corpus";
import { listFixtures } from "../support/fixtures";
import { createTestDatabase } from "../support/pg";

const projects: [string, string][] = [
  ...corpusProjects("examples").map((dir): [string, string] => [`corpus ${path.basename(dir)}`, dir]),
  ...listFixtures()
    .filter((c) => c.kind === "tree" && c.exitCode === 0)
    .map((c): [string, string] => [`fixture ${c.name}`, c.spec]),
];

let tmp: string | undefined;
beforeAll(async () => {
  if (!corpusPresent) process.stderr.write(`${skipMessage()}\n`);
  tmp = await makeTempDir("dz-e2e-verify-");
});
afterAll(() => removeTempDir(tmp), 60_000);

test.each(projects)("%s: generates, migrates and db:verify reports no drift", async (name, spec) => {
  const appDir = path.join(tmp!, name.replace(/\W+/g, "-"));
  const generated = await generateApp(spec, appDir);
  expect([generated.exitCode, generated.stderr.includes("error[")]).toEqual([0, false]);
  await installAppDependencies(appDir);
  const db = await createTestDatabase("verify");
  try {
    const env = childEnv({ DATABASE_URL: db.url });
    const migrate = await run("npm", ["run", "--silent", "migrate"], { cwd: appDir, env, timeoutMs: 120_000 });
    expect([migrate.exitCode, migrate.exitCode === 0 ? "" : migrate.output]).toEqual([0, ""]);
    const verify = await run("npm", ["run", "--silent", "db:verify"], { cwd: appDir, env, timeoutMs: 120_000 });
    expect([verify.exitCode, verify.stdout]).toEqual([0, expect.stringMatching(/^the database matches the schema snapshot \(\d+ tables\)\n$/)]);
  } finally {
    await db.drop();
  }
}, 5 * 60_000);
