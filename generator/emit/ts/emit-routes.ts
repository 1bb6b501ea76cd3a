/**
 * `src/generated/<entity>/routes.ts`: the Express router of one entity, and its event authorizer.
 *
 * Every handler follows DSL.md §6.9: 401 (no credentials, op not anonymous) → permit/forbid (403)
 * → scope rule selection → … Request values are always bound parameters; the only raw SQL
 * is the scope text that the generator itself compiled (access.ts), entering Kysely through
 * `sql.raw`. All database work runs in `withCaller`, one transaction whose first statement sets
 * the role and session settings RLS reads, so the database enforces the same rules again.
 */
import type { AppIR, EntityIR, FieldIR } from "../../ir/ir";
import { objectName } from "../sql/object-name";
import type { EmitContext, GeneratedFile } from "../types";
import { callerDefaultFields, createProject, defaultSql, entityDir, enumUnion, lines, renderSource, str, type FileBuilder } from "./common";
import { columnType } from "../../ir/column-type";

export function routesPath(entity: EntityIR): string {
  return `src/generated/${entityDir(entity)}/routes.ts`;
}

function jsonType(field: FieldIR): string {
  const t = field.type;
  const base = t.kind === "int" ? "number" : t.kind === "bool" ? "boolean" : t.kind === "enum" ? enumUnion(t.values) : "string";
  return field.required ? base : `${base} | null`;
}

function key(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : str(name);
}

function access(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? `row.${name}` : `row[${str(name)}]`;
}

