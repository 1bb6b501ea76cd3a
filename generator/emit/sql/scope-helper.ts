/**
 * The set-returning helper behind each FK-path and `via` leaf (DSL.md §6.10). Guarantees: the
 * helper is a pure function of the node's path and operators (values are its arguments), so its
 * name `dz_path_<8 hex>` / `dz_via_<8 hex>` is stable and equal nodes share one helper; its body
 * reads only tables other than the scoped one and never returns NULLs. `emit-scope-helpers.ts`
 * creates the functions (SECURITY DEFINER, owned by dazzle_definer); `predicate.ts` calls them.
 *
 * `invoice.project.org = current_user.org` on LineItem:
 *
 * ```sql
 * SELECT t1."id" FROM "invoice" t1 WHERE t1."project" IN
 *   (SELECT t2."id" FROM "project" t2 WHERE t2."org" = $1)       -- RETURNS SETOF uuid
 * ```
 *
 * `via Membership(user = current_user, project = id, revoked_at = null)` on Project:
 *
 * ```sql
 * SELECT j."project" FROM "membership" j
 * WHERE j."user" = $1 AND j."revoked_at" IS NULL AND j."project" IS NOT NULL  -- RETURNS SETOF uuid
 * ```
 */
import { createHash } from "node:crypto";
import type { ColumnPath, ComparisonOp, ExistsCheck, PathCheck } from "../../ir/ir";
import { quoteIdent } from "./quote";
import { relativeDateType } from "./relative-date";

export interface ScopeHelper {
  /** `dz_path_<8 hex>` or `dz_via_<8 hex>`: lower-case, safe unquoted. */
  readonly name: string;
  /** SQL types of the positional parameters `$1…`. */
  readonly params: readonly string[];
  /** `SETOF uuid`, or `TABLE ("v1" uuid, "v2" uuid)` for several entity bindings. */
  readonly returns: string;
  /** One SELECT over the tables in `tables`. */
  readonly body: string;
  /** The DSL text of the path or junction, values shown as `$n`. */
  readonly comment: string;
  /** Tables the body reads, sorted: the definer needs SELECT on them. */
  readonly tables: readonly string[];
  /** `(uuid, text)`: the signature used by ALTER/GRANT/COMMENT. */
  readonly signature: string;
}

