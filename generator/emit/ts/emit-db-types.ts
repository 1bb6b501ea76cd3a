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
      ],
    });
  }
  return shapes.sort((a, b) => byCodeUnit(a.table, b.table));
}

export function emitDbTypes(app: AppIR, ctx: EmitContext): GeneratedFile {
  const shapes = tables(app);
  const usesTimestamp = shapes.some((s) => s.columns.some((c) => /\bTimestamp\b/.test(c.type)));
  const taken = new Set<string>(["ColumnType", "DB", "Generated", ...(usesTimestamp ? ["Timestamp"] : [])]);
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
      if (usesTimestamp) {
        file.addTypeAlias({ isExported: true, name: "Timestamp", type: "ColumnType<Date, Date | string, Date | string>" });
      }
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

/** A property key: bare when it is an identifier, quoted otherwise. */
function propertyName(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
}
