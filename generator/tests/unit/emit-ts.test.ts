/**
 * emitTypeScript on a hand-built IR (Project, Task and an unexposed principal User): exact text
 * of context.ts, Task's access.ts and db.ts; structure of the rest; the shared validators and the
 * access rules (with runtime/access.ts) run for real; the order of checks in runtime/crud.ts; and
 * the whole generated app type-checked by tsc against the runtime templates.
 */
import { promises as fs, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import type { AppIR, EntityIR, FieldIR, Operation, PermitExpr, Predicate, ScopeRuleIR } from "../../ir/ir";
import type { EmitContext, GeneratedFile } from "../../emit/types";
import { emitProjectFiles } from "../../emit/project/emit-project-files";
import { emitMigrations } from "../../emit/sql/emit-migrations";
import { entityDir, formatTypeScript, kyselyInterfaceName, snakeCase } from "../../emit/ts/common";
import { allowsAnonymous, permitToTs } from "../../emit/ts/emit-access";
import { callerSql } from "../../emit/ts/emit-context";
import { emitTypeScript } from "../../emit/ts/emit-typescript";
import { installAppDependencies, makeTempDir, removeTempDir, run, typecheckApp } from "../support/app";

const REPO = path.resolve(__dirname, "../../..");
const RUNTIME = path.join(REPO, "templates/app/src/generated/runtime");
const CRUD_TS = readFileSync(path.join(RUNTIME, "crud.ts"), "utf8");
const CTX: EmitContext = { specName: "tasks.dz", generatorVersion: "0.0.0-test", templates: new Map() };

// ---------------------------------------------------------------------------------------------
// The IR

function field(column: string, type: FieldIR["type"], extra: Partial<FieldIR> = {}): FieldIR {
  return {
    name: column,
    column,
    type,
    required: false,
    unique: false,
    default: null,
    serverManaged: false,
    autoUpdate: false,
    indexed: false,
    ...extra,
  };
}

const ID = field("id", { kind: "uuid" }, {
  required: true,
  unique: true,
  default: { kind: "generated", fn: "uuid" },
  serverManaged: true,
});
const CREATED_AT = field("created_at", { kind: "datetime" }, {
  required: true,
  default: { kind: "generated", fn: "now" },
  serverManaged: true,
});

const NEVER: PermitExpr = { kind: "never" };
const role = (r: string): PermitExpr => ({ kind: "role", role: r });
const anyOf = (...children: PermitExpr[]): PermitExpr => ({ kind: "or", children });
const ops = (m: Partial<Record<Operation, PermitExpr>>): Record<Operation, PermitExpr> => ({
  list: NEVER,
  read: NEVER,
  create: NEVER,
  update: NEVER,
  delete: NEVER,
  ...m,
});

function rule(entity: string, op: Operation, n: number, roles: string[] | "*", predicate: Predicate, source: string): ScopeRuleIR {
  return { id: `${entity}.${op}.${n}`, operation: op, roles, predicate, source };
}

const ALL: Predicate = { kind: "true" };
const OWNER_IS_ME: Predicate = { kind: "userAttr", column: "owner", op: "=", attr: "id" };
const SAME_ORG: Predicate = { kind: "userAttr", column: "org", op: "=", attr: "org" };

const PROJECT: EntityIR = {
  name: "Project",
  title: "Project",
  table: "project",
  route: "projects",
  fields: [
    ID,
    field("name", { kind: "str", maxLength: 100 }, { required: true, unique: true }),
    field("org", { kind: "str", maxLength: 50 }, { required: true, indexed: true }),
    field("archived", { kind: "bool" }, { required: true, default: { kind: "literal", value: false } }),
    CREATED_AT,
  ],
  access: {
    exposed: true,
    permit: ops({
      list: { kind: "authenticated" },
      read: { kind: "authenticated" },
      create: role("admin"),
      update: role("admin"),
      delete: role("admin"),
    }),
    forbid: ops({}),
    scope: [
      rule("Project", "list", 1, ["member"], SAME_ORG, "list: org = current_user.org\n  as: member"),
      rule("Project", "list", 2, ["admin"], ALL, "list: all\n  as: admin"),
      rule("Project", "read", 1, ["member"], SAME_ORG, "read: org = current_user.org\n  as: member"),
      rule("Project", "read", 2, ["admin"], ALL, "read: all\n  as: admin"),
      rule("Project", "create", 1, ["admin"], ALL, "create: all\n  as: admin"),
      rule("Project", "update", 1, ["admin"], ALL, "update: all\n  as: admin"),
      rule("Project", "delete", 1, ["admin"], { kind: "column", column: "archived", op: "=", value: true, sqlType: "boolean" }, "delete: archived\n  as: admin"),
    ],
  },
};

const TASK: EntityIR = {
  name: "Task",
  title: "Task",
  table: "task",
  route: "tasks",
  fields: [
    ID,
    field("title", { kind: "str", maxLength: 200 }, { required: true }),
    field("notes", { kind: "text" }),
    field("status", { kind: "enum", values: ["open", "doing", "done"] }, { required: true, default: { kind: "literal", value: "open" } }),
    field("done", { kind: "bool" }, { required: true, default: { kind: "literal", value: false } }),
    field("priority", { kind: "int" }),
    field("due", { kind: "date" }),
    field("contact", { kind: "email" }),
    field("project", { kind: "ref", entity: "Project", table: "project" }, { required: true, indexed: true }),
    field("owner", { kind: "uuid" }, { indexed: true }),
    CREATED_AT,
    field("updated_at", { kind: "datetime" }, {
      required: true,
      default: { kind: "generated", fn: "now" },
      serverManaged: true,
      autoUpdate: true,
    }),
  ],
  access: {
    exposed: true,
    permit: ops({
      list: anyOf(role("member"), role("admin")),
      read: { kind: "anyone" },
      create: { kind: "authenticated" },
      update: anyOf(role("member"), role("admin")),
      delete: { kind: "and", children: [role("admin"), { kind: "not", child: role("intern") }] },
    }),
    forbid: ops({ update: role("auditor") }),
    scope: [
      rule("Task", "list", 1, ["member"], OWNER_IS_ME, "list: owner = current_user\n  as: member"),
      rule("Task", "list", 2, ["admin"], ALL, "list: all\n  as: admin"),
      rule("Task", "read", 1, "*", {
        kind: "or",
        children: [OWNER_IS_ME, { kind: "column", column: "status", op: "=", value: "done", sqlType: "text" }],
      }, "read: owner = current_user or status = done\n  as: *"),
      rule("Task", "create", 1, ["member"], OWNER_IS_ME, "create: owner = current_user\n  as: member"),
      rule("Task", "create", 2, ["admin"], ALL, "create: all\n  as: admin"),
      rule("Task", "update", 1, ["member"], {
        kind: "and",
        children: [OWNER_IS_ME, { kind: "column", column: "status", op: "!=", value: "done", sqlType: "text" }],
      }, "update: owner = current_user and status != done\n  as: member"),
      rule("Task", "update", 2, ["admin"], ALL, "update: all\n  as: admin"),
      rule("Task", "delete", 1, ["admin"], ALL, "delete: all\n  as: admin"),
    ],
  },
};

/** The principal; no permit rules, so default-deny: a table but no routes. */
const USER: EntityIR = {
  name: "User",
  title: "User",
  table: "user",
  route: "users",
  fields: [ID, field("email", { kind: "email" }, { required: true, unique: true }), field("org", { kind: "str", maxLength: 50 })],
  access: { exposed: false, permit: ops({}), forbid: ops({}), scope: null },
};

const APP: AppIR = {
  name: "tasks",
  title: "Tasks",
  entities: [PROJECT, TASK, USER],
  roles: ["admin", "auditor", "intern", "member"],
  personas: [],
  principal: { entity: "User", table: "user", attributes: [{ name: "org", column: "org", sqlType: "text" }] },
  sources: ["tasks.dz"],
};

// ---------------------------------------------------------------------------------------------
// Expected text

const CONTEXT_TS = `// Code generated by dazzle-gen from tasks.dz. DO NOT EDIT.
/**
 * First message of every request transaction (runtime/transaction.ts), no parameters: opens the
 * transaction and switches to \`dazzle_app\` until it ends.
 */
export const BEGIN_SQL = \`begin; set local role "dazzle_app"\`;

/**
 * Second statement, run as \`dazzle_app\`: \`$1\` is the caller's user id or '', \`$2\` its roles joined
 * by commas. Sets \`dazzle.user_id\` and \`dazzle.roles\`; for an authenticated caller it also loads
 * \`dazzle.user_org\` from the caller's principal row ('' when unknown).
 * \`$3\` is '' or the caller role a list runs as (runtime/access.ts \`listPlanFor\`).
 */
export const CALLER_SQL = \`select caller.user_id, caller.roles, (
    select row(set_config('dazzle.user_org', coalesce(p."org"::text, ''), true))
    from (select 1) as one left join dazzle_principal() p on true
    where caller.user_id <> ''
  ) as principal,
  case when $3 <> '' then set_config('role', $3, true) end as role
from (select set_config('dazzle.user_id', $1, true) as user_id, set_config('dazzle.roles', $2, true) as roles) as caller\`;
`;

const TASK_ACCESS_TS = `// Code generated by dazzle-gen from tasks.dz. DO NOT EDIT.
/**
 * Access rules of Task (DSL.md §6), evaluated by runtime/access.ts: permit/forbid decide who
 * may perform an operation, scope rules which rows. The migration compiles the same rules into
 * the table's RLS policies.
 */
import { hasRole, type AccessRules } from "../runtime/access";

export const ACCESS: AccessRules = {
  entity: "Task",
  // Operations open to requests without credentials (an \`anonymous\` permit rule); the others answer 401.
  anonymous: ["read"],
  permit: {
    list: (caller) => hasRole(caller, "member") || hasRole(caller, "admin"),
    read: () => true,
    create: (caller) => caller.userId !== null,
    update: (caller) => hasRole(caller, "member") || hasRole(caller, "admin"),
    delete: (caller) => hasRole(caller, "admin") && !hasRole(caller, "intern"),
  },
  forbid: {
    update: (caller) => hasRole(caller, "auditor"),
  },
  // The SQL qualifies columns with "task".
  scope: {
    list: [
      // list: owner = current_user as: member
      { id: "Task.list.1", roles: ["member"], sql: \`"task"."owner" = (SELECT dazzle_user_id())\` },
      // list: all as: admin
      { id: "Task.list.2", roles: ["admin"], sql: \`TRUE\` },
    ],
    read: [
      // read: owner = current_user or status = done as: *
      { id: "Task.read.1", roles: "*", sql: \`("task"."owner" = (SELECT dazzle_user_id()) OR "task"."status" = 'done')\` },
    ],
    create: [
      // create: owner = current_user as: member
      { id: "Task.create.1", roles: ["member"], sql: \`"task"."owner" = (SELECT dazzle_user_id())\` },
      // create: all as: admin
      { id: "Task.create.2", roles: ["admin"], sql: \`TRUE\` },
    ],
    update: [
      // update: owner = current_user and status != done as: member
      { id: "Task.update.1", roles: ["member"], sql: \`("task"."owner" = (SELECT dazzle_user_id()) AND "task"."status" <> 'done')\` },
      // update: all as: admin
      { id: "Task.update.2", roles: ["admin"], sql: \`TRUE\` },
    ],
    delete: [
      // delete: all as: admin
      { id: "Task.delete.1", roles: ["admin"], sql: \`TRUE\` },
    ],
  },
  // A caller whose only role is one of these lists as its database role, whose SELECT policy is
  // the role's list scope: the list query repeats no scope (caller-roles.ts).
  listAs: {
    "member": "dazzle_as_member",
  },
};
`;

const DB_TS = `// Code generated by dazzle-gen from tasks.dz. DO NOT EDIT.
/** Kysely table types of the migrated database (public schema), as kysely-codegen introspects them. */
import type { ColumnType } from "kysely";

export type Generated<T> = T extends ColumnType<infer S, infer I, infer U>
  ? ColumnType<S, I | undefined, U>
  : ColumnType<T, T | undefined, T>;

export type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface Project {
  archived: Generated<boolean>;
  created_at: Generated<Timestamp>;
  id: Generated<string>;
  name: string;
  org: string;
}

export interface Task {
  contact: string | null;
  created_at: Generated<Timestamp>;
  done: Generated<boolean>;
  due: string | null;
  id: Generated<string>;
  notes: string | null;
  owner: string | null;
  priority: number | null;
  project: string;
  status: Generated<"doing" | "done" | "open">;
  title: string;
  updated_at: Generated<Timestamp>;
}

export interface User {
  email: string;
  id: Generated<string>;
  org: string | null;
}

export interface DB {
  project: Project;
  task: Task;
  user: User;
}
`;

const EXPECTED_FILES = [
  "src/generated/app.ts",
  "src/generated/context.ts",
  "src/generated/db.ts",
  "src/generated/project/access.ts",
  "src/generated/project/routes.ts",
  "src/generated/project/validate.ts",
  "src/generated/task/access.ts",
  "src/generated/task/routes.ts",
  "src/generated/task/validate.ts",
  "src/generated/validation.ts",
  "src/server.ts",
  "test/rbac.data.json",
  "test/rbac.test.ts",
];

function contentsOf(files: readonly GeneratedFile[], p: string): string {
  const file = files.find((f) => f.path === p);
  if (file === undefined) throw new Error(`not emitted: ${p}`);
  return file.contents;
}

// ---------------------------------------------------------------------------------------------

describe("emitTypeScript", () => {
  const files = emitTypeScript(APP, CTX);
  const get = (p: string) => contentsOf(files, p);

  test("emits the contract's files for exposed entities only, sorted, owned by the generator", () => {
    expect(files.map((f) => f.path)).toEqual(EXPECTED_FILES);
    expect(files.every((f) => f.owner === "generator")).toBe(true);
    // JSON has no comments: the RBAC data file carries no header (GENERATED-APP.md).
    const ts = files.filter((f) => f.path.endsWith(".ts"));
    expect(ts.every((f) => f.contents.startsWith("// Code generated by dazzle-gen from tasks.dz. DO NOT EDIT.\n"))).toBe(true);
  });

  test("is deterministic", () => {
    expect(emitTypeScript(APP, CTX)).toEqual(files);
  });

  test("context.ts", () => {
    expect(get("src/generated/context.ts")).toBe(CONTEXT_TS);
  });

  test("task/access.ts", () => {
    expect(get("src/generated/task/access.ts")).toBe(TASK_ACCESS_TS);
  });

  test("db.ts matches kysely-codegen 0.20 --date-parser string (enum unions aside)", () => {
    expect(get("src/generated/db.ts")).toBe(DB_TS);
  });

  test("every file is already in formatText form", () => {
    for (const f of files.filter((x) => x.path.endsWith(".ts"))) expect({ path: f.path, text: formatTypeScript(f.contents) }).toEqual({ path: f.path, text: f.contents });
  });

  test("app.ts mounts exposed entities in entity order, events and custom routes before the 404", () => {
    const app = get("src/generated/app.ts");
    const order = [
      'app.get("/api/health"',
      "app.use(express.json({ limit: \"1mb\" }));",
      "app.use(authenticate(config.jwtSecret));",
      'app.use("/api/projects", projectRoutes.router(database));',
      'app.use("/api/tasks", taskRoutes.router(database));',
      'app.use("/api/events", eventsRouter(database, EVENT_AUTHORIZERS));',
      "registerRoutes(app, database);",
      "app.use(notFoundHandler());",
      "app.use(errorHandler());",
    ].map((s) => app.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(app).not.toContain("/api/users");
    expect(app).toContain('import { registerRoutes } from "../custom";');
    expect(get("src/server.ts")).toContain("serve(buildApp)");
  });

  test("routes.ts: the entity as the CRUD flow sees it, and nothing else", () => {
    const routes = get("src/generated/task/routes.ts");
    expect(routes).toContain('const ENTITY: EntitySpec<"task", TaskJson> = {');
    expect(routes).toContain('fk_task_project: { field: "project", message: "must reference an existing Project" },');
    expect(routes).toContain('{ name: "status", type: "text", absent: "\'open\'" },');
    expect(routes).toContain("function toJson(row: Row<\"task\">): TaskJson {");
    expect(routes).toContain("created_at: row.created_at.toISOString(),");
    expect(routes).toContain("due: row.due,");
    expect(routes).toContain("return entityRouter(database, ENTITY);");
    expect(routes).toContain("export const authorizeEvent: EventAuthorizer = eventAuthorizer(ENTITY);");
    // No SQL, transaction or error of its own: the flow lives once, in runtime/crud.ts.
    expect(routes).not.toMatch(/\bsql\b|withCaller|HttpError|Transaction/);
    expect(get("src/generated/project/routes.ts")).toContain('uq_project_name: { field: "name", message: "is already taken" },');
  });

  test("validate.ts: required/notNull/optional by field and mode", () => {
    const v = get("src/generated/task/validate.ts");
    expect(v).toContain('const FIELDS = ["title", "notes", "status", "done", "priority", "due", "contact", "project", "owner"];');
    expect(v).toContain('const SERVER_MANAGED = ["id", "created_at", "updated_at"];');
    expect(v).toContain('title: input.required("title", str(200)),');
    expect(v).toContain('status: input.notNull("status", oneOf(["open", "doing", "done"])),');
    expect(v).toContain('title: input.notNull("title", str(200)),');
    expect(v).toContain('notes: input.optional("notes", text),');
  });

  test("without a principal entity: app_user in db.ts, no attribute settings", () => {
    const bare: AppIR = {
      ...APP,
      entities: [PROJECT],
      principal: { entity: null, table: "app_user", attributes: [] },
    };
    const out = emitTypeScript(bare, CTX);
    const db = contentsOf(out, "src/generated/db.ts");
    expect(db).toContain("export interface AppUser {\n  email: string | null;\n  id: Generated<string>;\n}");
    expect(db).toContain("export interface DB {\n  app_user: AppUser;\n  project: Project;\n}");
    expect(callerSql(bare)).toBe(
      "select set_config('dazzle.user_id', $1, true) as user_id, set_config('dazzle.roles', $2, true) as roles, case when $3 <> '' then set_config('role', $3, true) end as role",
    );
  });

  test("a required ref to the principal defaults to the caller on create", () => {
    const withOwner: EntityIR = {
      ...PROJECT,
      fields: [...PROJECT.fields, field("owner", { kind: "ref", entity: "User", table: "user" }, { required: true })],
    };
    const out = emitTypeScript({ ...APP, entities: [withOwner, TASK, USER] }, CTX);
    const validate = contentsOf(out, "src/generated/project/validate.ts");
    expect(validate).toContain("export function validateCreate(body: unknown, callerId: string | null): ProjectInsert {");
    expect(validate).toContain('owner: input.required("owner", uuid, callerId),');
    expect(validate).toContain('owner: input.notNull("owner", uuid),');
    // The flow always passes the caller's id; a validator without references to the principal ignores it.
    expect(contentsOf(out, "src/generated/project/routes.ts")).toContain("  validateCreate,\n");
    expect(CRUD_TS).toContain("const values = this.spec.validateCreate(body, caller.userId);");
  });

  test("an entity without scope block gets `scope: null` (every row in scope)", () => {
    const open: EntityIR = { ...PROJECT, access: { ...PROJECT.access, scope: null } };
    const access = contentsOf(emitTypeScript({ ...APP, entities: [open] }, CTX), "src/generated/project/access.ts");
    expect(access).toContain("  scope: null,\n");
  });
});

describe("runtime/crud.ts: the flow every routes.ts runs", () => {
  test("order of checks, bound values, probes and write mappings (DSL.md §6.9)", () => {
    // 401 before permit, permit before scope, pre-read before validation on update.
    expect(CRUD_TS).toMatch(/authenticated === null && !this\.spec\.access\.anonymous\.includes\(op\)[\s\S]*permitDenial\(this\.spec\.access, op, caller\)/);
    expect(CRUD_TS).toMatch(/const before = await this\.findRow\(trx, id, scope, true\);[\s\S]*this\.spec\.validateUpdate\(body\)/);
    // Create: validation, then the probe, then INSERT without RETURNING, then the re-read.
    expect(CRUD_TS).toMatch(
      /this\.spec\.validateCreate\(body, caller\.userId\)[\s\S]*this\.probe\(trx, scope, \{ \.\.\.values, id \}\)[\s\S]*this\.insertRow[\s\S]*this\.readBack/,
    );
    expect(CRUD_TS).not.toMatch(/\.returning(All)?\(/);
    expect(CRUD_TS).toContain('if (sqlState(error) === "42501") throw this.createDenied("scope_create_denied");');
    expect(CRUD_TS).toContain('if (sqlState(error) === "42501") throw this.notFound("out_of_scope");');
    // The only raw SQL is generator-compiled text: probe defaults and column types, invariant probes, scope filters.
    expect(CRUD_TS.match(/sql\.raw\(([^)]*)\)/g)).toEqual(["sql.raw(absent)", "sql.raw(type)", "sql.raw(i.probe!)", "sql.raw(scope.sql)"]);
  });
});

describe("helpers", () => {
  test("permitToTs and allowsAnonymous", () => {
    const e: PermitExpr = {
      kind: "or",
      children: [
        { kind: "and", children: [role("a"), { kind: "not", child: { kind: "authenticated" } }] },
        { kind: "not", child: anyOf(role("b"), role("c")) },
        { kind: "anyone" },
      ],
    };
    expect(permitToTs(e)).toBe('(hasRole(caller, "a") && !(caller.userId !== null)) || !(hasRole(caller, "b") || hasRole(caller, "c")) || true');
    expect(allowsAnonymous(e)).toBe(true);
    expect(allowsAnonymous(anyOf(role("a"), { kind: "authenticated" }))).toBe(false);
  });

  test("names", () => {
    expect(snakeCase("IBGPolicy")).toBe("ibg_policy");
    expect(entityDir({ ...TASK, name: "LineItem" })).toBe("line-item");
    const taken = new Set(["ColumnType", "DB", "Generated", "Timestamp"]);
    expect(kyselyInterfaceName("line_item", taken)).toBe("LineItem");
    expect(kyselyInterfaceName("timestamp", taken)).toBe("Timestamp2");
    expect(kyselyInterfaceName("db", taken)).toBe("Db");
  });
});

// ---------------------------------------------------------------------------------------------
// The emitted validators, transpiled and run (with the runtime's errors.ts and http.ts)

type Check = (value: unknown) => unknown;
interface ValidationModule {
  Invalid: new (message: string) => { message: string };
  str(max: number): Check;
  email: Check;
  int: Check;
  date: Check;
  datetime: Check;
  uuid: Check;
  oneOf(values: readonly string[]): Check;
}
interface TaskValidate {
  validateCreate(body: unknown): Record<string, unknown>;
  validateUpdate(body: unknown): Record<string, unknown>;
}

/** A tiny CommonJS loader over in-memory TypeScript sources (type-only imports are erased). */
function moduleLoader(sources: ReadonlyMap<string, string>): (file: string) => unknown {
  const cache = new Map<string, { exports: unknown }>();
  const load = (file: string): unknown => {
    const cached = cache.get(file);
    if (cached !== undefined) return cached.exports;
    const source = sources.get(file);
    if (source === undefined) throw new Error(`no module ${file}`);
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText;
    const mod = { exports: {} as unknown };
    cache.set(file, mod);
    const requireFn = (spec: string): unknown => {
      if (!spec.startsWith(".")) throw new Error(`${file}: unexpected runtime import ${spec}`);
      return load(`${path.posix.join(path.posix.dirname(file), spec)}.ts`);
    };
    new Function("require", "module", "exports", js)(requireFn, mod, mod.exports);
    return mod.exports;
  };
  return load;
}

describe("validation at run time", () => {
  let validation: ValidationModule;
  let task: TaskValidate;

  beforeAll(async () => {
    const files = emitTypeScript(APP, CTX);
    const sources = new Map<string, string>([
      ["src/generated/runtime/errors.ts", await fs.readFile(path.join(RUNTIME, "errors.ts"), "utf8")],
      ["src/generated/runtime/http.ts", await fs.readFile(path.join(RUNTIME, "http.ts"), "utf8")],
      ["src/generated/validation.ts", contentsOf(files, "src/generated/validation.ts")],
      ["src/generated/task/validate.ts", contentsOf(files, "src/generated/task/validate.ts")],
    ]);
    const load = moduleLoader(sources);
    validation = load("src/generated/validation.ts") as ValidationModule;
    task = load("src/generated/task/validate.ts") as TaskValidate;
  });

  const ok = (check: Check, value: unknown) => expect(check(value)).toBe(value);
  const bad = (check: Check, value: unknown) => expect(check(value)).toBeInstanceOf(validation.Invalid);

  test("checks", () => {
    ok(validation.str(3), "abc");
    ok(validation.str(3), "😀😀😀"); // three code points, six UTF-16 units: PostgreSQL's char_length is 3
    bad(validation.str(3), "abcd");
    bad(validation.str(3), 1);
    bad(validation.str(10), "a\u0000b");
    ok(validation.int, -2147483648);
    ok(validation.int, 2147483647);
    bad(validation.int, 2147483648);
    bad(validation.int, 1.5);
    bad(validation.int, "1");
    ok(validation.date, "2024-02-29");
    bad(validation.date, "2023-02-29");
    bad(validation.date, "2024-13-01");
    bad(validation.date, "0000-01-01");
    bad(validation.date, "2024-1-01");
    ok(validation.datetime, "2024-05-01T09:30:00Z");
    ok(validation.datetime, "2024-05-01T09:30:00.123456+02:00");
    ok(validation.datetime, "2024-05-01T09:30-0530");
    bad(validation.datetime, "2024-05-01T09:30:00");
    bad(validation.datetime, "2024-05-01 09:30:00Z");
    bad(validation.datetime, "2024-05-01T24:00:00Z");
    ok(validation.uuid, "3f2504e0-4f89-11d3-9a0c-0305e82c3301");
    bad(validation.uuid, "3f2504e0");
    ok(validation.email, "a.b@example.com");
    bad(validation.email, "a b@example.com");
    bad(validation.email, "nobody");
    ok(validation.oneOf(["open", "done"]), "done");
    bad(validation.oneOf(["open", "done"]), "Done");
  });

  test("validateCreate: typed values, server-managed keys ignored, absent keys left out", () => {
    const project = "3f2504e0-4f89-11d3-9a0c-0305e82c3301";
    expect(task.validateCreate({ title: "T", project, id: "x", created_at: "y", notes: null })).toEqual({ title: "T", project, notes: null });
  });

  test("validateCreate: every problem listed in a 422", () => {
    let error: unknown;
    try {
      task.validateCreate({ extra: 1, title: null, status: "nope", priority: 2 ** 31, due: "2023-02-29", done: null });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      status: 422,
      type: "validation_error",
      details: [
        { field: "extra", message: "unknown field" },
        { field: "title", message: "must not be null" },
        { field: "status", message: "must be one of: open, doing, done" },
        { field: "done", message: "must not be null" },
        { field: "priority", message: "must be an integer between -2147483648 and 2147483647" },
        { field: "due", message: "must be a date (YYYY-MM-DD)" },
        { field: "project", message: "is required" },
      ],
    });
    expect(() => task.validateCreate([])).toThrow(expect.objectContaining({ status: 422 }));
  });

  test("validateUpdate: partial, null rejected for required fields only", () => {
    expect(task.validateUpdate({})).toEqual({});
    expect(task.validateUpdate({ owner: null, done: true })).toEqual({ owner: null, done: true });
    expect(() => task.validateUpdate({ title: null })).toThrow(expect.objectContaining({ status: 422, details: [{ field: "title", message: "must not be null" }] }));
  });
});

// ---------------------------------------------------------------------------------------------
// The emitted access rules, decided by runtime/access.ts

interface Caller {
  readonly userId: string | null;
  readonly roles: readonly string[];
}
interface AccessRuntime {
  permitDenial(access: unknown, op: Operation, caller: Caller): string | null;
  scopeFor(access: unknown, op: Operation, caller: Caller): { sql: string; rules: string[] } | null;
}

describe("access rules at run time", () => {
  let runtime: AccessRuntime;
  let task: unknown;
  let open: unknown;
  const as = (...roles: string[]): Caller => ({ userId: "3f2504e0-4f89-11d3-9a0c-0305e82c3301", roles });
  const anonymous: Caller = { userId: null, roles: [] };

  beforeAll(async () => {
    const unscoped: EntityIR = { ...PROJECT, access: { ...PROJECT.access, scope: null } };
    const sources = new Map<string, string>([
      ["src/generated/runtime/access.ts", await fs.readFile(path.join(RUNTIME, "access.ts"), "utf8")],
      ["src/generated/task/access.ts", contentsOf(emitTypeScript(APP, CTX), "src/generated/task/access.ts")],
      ["src/generated/project/access.ts", contentsOf(emitTypeScript({ ...APP, entities: [unscoped] }, CTX), "src/generated/project/access.ts")],
    ]);
    const load = moduleLoader(sources);
    runtime = load("src/generated/runtime/access.ts") as AccessRuntime;
    task = (load("src/generated/task/access.ts") as { ACCESS: unknown }).ACCESS;
    open = (load("src/generated/project/access.ts") as { ACCESS: unknown }).ACCESS;
  });

  test("permitDenial: a matching forbid wins, no matching permit denies, naming the rule", () => {
    expect(runtime.permitDenial(task, "update", as("member"))).toBeNull();
    expect(runtime.permitDenial(task, "update", as("member", "auditor"))).toBe("Task.update.forbid");
    expect(runtime.permitDenial(task, "list", as("intern"))).toBe("Task.list.permit");
    expect(runtime.permitDenial(task, "read", anonymous)).toBeNull();
    expect(runtime.permitDenial(task, "create", anonymous)).toBe("Task.create.permit");
    expect(runtime.permitDenial(task, "delete", as("admin", "intern"))).toBe("Task.delete.permit");
    // An operation without any permit rule is denied (Project has no forbid rules at all).
    expect(runtime.permitDenial(open, "delete", as("member"))).toBe("Project.delete.permit");
  });

  test("scopeFor: the caller's matching rules ORed, `all` wins, none denies, no scope block allows", () => {
    const mine = '"task"."owner" = (SELECT dazzle_user_id())';
    expect(runtime.scopeFor(task, "list", as("member"))).toEqual({ sql: `(${mine})`, rules: ["Task.list.1"] });
    expect(runtime.scopeFor(task, "list", as("member", "admin"))).toEqual({ sql: "TRUE", rules: ["Task.list.1", "Task.list.2"] });
    expect(runtime.scopeFor(task, "list", as("intern"))).toBeNull();
    expect(runtime.scopeFor(task, "read", anonymous)).toEqual({
      sql: `((${mine} OR "task"."status" = 'done'))`,
      rules: ["Task.read.1"],
    });
    expect(runtime.scopeFor(open, "update", as("anyone"))).toEqual({ sql: "TRUE", rules: [] });
  });
});

// ---------------------------------------------------------------------------------------------
// tsc over the generated app (project files + migration + this emitter + runtime templates)

async function loadTemplates(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out.set(path.relative(root, full).split(path.sep).join("/"), await fs.readFile(full, "utf8"));
    }
  };
  await walk(root);
  return out;
}

