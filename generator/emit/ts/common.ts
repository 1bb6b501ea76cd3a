/**
 * Shared plumbing of the TypeScript emitters: the ts-morph project, rendering a source file to
 * text, names derived from the IR, and the field-type mappings (TS, PostgreSQL, JSON).
 */
import {
  CodeBlockWriter,
  IndentationText,
  NewLineKind,
  Project,
  QuoteKind,
  StructureKind,
  ts,
  type FunctionDeclarationStructure,
  type ImportDeclarationStructure,
  type InterfaceDeclarationStructure,
  type OptionalKind,
  type SourceFile,
  type SourceFileStructure,
  type StatementStructures,
  type TypeAliasDeclarationStructure,
  type WriterFunction,
} from "ts-morph";
import type { AppIR, EntityIR, FieldIR, FieldTypeIR } from "../../ir/ir";
import { defaultExpression } from "../sql/default-expression";
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

/** A `const` declaration: one name, optional type, initializer text or writer. */
export interface VariableSpec {
  readonly name: string;
  readonly isExported?: boolean;
  readonly docs?: readonly string[];
  readonly type?: string;
  readonly initializer: string | WriterFunction;
}

/**
 * Collects a file's top-level statements as ts-morph structures, so the whole file is printed
 * and parsed once (adding declarations one by one to a SourceFile re-parses it every time).
 */
export class FileBuilder {
  readonly statements: (string | WriterFunction | StatementStructures)[] = [];

  addImportDeclaration(s: OptionalKind<ImportDeclarationStructure>): void {
    this.statements.push({ ...s, kind: StructureKind.ImportDeclaration });
  }

  addImportDeclarations(list: readonly OptionalKind<ImportDeclarationStructure>[]): void {
    for (const s of list) this.addImportDeclaration(s);
  }

  addTypeAlias(s: OptionalKind<TypeAliasDeclarationStructure>): void {
    this.statements.push({ ...s, kind: StructureKind.TypeAlias });
  }

  addInterface(s: OptionalKind<InterfaceDeclarationStructure>): void {
    this.statements.push({ ...s, kind: StructureKind.Interface });
  }

  addFunction(s: OptionalKind<FunctionDeclarationStructure>): void {
    this.statements.push({ ...s, kind: StructureKind.Function });
  }

  /**
   * Printed here rather than as a structure: ts-morph gives multi-line initializers a hanging
   * indent, which the formatter would then have to undo.
   */
  addVariableStatement(s: VariableSpec): void {
    const docs = s.docs === undefined ? "" : `${docComment(s.docs.join("\n"))}\n`;
    const head = `${s.isExported === true ? "export " : ""}const ${s.name}${s.type === undefined ? "" : `: ${s.type}`} = `;
    let initializer: string;
    if (typeof s.initializer === "string") {
      initializer = s.initializer;
    } else {
      const writer = new CodeBlockWriter({ indentNumberOfSpaces: 2, useSingleQuote: false, newLine: "\n" });
      s.initializer(writer);
      initializer = writer.toString();
    }
    this.statements.push(`${docs}${head}${initializer};`);
  }

  /** Raw statement text (parsed as part of the file). */
  addStatements(text: string | readonly string[]): void {
    this.statements.push(typeof text === "string" ? text : text.join("\n"));
  }
}

/**
 * Builds one generated file: `build` declares its statements, which ts-morph prints with the
 * project's manipulation settings (two-space indent, double quotes) and which are joined one
 * blank line apart; the DO-NOT-EDIT header and an optional file comment go first.
 *
 * The output is already in `formatText` form (a unit test checks that formatting every emitted
 * file with FORMAT_SETTINGS changes nothing), so the formatter is not run here: it cost 60 % of
 * the emit time (≈ 18 ms per entity), which a 500-entity spec cannot afford.
 */
export function renderSource(
  project: Project,
  path: string,
  ctx: EmitContext,
  doc: string | null,
  build: (file: FileBuilder) => void,
): string {
  const builder = new FileBuilder();
  build(builder);
  return printSource(project, path, ctx, doc, { statements: builder.statements });
}

