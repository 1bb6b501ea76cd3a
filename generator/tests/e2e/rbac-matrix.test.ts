/**
 * The generated RBAC matrix (`test/rbac.test.ts`, issue 5) on real apps: each project below is
 * generated, installed (the shared dependency cache), type-checked, and its own `npm test` is run
 * against a fresh database (the app's test creates `<db>_rbac_<random>` from DATABASE_URL and
 * drops it). It must report 0 failures; the number of matrix cases per project is printed.
 * Corpus projects are skipped with a message when ../shared/corpus is absent.
 */
import path from "node:path";
import { childEnv, generateApp, installAppDependencies, makeTempDir, removeTempDir, run, typecheckApp } from "../support/app";
import { CORPUS_DIR, corpusPresent, skipMessage } from "../support/corpus";
import { createTestDatabase } from "../support/pg";

const FIXTURES = path.resolve(__dirname, "../../../fixtures");

interface Project {
  readonly name: string;
  readonly spec: string;
}

const LOCAL: readonly Project[] = [
  { name: "e2e-teams", spec: path.join(FIXTURES, "e2e-teams/app.dz") },
  { name: "minimal-open-notes", spec: path.join(FIXTURES, "minimal-open-notes/app.dz") },
  // `in [...]`, `today - 30d`, `is not true` on columns and FK paths (DSL.md §6.4).
  { name: "ir-scope-values", spec: path.join(FIXTURES, "ir-scope-values/app.dz") },
  // Tenancy (DSL.md §7): the fence and composite FKs in the model; 1225 cases, ~45 s alone.
  { name: "e2e-tenancy", spec: path.join(FIXTURES, "e2e-tenancy/app.dz") },
];

/**
 * Corpus projects with permit/scope rules: column checks and current_user attrs (simple_task),
 * FK paths and via junctions (acme_billing). `DAZZLE_RBAC_ALL=1` adds the rest (slower than the
 * ~60 s budget of the default run).
 */
const CORPUS_DEFAULT = ["examples/simple_task", "examples/acme_billing"];
const CORPUS_MORE = ["fixtures/scope_runtime", "examples/hr_records", "examples/invoice_ops", "examples/support_tickets", "fixtures/rbac_validation", "fixtures/asset_registry", "fixtures/tenant_rls", "fixtures/tenant_hierarchy"];
const CORPUS: readonly Project[] = [...CORPUS_DEFAULT, ...(process.env.DAZZLE_RBAC_ALL === "1" ? CORPUS_MORE : [])].map((p) => ({
  name: path.basename(p),
  spec: path.join(CORPUS_DIR, p),
}));

const PROJECTS = corpusPresent ? [...LOCAL, ...CORPUS] : LOCAL;
const JWT_SECRET = "rbac-matrix-e2e-secret-0123456789abcdef";

interface Outcome {
  readonly name: string;
  readonly cases: string;
  readonly pass: number;
  readonly fail: number;
  readonly output: string;
}

async function matrix(project: Project, root: string): Promise<Outcome> {
  const appDir = path.join(root, project.name);
  const generated = await generateApp(project.spec, appDir);
  if (generated.exitCode !== 0) throw new Error(`${project.name}: generation failed\n${generated.stderr}`);
  await installAppDependencies(appDir);
  const typecheck = await typecheckApp(appDir);
  if (typecheck.exitCode !== 0) throw new Error(`${project.name}: type errors\n${typecheck.output}`);
  const db = await createTestDatabase(`rbac_${project.name}`);
  try {
    const env = childEnv({ DATABASE_URL: db.url, DAZZLE_JWT_SECRET: JWT_SECRET });
    const result = await run("npm", ["test"], { cwd: appDir, env, timeoutMs: 120_000 });
    const count = (key: string) => Number(/^# (\w+) (\d+)$/m.exec(result.output.split("\n").filter((l) => l.startsWith(`# ${key} `)).join("\n"))?.[2] ?? NaN);
    const cases = /rbac matrix cases: (\d+ \(\d+ allowed\))/.exec(result.output)?.[1] ?? "?";
    return { name: project.name, cases, pass: count("pass"), fail: result.exitCode === 0 ? count("fail") : Math.max(1, count("fail") || 1), output: result.output };
  } finally {
    await db.drop();
  }
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function pooled<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

describe("generated RBAC matrix (test/rbac.test.ts)", () => {
  let root: string | undefined;
  afterAll(() => removeTempDir(root));

  test("passes with 0 failures for the fixtures and the corpus projects with access rules", async () => {
    if (!corpusPresent) process.stderr.write(`[rbac-matrix] ${skipMessage()}\n`);
    root = await makeTempDir("dz-rbac-");
    const outcomes = await pooled(PROJECTS, 4, (p) => matrix(p, root!));
    process.stderr.write(`[rbac-matrix] cases per project:\n${outcomes.map((o) => `  ${o.name}: ${o.cases}, ${o.pass} tests passed, ${o.fail} failed`).join("\n")}\n`);
    for (const o of outcomes) {
      if (o.fail !== 0) throw new Error(`${o.name}: ${o.fail} failing tests\n${o.output.slice(-8000)}`);
      expect(o.pass).toBeGreaterThan(0);
    }
  }, process.env.DAZZLE_RBAC_ALL === "1" ? 900_000 : 420_000);
});