export const SQL_OP: Readonly<Record<ComparisonOp, string>> = { "=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">=" };

/** The compared value's SQL: `<op> $n`, or `IS [NOT] NULL` when there is no parameter. */
function comparison(op: ComparisonOp, param: number | null): string {
  if (param === null) return op === "!=" ? "IS NOT NULL" : "IS NULL";
  return `${SQL_OP[op]} $${param}`;
}

function hashName(prefix: "dz_path_" | "dz_via_", key: unknown): string {
  return prefix + createHash("sha256").update(JSON.stringify(key)).digest("hex").slice(0, 8);
}

function helper(name: string, params: string[], returns: string, body: string, comment: string, tables: Iterable<string>): ScopeHelper {
  return { name, params, returns, body, comment, tables: [...new Set(tables)].sort(), signature: `(${params.join(", ")})` };
}

/** The DSL spelling of a path: `invoice.project.org`. */
function pathText(p: ColumnPath): string {
  return [...p.hops.map((h) => h.column), p.column].join(".");
}

/** DSL operator and value as written (`= $1`, `!= null`). */
function dslComparison(op: ComparisonOp, value: string): string {
  return `${op} ${value}`;
}

/**
 * The test on a path's terminal column: the SQL after the column, the helper's parameter types,
 * the DSL text for the comment, and the part of the name key that distinguishes it. A literal,
 * principal or relative-date value is `$1` (its type is the parameter's), a list is one array
 * `$1` (`= ANY`/`<> ALL`: a NULL column matches neither, as with `IN`/`NOT IN`); `= null` and
 * `is [not] true|false` are baked into the body and take none.
 */
function terminalTest(p: PathCheck): { sql: string; params: string[]; dsl: string; key: unknown } {
  switch (p.op) {
    case "in":
    case "not in":
      return { sql: p.op === "in" ? "= ANY ($1)" : "<> ALL ($1)", params: [`${p.sqlType}[]`], dsl: `${p.op} $1`, key: p.op };
    case "is":
    case "is not": {
      const test = `${p.op === "is" ? "IS" : "IS NOT"} ${p.value.value ? "TRUE" : "FALSE"}`;
      return { sql: test, params: [], dsl: `${p.op} ${p.value.value}`, key: test };
    }
    default:
      if (p.value.kind === "literal" && p.value.value === null) {
        return { sql: comparison(p.op, null), params: [], dsl: dslComparison(p.op, "null"), key: comparison(p.op, null) };
      }
      if (p.value.kind === "relativeDate") {
        const type = relativeDateType(p.value);
        return { sql: comparison(p.op, 1), params: [type], dsl: dslComparison(p.op, "$1"), key: [p.op, type] };
      }
      return { sql: comparison(p.op, 1), params: [p.sqlType], dsl: dslComparison(p.op, "$1"), key: p.op };
  }
}

/**
 * Tenant-scoped tables (table → partition-key column) under active tenancy (DSL.md §6.10, §7): a
 * helper reads past RLS, so it re-applies the tenant fence to every one of them it reads. The
 * helper's name does not depend on it (the path alone does), so callers need not pass it.
 */
export type TenantFence = ReadonlyMap<string, string>;
const NO_FENCE: TenantFence = new Map();

/** `alias."tenant_id" = dazzle_tenant_id()` when `table` is tenant-scoped, else nothing. */
function fenceTest(fenced: TenantFence, table: string, alias: string): string[] {
  const column = fenced.get(table);
  return column === undefined ? [] : [`${alias}.${quoteIdent(column)} = dazzle_tenant_id()`];
}

/**
 * Returns the ids of the first-hop table's rows whose path ends in a matching value, as nested
 * `IN` subqueries (one per hop); the terminal test is `terminalTest`'s.
 */
export function pathHelper(p: PathCheck, fenced: TenantFence = NO_FENCE): ScopeHelper {
  const test = terminalTest(p);
  const name = hashName("dz_path_", ["path", p.hops, p.column, test.key]);
  const n = p.hops.length;
  let body = "";
  for (let k = n - 1; k >= 0; k--) {
    const alias = `t${k + 1}`;
    const from = `SELECT ${alias}.${quoteIdent("id")} FROM ${quoteIdent(p.hops[k]!.table)} ${alias}`;
    body = k === n - 1
      ? `${from} WHERE ${alias}.${quoteIdent(p.column)} ${test.sql}`
      : `${from} WHERE ${alias}.${quoteIdent(p.hops[k + 1]!.column)} IN (${body})`;
    body += fenceTest(fenced, p.hops[k]!.table, alias).map((f) => ` AND ${f}`).join("");
  }
  const comment = `FK path ${pathText(p)} ${test.dsl}: ids of ${p.hops[0]!.table} rows`;
  return helper(name, test.params, "SETOF uuid", body, comment, p.hops.map((h) => h.table));
}

/**
 * Returns the entity-binding values of the junction rows whose principal and null bindings
 * hold. Dotted binding paths join their hops (inner joins: a NULL hop matches nothing). Principal
 * values are `$1…` in written order.
 */
export function viaHelper(e: ExistsCheck, fenced: TenantFence = NO_FENCE): ScopeHelper {
  const key = [
    "via",
    e.junction.table,
    e.entityBindings.map((b) => [b.path, b.column]),
    e.principalBindings.map((b) => [b.path, b.op]),
    e.nullBindings.map((b) => [b.path, b.op]),
  ];
  const name = hashName("dz_via_", key);
  const joins: string[] = [];
  /** Alias of the row reached by each FK hop from an alias: bindings sharing a prefix share its joins. */
  const joined = new Map<string, string>();
  const tables = [e.junction.table];
  const aliases: [string, string][] = [[e.junction.table, "j"]];
  const expr = (p: ColumnPath): string => {
    let alias = "j";
    for (const hop of p.hops) {
      const key = JSON.stringify([alias, hop.column]);
      let next = joined.get(key);
      if (next === undefined) {
        next = `j${joins.length + 1}`;
        joins.push(`JOIN ${quoteIdent(hop.table)} ${next} ON ${next}.${quoteIdent("id")} = ${alias}.${quoteIdent(hop.column)}`);
        joined.set(key, next);
        tables.push(hop.table);
        aliases.push([hop.table, next]);
      }
      alias = next;
    }
    return `${alias}.${quoteIdent(p.column)}`;
  };
  const selected = e.entityBindings.map((b) => expr(b.path));
  const conditions = [
    ...e.principalBindings.map((b, i) => `${expr(b.path)} ${comparison(b.op, i + 1)}`),
    ...e.nullBindings.map((b) => `${expr(b.path)} ${comparison(b.op, null)}`),
    ...selected.map((s) => `${s} IS NOT NULL`),
    ...aliases.flatMap(([table, alias]) => fenceTest(fenced, table, alias)),
  ];
  const body = [`SELECT ${selected.join(", ")} FROM ${quoteIdent(e.junction.table)} j`, ...joins, `WHERE ${conditions.join(" AND ")}`].join(" ");
  const returns = e.entityBindings.length === 1
    ? `SETOF ${e.entityBindings[0]!.path.sqlType}`
    : `TABLE (${e.entityBindings.map((b, i) => `${quoteIdent(`v${i + 1}`)} ${b.path.sqlType}`).join(", ")})`;
  const bindings = [
    ...e.entityBindings.map((b) => `${pathText(b.path)} = ${b.column}`),
    ...e.principalBindings.map((b, i) => `${pathText(b.path)} ${dslComparison(b.op, `$${i + 1}`)}`),
    ...e.nullBindings.map((b) => `${pathText(b.path)} ${dslComparison(b.op, "null")}`),
  ];
  const comment = `via ${e.junction.entity}(${bindings.join(", ")})`;
  return helper(name, e.principalBindings.map((b) => b.path.sqlType), returns, body, comment, tables);
}