/** Prints source text (or a structure) as a generated file; see renderSource. */
export function printSource(
  project: Project,
  path: string,
  ctx: EmitContext,
  doc: string | null,
  source: string | OptionalKind<SourceFileStructure>,
): string {
  const file = project.createSourceFile(`/${path}`, source, { overwrite: true });
  const text = joinStatements(file);
  project.removeSourceFile(file);
  return `${tsHeader(ctx)}${doc === null ? "" : `${docComment(doc)}\n`}${text}\n`;
}

/** The formatter settings generated TypeScript is kept in. */
export const FORMAT_SETTINGS: ts.FormatCodeSettings = {
  indentSize: 2,
  tabSize: 2,
  convertTabsToSpaces: true,
  newLineCharacter: "\n",
  semicolons: ts.SemicolonPreference.Ignore,
  insertSpaceAfterOpeningAndBeforeClosingNonemptyBraces: true,
  insertSpaceAfterOpeningAndBeforeClosingEmptyBraces: false,
};

/** `formatText` of a whole file with FORMAT_SETTINGS (for tests: emitted files are fixed points). */
export function formatTypeScript(text: string): string {
  const project = createProject();
  const file = project.createSourceFile("/format.ts", text);
  file.formatText(FORMAT_SETTINGS);
  return file.getFullText();
}

/**
 * The file's top-level statements, one blank line apart (ts-morph leaves consecutive variable
 * statements and type aliases without one) except between imports; comments stay with the
 * statement they precede. Reads the compiler nodes directly: wrapping them as ts-morph nodes
 * would cost as much as the parse.
 */
function joinStatements(file: SourceFile): string {
  const source = file.compilerNode;
  let out = "";
  let prevImport = false;
  source.statements.forEach((statement, i) => {
    const isImport = ts.isImportDeclaration(statement);
    if (i > 0) out += prevImport && isImport ? "\n" : "\n\n";
    out += statement.getFullText(source).replace(/^\s+/, "");
    prevImport = isImport;
  });
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
    case "url":
    case "slug":
    case "timezone":
    case "file":
    case "moneyCurrency":
      return "string";
    case "int":
    case "float":
      return "number";
    case "bool":
      return "boolean";
    case "datetime":
      return "Timestamp";
    case "enum":
      return enumUnion(type.values);
    case "decimal":
      return "Numeric";
    case "moneyMinor":
      return "Int8";
    case "json":
      return "Json";
    default:
      return assertNever(type);
  }
}

/** The JSON (and TS select) type of a column's value in an API body, before `| null`. */
export function jsonValueType(type: FieldTypeIR): string {
  switch (type.kind) {
    case "int":
    case "float":
      return "number";
    case "bool":
      return "boolean";
    case "enum":
      return enumUnion(type.values);
    case "json":
      return "JsonValue";
    default:
      // Text, uuids, dates ("YYYY-MM-DD"), date-times (ISO-8601), decimals and money minor units.
      return "string";
  }
}

/** `"a" | "b"`, values sorted by code unit (as kysely-codegen sorts enum members). */
export function enumUnion(values: readonly string[]): string {
  return [...values]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map(str)
    .join(" | ");
}


/** The SQL text of a column's DB default, e.g. `'open'`, `now()`; null when it has none. */
export function defaultSql(field: FieldIR): string | null {
  return field.default === null ? null : defaultExpression(field.default);
}


/** True when an INSERT may omit the column (kysely-codegen's `Generated<T>`). */
export function hasDbDefault(field: FieldIR): boolean {
  return defaultSql(field) !== null;
}

/** Fields a client may send in a body (everything but `id` and server-managed columns). */
export function clientFields(entity: EntityIR): FieldIR[] {
  return entity.fields.filter((f) => !f.serverManaged && f.column !== "id");
}

/**
 * Required references to the principal entity without a default (`owner: ref User required`):
 * a create body may omit them, and they then take the caller's id.
 */
export function callerDefaultFields(app: AppIR, entity: EntityIR): FieldIR[] {
  const principal = app.principal.entity;
  if (principal === null) return [];
  return clientFields(entity).filter(
    (f) => f.required && f.default === null && f.type.kind === "ref" && f.type.entity === principal,
  );
}

/** Fields the server sets (`id`, `auto_add`, `auto_update`): ignored when a client sends them. */
export function serverManagedFields(entity: EntityIR): FieldIR[] {
  return entity.fields.filter((f) => f.serverManaged || f.column === "id");
}
