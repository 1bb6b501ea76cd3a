/**
 * The only place that writes the output tree. Compares the new files with the manifest in
 * `dazzle.lock.json` and the disk, then either refuses (hand-edited generated files, changed
 * migration history) without touching anything, or writes every changed file atomically,
 * deletes generated files that are no longer produced, and writes the lock last.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync, readdirSync, rmdirSync } from "node:fs";
import path from "node:path";
import type { SchemaSnapshot } from "../emit/sql/schema-snapshot";
import type { GeneratedFile } from "../emit/types";

export const LOCK_FILE = "dazzle.lock.json";

export interface LockFile {
  readonly generator: { readonly name: "dazzle-gen"; readonly version: string };
  /** sha256 of the spec sources (path + text), so `--check` can say the spec changed. */
  readonly specHash: string;
  /** The schema the committed migrations build (emit/sql/schema-snapshot.ts); the next diff starts here. */
  readonly schema?: SchemaSnapshot;
  /** Generated files (owner generator or migration) and the sha256 of what was written. */
  readonly files: Readonly<Record<string, string>>;
}

export interface WriteOptions {
  readonly force: boolean;
  /** Compute the plan, change nothing. */
  readonly dryRun: boolean;
}

export type ChangeKind = "create" | "update" | "delete" | "unchanged" | "keep";

export interface PlannedChange {
  readonly path: string;
  readonly kind: ChangeKind;
}

export interface WriteResult {
  /** Refusals; when non-empty nothing was written. */
  readonly problems: readonly string[];
  readonly changes: readonly PlannedChange[];
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Committed migration file names (graphile-migrate's pattern), in order. */
export function committedMigrations(outDir: string): string[] {
  const dir = path.join(outDir, "migrations", "committed");
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => /^[0-9]+(-[-_a-zA-Z0-9]*)?\.sql$/.test(name)).sort();
}

/** The `--! Hash:` header of a committed migration, or null when it has none. */
export function migrationHash(outDir: string, file: string): string | null {
  const text = readIfExists(path.join(outDir, "migrations", "committed", file));
  return text === null ? null : (/^--! Hash: (sha1:[0-9a-f]{40})$/m.exec(text)?.[1] ?? null);
}

export function readLock(outDir: string): LockFile | null {
  try {
    return JSON.parse(readFileSync(path.join(outDir, LOCK_FILE), "utf8")) as LockFile;
  } catch {
    return null;
  }
}

function readIfExists(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

export function writeOutput(outDir: string, files: readonly GeneratedFile[], lock: Omit<LockFile, "files">, options: WriteOptions): WriteResult {
  const previous = readLock(outDir);
  const problems: string[] = [];
  const changes: PlannedChange[] = [];
  const writes: GeneratedFile[] = [];
  const manifest: Record<string, string> = {};

  for (const file of files) {
    const target = path.join(outDir, file.path);
    const onDisk = readIfExists(target);
    if (file.owner === "user") {
      changes.push({ path: file.path, kind: onDisk === null ? "create" : "keep" });
      if (onDisk === null) writes.push(file);
      continue;
    }
    manifest[file.path] = sha256(file.contents);
    if (onDisk === null) {
      changes.push({ path: file.path, kind: "create" });
      writes.push(file);
      continue;
    }
    if (onDisk === file.contents) {
      changes.push({ path: file.path, kind: "unchanged" });
      continue;
    }
    if (file.owner === "migration") {
      problems.push(`${file.path}: committed migrations are history and are never rewritten; the schema changed since it was written`);
      continue;
    }
    const recorded = previous?.files[file.path];
    if (recorded !== undefined && recorded !== sha256(onDisk) && !options.force) {
      problems.push(`${file.path} was edited by hand (move the change to src/custom/, or pass --force to overwrite it)`);
      continue;
    }
    if (recorded === undefined && !options.force) {
      problems.push(`${file.path} exists and was not written by dazzle-gen (pass --force to overwrite it)`);
      continue;
    }
    changes.push({ path: file.path, kind: "update" });
    writes.push(file);
  }

  const stale: string[] = [];
  for (const [old, hash] of Object.entries(previous?.files ?? {})) {
    if (old in manifest || old.startsWith("migrations/")) continue;
    const onDisk = readIfExists(path.join(outDir, old));
    if (onDisk === null) continue;
    if (sha256(onDisk) !== hash && !options.force) {
      problems.push(`${old} is no longer generated but was edited by hand; remove it yourself or pass --force`);
      continue;
    }
    stale.push(old);
    changes.push({ path: old, kind: "delete" });
  }
  // Migration history survives in the manifest even when an emitter no longer lists it.
  for (const [old, hash] of Object.entries(previous?.files ?? {})) {
    if (old.startsWith("migrations/") && !(old in manifest)) manifest[old] = hash;
  }

  const lockFile: LockFile = { ...lock, files: Object.fromEntries(Object.entries(manifest).sort(([a], [b]) => (a < b ? -1 : 1))) };
  const lockText = JSON.stringify(lockFile, null, 2) + "\n";
  const lockChanged = readIfExists(path.join(outDir, LOCK_FILE)) !== lockText;
  changes.push({ path: LOCK_FILE, kind: previous === null ? "create" : lockChanged ? "update" : "unchanged" });

  if (problems.length > 0 || options.dryRun) return { problems, changes };

  for (const file of writes) writeAtomically(path.join(outDir, file.path), file.contents);
  for (const old of stale) removeFile(outDir, old);
  if (lockChanged) writeAtomically(path.join(outDir, LOCK_FILE), lockText);
  return { problems, changes };
}

function writeAtomically(target: string, contents: string): void {
  mkdirSync(path.dirname(target), { recursive: true });
  const temp = `${target}.dazzle-tmp-${process.pid}`;
  writeFileSync(temp, contents);
  renameSync(temp, target);
}

/** Deletes a stale file and any directories it leaves empty, up to the output root. */
function removeFile(outDir: string, rel: string): void {
  rmSync(path.join(outDir, rel), { force: true });
  let dir = path.dirname(path.join(outDir, rel));
  const root = path.resolve(outDir);
  while (path.resolve(dir) !== root && existsSync(dir) && readdirSync(dir).length === 0) {
    rmdirSync(dir);
    dir = path.dirname(dir);
  }
}