/** Paths this emitter owns, for reading tsc diagnostics. */
function isEmitted(file: string): boolean {
  return EXPECTED_FILES.includes(file);
}

describe("type-check", () => {
  let dir: string | undefined;
  afterAll(() => removeTempDir(dir));

  test(
    "tsc --noEmit passes on the generated app; the emitted files also pass the strictest flags",
    async () => {
      dir = await makeTempDir("dazzle-emit-ts-");
      const ctx: EmitContext = { ...CTX, templates: await loadTemplates(path.join(REPO, "templates")) };
      const files = [...emitProjectFiles(APP, ctx), ...emitMigrations(APP, ctx), ...emitTypeScript(APP, ctx)];
      for (const f of files) {
        const target = path.join(dir, f.path);
        await fs.mkdir(path.dirname(target), { recursive: true });
        await fs.writeFile(target, f.contents);
      }
      await installAppDependencies(dir);

      const result = await typecheckApp(dir);
      expect(result.output).toBe("");
      expect(result.exitCode).toBe(0);

      const strict = await run(
        path.join(dir, "node_modules", ".bin", "tsc"),
        [
          "--noEmit",
          "-p",
          dir,
          "--noUnusedLocals",
          "--noUnusedParameters",
          "--noUncheckedIndexedAccess",
          "--exactOptionalPropertyTypes",
          "--noImplicitReturns",
          "--noPropertyAccessFromIndexSignature",
        ],
        { cwd: dir, timeoutMs: 5 * 60_000 },
      );
      const ours = strict.output.split("\n").filter((line) => isEmitted(line.split("(")[0] ?? ""));
      expect(ours).toEqual([]);
    },
    15 * 60_000,
  );
});