/** Constraint name → field, for turning FK/unique violations of a write into a 422 on the field. */
function constraintFields(entity: EntityIR): [string, string, string][] {
  const out: [string, string, string][] = [];
  for (const f of entity.fields) {
    if (f.type.kind === "ref") {
      out.push([objectName("fk", entity.table, f.column), f.column, `must reference an existing ${f.type.entity}`]);
    }
    if (f.unique && f.column !== "id") {
      out.push([objectName("uq", entity.table, f.column), f.column, "is already taken"]);
    }
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function addImports(file: FileBuilder, entity: EntityIR, hasConstraints: boolean): void {
  file.addImportDeclarations([
    { moduleSpecifier: "node:crypto", namedImports: ["randomUUID"] },
    { moduleSpecifier: "express", namedImports: ["Router", { name: "Request", isTypeOnly: true }, { name: "Response", isTypeOnly: true }] },
    {
      moduleSpecifier: "kysely",
      namedImports: ["sql", { name: "Selectable", isTypeOnly: true }, { name: "Transaction", isTypeOnly: true }],
    },
    { isTypeOnly: true, moduleSpecifier: "../db", namedImports: ["DB"] },
    { moduleSpecifier: "../runtime/auth", namedImports: ["callerOf", { name: "Caller", isTypeOnly: true }] },
    { isTypeOnly: true, moduleSpecifier: "../runtime/database", namedImports: ["Database"] },
    { moduleSpecifier: "../runtime/errors", namedImports: ["HttpError"] },
    { isTypeOnly: true, moduleSpecifier: "../runtime/events", namedImports: ["StoredEvent"] },
    { moduleSpecifier: "../runtime/http", namedImports: ["parseId", "parsePagination"] },
    { moduleSpecifier: "../runtime/transaction", namedImports: ["withCaller"] },
    ...(hasConstraints ? [{ isTypeOnly: true, moduleSpecifier: "../validation", namedImports: ["FieldIssue"] }] : []),
    {
      moduleSpecifier: "./access",
      namedImports: [
        "ALLOWS_ANONYMOUS",
        "permitDenial",
        "scopeFor",
        { name: "Operation", isTypeOnly: true },
        { name: "ScopeFilter", isTypeOnly: true },
      ],
    },
    {
      moduleSpecifier: "./validate",
      namedImports: [
        "validateCreate",
        "validateUpdate",
        { name: `${entity.name}Insert`, isTypeOnly: true },
        { name: `${entity.name}Update`, isTypeOnly: true },
      ],
    },
  ]);
}

export function emitRoutes(app: AppIR, entity: EntityIR, ctx: EmitContext): GeneratedFile {
  const path = routesPath(entity);
  const E = entity.name;
  const T = str(entity.table);
  const constraints = constraintFields(entity);
  const contents = renderSource(
    createProject(),
    path,
    ctx,
    [
      `HTTP routes of ${E} (mounted at /api/${entity.route}) and its event authorizer.`,
      "Order of checks (DSL.md §6.9): 401 → permit/forbid 403 → scope → validation 422 → write.",
    ].join("\n"),
    (file) => {
      addImports(file, entity, constraints.length > 0);

      file.addTypeAlias({ name: "Row", type: `Selectable<DB[${T}]>` });
      file.addTypeAlias({
        name: "Candidate",
        docs: ["A would-be row for a scope probe: a value per column; an absent column takes its SQL default."],
        type: "{ readonly [K in keyof Row]?: unknown }",
      });
      file.addInterface({
        isExported: true,
        name: `${E}Json`,
        docs: [`A ${E} as JSON: dates are "YYYY-MM-DD", date-times ISO-8601 strings in UTC.`],
        properties: entity.fields.map((f) => ({
          name: key(f.column),
          isReadonly: true,
          type: jsonType(f),
        })),
      });

      file.addVariableStatement({
        docs: ["The caller of a request without credentials, on an operation with an `anonymous` permit rule."],
        name: "ANONYMOUS",
        type: "Caller",
        initializer: "{ userId: null, roles: [] }",
      });
      file.addInterface({
        name: "ProbeColumn",
        docs: ["A column of a probe's would-be row: its PostgreSQL type and the SQL default used when absent."],
        properties: [
          { name: "name", type: "keyof Row", isReadonly: true },
          { name: "type", type: "string", isReadonly: true },
          { name: "absent", type: "string", isReadonly: true },
        ],
      });
      file.addVariableStatement({
        docs: ["Every column of the table, in declaration order."],
        name: "PROBE_COLUMNS",
        type: "readonly ProbeColumn[]",
        initializer: (w) => {
          w.write("[").newLine();
          w.indent(() => {
            for (const f of entity.fields) {
              w.writeLine(`{ name: ${str(f.column)}, type: ${str(columnType(f.type))}, absent: ${str(defaultSql(f) ?? "NULL")} },`);
            }
          });
          w.write("]");
        },
      });
      if (constraints.length > 0) {
        file.addVariableStatement({
          docs: ["Constraints whose violation by a create or update is the client's fault: a 422 on the field."],
          name: "CONSTRAINT_FIELDS",
          type: "Readonly<Record<string, FieldIssue>>",
          initializer: (w) => {
            w.write("{").newLine();
            w.indent(() => {
              for (const [name, field, message] of constraints) {
                w.writeLine(`${key(name)}: { field: ${str(field)}, message: ${str(message)} },`);
              }
            });
            w.write("}");
          },
        });
      }

      file.addFunction({
        isExported: true,
        name: "router",
        docs: [`Routes of ${E}: list, read, create, update (PATCH) and delete.`],
        parameters: [{ name: "database", type: "Database" }],
        returnType: "Router",
        statements: lines(
          "const routes = Router();",
          "routes.get(\"/\", (req, res) => list(database, req.query, res));",
          "routes.post(\"/\", (req, res) => create(database, req.body, res));",
          "routes.get(\"/:id\", (req, res) => read(database, req.params.id, res));",
          "routes.patch(\"/:id\", (req, res) => update(database, req.params.id, req.body, res));",
          "routes.delete(\"/:id\", (req, res) => remove(database, req.params.id, res));",
          "return routes;",
        ),
      });

      file.addFunction({
        name: "list",
        docs: ["GET /: one page of the rows in the caller's list scope, ordered by id."],
        isAsync: true,
        parameters: [
          { name: "database", type: "Database" },
          { name: "query", type: 'Request["query"]' },
          { name: "res", type: "Response" },
        ],
        returnType: "Promise<void>",
        statements: lines(
          'const caller = authorize(res, "list");',
          "const { page, pageSize, offset } = parsePagination(query);",
          'const scope = scopeFor("list", caller);',
          "if (scope === null) {",
          "  // No matching scope rule: an empty page, without a query (DSL.md §6.8).",
          "  res.json({ data: [], page, page_size: pageSize });",
          "  return;",
          "}",
          "const rows = await withCaller(database, caller, (trx) =>",
          `  trx.selectFrom(${T}).selectAll().where(inScope(scope)).orderBy("id").limit(pageSize).offset(offset).execute(),`,
          ");",
          "res.json({ data: rows.map(toJson), page, page_size: pageSize });",
        ),
      });

      file.addFunction({
        name: "read",
        docs: ["GET /:id: the row, if it is in the caller's read scope (404 otherwise, whatever the reason)."],
        isAsync: true,
        parameters: [
          { name: "database", type: "Database" },
          { name: "rawId", type: "string" },
          { name: "res", type: "Response" },
        ],
        returnType: "Promise<void>",
        statements: lines(
          'const caller = authorize(res, "read");',
          "const id = parseId(rawId);",
          'const scope = scopeFor("read", caller);',
          "if (scope === null) throw notFound();",
          "const row = await withCaller(database, caller, (trx) => findRow(trx, id, scope));",
          "if (row === undefined) throw notFound();",
          "res.json(toJson(row));",
        ),
      });

      file.addFunction({
        name: "create",
        docs: [
          [
            "POST /: validate (422), evaluate the create scope over the would-be row in PostgreSQL (403",
            "scope_create_denied), insert without RETURNING (RLS would apply the SELECT policy to it),",
            "then answer with the row re-read through the read scope, or only its id when the caller",
            "may not read it.",
          ].join("\n"),
        ],
        isAsync: true,
        parameters: [
          { name: "database", type: "Database" },
          { name: "body", type: "unknown" },
          { name: "res", type: "Response" },
        ],
        returnType: "Promise<void>",
        statements: lines(
          'const caller = authorize(res, "create");',
          callerDefaultFields(app, entity).length > 0 ? "const values = validateCreate(body, caller.userId);" : "const values = validateCreate(body);",
          'const scope = scopeFor("create", caller);',
          "if (scope === null) throw createDenied();",
          "const id = randomUUID();",
          "const row = await withCaller(database, caller, async (trx) => {",
          "  if (!(await probe(trx, scope, { ...values, id }))) throw createDenied();",
          "  await insertRow(trx, { ...values, id });",
          "  return readBack(trx, caller, id);",
          "});",
          "res.status(201).json(row === undefined ? { id } : toJson(row));",
        ),
      });

      file.addFunction({
        name: "update",
        docs: [
          [
            "PATCH /:id: the row must be in the caller's update scope before (source) and after",
            "(destination) the change, else 404 — a row cannot be moved out of the caller's reach.",
          ].join("\n"),
        ],
        isAsync: true,
        parameters: [
          { name: "database", type: "Database" },
          { name: "rawId", type: "string" },
          { name: "body", type: "unknown" },
          { name: "res", type: "Response" },
        ],
        returnType: "Promise<void>",
        statements: lines(
          'const caller = authorize(res, "update");',
          "const id = parseId(rawId);",
          'const scope = scopeFor("update", caller);',
          "if (scope === null) throw notFound();",
          "const row = await withCaller(database, caller, async (trx) => {",
          "  // Source side first (404), then the body (422): DSL.md §6.9.",
          "  const before = await findRow(trx, id, scope, true);",
          "  if (before === undefined) throw notFound();",
          "  const changes = validateUpdate(body);",
          "  if (Object.keys(changes).length > 0) {",
          "    if (!(await probe(trx, scope, { ...before, ...changes }))) throw notFound();",
          "    await updateRow(trx, id, scope, changes);",
          "  }",
          "  return readBack(trx, caller, id);",
          "});",
          "res.json(row === undefined ? { id } : toJson(row));",
        ),
      });

      file.addFunction({
        name: "remove",
        docs: ["DELETE /:id: the row must be in the caller's delete scope (404); a referencing row blocks it (409)."],
        isAsync: true,
        parameters: [
          { name: "database", type: "Database" },
          { name: "rawId", type: "string" },
          { name: "res", type: "Response" },
        ],
        returnType: "Promise<void>",
        statements: lines(
          'const caller = authorize(res, "delete");',
          "const id = parseId(rawId);",
          'const scope = scopeFor("delete", caller);',
          "if (scope === null) throw notFound();",
          "await withCaller(database, caller, async (trx) => {",
          "  if ((await findRow(trx, id, scope)) === undefined) throw notFound();",
          "  // A foreign-key violation (23503) propagates: the error handler answers 409 conflict.",
          `  const result = await trx.deleteFrom(${T}).where("id", "=", id).where(inScope(scope)).executeTakeFirst();`,
          "  if (Number(result.numDeletedRows) === 0) throw notFound();",
          "});",
          "res.status(204).end();",
        ),
      });

      file.addFunction({
        isExported: true,
        isAsync: true,
        name: "authorizeEvent",
        docs: [
          [
            `Whether a ${E} event may be sent to the caller: the caller must pass permit for list and the`,
            "row must be in its list scope — re-read for created/updated, the old row image for deleted.",
          ].join("\n"),
        ],
        parameters: [
          { name: "event", type: "StoredEvent" },
          { name: "caller", type: "Caller" },
          { name: "database", type: "Database" },
        ],
        returnType: "Promise<boolean>",
        statements: lines(
          'if (permitDenial("list", caller) !== null) return false;',
          'const scope = scopeFor("list", caller);',
          "if (scope === null) return false;",
          `if (event.eventType === ${str(`${E}.deleted`)}) {`,
          "  const old = event.payload.old;",
          "  if (old === null) return false;",
          '  if (scope.sql === "TRUE") return true;',
          `  const table = sql.id(${T});`,
          "  const image = JSON.stringify(old);",
          "  const { rows } = await withCaller(database, caller, (trx) =>",
          "    sql`SELECT 1 FROM jsonb_populate_record(NULL::${table}, ${image}::jsonb) AS ${table} WHERE ${inScope(scope)}`.execute(trx),",
          "  );",
          "  return rows.length > 0;",
          "}",
          'if (event.entityId === "") return false;',
          "const row = await withCaller(database, caller, (trx) => findRow(trx, event.entityId, scope));",
          "return row !== undefined;",
        ),
      });

      // Helpers ---------------------------------------------------------------------------
      file.addFunction({
        name: "authorize",
        docs: [
          [
            "The first two checks of every operation, in this order: no credentials on an operation",
            "without an `anonymous` permit rule ⇒ 401; then permit/forbid ⇒ 403 naming the rule.",
          ].join("\n"),
        ],
        parameters: [
          { name: "res", type: "Response" },
          { name: "op", type: "Operation" },
        ],
        returnType: "Caller",
        statements: lines(
          "const authenticated = callerOf(res);",
          "if (authenticated === null && !ALLOWS_ANONYMOUS[op]) {",
          '  throw new HttpError(401, "unauthorized", "authentication required");',
          "}",
          "const caller = authenticated ?? ANONYMOUS;",
          "const rule = permitDenial(op, caller);",
          "if (rule !== null) {",
          `  throw new HttpError(403, "forbidden", \`not permitted to \${op} ${E}\`, undefined, rule);`,
          "}",
          "return caller;",
        ),
      });

      file.addFunction({
        name: "inScope",
        docs: ["A scope filter as a WHERE condition: generator-compiled SQL, never request data."],
        parameters: [{ name: "scope", type: "ScopeFilter" }],
        statements: lines("return sql<boolean>`${sql.raw(scope.sql)}`;"),
      });

      file.addFunction({
        name: "findRow",
        docs: ["The row with this id if it is in the scope (`forUpdate` locks it for the update)."],
        parameters: [
          { name: "trx", type: "Transaction<DB>" },
          { name: "id", type: "string" },
          { name: "scope", type: "ScopeFilter" },
          { name: "forUpdate", initializer: "false" },
        ],
        returnType: "Promise<Row | undefined>",
        statements: lines(
          `const query = trx.selectFrom(${T}).selectAll().where("id", "=", id).where(inScope(scope));`,
          "return (forUpdate ? query.forUpdate() : query).executeTakeFirst();",
        ),
      });

      file.addFunction({
        name: "readBack",
        docs: ["The row after a write, if the caller may read it (permit and read scope); undefined otherwise."],
        parameters: [
          { name: "trx", type: "Transaction<DB>" },
          { name: "caller", type: "Caller" },
          { name: "id", type: "string" },
        ],
        returnType: "Promise<Row | undefined>",
        statements: lines(
          'const scope = permitDenial("read", caller) === null ? scopeFor("read", caller) : null;',
          "return scope === null ? Promise.resolve(undefined) : findRow(trx, id, scope);",
        ),
      });

      file.addFunction({
        name: "probe",
        isAsync: true,
        docs: [
          [
            "Evaluates a scope over a would-be row in PostgreSQL (the create probe and the destination",
            "side of an update, DSL.md §6.9): each column is a typed bound parameter, or the column's",
            "default when the candidate omits it. Only TRUE passes (NULL fails closed).",
          ].join("\n"),
        ],
        parameters: [
          { name: "trx", type: "Transaction<DB>" },
          { name: "scope", type: "ScopeFilter" },
          { name: "candidate", type: "Candidate" },
        ],
        returnType: "Promise<boolean>",
        statements: lines(
          'if (scope.sql === "TRUE") return true;',
          "const columns = PROBE_COLUMNS.map(({ name, type, absent }) => {",
          "  const value = candidate[name];",
          "  const expression = value === undefined ? sql.raw(absent) : sql`${value}`;",
          "  return sql`${expression}::${sql.raw(type)} AS ${sql.id(name)}`;",
          "});",
          `const table = sql.id(${T});`,
          "const query = sql<{ ok: boolean | null }>`SELECT ${inScope(scope)} AS ok FROM (SELECT ${sql.join(columns)}) AS ${table}`;",
          "const { rows } = await query.execute(trx);",
          "return rows[0]?.ok === true;",
        ),
      });

      file.addFunction({
        name: "insertRow",
        isAsync: true,
        docs: ["INSERT without RETURNING; RLS `WITH CHECK` failures (42501) are create-scope denials."],
        parameters: [
          { name: "trx", type: "Transaction<DB>" },
          { name: "values", type: `${E}Insert & { id: string }` },
        ],
        returnType: "Promise<void>",
        statements: lines(
          "try {",
          `  await trx.insertInto(${T}).values(values).execute();`,
          "} catch (error) {",
          '  if (sqlState(error) === "42501") throw createDenied();',
          "  throw writeError(error);",
          "}",
        ),
      });

      file.addFunction({
        name: "updateRow",
        isAsync: true,
        docs: ["UPDATE within the update scope; RLS `WITH CHECK` failures (42501) answer 404 like the probe."],
        parameters: [
          { name: "trx", type: "Transaction<DB>" },
          { name: "id", type: "string" },
          { name: "scope", type: "ScopeFilter" },
          { name: "changes", type: `${E}Update` },
        ],
        returnType: "Promise<void>",
        statements: lines(
          "try {",
          "  const result = await trx",
          `    .updateTable(${T})`,
          "    .set(changes)",
          '    .where("id", "=", id)',
          "    .where(inScope(scope))",
          "    .executeTakeFirst();",
          "  if (Number(result.numUpdatedRows) === 0) throw notFound();",
          "} catch (error) {",
          '  if (sqlState(error) === "42501") throw notFound();',
          "  throw writeError(error);",
          "}",
        ),
      });

      file.addFunction({
        name: "writeError",
        docs: [
          constraints.length > 0
            ? "A foreign-key or unique violation of a write names a field: 422 on it (DSL.md §6.9); anything else is rethrown."
            : "Errors of a write pass through to the error handler.",
        ],
        parameters: [{ name: "error", type: "unknown" }],
        returnType: "unknown",
        statements:
          constraints.length > 0
            ? lines(
                "const state = sqlState(error);",
                'const constraint = typeof error === "object" && error !== null && "constraint" in error ? error.constraint : undefined;',
                "const issue =",
                '  typeof constraint === "string" && Object.prototype.hasOwnProperty.call(CONSTRAINT_FIELDS, constraint)',
                "    ? CONSTRAINT_FIELDS[constraint]",
                "    : undefined;",
                'if ((state === "23503" || state === "23505") && issue !== undefined) {',
                '  return new HttpError(422, "validation_error", `invalid request body: ${issue.field}`, [issue]);',
                "}",
                "return error;",
              )
            : "return error;",
      });

      file.addFunction({
        name: "sqlState",
        docs: ["The SQLSTATE of a PostgreSQL error, if it is one."],
        parameters: [{ name: "error", type: "unknown" }],
        returnType: "string | undefined",
        statements: lines(
          'return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"',
          "  ? error.code",
          "  : undefined;",
        ),
      });

      file.addFunction({
        name: "notFound",
        returnType: "HttpError",
        statements: lines(`return new HttpError(404, "not_found", ${str(`${E} not found`)});`),
      });
      file.addFunction({
        name: "createDenied",
        returnType: "HttpError",
        statements: lines(
          `const message = ${str(`not permitted to create this ${E}`)};`,
          `return new HttpError(403, "scope_create_denied", message, undefined, ${str(`${E}.create.scope`)});`,
        ),
      });

      file.addFunction({
        name: "toJson",
        docs: ["The JSON body of a row, fields in declaration order."],
        parameters: [{ name: "row", type: "Row" }],
        returnType: `${E}Json`,
        statements: (w) => {
          w.writeLine("return {");
          w.indent(() => {
            for (const f of entity.fields) {
              const v = access(f.column);
              let expr = v;
              if (f.type.kind === "datetime") {
                expr = f.required ? `${v}.toISOString()` : `${v} === null ? null : ${v}.toISOString()`;
              }
              w.writeLine(`${key(f.column)}: ${expr},`);
            }
          });
          w.writeLine("};");
        },
      });
    },
  );
  return { path, contents, owner: "generator" };
}
