/**
 * Compiles the expression IR of invariants (DSL.md §4.10–4.11) to SQL text. SQL three-valued
 * logic throughout, so an app-side probe and a database CHECK always agree. Identifiers go
 * through `quoteIdent`, literals through `quoteLiteral`; every compound node is parenthesised.
 *
 * | DSL | SQL |
 * |---|---|
 * | `a = b`, `a != b`, `x = null`, `x in [..]` | `(a = b)`, `(a <> b)`, `(x IS NULL)`, `(x IN (…))` |
 * | `a / b` (both integers) | `((a)::numeric / b)` |
 * | `d + 2d` (d a date) | `((d + INTERVAL '2 days'))::date` |
 * | `today()`, `now()`, `days_since(x)` | `CURRENT_DATE`, `now()`, `(CURRENT_DATE - (x)::date)` |
 * | `if c: v elif c2: v2 else: v3` | `CASE WHEN c THEN v WHEN c2 THEN v2 ELSE v3 END` |
 * | `customer.credit_limit` | `(SELECT "dz_r1"."credit_limit" FROM "customer" AS "dz_r1" WHERE "dz_r1"."id" = <row>."customer")` |
 *
 * A `money` field in an expression reads its minor units (`<f>_minor`).
 *
 * An invariant that reads other rows is compiled a third way (`compileInvariantFunction`): the
 * row's columns become the parameters `$1…` of its definer helper (emit-invariant-helpers.ts),
 * and each dotted hop into a tenant-scoped table gets the tenant fence:
 * `(SELECT "dz_r1"."budget" FROM "project" AS "dz_r1" WHERE "dz_r1"."id" = $2 AND "dz_r1"."tenant_id" = dazzle_tenant_id())`.
 *
 * Computed fields (§4.8) add aggregates over a child entity C, a correlated subquery over C
 * aliased `dz_c<n>` whose WHERE ends with C's list scope for the caller — known only per request,
 * so `compileComputed` leaves a slot for it (see ComputedSql):
 *
 * | DSL | SQL |
 * |---|---|
 * | `count(Task)` | `(SELECT count(*) FROM "task" AS "dz_c1" WHERE "dz_c1"."project" = "project"."id" AND <scope>)` |
 * | `sum(Task.hours)` | `COALESCE((SELECT sum("dz_c1"."hours") FROM … AND <scope>), 0)` |
 * | `avg/min/max(Task.hours)` | `(SELECT avg("dz_c1"."hours") FROM … AND <scope>)` (NULL over no rows) |
 */
import type { ComputedFieldIR, ComputedTypeIR, EntityIR, ExprIR, FieldIR, FieldTypeIR, InvariantIR } from "../../ir/ir";
import { columnType } from "../../ir/column-type";
import { assertNever, type RowSource } from "./predicate";
import { quoteIdent, quoteLiteral } from "./quote";
import { SQL_OP, type TenantFence } from "./scope-helper";

/** Bare columns (CHECK), `"<alias>"."col"` (app-side probe), or `$n` (an invariant helper's parameters). */
export type ExpressionRow = RowSource | { readonly kind: "params" };

export interface ExpressionContext {
  /** The entity whose row the expression reads. */
  readonly entity: EntityIR;
  /** Every entity, for dotted references along FKs. */
  readonly entities: readonly EntityIR[];
  readonly row: ExpressionRow;
  /** Tenant-scoped tables a dotted reference must fence (invariant helpers under active tenancy). */
  readonly fenced?: TenantFence;
}

/** Value types, as far as the SQL mapping needs them. */
type SqlType = "int" | "numeric" | "text" | "bool" | "date" | "datetime" | "interval" | "uuid" | "null" | "other";

const INTERVAL_UNITS = { min: "minute", h: "hour", d: "day", w: "week", m: "month", y: "year" } as const;

/** The boolean SQL of an invariant (its CHECK body, or the probe's test). */
export function compileInvariant(inv: InvariantIR, ctx: ExpressionContext): string {
  return compileExpression(inv.expr, ctx);
}

/**
 * An invariant as the body of its definer helper (emit-invariant-helpers.ts): the boolean test
 * with the would-be row's columns as `$1…` (in order of first use), every dotted hop fenced to the
 * caller's tenant when its table is tenant-scoped. `tables` (sorted) are the other tables it
 * reads: empty means the invariant reads no other row and needs no helper.
 */
