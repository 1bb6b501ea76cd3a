/**
 * `src/generated/<entity>/routes.ts`: what is particular to one entity's routes — its JSON shape
 * and serializer, its columns for scope probes, the constraints whose violation is the client's
 * fault — as an `EntitySpec` for the shared CRUD flow of `runtime/crud.ts`, which holds the order
 * of checks (DSL.md §6.9), the queries and the error mapping once for every entity.
 *
 * ```dsl
 * entity Task "Task":
 *   title: str(200) required
 *   project: ref Project required
 * ```
 * becomes
 * ```ts
 * const ENTITY: EntitySpec<"task", TaskJson> = {
 *   name: "Task",
 *   table: "task",
 *   access: ACCESS,
 *   columns: [{ name: "id", type: "uuid", absent: "gen_random_uuid()" }, …],
 *   constraints: { fk_task_project: { field: "project", message: "must reference an existing Project" } },
 *   validateCreate,
 *   validateUpdate,
 *   toJson,
 * };
 * export function router(database: Database): Router { return entityRouter(database, ENTITY); }
 * export const authorizeEvent: EventAuthorizer = eventAuthorizer(ENTITY);
 * ```
 */
import type { AppIR, EntityIR, FieldIR } from "../../ir/ir";
import { columnType } from "../../ir/column-type";
import { compileInvariant } from "../sql/compile-expression";
import { invariantConstraintName, uniqueColumns, uniqueLines } from "../sql/emit-tables";
import { objectName } from "../sql/object-name";
import type { EmitContext, GeneratedFile } from "../types";
import { byCodeUnit } from "../types";
import { createProject, defaultSql, entityDir, jsonValueType, lines, renderSource, str } from "./common";

export function routesPath(entity: EntityIR): string {
  return `src/generated/${entityDir(entity)}/routes.ts`;
}

/** Decimals and money minor units are strings (never floats), `json` any JSON value. */
function jsonType(field: FieldIR): string {
  const base = jsonValueType(field.type);
  return field.required || base === "JsonValue" ? base : `${base} | null`;
}

function key(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : str(name);
}

function access(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? `row.${name}` : `row[${str(name)}]`;
}

/** The JSON value of a column: date-times become ISO-8601 strings, everything else is JSON already. */
function jsonValue(field: FieldIR): string {
  const v = access(field.column);
  if (field.type.kind !== "datetime") return v;
  return field.required ? `${v}.toISOString()` : `${v} === null ? null : ${v}.toISOString()`;
}

/** Constraint name → field, for turning FK/unique violations of a write into a 422 on the field. */
function constraintFields(entity: EntityIR): [string, string, string][] {
  const out: [string, string, string][] = [];
  for (const f of entity.fields) {
    if (f.type.kind === "ref") {
      out.push([objectName("fk", entity.table, f.column), f.column, `must reference an existing ${f.type.entity}`]);
    }
    const unique = uniqueColumns(f);
    if (unique !== null) out.push([objectName("uq", entity.table, ...unique), f.column, "is already taken"]);
  }
  for (const columns of uniqueLines(entity.fields, entity.rules?.indexes ?? [])) {
    const message = columns.length === 1 ? "is already taken" : `is already taken with the same ${columns.slice(1).join(", ")}`;
    out.push([objectName("uq", entity.table, ...columns), columns[0]!, message]);
  }
  return out.sort((a, b) => byCodeUnit(a[0], b[0]));
}

/**
 * The entity's invariants for the flow: a row-local one names its CHECK constraint (23514 is
 * mapped back to it), any other carries its probe SQL over the would-be row aliased as the table.
 */
function invariantSpecs(app: AppIR, entity: EntityIR): { code: string; message: string; constraint?: string; probe?: string }[] {
  return (entity.rules?.invariants ?? []).map((inv) =>
    inv.rowLocal
      ? { code: inv.name, message: inv.message, constraint: invariantConstraintName(entity, inv) }
      : {
          code: inv.name,
          message: inv.message,
          probe: compileInvariant(inv, { entity, entities: app.entities, row: { kind: "table", alias: entity.table } }),
        },
  );
}

/** A `requires f` field's column (a `money` field: its minor units). */
function requiredColumn(entity: EntityIR, field: string): string {
  const f = entity.fields.find((x) => x.name === field && x.type.kind !== "moneyCurrency") ?? entity.fields.find((x) => x.column === field);
  if (!f) throw new Error(`DZ9001: requires ${entity.name}.${field} is not a stored field`);
  return f.column;
}

