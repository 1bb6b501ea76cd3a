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
 * "invoice" IN (SELECT * FROM dz_path_…((SELECT dazzle_user_attr_org())))
 * -- not via Membership(user = current_user, project = id)   (app form, alias "project")
 * CASE WHEN (SELECT dazzle_user_id()) IS NULL THEN NULL
 *   ELSE NOT ("project"."id" IN (SELECT * FROM dz_via_…((SELECT dazzle_user_id())))) END
 * ```
 *
 * The CASE guard makes a leaf that depends on a principal value NULL (never FALSE) when the value
 * is unset, so `not via …` and `not ( … )` fail closed for anonymous or unresolved callers. Plain
 * `col = (SELECT reader())` comparisons need no guard: they are NULL already.
 *
 * The guard is written only where the leaf's test is negated (under an odd number of `not`s, or a
 * `not via`): elsewhere FALSE rejects a row exactly as NULL does — AND and OR are monotone, and
 * in three-valued logic an expression that is TRUE with an unknown operand is TRUE whatever the
 * operand — while the bare `col IN (SELECT …)` lets the planner use the index on `col` (the CASE
 * hides it: the list then walks the primary key and tests every row).
 */
import type { ColumnTest, ExistsCheck, PathCheck, PermitExpr, Predicate } from "../../ir/ir";
import { quoteIdent, quoteLiteral } from "./quote";
import { relativeDateSql } from "./relative-date";
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

/**
 * `<col> op value` of a ColumnCheck. Lists and literals are inlined through `quoteLiteral`; `in`
 * and `not in` are SQL's (a NULL column matches neither, like `!=`); `is [not] true|false` is
 * SQL's two-valued `IS [NOT] TRUE|FALSE`; relative dates are computed by PostgreSQL.
 */
function compileColumnTest(col: string, t: ColumnTest): string {
  switch (t.op) {
    case "in":
    case "not in":
      return `${col} ${t.op === "in" ? "IN" : "NOT IN"} (${t.value.map(quoteLiteral).join(", ")})`;
    case "is":
    case "is not":
      return `${col} ${t.op === "is" ? "IS" : "IS NOT"} ${t.value ? "TRUE" : "FALSE"}`;
    default:
      if (t.value === null) return t.op === "!=" ? `${col} IS NOT NULL` : `${col} IS NULL`;
      if (typeof t.value === "object") return `${col} ${SQL_OP[t.op]} ${relativeDateSql(t.value)}`;
      return `${col} ${SQL_OP[t.op]} ${quoteLiteral(t.value)}`;
  }
}

/** The argument of a path helper call: the compared value(s), or nothing when baked into the helper. */
function pathArgument(p: PathCheck): string {
  switch (p.op) {
    case "in":
    case "not in":
      return `ARRAY[${p.value.values.map(quoteLiteral).join(", ")}]::${p.sqlType}[]`;
    case "is":
    case "is not":
      return "";
    default:
      switch (p.value.kind) {
        case "userAttr":
          return userValue(p.value.attr);
        case "relativeDate":
          return relativeDateSql(p.value);
        case "literal":
          return p.value.value === null ? "" : quoteLiteral(p.value.value);
        default:
          return assertNever(p.value);
      }
  }
}

/** `negated`: the leaf sits under an odd number of `not`s (its guard is then needed). */
function compilePath(p: PathCheck, row: RowSource, negated: boolean): string {
  const helper = pathHelper(p);
  const arg = pathArgument(p);
  const leaf = `${column(row, p.hops[0]!.column)} IN (SELECT * FROM ${helper.name}(${arg}))`;
  return p.value.kind === "userAttr" && negated ? guarded([p.value.attr], leaf) : leaf;
}

function compileExists(e: ExistsCheck, row: RowSource, negated: boolean): string {
  const helper = viaHelper(e);
  const columns = e.entityBindings.map((b) => column(row, b.column));
  const lhs = columns.length === 1 ? columns[0]! : `(${columns.join(", ")})`;
  const args = e.principalBindings.map((b) => userValue(b.attr)).join(", ");
  const test = `${lhs} IN (SELECT * FROM ${helper.name}(${args}))`;
  const leaf = e.negated ? `NOT (${test})` : test;
  return negated !== e.negated ? guarded(e.principalBindings.map((b) => b.attr), leaf) : leaf;
}

/** A row predicate as a boolean SQL expression. */
export function compilePredicate(p: Predicate, row: RowSource): string {
  return compile(p, row, false);
}

function compile(p: Predicate, row: RowSource, negated: boolean): string {
  switch (p.kind) {
    case "true":
      return "TRUE";
    case "false":
      return "FALSE";
    case "column":
      return compileColumnTest(column(row, p.column), p);
    case "userAttr":
      return `${column(row, p.column)} ${SQL_OP[p.op]} ${userValue(p.attr)}`;
    case "path":
      return compilePath(p, row, negated);
    case "exists":
      return compileExists(p, row, negated);
    case "and":
      return `(${p.children.map((c) => compile(c, row, negated)).join(" AND ")})`;
    case "or":
      return `(${p.children.map((c) => compile(c, row, negated)).join(" OR ")})`;
    case "not":
      return `NOT (${compile(p.child, row, !negated)})`;
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
      // Every operand form is one SQL unit already (a parenthesised subquery or group).
      return `NOT ${compilePermit(e.child)}`;
    default:
      return assertNever(e);
  }
}

export function assertNever(x: never): never {
  throw new Error(`unexpected node: ${JSON.stringify(x)}`);
}
