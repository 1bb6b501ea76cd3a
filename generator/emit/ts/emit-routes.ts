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
import type { CodeBlockWriter } from "ts-morph";
import type { AppIR, ComputedFieldIR, ComputedTypeIR, EntityIR, FieldIR } from "../../ir/ir";
import { columnType } from "../../ir/column-type";
import { aggregatesOf } from "../../ir/lower-computed";
import { compileComputed, compileInvariant } from "../sql/compile-expression";
import { invariantHelper, invariantHelperCall } from "../sql/emit-invariant-helpers";
import { compilePredicate } from "../sql/predicate";
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
 * One that reads other rows probes through its definer helper (emit-invariant-helpers.ts), so
 * rows the caller may not see still count.
 */
function invariantSpecs(app: AppIR, entity: EntityIR): { code: string; message: string; constraint?: string; probe?: string }[] {
  return (entity.rules?.invariants ?? []).map((inv) => {
    if (inv.rowLocal) return { code: inv.name, message: inv.message, constraint: invariantConstraintName(entity, inv) };
    const helper = invariantHelper(entity, inv, app.entities);
    const probe = helper !== null
      ? invariantHelperCall(helper, entity.table)
      : compileInvariant(inv, { entity, entities: app.entities, row: { kind: "table", alias: entity.table } });
    return { code: inv.name, message: inv.message, probe };
  });
}

// ── computed fields (DSL.md §4.8) ──

/** JSON type of a computed value: ints and floats are numbers, decimals strings (never floats). */
const COMPUTED_JSON: Readonly<Record<ComputedTypeIR, string>> = {
  int: "number", decimal: "string", float: "number", text: "string", bool: "boolean", date: "string", datetime: "string", uuid: "string",
};

/** The JSON value of a computed column read as `unknown`: the SQL cast fixed its driver type (bigint arrives as a string). */
function computedJsonValue(c: ComputedFieldIR): string {
  const v = `row[${str(c.name)}]`;
  switch (c.type) {
    case "int":
      return `${v} === null ? null : Number(${v})`;
    case "datetime":
      return `${v} === null ? null : (${v} as Date).toISOString()`;
    default:
      return `${v} as ${COMPUTED_JSON[c.type]} | null`;
  }
}

/** The identifier a child entity's ACCESS is imported as (the entity's own is `ACCESS`). */
function childAccessName(entity: EntityIR, child: string, app: AppIR): string {
  return child === entity.name ? "ACCESS" : `${entityOf(app, child).table.toUpperCase()}_ACCESS`;
}

function entityOf(app: AppIR, name: string): EntityIR {
  const e = app.entities.find((x) => x.name === name);
  if (!e) throw new Error(`DZ9001: aggregate over unknown entity ${name}`);
  return e;
}

/**
 * `audit: [ops]` of the EntitySpec (DSL.md §9.1; nothing without `audit:`), and when updates are
 * audited the `sensitive` columns their field_changes redact.
 */
function writeAudit(w: CodeBlockWriter, entity: EntityIR): void {
  const ops = entity.rules?.auditOperations ?? [];
  if (ops.length === 0) return;
  w.writeLine("// audit: each request of these operations logs its access decision (_dazzle_audit_log).");
  w.writeLine(`audit: [${ops.map(str).join(", ")}],`);
  const sensitive = entity.fields.filter((f) => f.sensitive === true).map((f) => f.column);
  if (ops.includes("update") && sensitive.length > 0) w.writeLine(`sensitive: [${sensitive.map(str).join(", ")}],`);
}

/**
 * `computed: [{ name, sql, children }]` of the EntitySpec: each field's SQL split at its aggregates'
 * scope slots, and per aggregate the child's ACCESS and list scope rules compiled over the alias.
 */
function writeComputed(w: CodeBlockWriter, app: AppIR, entity: EntityIR): void {
  const computed = entity.computed ?? [];
  if (computed.length === 0) return;
  w.writeLine("// Computed fields: SQL over the row, each aggregate's child list scope filled in per caller.");
  w.writeLine("computed: [");
  w.indent(() => {
    for (const c of computed) {
      const compiled = compileComputed(c, { entity, entities: app.entities, row: { kind: "table", alias: entity.table } });
      w.writeLine("{");
      w.indent(() => {
        w.writeLine(`name: ${str(c.name)},`);
        w.writeLine(`sql: [${compiled.parts.map(str).join(", ")}],`);
        if (compiled.children.length === 0) {
          w.writeLine("children: [],");
          return;
        }
        w.writeLine("children: [");
        w.indent(() => {
          for (const slot of compiled.children) w.writeLine(`${childScope(app, entity, slot)},`);
        });
        w.writeLine("],");
      });
      w.writeLine("},");
    }
  });
  w.writeLine("],");
}

