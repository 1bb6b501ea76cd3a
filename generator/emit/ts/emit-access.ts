/**
 * `src/generated/<entity>/access.ts`: the access rules of one entity (DSL.md §6) as data, which
 * `runtime/access.ts` evaluates for a caller (`permitDenial`, `scopeFor`).
 *
 * - permit/forbid become plain TypeScript role checks per operation; an operation without a
 *   permit rule is left out (denied), as is one without a forbid rule.
 * - `anonymous` lists the operations whose permit expression an `anonymous` rule can satisfy, so
 *   a request without credentials proceeds instead of getting 401.
 * - Scope rules keep their id, `as:` roles and the predicate compiled by the one SQL compiler
 *   with the table itself as alias; `scope: null` when the entity has no `scope:` block.
 * - `listAs` (only when some role has one): the caller role (caller-roles.ts) a caller whose only
 *   role it is lists as; its SELECT policy is that role's list scope, so the query sends none.
 *
 * ```dsl
 * permit:
 *   list: role(admin) or role(member)
 * scope:
 *   list: all
 *     as: admin
 * ```
 * becomes
 * ```ts
 * export const ACCESS: AccessRules = {
 *   entity: "Task",
 *   anonymous: [],
 *   permit: {
 *     list: (caller) => hasRole(caller, "admin") || hasRole(caller, "member"),
 *   },
 *   forbid: {},
 *   scope: {
 *     list: [
 *       // all
 *       { id: "Task.list.1", roles: ["admin"], sql: `TRUE` },
 *     ],
 *   },
 * };
 * ```
 */
import type { CodeBlockWriter } from "ts-morph";
import { OPERATIONS, type AppIR, type EntityIR, type PermitExpr } from "../../ir/ir";
import { listRole } from "../sql/caller-roles";
import { assertNever, compilePredicate } from "../sql/predicate";
import type { EmitContext, GeneratedFile } from "../types";
import { createProject, entityDir, lineComment, renderSource, sqlText, str } from "./common";

export function accessPath(entity: EntityIR): string {
  return `src/generated/${entityDir(entity)}/access.ts`;
}

/** A permit/forbid expression as a TS boolean expression over `caller`. */
export function permitToTs(e: PermitExpr): string {
  switch (e.kind) {
    case "role":
      return `hasRole(caller, ${str(e.role)})`;
    case "authenticated":
      return "caller.userId !== null";
    case "anyone":
      return "true";
    case "never":
      return "false";
    case "and":
    case "or": {
      if (e.children.length === 0) return e.kind === "and" ? "true" : "false";
      const op = e.kind === "and" ? " && " : " || ";
      return e.children.map((c) => (needsParens(c) ? `(${permitToTs(c)})` : permitToTs(c))).join(op);
    }
    case "not":
      return `!${needsParens(e.child) || e.child.kind === "authenticated" ? `(${permitToTs(e.child)})` : permitToTs(e.child)}`;
    default:
      return assertNever(e);
  }
}

function needsParens(e: PermitExpr): boolean {
  return (e.kind === "and" || e.kind === "or") && e.children.length > 1;
}

/** True when some `anyone` node is reachable in the expression (an `anonymous` permit rule). */
export function allowsAnonymous(e: PermitExpr): boolean {
  switch (e.kind) {
    case "anyone":
      return true;
    case "role":
    case "authenticated":
    case "never":
      return false;
    case "and":
    case "or":
      return e.children.some(allowsAnonymous);
    case "not":
      return allowsAnonymous(e.child);
    default:
      return assertNever(e);
  }
}

function usesRole(e: PermitExpr): boolean {
  switch (e.kind) {
    case "role":
      return true;
    case "and":
    case "or":
      return e.children.some(usesRole);
    case "not":
      return usesRole(e.child);
    default:
      return false;
  }
}

/** `(caller) => …`, or `() => …` when the decision does not depend on the caller. */
function decisionFn(e: PermitExpr): string {
  const body = permitToTs(e);
  return /\bcaller\b/.test(body) ? `(caller) => ${body}` : `() => ${body}`;
}

