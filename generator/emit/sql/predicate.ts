/**
 * Compiles the access algebra of the IR (DSL.md §6.5) to SQL text. One compiler serves both
 * targets: RLS policy bodies (unqualified columns) and app-layer WHERE fragments (columns
 * qualified by the query's table). Values come from session settings through the `dazzle_*`
 * reader functions, never from bound request values, so both forms are the same SQL.
 *
 * FK paths and `via` junctions read other tables only through their definer helpers
 * (scope-helper.ts), called with values — never with the scoped row — so the create/update
 * probe, which replaces the scoped table by a one-row subselect, works unchanged:
 *
 * ```sql
 * -- invoice.project.org = current_user.org   (policy form)
 * CASE WHEN (SELECT dazzle_user_attr_org()) IS NULL THEN NULL
 *   ELSE "invoice" IN (SELECT * FROM dz_path_…((SELECT dazzle_user_attr_org()))) END
 * -- not via Membership(user = current_user, project = id)   (app form, alias "project")
 * CASE WHEN (SELECT dazzle_user_id()) IS NULL THEN NULL
 *   ELSE NOT ("project"."id" IN (SELECT * FROM dz_via_…((SELECT dazzle_user_id())))) END
 * ```
 *
 * The CASE guard makes a leaf that depends on a principal value NULL (never FALSE) when the value
 * is unset, so `not via …` and `not ( … )` fail closed for anonymous or unresolved callers. Plain
 * `col = (SELECT reader())` comparisons need no guard: they are NULL already.
 */
import type { ExistsCheck, Operation, PathCheck, PermitExpr, Predicate, ScopeRuleIR } from "../../ir/ir";
import { quoteIdent, quoteLiteral } from "./quote";
import { pathHelper, SQL_OP, viaHelper } from "./scope-helper";

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

/** `(SELECT dazzle_user_attr_x())`: evaluated once per statement (an init-plan). */
function userValue(attr: string): string {
  return `(SELECT ${userAttrReader(attr)}())`;
}

/** `CASE WHEN <v> IS NULL [OR …] THEN NULL ELSE <leaf> END` over the distinct principal values. */
function guarded(attrs: readonly string[], leaf: string): string {
  if (attrs.length === 0) return leaf;
  const unset = [...new Set(attrs)].map((a) => `${userValue(a)} IS NULL`).join(" OR ");
  return `CASE WHEN ${unset} THEN NULL ELSE ${leaf} END`;
}

function compilePath(p: PathCheck, row: RowSource): string {
  const helper = pathHelper(p);
  const arg = p.value.kind === "userAttr" ? userValue(p.value.attr) : p.value.value === null ? "" : quoteLiteral(p.value.value);
  const leaf = `${column(row, p.hops[0]!.column)} IN (SELECT * FROM ${helper.name}(${arg}))`;
  return p.value.kind === "userAttr" ? guarded([p.value.attr], leaf) : leaf;
}

function compileExists(e: ExistsCheck, row: RowSource): string {
  const helper = viaHelper(e);
  const columns = e.entityBindings.map((b) => column(row, b.column));
  const lhs = columns.length === 1 ? columns[0]! : `(${columns.join(", ")})`;
  const args = e.principalBindings.map((b) => userValue(b.attr)).join(", ");
  const test = `${lhs} IN (SELECT * FROM ${helper.name}(${args}))`;
  return guarded(e.principalBindings.map((b) => b.attr), e.negated ? `NOT (${test})` : test);
}

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
      return `${column(row, p.column)} ${SQL_OP[p.op]} ${userValue(p.attr)}`;
    case "path":
      return compilePath(p, row);
    case "exists":
      return compileExists(p, row);
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