export interface InvariantFunctionSql {
  readonly test: string;
  /** The parameters `$1…`: the entity's columns and their PostgreSQL types. */
  readonly params: readonly { readonly column: string; readonly type: string }[];
  readonly tables: readonly string[];
}

export function compileInvariantFunction(inv: InvariantIR, ctx: Omit<ExpressionContext, "row">): InvariantFunctionSql {
  const compiler = new Compiler({ ...ctx, row: { kind: "params" } });
  const test = compiler.sql(inv.expr);
  if (compiler.slots.length > 0) throw new Error("DZ9001: an aggregate outside a computed field");
  const params = compiler.params.map((column) => ({ column, type: columnType(ctx.entity.fields.find((f) => f.column === column)!.type) }));
  return { test, params, tables: [...compiler.tables].sort() };
}

export function compileExpression(e: ExprIR, ctx: ExpressionContext): string {
  const compiler = new Compiler(ctx);
  const sql = compiler.sql(e);
  if (compiler.slots.length > 0) throw new Error("DZ9001: an aggregate outside a computed field");
  return sql;
}

/**
 * A computed field's SQL with one slot per aggregate for the child's list scope:
 * `parts[0] <scope of children[0]> parts[1] … parts[n]`. Each scope must be compiled over the
 * child's `alias` (the caller's roles pick the rules, so the runtime fills the slots per request);
 * a caller who may not list the child gets `FALSE` there.
 */
export interface ComputedSql {
  readonly parts: readonly string[];
  readonly children: readonly { readonly entity: string; readonly alias: string }[];
}

/** PostgreSQL type of each computed type: the select casts to it, so the driver returns a known JS type. */
const COMPUTED_CAST: Readonly<Record<ComputedTypeIR, string>> = {
  int: "bigint", decimal: "numeric", float: "double precision", text: "text", bool: "boolean", date: "date",
  datetime: "timestamptz", uuid: "uuid",
};

/** `((<expr>)::<type>)`, the value of `(<sql>) AS "name"` in every SELECT of the entity (DSL.md §4.8). */
export function compileComputed(c: ComputedFieldIR, ctx: ExpressionContext): ComputedSql {
  const compiler = new Compiler(ctx);
  const text = `((${compiler.sql(c.expr)})::${COMPUTED_CAST[c.type]})`;
  return { parts: text.split(SLOT), children: compiler.slots };
}

/** Marks a scope slot inside compiled text; never part of generated SQL (NUL cannot be in a PostgreSQL string). */
const SLOT = "\u0000";

const AGGREGATE_SQL = { count: "count", sum: "sum", avg: "avg", min: "min", max: "max" } as const;

class Compiler {
  private aliases = 0;
  /** The aggregates' scope slots, in text order. */
  readonly slots: { entity: string; alias: string }[] = [];
  /** Row columns read as `$n` (params row only), in order of first use: `$n` is `params[n - 1]`. */
  readonly params: string[] = [];
  /** Tables read by dotted references. */
  readonly tables = new Set<string>();
  constructor(private readonly ctx: ExpressionContext) {}

  sql(e: ExprIR): string {
    switch (e.kind) {
      case "literal":
        return quoteLiteral(e.value);
      case "enumLiteral":
        return quoteLiteral(e.value);
      case "duration":
        return interval(e.amount, e.unit);
      case "column":
        return this.column(this.ctx.entity, e.column);
      case "refPath":
        return this.refPath(e.refs, e.column);
      case "compare": {
        if (isNullLiteral(e.right)) return `(${this.sql(e.left)} ${e.op === "!=" ? "IS NOT NULL" : "IS NULL"})`;
        if (isNullLiteral(e.left)) return `(${this.sql(e.right)} ${e.op === "!=" ? "IS NOT NULL" : "IS NULL"})`;
        return `(${this.sql(e.left)} ${SQL_OP[e.op]} ${this.sql(e.right)})`;
      }
      case "isNull":
        return `(${this.sql(e.operand)} ${e.negated ? "IS NOT NULL" : "IS NULL"})`;
      case "in": {
        if (e.items.length === 0) return e.negated ? "TRUE" : "FALSE";
        return `(${this.sql(e.operand)} ${e.negated ? "NOT IN" : "IN"} (${e.items.map((i) => this.sql(i)).join(", ")}))`;
      }
      case "and":
        return `(${e.operands.map((o) => this.sql(o)).join(" AND ")})`;
      case "or":
        return `(${e.operands.map((o) => this.sql(o)).join(" OR ")})`;
      case "not":
        return `(NOT ${this.sql(e.operand)})`;
      case "arith":
        return this.arith(e);
      case "negate":
        return negate(this.sql(e.operand));
      case "call":
        return this.call(e.fn, e.args);
      case "case": {
        const branches = e.branches.map((b) => `WHEN ${this.sql(b.when)} THEN ${this.sql(b.then)}`).join(" ");
        return `CASE ${branches} ELSE ${this.sql(e.otherwise)} END`;
      }
      case "aggregate":
        return this.aggregate(e);
      default:
        return assertNever(e);
    }
  }

