/**
 * Shared plumbing of the TypeScript emitters: the ts-morph project, rendering a source file to
 * text, names derived from the IR, and the field-type mappings (TS, PostgreSQL, JSON).
 */
import {
  IndentationText,
  NewLineKind,
  Node,
  Project,
  QuoteKind,
  ts,
  type SourceFile,
} from "ts-morph";
import type { DefaultIR, EntityIR, FieldIR, FieldTypeIR } from "../../ir/ir";
import { quoteLiteral } from "../sql/quote";
import { assertNever } from "../sql/predicate";
import { tsHeader, type EmitContext } from "../types";

/** A fresh in-memory project: no disk access, no type-checking, deterministic output. */
export function createProject(): Project {
  return new Project({
    useInMemoryFileSystem: true,
    skipLoadingLibFiles: true,
    manipulationSettings: {
      indentationText: IndentationText.TwoSpaces,
      quoteKind: QuoteKind.Double,
      newLineKind: NewLineKind.LineFeed,
      useTrailingCommas: true,
    },
    compilerOptions: { target: ts.ScriptTarget.ES2022, strict: true },
  });
}

/**
 * Builds one generated file: `build` fills an empty source file, which is then formatted and
 * prefixed with the DO-NOT-EDIT header and an optional file comment.
 */
export function renderSource(
  project: Project,
  path: string,
  ctx: EmitContext,
  doc: string | null,
  build: (file: SourceFile) => void,
): string {
  const file = project.createSourceFile(`/${path}`, "", { overwrite: true });
  build(file);
  file.formatText({
    indentSize: 2,
    tabSize: 2,
    convertTabsToSpaces: true,
    semicolons: ts.SemicolonPreference.Insert,
    insertSpaceAfterOpeningAndBeforeClosingNonemptyBraces: true,
  });
  const text = joinStatements(file);
  project.removeSourceFile(file);
  return `${tsHeader(ctx)}${doc === null ? "" : `${docComment(doc)}\n`}${text}\n`;
}

/**
 * The file's top-level statements, one blank line apart (ts-morph leaves consecutive variable
 * statements and type aliases without one), imports and a comment line kept with what follows.
 */
function joinStatements(file: SourceFile): string {
  let out = "";
  let prev: Node | null = null;
  for (const node of file.getStatementsWithComments()) {
    if (prev !== null) {
      const tight = (Node.isImportDeclaration(prev) && Node.isImportDeclaration(node)) || Node.isCommentStatement(prev);
      out += tight ? "\n" : "\n\n";
    }
    out += node.getText(true);
    prev = node;
  }
  return out;
}

/** Statement text from lines (one writer call, so ts-morph adds no blank lines between them). */
export function lines(...text: string[]): string {
  return text.join("\n");
}

/** A `/** … *\/` block for a (possibly multi-line) text. */
export function docComment(text: string): string {
  const lines = text.replace(/\*\//g, "*\\/").split("\n");
  if (lines.length === 1) return `/** ${lines[0]} */`;
  return ["/**", ...lines.map((l) => (l === "" ? " *" : ` * ${l}`)), " */"].join("\n");
}

/** A `//` comment line for text that may span lines (rule sources). */
export function lineComment(text: string): string {
  return `// ${text.replace(/\s*\n\s*/g, " ").trim()}`;
}

/** A double-quoted TypeScript string literal. */
export function str(value: string): string {
  return JSON.stringify(value);
}

/**
 * A template literal holding generator-produced SQL text verbatim (SQL is full of double quotes,
 * which would need escaping in a "…" literal).
 */
export function sqlText(value: string): string {
  return `\`${value.replace(/\\/g, "\\\\").replace(/`/g, "\\`").replace(/\$\{/g, "\\${")}\``;
}

// ---------------------------------------------------------------------------------------------
// Names

/** snake_case of an entity name by the rule of DSL.md §4.2 (without the 63-byte limit). */
export function snakeCase(name: string): string {
  let out = "";
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    const prev = i > 0 ? name[i - 1]! : "";
    const next = i + 1 < name.length ? name[i + 1]! : "";
    const upper = c >= "A" && c <= "Z";
    const prevLowerOrDigit = (prev >= "a" && prev <= "z") || (prev >= "0" && prev <= "9");
    const prevUpper = prev >= "A" && prev <= "Z";
    const nextLower = next >= "a" && next <= "z";
    if (upper && i > 0 && (prevLowerOrDigit || (prevUpper && nextLower))) out += "_";
    out += c;
  }
  return out.toLowerCase();
}