export function emitRoutes(app: AppIR, entity: EntityIR, ctx: EmitContext): GeneratedFile {
  const path = routesPath(entity);
  const E = entity.name;
  const T = str(entity.table);
  const constraints = constraintFields(entity);
  const invariants = invariantSpecs(app, entity);
  const machine = entity.rules?.stateMachine ?? null;
  const contents = renderSource(
    createProject(),
    path,
    ctx,
    [
      `HTTP routes of ${E} (mounted at /api/${entity.route}) and its event authorizer: ${E} as the`,
      "CRUD flow of runtime/crud.ts sees it. The flow checks in the order of DSL.md §6.9:",
      "401 → permit/forbid 403 → scope → validation 422 → transitions/invariants 422 → write.",
    ].join("\n"),
    (file) => {
      file.addImportDeclarations([
        { isTypeOnly: true, moduleSpecifier: "express", namedImports: ["Router"] },
        {
          moduleSpecifier: "../runtime/crud",
          namedImports: ["entityRouter", "eventAuthorizer", { name: "EntitySpec", isTypeOnly: true }, { name: "Row", isTypeOnly: true }],
        },
        { isTypeOnly: true, moduleSpecifier: "../runtime/database", namedImports: ["Database"] },
        { isTypeOnly: true, moduleSpecifier: "../runtime/events", namedImports: ["EventAuthorizer"] },
        { moduleSpecifier: "./access", namedImports: ["ACCESS"] },
        { moduleSpecifier: "./validate", namedImports: ["validateCreate", "validateUpdate"] },
        ...(entity.fields.some((f) => f.type.kind === "json")
          ? [{ isTypeOnly: true, moduleSpecifier: "../db", namedImports: ["JsonValue"] }]
          : []),
      ]);

      file.addInterface({
        isExported: true,
        name: `${E}Json`,
        docs: [`A ${E} as JSON: dates are "YYYY-MM-DD", date-times ISO-8601 strings in UTC.`],
        properties: entity.fields.map((f) => ({ name: key(f.column), isReadonly: true, type: jsonType(f) })),
      });

      file.addVariableStatement({
        docs: [`${E} for the CRUD flow.`],
        name: "ENTITY",
        type: `EntitySpec<${T}, ${E}Json>`,
        initializer: (w) => {
          w.write("{").newLine();
          w.indent(() => {
            w.writeLine(`name: ${str(E)},`);
            w.writeLine(`table: ${T},`);
            w.writeLine("access: ACCESS,");
            w.writeLine("// Every column: its PostgreSQL type, and the SQL a probe uses when a would-be row omits it.");
            w.writeLine("columns: [");
            w.indent(() => {
              for (const f of entity.fields) {
                w.writeLine(`{ name: ${str(f.column)}, type: ${str(columnType(f.type))}, absent: ${str(defaultSql(f) ?? "NULL")} },`);
              }
            });
            w.writeLine("],");
            if (constraints.length === 0) {
              w.writeLine("constraints: {},");
            } else {
              w.writeLine("// Constraints whose violation by a create or update is the client's fault: a 422 on the field.");
              w.writeLine("constraints: {");
              w.indent(() => {
                for (const [name, field, message] of constraints) {
                  w.writeLine(`${key(name)}: { field: ${str(field)}, message: ${str(message)} },`);
                }
              });
              w.writeLine("},");
            }
            if (invariants.length > 0) {
              w.writeLine("// Invariants: a CHECK constraint of the table, or SQL over the would-be row checked before the write.");
              w.writeLine("invariants: [");
              w.indent(() => {
                for (const inv of invariants) {
                  const where = inv.constraint !== undefined ? `constraint: ${str(inv.constraint)}` : `probe: ${str(inv.probe!)}`;
                  w.writeLine(`{ code: ${str(inv.code)}, message: ${str(inv.message)}, ${where} },`);
                }
              });
              w.writeLine("],");
            }
            if (machine !== null) {
              const column = requiredColumn(entity, machine.field);
              w.writeLine("// transitions: checked on every update that changes the state field (exact edges before `*`).");
              w.writeLine(`stateMachine: {`);
              w.indent(() => {
                w.writeLine(`field: ${str(machine.field)},`);
                w.writeLine(`column: ${str(column)},`);
                w.writeLine("transitions: [");
                w.indent(() => {
                  for (const t of machine.transitions) {
                    const roles = `[${t.roles.map(str).join(", ")}]`;
                    const requires = `[${t.requires.map((f) => `{ field: ${str(f)}, column: ${str(requiredColumn(entity, f))} }`).join(", ")}]`;
                    w.writeLine(
                      `{ from: ${t.from === null ? "null" : str(t.from)}, to: ${str(t.to)}, roles: ${roles}, requires: ${requires}, available: ${t.availableToApi} },`,
                    );
                  }
                });
                w.writeLine("],");
              });
              w.writeLine("},");
            }
            w.writeLine("validateCreate,");
            w.writeLine("validateUpdate,");
            w.writeLine("toJson,");
          });
          w.write("}");
        },
      });

      file.addFunction({
        isExported: true,
        name: "router",
        docs: [`Routes of ${E}: list, read, create, update (PATCH) and delete.`],
        parameters: [{ name: "database", type: "Database" }],
        returnType: "Router",
        statements: lines("return entityRouter(database, ENTITY);"),
      });

      file.addVariableStatement({
        isExported: true,
        docs: [`Whether a ${E} event may be sent to a caller: its row must be in the caller's list scope.`],
        name: "authorizeEvent",
        type: "EventAuthorizer",
        initializer: "eventAuthorizer(ENTITY)",
      });

      file.addFunction({
        name: "toJson",
        docs: ["The JSON body of a row, fields in declaration order."],
        parameters: [{ name: "row", type: `Row<${T}>` }],
        returnType: `${E}Json`,
        statements: (w) => {
          w.writeLine("return {");
          w.indent(() => {
            for (const f of entity.fields) w.writeLine(`${key(f.column)}: ${jsonValue(f)},`);
          });
          w.writeLine("};");
        },
      });
    },
  );
  return { path, contents, owner: "generator" };
}
