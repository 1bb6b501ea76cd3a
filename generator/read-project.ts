/**
 * Reads the spec from disk (DSL.md §2.1): a single `.dz`/`.dsl` file, or a directory holding
 * `dazzle.toml` whose `[modules] paths` are searched recursively for `*.dsl`/`*.dz` files.
 * File names in spans are relative to the project root (the file's own directory in
 * single-file mode), so no absolute path reaches a diagnostic or a generated file.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { makeSourceFile, type SourceFile } from "./diagnostics/span";

export interface ProjectInput {
  /** Project-relative posix paths, sorted by code unit. */
  readonly files: readonly SourceFile[];
  readonly rootModule: string | null;
  readonly fallbackName: string;
  /** Name used in generated headers: the file name, or `dazzle.toml`. */
  readonly specName: string;
}

export class InputError extends Error {}

export function readProject(input: string): ProjectInput {
  let stat;
  try {
    stat = statSync(input);
  } catch {
    throw new InputError(`cannot read ${input}: no such file or directory`);
  }
  if (stat.isDirectory()) return readDirectoryProject(input);
  if (!/\.(dz|dsl)$/.test(input)) throw new InputError(`${input}: expected a .dz or .dsl file, or a directory with dazzle.toml`);
  const name = path.basename(input);
  return {
    files: [makeSourceFile(name, readFileSync(input, "utf8"))],
    rootModule: null,
    fallbackName: name.replace(/\.(dz|dsl)$/, ""),
    specName: name,
  };
}

function readDirectoryProject(dir: string): ProjectInput {
  const tomlPath = path.join(dir, "dazzle.toml");
  let tomlText: string;
  try {
    tomlText = readFileSync(tomlPath, "utf8");
  } catch {
    throw new InputError(`${dir} has no dazzle.toml`);
  }
  const toml = parseToml(tomlText);
  const projectTable = toml.get("project") ?? new Map();
  const modulesTable = toml.get("modules") ?? new Map();
  const root = projectTable.get("root");
  const name = projectTable.get("name");
  const paths = modulesTable.get("paths") ?? ["./dsl"];
  const files: SourceFile[] = [];
  for (const p of Array.isArray(paths) ? paths : [paths]) {
    const base = path.join(dir, p);
    for (const file of walk(base)) {
      const rel = path.relative(dir, file).split(path.sep).join("/");
      files.push(makeSourceFile(rel, readFileSync(file, "utf8")));
    }
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const unique = files.filter((f, i) => i === 0 || files[i - 1]!.path !== f.path);
  return {
    files: unique,
    rootModule: typeof root === "string" ? root : null,
    fallbackName: typeof name === "string" ? name : path.basename(path.resolve(dir)),
    specName: "dazzle.toml",
  };
}

function* walk(dir: string): Generator<string> {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(full);
    else if (/\.(dsl|dz)$/.test(e.name)) yield full;
  }
}

type TomlValue = string | number | boolean | string[];

/** The TOML subset dazzle.toml uses: `[table]` headers, `key = "string" | number | bool | [strings]`. */
export function parseToml(text: string): Map<string, Map<string, TomlValue>> {
  const tables = new Map<string, Map<string, TomlValue>>();
  let current = new Map<string, TomlValue>();
  tables.set("", current);
  for (const raw of text.split(/\r?\n/)) {
    const line = stripComment(raw).trim();
    if (line === "") continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      current = new Map();
      tables.set(header[1]!.trim(), current);
      continue;
    }
    const kv = /^([A-Za-z0-9_.-]+)\s*=\s*(.*)$/.exec(line);
    if (!kv) continue;
    const value = parseTomlValue(kv[2]!);
    if (value !== undefined) current.set(kv[1]!, value);
  }
  return tables;
}

function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#") return line.slice(0, i);
  }
  return line;
}

function parseTomlValue(text: string): TomlValue | undefined {
  const t = text.trim();
  if (t.startsWith("[")) {
    const items = [...t.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'/g)].map((m) => m[1] ?? m[2] ?? "");
    return items;
  }
  const str = /^"((?:[^"\\]|\\.)*)"$|^'([^']*)'$/.exec(t);
  if (str) return str[1] !== undefined ? str[1].replace(/\\(.)/g, "$1") : str[2]!;
  if (t === "true" || t === "false") return t === "true";
  if (/^-?[0-9]+(\.[0-9]+)?$/.test(t)) return Number(t);
  return undefined;
}
