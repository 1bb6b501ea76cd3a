/**
 * Compiles the access algebra of the IR (DSL.md §6.5) to SQL text. One compiler serves both
 * targets: RLS policy bodies (unqualified columns) and app-layer WHERE fragments (columns
 * qualified by the query's table). Values come from session settings through the `dazzle_*`
 * reader functions, never from bound request values, so both forms are the same SQL.
 */
import type { Operation, PermitExpr, Predicate, ScopeRuleIR } from "../../ir/ir";
import { quoteIdent, quoteLiteral } from "./quote";

/** Where the scoped row's columns come from. */
export type RowSource =
  /** Inside `CREATE POLICY`: bare column names. */
  | { readonly kind: "policy" }
  /** In a query: `"<alias>"."column"`. */
  | { readonly kind: "table"; readonly alias: string };

function column(row: RowSource, name: string): string {
  return row.kind === "policy" ? quoteIdent(name) : `${quoteIdent(row.alias)}.${quoteIdent(name)}`;
}

/** SQL function name that reads the principal attribute `attr` (`id` is the user id). */
export function userAttrReader(attr: string): string {
  return attr === "id" ? "dazzle_user_id" : `dazzle_user_attr_${attr}`;
}

const SQL_OP = { "=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">=" } as const;

/** A row predicate as a boolean SQL expression. */
export function compilePredicate(p: Predicate, row: RowSource): string {
  switch (p.kind) {
    case "true":
      return "TRUE";
    case "false":
      return "FALSE";
    case "column": {
      const col = column(row, p.column);
      if (p.value === null) return p.op === "!=" ? `${col} IS NOT NULL` : `${col} IS NULL`;
      return `${col} ${SQL_OP[p.op]} ${quoteLiteral(p.value)}`;
    }
    case "userAttr":
      return `${column(row, p.column)} ${SQL_OP[p.op]} (SELECT ${userAttrReader(p.attr)}())`;
    case "and":
      return `(${p.children.map((c) => compilePredicate(c, row)).join(" AND ")})`;
    case "or":
      return `(${p.children.map((c) => compilePredicate(c, row)).join(" OR ")})`;
    case "not":
      return `NOT (${compilePredicate(p.child, row)})`;
    default:
      return assertNever(p);
  }
}

/** A permit/forbid expression as a boolean SQL expression over the session settings. */
export function compilePermit(e: PermitExpr): string {
  switch (e.kind) {
    case "role":
      return `(SELECT dazzle_has_role(${quoteLiteral(e.role)}))`;
    case "authenticated":
      return "((SELECT dazzle_user_id()) IS NOT NULL)";
    case "anyone":
      return "TRUE";
    case "never":
      return "FALSE";
    case "and":
      return `(${e.children.map(compilePermit).join(" AND ")})`;
    case "or":
      return `(${e.children.map(compilePermit).join(" OR ")})`;
    case "not":
      return `NOT (${compilePermit(e.child)})`;
    default:
      return assertNever(e);
  }
}

/** The `as:` role test of a scope rule; `null` for `as: *` (no test). */
export function compileRoleTest(roles: ScopeRuleIR["roles"]): string | null {
  if (roles === "*") return null;
  const tests = roles.map((r) => `(SELECT dazzle_has_role(${quoteLiteral(r)}))`);
  return tests.length === 1 ? tests[0]! : `(${tests.join(" OR ")})`;
}

/**
 * The RLS body for one operation: permit(o) AND NOT forbid(o) AND scope(o), where scope(o) ORs
 * `(<role test> AND <predicate>)` over o's rules, or is TRUE when the entity has no scope block.
 * Returns null when the body is statically FALSE (no permit rule, or no scope rule for o).
 */
export function compileOperationPolicy(
  permit: PermitExpr,
  forbid: PermitExpr,
  scope: readonly ScopeRuleIR[] | null,
  op: Operation,
): string | null {
  if (permit.kind === "never") return null;
  const parts: string[] = [];
  if (permit.kind !== "anyone") parts.push(compilePermit(permit));
  if (forbid.kind !== "never") parts.push(`NOT ${compilePermit(forbid)}`);
  if (scope !== null) {
    const rules = scope.filter((r) => r.operation === op && r.predicate.kind !== "false");
    if (rules.length === 0) return null;
    const alternatives = rules.map((r) => {
      const roleTest = compileRoleTest(r.roles);
      const pred = r.predicate.kind === "true" ? null : compilePredicate(r.predicate, { kind: "policy" });
      if (roleTest === null && pred === null) return "TRUE";
      if (roleTest === null) return pred!;
      if (pred === null) return roleTest;
      return `(${roleTest} AND ${pred})`;
    });
    if (!alternatives.includes("TRUE")) {
      parts.push(alternatives.length === 1 ? alternatives[0]! : `(${alternatives.join(" OR ")})`);
    }
  }
  return parts.length === 0 ? "TRUE" : parts.join(" AND ");
}

export function assertNever(x: never): never {
  throw new Error(`unexpected node: ${JSON.stringify(x)}`);
}
