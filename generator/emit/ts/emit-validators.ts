/**
 * `src/generated/<entity>/validate.ts`: request bodies → typed insert/update values, or a 422
 * `validation_error` whose `details` list every problem as `{field, message}`.
 *
 * - Unknown keys are rejected; keys of server-managed columns (`id`, `auto_add`, `auto_update`)
 *   are ignored (DSL.md §6.9: "server-managed columns ignored").
 * - Create: a required field without a default must be present and non-null; fields with a
 *   default may be omitted (the database fills them) but not sent as null.
 * - Update (PATCH): every field may be omitted; required fields reject null.
 *
 * The checks themselves live in the shared `src/generated/validation.ts`.
 */
import type { AppIR, EntityIR, FieldIR, FieldTypeIR } from "../../ir/ir";
import { assertNever } from "../sql/predicate";
import type { EmitContext, GeneratedFile } from "../types";
import { byCodeUnit } from "../types";
import { callerDefaultFields, clientFields, createProject, entityDir, hasDbDefault, renderSource, serverManagedFields, str } from "./common";

export function validatePath(entity: EntityIR): string {
  return `src/generated/${entityDir(entity)}/validate.ts`;
}

/** The check expression for a field type, and the `validation.ts` export it uses. */
function checkFor(type: FieldTypeIR): { expr: string; uses: string } {
  switch (type.kind) {
    case "str":
      return { expr: `str(${type.maxLength})`, uses: "str" };
    case "text":
      return { expr: "text", uses: "text" };
    case "email":
      return { expr: "email", uses: "email" };
    case "int":
      return { expr: "int", uses: "int" };
    case "bool":
      return { expr: "bool", uses: "bool" };
    case "date":
      return { expr: "date", uses: "date" };
    case "datetime":
      return { expr: "datetime", uses: "datetime" };
    case "uuid":
    case "ref":
      return { expr: "uuid", uses: "uuid" };
    case "enum":
      return { expr: `oneOf([${type.values.map(str).join(", ")}])`, uses: "oneOf" };
    case "decimal":
      return { expr: `decimal(${type.precision}, ${type.scale})`, uses: "decimal" };
    case "float":
      return { expr: "float", uses: "float" };
    case "url":
      return { expr: "url", uses: "url" };
    case "slug":
      return { expr: "slug", uses: "slug" };
    case "timezone":
      return { expr: "timezone", uses: "timezone" };
    case "json":
      return { expr: "json", uses: "json" };
    case "file":
      return { expr: "text", uses: "text" };
    case "moneyMinor":
      return { expr: "minorUnits", uses: "minorUnits" };
    case "moneyCurrency":
      return { expr: "currency", uses: "currency" };
    default:
      return assertNever(type);
  }
}

type Mode = "create" | "update";

function readerCall(field: FieldIR, mode: Mode, callerDefault: boolean): string {
  const check = checkFor(field.type).expr;
  const key = str(field.column);
  if (!field.required) return `input.optional(${key}, ${check})`;
  if (mode === "create" && callerDefault) return `input.required(${key}, ${check}, callerId)`;
  if (mode === "create" && !hasDbDefault(field)) return `input.required(${key}, ${check})`;
  return `input.notNull(${key}, ${check})`;
}

function propertyKey(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : str(name);
}

export function emitValidators(app: AppIR, entity: EntityIR, ctx: EmitContext): GeneratedFile {
  const path = validatePath(entity);
  const fields = clientFields(entity);
  const managed = serverManagedFields(entity);
  const computed = entity.computed ?? [];
  const callerDefaults = new Set(callerDefaultFields(app, entity).map((f) => f.column));
  const uses = [...new Set(["BodyReader", ...fields.map((f) => checkFor(f.type).uses)])].sort(byCodeUnit);
  const table = str(entity.table);

  const contents = renderSource(
    createProject(),
    path,
    ctx,
    `Request-body validation of ${entity.name}: unknown keys are rejected, server-managed ones ignored.`,
    (file) => {
      file.addImportDeclaration({ isTypeOnly: true, moduleSpecifier: "kysely", namedImports: ["Insertable", "Updateable"] });
      file.addImportDeclaration({ isTypeOnly: true, moduleSpecifier: "../db", namedImports: ["DB"] });
      file.addImportDeclaration({ moduleSpecifier: "../validation", namedImports: uses });
      file.addTypeAlias({ isExported: true, name: `${entity.name}Insert`, type: `Insertable<DB[${table}]>` });
      file.addTypeAlias({ isExported: true, name: `${entity.name}Update`, type: `Updateable<DB[${table}]>` });
      file.addVariableStatement({
        docs: ["Fields a client may set."],
        name: "FIELDS",
        initializer: `[${fields.map((f) => str(f.column)).join(", ")}]`,
      });
      file.addVariableStatement({
        docs: ["Fields the server sets; a client's value is ignored."],
        name: "SERVER_MANAGED",
        initializer: `[${managed.map((f) => str(f.column)).join(", ")}]`,
      });
      if (computed.length > 0) {
        file.addVariableStatement({
          docs: ["Computed fields (DSL.md §4.8): read-only, a client's value is a 422."],
          name: "COMPUTED",
          initializer: `[${computed.map((c) => str(c.name)).join(", ")}]`,
        });
      }
      for (const mode of ["create", "update"] as const) {
        const result = mode === "create" ? `${entity.name}Insert` : `${entity.name}Update`;
        file.addFunction({
          isExported: true,
          name: mode === "create" ? "validateCreate" : "validateUpdate",
          docs: [
            mode === "update"
              ? "A PATCH body as update values (only the fields present change)."
              : callerDefaults.size === 0
                ? "A POST body as insert values (absent fields take their database default)."
                : [
                    "A POST body as insert values (absent fields take their database default); absent",
                    `${[...callerDefaults].map((c) => `\`${c}\``).join(", ")} default${callerDefaults.size === 1 ? "s" : ""} to the caller (\`callerId\`, a reference to the principal).`,
                  ].join("\n"),
          ],
          parameters:
            mode === "create" && callerDefaults.size > 0
              ? [
                  { name: "body", type: "unknown" },
                  { name: "callerId", type: "string | null" },
                ]
              : [{ name: "body", type: "unknown" }],
          returnType: result,
          statements: (w) => {
            w.writeLine(`const input = new BodyReader(body, FIELDS, SERVER_MANAGED${computed.length > 0 ? ", COMPUTED" : ""});`);
            if (fields.length === 0) {
              w.writeLine("return input.finish({});");
              return;
            }
            w.writeLine("return input.finish({");
            w.indent(() => {
              for (const f of fields) w.writeLine(`${propertyKey(f.column)}: ${readerCall(f, mode, callerDefaults.has(f.column))},`);
            });
            w.writeLine("});");
          },
        });
      }
    },
  );
  return { path, contents, owner: "generator" };
}