  /** A correlated subquery over the child rows of this row, with a slot for the child's list scope. */
  private aggregate(e: Extract<ExprIR, { kind: "aggregate" }>): string {
    const alias = `dz_c${this.slots.length + 1}`;
    this.slots.push({ entity: e.entity, alias });
    const c = quoteIdent(alias);
    const value = e.column === null ? "*" : `${c}.${quoteIdent(e.column)}`;
    const from = `FROM ${quoteIdent(e.table)} AS ${c} WHERE ${c}.${quoteIdent(e.fk)} = ${this.column(this.ctx.entity, "id")} AND ${SLOT}`;
    const sub = `(SELECT ${AGGREGATE_SQL[e.fn]}(${value}) ${from})`;
    return e.fn === "sum" ? `COALESCE(${sub}, 0)` : sub;
  }

  private arith(e: Extract<ExprIR, { kind: "arith" }>): string {
    const lt = this.type(e.left);
    const rt = this.type(e.right);
    const l = this.sql(e.left);
    const r = this.sql(e.right);
    if ((e.op === "+" || e.op === "-") && (rt === "interval" || lt === "interval")) {
      // `date + INTERVAL` is a timestamp: cast back to date (§11 pitfall 11).
      const sum = `(${l} ${e.op} ${r})`;
      return lt === "date" || rt === "date" ? `(${sum})::date` : sum;
    }
    if (e.op === "/" && lt === "int" && rt === "int") return `((${l})::numeric / ${r})`;
    return `(${l} ${e.op} ${r})`;
  }

  private call(fn: string, args: readonly ExprIR[]): string {
    const a = args.map((x) => this.sql(x));
    switch (fn) {
      case "today":
        return "CURRENT_DATE";
      case "now":
        return "now()";
      case "days_since":
        return `(CURRENT_DATE - (${a[0]})::date)`;
      case "days_until":
        return `((${a[0]})::date - CURRENT_DATE)`;
      case "concat":
        return `concat(${a.join(", ")})`;
      case "len":
        return `char_length(${a[0]})`;
      case "abs":
        return `abs(${a[0]})`;
      case "round":
        return a.length > 1 ? `round((${a[0]})::numeric, ${a[1]})` : `round((${a[0]})::numeric)`;
      case "coalesce":
        return `COALESCE(${a.join(", ")})`;
      case "min":
        return `LEAST(${a.join(", ")})`;
      case "max":
        return `GREATEST(${a.join(", ")})`;
      default:
        throw new Error(`DZ9001: function ${fn} survived checking`);
    }
  }

  private field(entity: EntityIR, name: string): FieldIR {
    const f =
      entity.fields.find((x) => x.name === name && x.type.kind !== "moneyCurrency") ??
      entity.fields.find((x) => x.column === name);
    if (!f) throw new Error(`DZ9001: ${entity.name}.${name} is not a stored field`);
    return f;
  }

  private column(entity: EntityIR, name: string): string {
    const column = this.field(entity, name).column;
    if (this.ctx.row.kind === "params") {
      if (!this.params.includes(column)) this.params.push(column);
      return `$${this.params.indexOf(column) + 1}`;
    }
    const col = quoteIdent(column);
    return this.ctx.row.kind === "policy" ? col : `${quoteIdent(this.ctx.row.alias)}.${col}`;
  }

  /**
   * A scalar subquery per hop, innermost first: `(SELECT r2."c" FROM "t2" AS r2 WHERE r2."id" = (SELECT …))`,
   * plus `AND r2."tenant_id" = dazzle_tenant_id()` on a fenced table (a helper reads past RLS).
   */
  private refPath(refs: readonly string[], column: string): string {
    let value = this.column(this.ctx.entity, refs[0]!);
    let target = this.target(this.field(this.ctx.entity, refs[0]!));
    for (const ref of refs.slice(1)) {
      value = this.hop(target, this.field(target, ref).column, value);
      target = this.target(this.field(target, ref));
    }
    return this.hop(target, this.field(target, column).column, value);
  }