/** Directory of an entity's modules under `src/generated/`: `LineItem` → `line-item`. */
export function entityDir(entity: EntityIR): string {
  return snakeCase(entity.name).replace(/_+/g, "-").replace(/^-|-$/g, "");
}

/** lowerCamelCase identifier from a kebab/snake name: `line-item` → `lineItem`. */
export function camelCase(kebab: string): string {
  return kebab.replace(/[-_]+([a-zA-Z0-9])/g, (_m, c: string) => c.toUpperCase()).replace(/[-_]/g, "");
}

/**
 * The interface name kysely-codegen 0.20 gives a table: its `toKyselyPascalCase` (drop each `_`
 * and upper-case the character after it, upper-case the first), made unique against the names
 * already taken with a numeric suffix starting at 2, as its SymbolCollection does.
 */
export function kyselyInterfaceName(table: string, taken: Set<string>): string {
  let out = table[0] ?? "";
  for (let i = 1; i < table.length; i++) {
    const c = table[i]!;
    if (c === "_") continue;
    out += table[i - 1] === "_" ? c.toUpperCase() : c;
  }
  let name = out.slice(0, 1).toUpperCase() + out.slice(1);
  if (/^\d/.test(name)) name = `_${name}`;
  if (taken.has(name)) {
    let suffix = 2;
    while (taken.has(`${name}${suffix}`)) suffix++;
    name = `${name}${suffix}`;
  }
  taken.add(name);
  return name;
}

// ---------------------------------------------------------------------------------------------
// Field types

/**
 * The select type of a column in `db.ts` (before `| null` and `Generated<…>`). `date` is
 * `string`: the runtime's pg type parser keeps DATE as "YYYY-MM-DD", which is what kysely-codegen
 * emits with `--date-parser string`.
 */
export function dbColumnType(type: FieldTypeIR): string {
  switch (type.kind) {
    case "uuid":
    case "str":
    case "text":
    case "email":
    case "ref":
    case "date":
      return "string";
    case "int":
      return "number";
    case "bool":
      return "boolean";
    case "datetime":
      return "Timestamp";
    case "enum":
      return enumUnion(type.values);
    default:
      return assertNever(type);
  }
}

/** `"a" | "b"`, values sorted by code unit (as kysely-codegen sorts enum members). */
export function enumUnion(values: readonly string[]): string {
  return [...values]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map(str)
    .join(" | ");
}

/** The PostgreSQL type of a column, for typed parameters in probes. */
export function pgType(type: FieldTypeIR): string {
  switch (type.kind) {
    case "uuid":
    case "ref":
      return "uuid";
    case "str":
    case "text":
    case "email":
    case "enum":
      return "text";
    case "int":
      return "integer";
    case "bool":
      return "boolean";
    case "date":
      return "date";
    case "datetime":
      return "timestamptz";
    default:
      return assertNever(type);
  }
}

/**
 * The SQL text of a column's DB default, e.g. `'open'`, `now()`; null when it has none. Same
 * rule as emit/sql (the `DEFAULT` clause comes from the IR's `default` alone).
 */
export function defaultSql(field: FieldIR): string | null {
  return field.default === null ? null : defaultExpression(field.default);
}

function defaultExpression(d: DefaultIR): string {
  if (d.kind === "literal") return quoteLiteral(d.value);
  switch (d.fn) {
    case "uuid":
      return "gen_random_uuid()";
    case "now":
      return "now()";
    case "today":
      return "CURRENT_DATE";
    default:
      return assertNever(d.fn);
  }
}

/** True when an INSERT may omit the column (kysely-codegen's `Generated<T>`). */
export function hasDbDefault(field: FieldIR): boolean {
  return defaultSql(field) !== null;
}

/** Fields a client may send in a body (everything but `id` and server-managed columns). */
export function clientFields(entity: EntityIR): FieldIR[] {
  return entity.fields.filter((f) => !f.serverManaged && f.column !== "id");
}

/** Fields the server sets (`id`, `auto_add`, `auto_update`): ignored when a client sends them. */
export function serverManagedFields(entity: EntityIR): FieldIR[] {
  return entity.fields.filter((f) => f.serverManaged || f.column === "id");
}
