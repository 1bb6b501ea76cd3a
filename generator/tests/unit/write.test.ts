/**
 * The writer and the CLI around it: deterministic output, no-op regeneration, refusals that
 * change nothing, user-owned files, --check, --dry-run and exit codes.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { main } from "../../cli";
import { readTree } from "../support/fixtures";

const SPEC = path.resolve(__dirname, "../../../fixtures/minimal-open-notes/app.dz");

async function cli(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const exitCode = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { exitCode, stdout, stderr };
}

let out: string;
beforeEach(() => {
  out = mkdtempSync(path.join(os.tmpdir(), "dz-write-"));
});
afterEach(() => rmSync(out, { recursive: true, force: true }));

test("generating twice gives a byte-identical tree, and the second run writes nothing", async () => {
  expect((await cli(SPEC, "-o", out)).exitCode).toBe(0);
  const first = readTree(out);
  const mtimes = new Map([...first.keys()].map((f) => [f, statSync(path.join(out, f)).mtimeMs]));
  const again = await cli(SPEC, "-o", out);
  expect(again).toEqual({ exitCode: 0, stdout: "", stderr: `dazzle-gen: ${first.size - 1} files in ${out} (0 written or removed)\n` });
  expect(readTree(out)).toEqual(first);
  for (const [f, m] of mtimes) expect([f, statSync(path.join(out, f)).mtimeMs]).toEqual([f, m]);
});

test("a hand-edited generated file stops generation and nothing changes; --force overwrites it", async () => {
  await cli(SPEC, "-o", out);
  const edited = path.join(out, "src/generated/note/routes.ts");
  appendFileSync(edited, "// my change\n");
  const before = readTree(out);
  const refused = await cli(SPEC, "-o", out);
  expect(refused).toEqual({
    exitCode: 1,
    stdout: "",
    stderr:
      `dazzle-gen: refusing to write ${out}; nothing was changed:\n` +
      "  - src/generated/note/routes.ts was edited by hand (move the change to src/custom/, or pass --force to overwrite it)\n",
  });
  expect(readTree(out)).toEqual(before);
  expect((await cli(SPEC, "-o", out, "--force")).exitCode).toBe(0);
  expect(readFileSync(edited, "utf8")).not.toContain("// my change");
});

test("user-owned files are created once and never touched again", async () => {
  await cli(SPEC, "-o", out);
  const custom = path.join(out, "src/custom/index.ts");
  writeFileSync(custom, "export function registerRoutes(): void {}\n");
  writeFileSync(path.join(out, "migrations/current.sql"), "-- mine\n");
  expect((await cli(SPEC, "-o", out)).exitCode).toBe(0);
  expect(readFileSync(custom, "utf8")).toBe("export function registerRoutes(): void {}\n");
  expect(readFileSync(path.join(out, "migrations/current.sql"), "utf8")).toBe("-- mine\n");
});

test("--check exits 1 on a stale tree and lists the files; --dry-run prints the plan and writes nothing", async () => {
  const dry = await cli(SPEC, "-o", out, "--dry-run");
  expect(dry.exitCode).toBe(0);
  expect(dry.stdout.split("\n").slice(0, 3)).toEqual(["  create .gitignore", "  create .gmrc", "  create README.md"]);
  expect(existsSync(path.join(out, "package.json"))).toBe(false);

  await cli(SPEC, "-o", out);
  expect(await cli(SPEC, "-o", out, "--check")).toEqual({ exitCode: 0, stdout: "", stderr: `${out} is up to date\n` });
  rmSync(path.join(out, "src/generated/db.ts"));
  expect(await cli(SPEC, "-o", out, "--check")).toEqual({ exitCode: 1, stdout: "", stderr: `${out} is stale:\n  create src/generated/db.ts\n` });
});

test("a changed schema is refused rather than rewriting the committed migration", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "dz-spec-"));
  try {
    const spec = path.join(dir, "app.dz");
    writeFileSync(spec, readFileSync(SPEC, "utf8"));
    await cli(spec, "-o", out);
    writeFileSync(spec, readFileSync(SPEC, "utf8").replace("  pinned: bool=false\n", "  pinned: bool=false\n  color: str(10)\n"));
    const before = readTree(out);
    const result = await cli(spec, "-o", out);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      `dazzle-gen: refusing to write ${out}; nothing was changed:\n` +
        "  - migrations/committed/000001-initial.sql: committed migrations are history and are never rewritten; the schema changed since it was written\n",
    );
    expect(readTree(out)).toEqual(before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("exit codes: 1 for diagnostics, 2 for usage errors and unreadable input", async () => {
  expect((await cli(path.resolve(__dirname, "../../../fixtures/diagnostics-syntax/app.dz"), "-o", out)).exitCode).toBe(1);
  expect(await cli(SPEC)).toEqual({ exitCode: 2, stdout: "", stderr: expect.stringMatching(/^dazzle-gen: missing -o <out-dir>\nusage:/) });
  expect(await cli(path.join(out, "nope.dz"), "-o", out)).toEqual({ exitCode: 2, stdout: "", stderr: `dazzle-gen: cannot read ${path.join(out, "nope.dz")}: no such file or directory\n` });
});

test("--emit ir prints stable JSON with sorted keys and no spans", async () => {
  const a = await cli(SPEC, "--emit", "ir");
  expect(a.exitCode).toBe(0);
  const ir = JSON.parse(a.stdout) as Record<string, unknown>;
  expect(Object.keys(ir)).toEqual(["entities", "name", "personas", "principal", "roles", "rules", "sources", "title"]);
  expect(a.stdout).not.toContain('"span"');
  expect((await cli(SPEC, "--emit", "ir")).stdout).toBe(a.stdout);
});