/** `op: (caller) => …,` for each operation whose rule is not `never`, in a `{ … }` block. */
function writeDecisions(w: CodeBlockWriter, name: string, rules: EntityIR["access"]["permit"]): void {
  const ops = OPERATIONS.filter((op) => rules[op].kind !== "never");
  if (ops.length === 0) {
    w.writeLine(`${name}: {},`);
    return;
  }
  w.writeLine(`${name}: {`);
  w.indent(() => {
    for (const op of ops) w.writeLine(`${op}: ${decisionFn(rules[op])},`);
  });
  w.writeLine("},");
}

function writeScope(w: CodeBlockWriter, entity: EntityIR): void {
  const scope = entity.access.scope;
  if (scope === null) {
    w.writeLine("// No `scope:` block: every row is in scope, permit is the only gate (DSL.md §6.8).");
    w.writeLine("scope: null,");
    return;
  }
  w.writeLine(`// The SQL qualifies columns with ${str(entity.table)}.`);
  w.writeLine("scope: {");
  w.indent(() => {
    for (const op of OPERATIONS) {
      const rules = scope.filter((r) => r.operation === op);
      if (rules.length === 0) continue;
      w.writeLine(`${op}: [`);
      w.indent(() => {
        for (const r of rules) {
          const roles = r.roles === "*" ? '"*"' : `[${r.roles.map(str).join(", ")}]`;
          const sql = compilePredicate(r.predicate, { kind: "table", alias: entity.table });
          w.writeLine(lineComment(r.source));
          w.writeLine(`{ id: ${str(r.id)}, roles: ${roles}, sql: ${sqlText(sql)} },`);
        }
      });
      w.writeLine("],");
    }
  });
  w.writeLine("},");
}

function writeListAs(w: CodeBlockWriter, app: AppIR, entity: EntityIR): void {
  const roles = app.roles.flatMap((role) => {
    const dbRole = listRole(entity, role);
    return dbRole === null ? [] : [[role, dbRole] as const];
  });
  if (roles.length === 0) return;
  w.writeLine("// A caller whose only role is one of these lists as its database role, whose SELECT policy is");
  w.writeLine("// the role's list scope: the list query repeats no scope (caller-roles.ts).");
  w.writeLine("listAs: {");
  w.indent(() => {
    for (const [role, dbRole] of roles) w.writeLine(`${str(role)}: ${str(dbRole)},`);
  });
  w.writeLine("},");
}

export function emitAccess(app: AppIR, entity: EntityIR, ctx: EmitContext): GeneratedFile {
  const path = accessPath(entity);
  const { permit, forbid } = entity.access;
  const anonymous = OPERATIONS.filter((op) => allowsAnonymous(permit[op]));
  const contents = renderSource(
    createProject(),
    path,
    ctx,
    [
      `Access rules of ${entity.name} (DSL.md §6), evaluated by runtime/access.ts: permit/forbid decide who`,
      "may perform an operation, scope rules which rows. The migration compiles the same rules into",
      "the table's RLS policies.",
    ].join("\n"),
    (file) => {
      file.addImportDeclaration(
        OPERATIONS.some((op) => usesRole(permit[op]) || usesRole(forbid[op]))
          ? { moduleSpecifier: "../runtime/access", namedImports: ["hasRole", { name: "AccessRules", isTypeOnly: true }] }
          : { isTypeOnly: true, moduleSpecifier: "../runtime/access", namedImports: ["AccessRules"] },
      );
      file.addVariableStatement({
        isExported: true,
        name: "ACCESS",
        type: "AccessRules",
        initializer: (w) => {
          w.write("{").newLine();
          w.indent(() => {
            w.writeLine(`entity: ${str(entity.name)},`);
            w.writeLine("// Operations open to requests without credentials (an `anonymous` permit rule); the others answer 401.");
            w.writeLine(`anonymous: [${anonymous.map(str).join(", ")}],`);
            writeDecisions(w, "permit", permit);
            writeDecisions(w, "forbid", forbid);
            writeScope(w, entity);
            writeListAs(w, app, entity);
          });
          w.write("}");
        },
      });
    },
  );
  return { path, contents, owner: "generator" };
}
