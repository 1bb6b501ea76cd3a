/** Locates `../shared/corpus` beside the checkout; tests skip with a message when it is absent. */
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { makeSourceFile } from "../../diagnostics/span";
import type { ProjectInput } from "../../read-project";
import { readFileSync } from "node:fs";

export const CORPUS_DIR = path.resolve(__dirname, "../../../../shared/corpus");
export const corpusPresent = existsSync(CORPUS_DIR);

export function skipMessage(): string {
  return `shared corpus not found at ../shared/corpus: corpus tests skipped`;
}

/** Project directories (those holding dazzle.toml) under a corpus folder, sorted. */
export function corpusProjects(folder: string): string[] {
  const base = path.join(CORPUS_DIR, folder);
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .map((name) => path.join(base, name))
    .filter((dir) => existsSync(path.join(dir, "dazzle.toml")))
    .sort();
}

/** Every .dsl/.dz file below a corpus folder, sorted. */
export function corpusFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.(dsl|dz)$/.test(name)) out.push(full);
    }
  };
  const base = path.join(CORPUS_DIR, folder);
  if (existsSync(base)) walk(base);
  return out;
}

/** A single corpus file as a one-file project, named by its corpus-relative path. */
export function singleFileInput(file: string): ProjectInput {
  const rel = path.relative(CORPUS_DIR, file).split(path.sep).join("/");
  return { files: [makeSourceFile(rel, readFileSync(file, "utf8"))], rootModule: null, fallbackName: path.basename(file).replace(/\.\w+$/, ""), specName: rel };
}
