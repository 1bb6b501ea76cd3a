/**
 * The one place the generator reads its templates from disk. Emitters receive the result as
 * `EmitContext.templates` and stay pure.
 */
import fs from "node:fs";
import path from "node:path";

/**
 * Every file under `dir` (default: the package's own `templates/`), keyed by its posix path
 * relative to `dir`, in code-unit order.
 */
export function readTemplates(dir: string = findTemplatesDir(__dirname)): Map<string, string> {
  const files = listFiles(dir).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return new Map(files.map((relative) => [relative, fs.readFileSync(path.join(dir, ...relative.split("/")), "utf8")]));
}

/**
 * `templates/` next to dazzle-gen's package.json, searched upwards from `start`: works from
 * the sources (`generator/write/`) and from the compiled `dist/generator/write/`.
 */
export function findTemplatesDir(start: string): string {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "templates");
    if (isDazzleGenPackage(dir) && fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`cannot find dazzle-gen's templates folder above ${start}`);
  }
}

function isDazzleGenPackage(dir: string): boolean {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: unknown };
    return pkg.name === "dazzle-gen";
  } catch {
    return false;
  }
}

/** Posix paths of the files below `root`, recursively. */
function listFiles(root: string, prefix = ""): string[] {
  return fs.readdirSync(path.join(root, prefix), { withFileTypes: true }).flatMap((entry) => {
    const relative = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) return listFiles(root, relative);
    return entry.isFile() ? [relative] : [];
  });
}
