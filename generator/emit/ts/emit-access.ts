/**
 * `src/generated/<entity>/access.ts`: the app-layer half of DSL.md §6 for one entity.
 *
 * - permit/forbid become plain TypeScript role checks (`permitDenial`): a matching forbid wins,
 *   then a matching permit allows, else deny.
 * - `ALLOWS_ANONYMOUS[op]` is true when the op's permit expression can be satisfied by an
 *   `anonymous` rule, so a request without credentials proceeds instead of getting 401.
 * - Scope rules are data (`SCOPE_RULES`): id, `as:` roles and the predicate compiled by the one
 *   SQL compiler with the table itself as alias; `scopeFor` picks the caller's matching rules.
 */
import { type WriterFunction } from "ts-morph";
import { OPERATIONS, type AppIR, type EntityIR, type Operation, type PermitExpr } from "../../ir/ir";
import { assertNever, compilePredicate } from "../sql/predicate";
import type { EmitContext, GeneratedFile } from "../types";
import { createProject, entityDir, lineComment, lines, renderSource, sqlText, str, type FileBuilder } from "./common";

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

function recordOfOps(entries: (op: Operation) => string): WriterFunction {
  return (w) => {
    w.write("{").newLine();
    w.indent(() => {
      for (const op of OPERATIONS) w.writeLine(`${op}: ${entries(op)},`);
    });
    w.write("}");
  };
}

function addPermit(file: FileBuilder, entity: EntityIR): void {
  const { permit, forbid } = entity.access;
  file.addVariableStatement({
    isExported: true,
    docs: ["Operations that accept a request without credentials (an `anonymous` permit rule); the others answer 401."],
    name: "ALLOWS_ANONYMOUS",
    type: "Readonly<Record<Operation, boolean>>",
    initializer: recordOfOps((op) => String(allowsAnonymous(permit[op]))),
  });
  file.addVariableStatement({
    docs: ["`permit:` rules per operation (several rules for one operation are ORed)."],
    name: "PERMIT",
    type: "Readonly<Record<Operation, Decision>>",
    initializer: recordOfOps((op) => decisionFn(permit[op])),
  });
  file.addVariableStatement({
    docs: ["`forbid:` rules per operation; a matching forbid denies whatever permit says."],
    name: "FORBID",
    type: "Readonly<Record<Operation, Decision>>",
    initializer: recordOfOps((op) => decisionFn(forbid[op])),
  });
  file.addFunction({
    isExported: true,
    name: "permitDenial",
    docs: [
      [
        `The permit/forbid decision for ${entity.name} (DSL.md §6.2): null when the caller may perform \`op\`,`,
        "otherwise the id of the rule that denies it. A matching forbid wins; no matching permit denies.",
      ].join("\n"),
    ],
    parameters: [
      { name: "op", type: "Operation" },
      { name: "caller", type: "Caller" },
    ],
    returnType: "string | null",
    statements: lines(
      `if (FORBID[op](caller)) return \`${entity.name}.\${op}.forbid\`;`,
      `if (!PERMIT[op](caller)) return \`${entity.name}.\${op}.permit\`;`,
      "return null;",
    ),
  });
  if (OPERATIONS.some((op) => usesRole(permit[op]) || usesRole(forbid[op]))) {
    file.addFunction({
      name: "hasRole",
      parameters: [
        { name: "caller", type: "Caller" },
        { name: "role", type: "string" },
      ],
      returnType: "boolean",
      statements: lines("return caller.roles.includes(role);"),
    });
  }
}

function addScope(file: FileBuilder, entity: EntityIR): void {
  file.addInterface({
    isExported: true,
    name: "ScopeRule",
    docs: [`A \`scope:\` rule: the roles of its \`as:\` line ("*" = every caller) and its row filter as SQL over "${entity.table}".`],
    properties: [
      { name: "id", type: "string", isReadonly: true },
      { name: "roles", type: 'readonly string[] | "*"', isReadonly: true },
      { name: "sql", type: "string", isReadonly: true },
    ],
  });
  file.addInterface({
    isExported: true,
    name: "ScopeFilter",
    docs: ["The row filter of one request: a boolean SQL expression and the ids of the rules it came from."],
    properties: [
      { name: "sql", type: "string", isReadonly: true },
      { name: "rules", type: "readonly string[]", isReadonly: true },
    ],
  });

  const scope = entity.access.scope;
  if (scope === null) {
    file.addVariableStatement({
      isExported: true,
      docs: [`${entity.name} has no \`scope:\` block: permit is the only gate.`],
      name: "SCOPE_RULES",
      type: "Readonly<Record<Operation, readonly ScopeRule[]>> | null",
      initializer: "null",
    });
    file.addFunction({
      isExported: true,
      name: "scopeFor",
      docs: ["Every row is in scope for every operation (no `scope:` block, DSL.md §6.8)."],
      parameters: [
        { name: "_op", type: "Operation" },
        { name: "_caller", type: "Caller" },
      ],
      returnType: "ScopeFilter | null",
      statements: lines('return { sql: "TRUE", rules: [] };'),
    });
    return;
  }

  file.addVariableStatement({
    isExported: true,
    docs: [`\`scope:\` rules per operation, in declaration order; the SQL qualifies columns with "${entity.table}".`],
    name: "SCOPE_RULES",
    type: "Readonly<Record<Operation, readonly ScopeRule[]>>",
    initializer: (w) => {
      w.write("{").newLine();
      w.indent(() => {
        for (const op of OPERATIONS) {
          const rules = scope.filter((r) => r.operation === op);
          if (rules.length === 0) {
            w.writeLine(`${op}: [],`);
            continue;
          }
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
      w.write("}");
    },
  });
  file.addFunction({
    isExported: true,
    name: "scopeFor",
    docs: [
      [
        "The rows the caller may touch with `op` (DSL.md §6.8): the matching rules are those whose `as:`",
        "is `*` or names one of the caller's roles. None ⇒ null (deny); one of them is `all` ⇒ TRUE;",
        "otherwise the OR of their filters.",
      ].join("\n"),
    ],
    parameters: [
      { name: "op", type: "Operation" },
      { name: "caller", type: "Caller" },
    ],
    returnType: "ScopeFilter | null",
    statements: lines(
      "const matching = SCOPE_RULES[op].filter(",
      '  (rule) => rule.roles === "*" || rule.roles.some((role) => caller.roles.includes(role)),',
      ");",
      "if (matching.length === 0) return null;",
      "const rules = matching.map((rule) => rule.id);",
      'if (matching.some((rule) => rule.sql === "TRUE")) return { sql: "TRUE", rules };',
      'return { sql: `(${matching.map((rule) => rule.sql).join(" OR ")})`, rules };',
    ),
  });
}

export function emitAccess(_app: AppIR, entity: EntityIR, ctx: EmitContext): GeneratedFile {
  const path = accessPath(entity);
  const contents = renderSource(
    createProject(),
    path,
    ctx,
    [
      `Access rules of ${entity.name} (DSL.md §6): permit/forbid decide who may perform an operation,`,
      "scope rules which rows. The migration compiles the same rules into the table's RLS policies.",
    ].join("\n"),
    (file) => {
      file.addImportDeclaration({ isTypeOnly: true, moduleSpecifier: "../runtime/auth", namedImports: ["Caller"] });
      file.addTypeAlias({
        isExported: true,
        name: "Operation",
        type: OPERATIONS.map(str).join(" | "),
      });
      file.addTypeAlias({ name: "Decision", type: "(caller: Caller) => boolean" });
      addPermit(file, entity);
      addScope(file, entity);
    },
  );
  return { path, contents, owner: "generator" };
}