/**
 * An aggregate slot's ChildScope: the child's ACCESS (its list permit) and its list scope rules
 * compiled over the subquery alias. A default-deny child has no access.ts and no caller may list
 * it: an inline deny-all, so the slot is always FALSE.
 */
function childScope(app: AppIR, entity: EntityIR, slot: { readonly entity: string; readonly alias: string }): string {
  const child = entityOf(app, slot.entity);
  if (!child.access.exposed) return `{ access: { entity: ${str(child.name)}, anonymous: [], permit: {}, forbid: {}, scope: null }, list: null }`;
  const scope = child.access.scope;
  const rules = (scope ?? [])
    .filter((r) => r.operation === "list")
    .map((r) => {
      const roles = r.roles === "*" ? '"*"' : `[${r.roles.map(str).join(", ")}]`;
      return `{ id: ${str(r.id)}, roles: ${roles}, sql: ${str(compilePredicate(r.predicate, { kind: "table", alias: slot.alias }))} }`;
    });
  return `{ access: ${childAccessName(entity, slot.entity, app)}, list: ${scope === null ? "null" : `[${rules.join(", ")}]`} }`;
}

/** Exposed entities aggregated by the computed fields, sorted, each once: their ACCESS is imported. */
function computedChildren(app: AppIR, entity: EntityIR): string[] {
  const names = (entity.computed ?? []).flatMap((c) => aggregatesOf(c.expr)).map((a) => a.entity);
  return [...new Set(names)].filter((name) => entityOf(app, name).access.exposed).sort(byCodeUnit);
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
  const machines = entity.rules?.stateMachines ?? [];
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
          namedImports: [
            "entityRouter",
            "eventAuthorizer",
            { name: "EntitySpec", isTypeOnly: true },
            { name: entity.computed?.length ? "ReadRow" : "Row", isTypeOnly: true },
          ],
        },
        { isTypeOnly: true, moduleSpecifier: "../runtime/database", namedImports: ["Database"] },
        { isTypeOnly: true, moduleSpecifier: "../runtime/events", namedImports: ["EventAuthorizer"] },
        { moduleSpecifier: "./access", namedImports: ["ACCESS"] },
        ...computedChildren(app, entity)
          .filter((child) => child !== entity.name)
          .map((child) => ({
            moduleSpecifier: `../${entityDir(entityOf(app, child))}/access`,
            namedImports: [{ name: "ACCESS", alias: childAccessName(entity, child, app) }],
          })),
        { moduleSpecifier: "./validate", namedImports: ["validateCreate", "validateUpdate"] },
        ...(entity.fields.some((f) => f.type.kind === "json")
          ? [{ isTypeOnly: true, moduleSpecifier: "../db", namedImports: ["JsonValue"] }]
          : []),
      ]);

      file.addInterface({
        isExported: true,
        name: `${E}Json`,
        docs: [`A ${E} as JSON: dates are "YYYY-MM-DD", date-times ISO-8601 strings in UTC.`],
        properties: [
          ...entity.fields.map((f) => ({ name: key(f.column), isReadonly: true, type: jsonType(f) })),
          ...(entity.computed ?? []).map((c) => ({ name: key(c.name), isReadonly: true, type: `${COMPUTED_JSON[c.type]} | null` })),
        ],
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
            if (entity.tenant !== undefined) w.writeLine(`tenantColumn: ${str(entity.tenant.column)},`);
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
            if (machines.length > 0) {
              w.writeLine("// transitions: each machine is checked on every update that changes its state field (exact edges before `*`).");
              w.writeLine("stateMachines: [");
              w.indent(() => {
                for (const machine of machines) {
                  w.writeLine("{");
                  w.indent(() => {
                    w.writeLine(`field: ${str(machine.field)},`);
                    w.writeLine(`column: ${str(requiredColumn(entity, machine.field))},`);
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
              });
              w.writeLine("],");
            }
            writeComputed(w, app, entity);
            writeAudit(w, entity);
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
        docs: [`Which of a batch of ${E} events may be sent to a caller (one transaction): the row must be in the caller's list scope.`],
        name: "authorizeEvent",
        type: "EventAuthorizer",
        initializer: "eventAuthorizer(ENTITY)",
      });

      file.addFunction({
        name: "toJson",
        docs: ["The JSON body of a row, fields in declaration order."],
        parameters: [{ name: "row", type: `${entity.computed?.length ? "ReadRow" : "Row"}<${T}>` }],
        returnType: `${E}Json`,
        statements: (w) => {
          w.writeLine("return {");
          w.indent(() => {
            for (const f of entity.fields) w.writeLine(`${key(f.column)}: ${jsonValue(f)},`);
            for (const c of entity.computed ?? []) w.writeLine(`${key(c.name)}: ${computedJsonValue(c)},`);
          });
          w.writeLine("};");
        },
      });
    },
  );
  return { path, contents, owner: "generator" };
}