  /** `(SELECT a."column" FROM "<table>" AS a WHERE a."id" = <id>[ AND a."<tenant>" = dazzle_tenant_id()])`. */
  private hop(target: EntityIR, column: string, id: string): string {
    const alias = quoteIdent(`dz_r${++this.aliases}`);
    this.tables.add(target.table);
    const tenant = this.ctx.fenced?.get(target.table);
    const fence = tenant === undefined ? "" : ` AND ${alias}.${quoteIdent(tenant)} = dazzle_tenant_id()`;
    return `(SELECT ${alias}.${quoteIdent(column)} FROM ${quoteIdent(target.table)} AS ${alias} WHERE ${alias}."id" = ${id}${fence})`;
  }

  private target(f: FieldIR): EntityIR {
    if (f.type.kind !== "ref") throw new Error(`DZ9001: ${f.name} is not a ref`);
    const table = f.type.table;
    const e = this.ctx.entities.find((x) => x.table === table);
    if (!e) throw new Error(`DZ9001: no entity for table ${table}`);
    return e;
  }

  private type(e: ExprIR): SqlType {
    switch (e.kind) {
      case "literal":
        if (e.value === null) return "null";
        if (typeof e.value === "number") return Number.isInteger(e.value) ? "int" : "numeric";
        return typeof e.value === "boolean" ? "bool" : "text";
      case "enumLiteral":
        return "text";
      case "duration":
        return "interval";
      case "column":
        return fieldType(this.field(this.ctx.entity, e.column).type);
      case "refPath": {
        let entity = this.target(this.field(this.ctx.entity, e.refs[0]!));
        for (const ref of e.refs.slice(1)) entity = this.target(this.field(entity, ref));
        return fieldType(this.field(entity, e.column).type);
      }
      case "compare":
      case "isNull":
      case "in":
      case "and":
      case "or":
      case "not":
        return "bool";
      case "negate":
        return this.type(e.operand);
      case "arith": {
        const l = this.type(e.left);
        const r = this.type(e.right);
        if (l === "interval" || r === "interval") return l === "interval" ? (r === "interval" ? "interval" : r) : l;
        if (l === "date" && r === "date" && e.op === "-") return "int";
        if (l === "datetime" && r === "datetime" && e.op === "-") return "interval";
        if (e.op === "/") return "numeric";
        return l === "int" && r === "int" ? "int" : "numeric";
      }
      case "call":
        switch (e.fn) {
          case "today":
            return "date";
          case "now":
            return "datetime";
          case "days_since":
          case "days_until":
          case "len":
            return "int";
          case "concat":
            return "text";
          case "round":
            return "numeric";
          default:
            return e.args.map((a) => this.type(a)).find((t) => t !== "null") ?? "null";
        }
      case "case":
        return [...e.branches.map((b) => b.then), e.otherwise].map((x) => this.type(x)).find((t) => t !== "null") ?? "null";
      case "aggregate": {
        if (e.column === null) return "int";
        if (e.fn === "avg") return "numeric";
        const child = this.ctx.entities.find((x) => x.name === e.entity);
        const f = child?.fields.find((x) => x.column === e.column);
        if (!f) throw new Error(`DZ9001: ${e.entity}.${e.column} is not a stored field`);
        return fieldType(f.type);
      }
      default:
        return assertNever(e);
    }
  }
}

function fieldType(t: FieldTypeIR): SqlType {
  switch (t.kind) {
    case "int":
    case "moneyMinor":
      return "int";
    case "decimal":
    case "float":
      return "numeric";
    case "bool":
      return "bool";
    case "date":
      return "date";
    case "datetime":
      return "datetime";
    case "uuid":
    case "ref":
      return "uuid";
    case "json":
      return "other";
    default:
      return "text";
  }
}

function isNullLiteral(e: ExprIR): boolean {
  return e.kind === "literal" && e.value === null;
}

function interval(amount: number, unit: keyof typeof INTERVAL_UNITS): string {
  return `INTERVAL ${quoteLiteral(`${amount} ${INTERVAL_UNITS[unit]}${amount === 1 ? "" : "s"}`)}`;
}

/** `(-x)`, or `(-(x))` when x starts with `-` (`--` would start a comment). */
function negate(operand: string): string {
  return operand.startsWith("-") ? `(-(${operand}))` : `(-${operand})`;
}
