/**
 * `src/generated/db.ts`: the Kysely `DB` interface, written from the IR exactly as kysely-codegen
 * 0.20 would introspect the migrated database with `--date-parser string` (public schema, one
 * interface per table named by its `toKyselyPascalCase`, tables and columns sorted, `Generated<T>`
 * for columns with a default, `T | null` for nullable ones).
 *
 * Deliberate differences from a plain introspection:
 * - `enum[...]` columns are TEXT + CHECK in the database, which kysely-codegen would type as
 *   `string`; here they are the union of their values (DSL.md §4.3), which is assignable to it.
 * - `_dazzle_events` (and other `_dazzle_*` framework tables) are left out: only the runtime's
 *   event stream reads them, through its own SQL, and `dazzle_app` has no grant on them.
 *
 * `decimal` is `Numeric` and a money field's `<f>_minor` (BIGINT) is `Int8`: both select as
 * `string` (the runtime's pg parsers return NUMERIC and INT8 as text, kysely-codegen's
 * `--numeric-parser string`); `json` is `Json`; `float` is `number`; `<f>_currency` (CHAR(3)) is
 * `string`. The aliases are written exactly as kysely-codegen writes them, only when used.
 */
import type { AppIR, FieldIR } from "../../ir/ir";
import type { EmitContext, GeneratedFile } from "../types";
import { byCodeUnit } from "../types";
import { createProject, dbColumnType, hasDbDefault, kyselyInterfaceName, renderSource } from "./common";

export const DB_TYPES_PATH = "src/generated/db.ts";

interface TableShape {
  readonly table: string;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
}

/** The column type as kysely-codegen writes it: `Generated<T>`, `T | null`, or both. */
export function dbPropertyType(field: FieldIR): string {
  const base = dbColumnType(field.type);
  const nullable = field.required ? base : `${base} | null`;
  return hasDbDefault(field) ? `Generated<${nullable}>` : nullable;
}

function tables(app: AppIR): TableShape[] {
  const shapes: TableShape[] = app.entities.map((e) => ({
    table: e.table,
    columns: e.fields.map((f) => ({ name: f.column, type: dbPropertyType(f) })),
  }));
  if (app.principal.entity === null) {
    // The generated principal table (emit/sql emit-tables): `id` and a nullable unique `email`.
    shapes.push({
      table: app.principal.table,
      columns: [
        { name: "email", type: "string | null" },
        { name: "id", type: "Generated<string>" },
        // Under tenancy (DSL.md §7) it also carries the partition key, a nullable ref to the root.
        ...(app.principal.tenant?.column ? [{ name: app.principal.tenant.column, type: "string | null" }] : []),
      ],
    });
  }
  return shapes.sort((a, b) => byCodeUnit(a.table, b.table));
}

export function emitDbTypes(app: AppIR, ctx: EmitContext): GeneratedFile {
  const shapes = tables(app);
  const uses = (alias: string) => shapes.some((s) => s.columns.some((c) => new RegExp(`\\b${alias}\\b`).test(c.type)));
  const usesTimestamp = uses("Timestamp");
  const aliases = Object.entries(ALIASES).filter(([name]) => uses(name));
  const json = uses("Json");
  const taken = new Set<string>([
    "ColumnType", "DB", "Generated",
    ...(usesTimestamp ? ["Timestamp"] : []),
    ...aliases.map(([name]) => name),
    ...(json ? Object.keys(JSON_ALIASES) : []),
  ]);
  const named = shapes.map((s) => ({ ...s, iface: kyselyInterfaceName(s.table, taken) }));

  const contents = renderSource(
    createProject(),
    DB_TYPES_PATH,
    ctx,
    "Kysely table types of the migrated database (public schema), as kysely-codegen introspects them.",
    (file) => {
      file.addImportDeclaration({ isTypeOnly: true, moduleSpecifier: "kysely", namedImports: ["ColumnType"] });
      file.addStatements([
        "export type Generated<T> = T extends ColumnType<infer S, infer I, infer U>",
        "  ? ColumnType<S, I | undefined, U>",
        "  : ColumnType<T, T | undefined, T>;",
      ]);
      const all = [
        ...aliases,
        ...(json ? Object.entries(JSON_ALIASES) : []),
        ...(usesTimestamp ? [["Timestamp", "ColumnType<Date, Date | string, Date | string>"] as const] : []),
      ].sort((a, b) => byCodeUnit(a[0], b[0]));
      for (const [name, type] of all) file.addTypeAlias({ isExported: true, name, type });
      for (const s of named) {
        file.addInterface({
          isExported: true,
          name: s.iface,
          properties: [...s.columns]
            .sort((a, b) => byCodeUnit(a.name, b.name))
            .map((c) => ({ name: propertyName(c.name), type: c.type })),
        });
      }
      file.addInterface({
        isExported: true,
        name: "DB",
        properties: named.map((s) => ({ name: propertyName(s.table), type: s.iface })),
      });
    },
  );
  return { path: DB_TYPES_PATH, contents, owner: "generator" };
}

/** kysely-codegen 0.20's definitions of the scalar aliases our columns use. */
const ALIASES: Readonly<Record<string, string>> = {
  Int8: "ColumnType<string, bigint | number | string, bigint | number | string>",
  Numeric: "ColumnType<string, number | string, number | string>",
};
const JSON_ALIASES: Readonly<Record<string, string>> = {
  Json: "JsonValue",
  JsonArray: "JsonValue[]",
  JsonObject: "{ [x: string]: JsonValue | undefined }",
  JsonPrimitive: "boolean | number | string | null",
  JsonValue: "JsonArray | JsonObject | JsonPrimitive",
};

/** A property key: bare when it is an identifier, quoted otherwise. */
function propertyName(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
}
