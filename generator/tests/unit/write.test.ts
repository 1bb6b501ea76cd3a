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

describe("regeneration with a changed schema", () => {
  let dir: string;
  let spec: string;
  const base = () => readFileSync(SPEC, "utf8");
  const revise = (from: string, to: string) => writeFileSync(spec, base().replace(from, to));
  const committed = () => [...readTree(out).keys()].filter((f) => f.startsWith("migrations/committed/"));
  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "dz-spec-"));
    spec = path.join(dir, "app.dz");
    writeFileSync(spec, base());
    expect((await cli(spec, "-o", out)).exitCode).toBe(0);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("writes one new committed migration chained to the last hash, and the lock keeps the new snapshot", async () => {
    revise("  pinned: bool=false\n", "  pinned: bool=false\n  color: str(10)\n");
    const dry = await cli(spec, "-o", out, "--dry-run");
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toContain("  create migrations/committed/000002-add-column-note-color-and-1-more.sql\n");
    expect(dry.stdout).toContain(
      "planned migration migrations/committed/000002-add-column-note-color-and-1-more.sql:\n--! Previous: sha1:",
    );
    expect(dry.stdout).toContain('-- add column "note"."color"\nALTER TABLE "note" ADD COLUMN "color" text;\n');
    expect(committed()).toEqual(["migrations/committed/000001-initial.sql"]);

    const result = await cli(spec, "-o", out);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain("dazzle-gen: new migration migrations/committed/000002-add-column-note-color-and-1-more.sql (2 step(s))\n");
    const first = readFileSync(path.join(out, "migrations/committed/000001-initial.sql"), "utf8");
    const second = readFileSync(path.join(out, "migrations/committed/000002-add-column-note-color-and-1-more.sql"), "utf8");
    expect(second.split("\n")[0]).toBe(`--! Previous: ${/^--! Hash: (\S+)$/m.exec(first)![1]}`);
    const lock = JSON.parse(readFileSync(path.join(out, "dazzle.lock.json"), "utf8"));
    expect(lock.schema.tables.note.columns.map((c: { name: string }) => c.name)).toEqual(["id", "author", "body", "pinned", "color"]);
    expect(Object.keys(lock.files).filter((f) => f.startsWith("migrations/"))).toEqual([
      "migrations/committed/000001-initial.sql",
      "migrations/committed/000002-add-column-note-color-and-1-more.sql",
    ]);
    // Unchanged schema: nothing new.
    const again = await cli(spec, "-o", out);
    expect(again.stderr).toMatch(/\(0 written or removed\)\n$/);
    expect(committed()).toHaveLength(2);
  });

  test("a destructive change is refused with DZ5001 per step, exit 1 and no file changed; --allow-destructive writes it with a comment", async () => {
    revise("  pinned: bool=false\n", "");
    const before = readTree(out);
    const refused = await cli(spec, "-o", out);
    expect(refused).toEqual({
      exitCode: 1,
      stdout: "",
      stderr:
        'error[DZ5001]: destructive schema change: drop column "note"."pinned"\n' +
        '  = note: ALTER TABLE "note" DROP COLUMN "pinned" CASCADE;\n' +
        `dazzle-gen: refusing to write ${out}; nothing was changed (pass --allow-destructive to generate these steps; the migration will say so)\n`,
    });
    expect(readTree(out)).toEqual(before);
    expect((await cli(spec, "-o", out, "--dry-run")).exitCode).toBe(1);
    const allowed = await cli(spec, "-o", out, "--allow-destructive");
    expect(allowed.exitCode).toBe(0);
    const file = committed()[1]!;
    expect(file).toBe("migrations/committed/000002-drop-column-note-pinned.sql");
    expect(readFileSync(path.join(out, file), "utf8")).toContain(
      '-- DESTRUCTIVE: generated with --allow-destructive; these steps can lose data:\n--   DZ5001 drop column "note"."pinned"\n',
    );
  });

  test("DZ5002 (required without default) and DZ5003 (type change) are refused; DZ5005 hints at a rename", async () => {
    revise("  pinned: bool=false\n", "  pinned: int\n  rank: int required\n");
    const before = readTree(out);
    const refused = await cli(spec, "-o", out);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr.split("\n").filter((l) => l.startsWith("error") || l.startsWith("warning"))).toEqual([
      'error[DZ5002]: destructive schema change: add column "note"."rank" (NOT NULL without a default: existing rows have no value)',
      'error[DZ5003]: destructive schema change: change the type of "note"."pinned" from boolean to integer (lossy: cast with `"pinned"::integer`; a value it cannot convert fails the migration)',
    ]);
    expect(readTree(out)).toEqual(before);

    revise("  body: text required\n", "  text: text required\n");
    const renamed = await cli(spec, "-o", out);
    expect(renamed.stderr).toContain(
      'warning[DZ5005]: column "note"."body" dropped and "note"."text" added with the same type text: if this is a rename, mark the field `was: body`\n',
    );
    expect(renamed.exitCode).toBe(1);
    expect(readTree(out)).toEqual(before);
  });

  test("DZ5004: committed migrations without a readable snapshot in the lock", async () => {
    revise("  pinned: bool=false\n", "  pinned: bool=false\n  color: str(10)\n");
    expect((await cli(spec, "-o", out)).exitCode).toBe(0);
    const lockPath = path.join(out, "dazzle.lock.json");
    const lock = JSON.parse(readFileSync(lockPath, "utf8"));
    writeFileSync(lockPath, JSON.stringify({ ...lock, schema: { version: 1, tables: "broken" } }));
    const before = readTree(out);
    expect(await cli(spec, "-o", out)).toEqual({
      exitCode: 1,
      stdout: "",
      stderr:
        `error[DZ5004]: ${out} has committed migrations but dazzle.lock.json holds no readable schema snapshot\n` +
        "  = help: restore dazzle.lock.json from version control; without the snapshot the next migration cannot be computed\n" +
        `dazzle-gen: refusing to write ${out}; nothing was changed\n`,
    });
    expect(readTree(out)).toEqual(before);
  });

  test("a lock from before snapshots is accepted when its only migration is today's initial one", async () => {
    const lockPath = path.join(out, "dazzle.lock.json");
    const { schema: _schema, ...old } = JSON.parse(readFileSync(lockPath, "utf8"));
    writeFileSync(lockPath, JSON.stringify(old, null, 2) + "\n");
    const result = await cli(spec, "-o", out);
    expect(result.exitCode).toBe(0);
    expect(committed()).toEqual(["migrations/committed/000001-initial.sql"]);
    expect(JSON.parse(readFileSync(lockPath, "utf8")).schema.version).toBe(1);
  });
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
