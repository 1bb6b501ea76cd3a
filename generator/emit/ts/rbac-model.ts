/**
 * The data of the generated RBAC matrix (emit-rbac-test.ts): seed rows for every table, the
 * callers, and — for each entity × operation × caller — the expected outcome, computed here at
 * generation time by an evaluator of the predicate IR written in TypeScript. The evaluator is
 * independent of the SQL compiler (predicate.ts, scope-helper.ts): it walks the IR over the seed
 * rows with SQL's three-valued logic, so a disagreement between the compiled SQL (app layer or
 * RLS) and the IR makes the generated test fail.
 *
 * Seeding: every column of every table cycles through a small pool of values — the literals the
 * rules compare it with, shared strings that principal attributes also take (so
 * `current_user.attr` rules match some rows and not others), the ids of the referenced table for
 * `ref` columns, every enum value, both booleans, NULL for optional columns — so each rule has
 * rows inside and outside its scope. Rows that would break a unique constraint are dropped.
 */
import { permits } from "../../ir/permits";
import { OPERATIONS, type AppIR, type ComparisonOp, type ColumnTest, type EntityIR, type ExistsCheck, type ExprIR, type FieldIR, type LiteralValue, type Operation, type PathCheck, type PermitExpr, type Predicate, type RelativeDate } from "../../ir/ir";
import { assertNever } from "../sql/predicate";
import { allowsAnonymous } from "./emit-access";
import { predicateLeaves } from "../../ir/predicate-leaves";

export type Value = string | number | boolean | null;
export type SeedRow = Record<string, Value>;

export interface SeedTable {
  readonly table: string;
  readonly rows: readonly SeedRow[];
}

export interface RbacCaller {
  readonly name: string;
  /** null: no token (anonymous). */
  readonly userId: string | null;
  readonly roles: readonly string[] | null;
}

export interface CallerExpectation {
  readonly caller: string;
  /** list: status and exact ids (200 with [] when no rule matches). */
  readonly list: { readonly status: number; readonly ids: readonly string[] };
  /** per seeded row id: expected status. */
  readonly read: Readonly<Record<string, number>>;
  readonly update: Readonly<Record<string, number>>;
  readonly delete: Readonly<Record<string, number>>;
  /** per candidate index: expected status. */
  readonly create: readonly number[];
  /** ids RLS alone lets the caller SELECT (read ∪ list bodies). */
  readonly rls: readonly string[];
}

export interface EntityMatrix {
  readonly name: string;
  readonly table: string;
  readonly route: string;
  /** The column PATCHed with its current value (a no-op change), or null when none fits. */
  readonly updateColumn: string | null;
  /** Some FK to this table cascades or nulls on delete: undo a delete by re-seeding everything. */
  readonly cascades: boolean;
  readonly candidates: readonly Record<string, Value>[];
  readonly expectations: readonly CallerExpectation[];
}

export interface RbacModel {
  readonly seed: readonly SeedTable[];
  readonly callers: readonly RbacCaller[];
  readonly entities: readonly EntityMatrix[];
}

const ROWS_PER_TABLE = 10;
const CANDIDATES = 3;
const STRINGS = ["alpha", "beta", "gamma"];
export const UNKNOWN_ROLE = "rbac_unknown_role";

/**
 * Deterministic uuid of the `index`-th row, the same in every table: row n of any table that
 * references the principal by another entity (a `Member` whose id is the user's, DZ3014) then
 * matches `current_user` for user n.
 */
function uuidFor(_table: string, index: number): string {
  return `d2a00000-0000-4000-8000-${index.toString(16).padStart(12, "0")}`;
}

interface TableInfo {
  readonly table: string;
  readonly fields: readonly FieldIR[];
  readonly entity: EntityIR | null;
}

function collectLiterals(app: AppIR): Map<string, LiteralValue[]> {
  const out = new Map<string, LiteralValue[]>();
  const add = (table: string, column: string, v: LiteralValue) => {
    if (v === null) return;
    const key = `${table}.${column}`;
    const list = out.get(key) ?? [];
    if (!list.includes(v)) list.push(v);
    out.set(key, list);
  };
  for (const e of app.entities) {
    for (const leaf of (e.access.scope ?? []).flatMap((r) => predicateLeaves(r.predicate))) {
      if (leaf.kind === "column") {
        if (Array.isArray(leaf.value)) for (const v of leaf.value) add(e.table, leaf.column, v);
        else if (leaf.value === null || typeof leaf.value !== "object") add(e.table, leaf.column, leaf.value as LiteralValue);
      } else if (leaf.kind === "path") {
        const table = leaf.hops[leaf.hops.length - 1]!.table;
        if (leaf.value.kind === "literal") add(table, leaf.column, leaf.value.value);
        else if (leaf.value.kind === "list") for (const v of leaf.value.values) add(table, leaf.column, v);
      }
    }
  }
  return out;
}

// ── relative dates (`d >= today - 30d`) ─────────────────────────────────────────────────────
// The expected sets are computed at generation time, the database evaluates `CURRENT_DATE` when
// the matrix runs, and the generated file must not depend on the day it was generated. So a
// column compared with a relative date is seeded only with values far from any boundary (the
// years 1000 and 3000), and the evaluator resolves `today`/`now` at a fixed reference instant:
// every seeded value is on the same side of `today - d` for the reference and for the real day,
// for durations under several centuries. A default of `now()`/`CURRENT_DATE` (a row created by the
// matrix) is the reference too: `created >= now - 7d` holds for it on any day.

const REFERENCE = Date.UTC(2026, 0, 1);
const FAR_DATES = ["1000-01-01", "3000-01-01"];
const FAR_TIMES = ["1000-01-01T00:00:00.000Z", "3000-01-01T00:00:00.000Z"];

/** `table.column` of every column some scope leaf compares with a relative date. */
function collectRelativeColumns(app: AppIR): Set<string> {
  const out = new Set<string>();
  for (const e of app.entities) {
    for (const leaf of (e.access.scope ?? []).flatMap((r) => predicateLeaves(r.predicate))) {
      if (leaf.kind === "column" && leaf.value !== null && typeof leaf.value === "object" && !Array.isArray(leaf.value)) out.add(`${e.table}.${leaf.column}`);
      else if (leaf.kind === "path" && leaf.value.kind === "relativeDate") out.add(`${leaf.hops[leaf.hops.length - 1]!.table}.${leaf.column}`);
    }
  }
  return out;
}

/** `today ± d` / `now ± d` at the reference instant, as a seed value of a `date`/`timestamptz` column. */
function relativeValue(d: RelativeDate, sqlType: string): string {
  const t = new Date(REFERENCE);
  const n = d.sign === "-" ? -d.amount : d.amount;
  switch (d.unit) {
    case "min":
      t.setUTCMinutes(t.getUTCMinutes() + n);
      break;
    case "h":
      t.setUTCHours(t.getUTCHours() + n);
      break;
    case "d":
      t.setUTCDate(t.getUTCDate() + n);
      break;
    case "w":
      t.setUTCDate(t.getUTCDate() + 7 * n);
      break;
    case "m":
      t.setUTCMonth(t.getUTCMonth() + n);
      break;
    case "y":
      t.setUTCFullYear(t.getUTCFullYear() + n);
      break;
    default:
      return assertNever(d.unit);
  }
  return sqlType === "date" ? t.toISOString().slice(0, 10) : t.toISOString();
}

function truncate(s: string, field: FieldIR): string {
  return field.type.kind === "str" ? s.slice(0, Math.max(1, field.type.maxLength)) : s;
}

function pool(info: TableInfo, field: FieldIR, literals: Map<string, LiteralValue[]>, ids: Map<string, string[]>, principalIds: string[], relative: ReadonlySet<string>): Value[] {
  const lits = (literals.get(`${info.table}.${field.column}`) ?? []) as Value[];
  const t = field.type;
  let values: Value[];
  const far = relative.has(`${info.table}.${field.column}`) ? (t.kind === "date" ? FAR_DATES : FAR_TIMES) : null;
  if (far !== null) return field.required ? [...far] : [...far, null];
  switch (t.kind) {
    case "ref":
      // Tenancy (DSL.md §7): every seeded row lives in the first tenant, where every caller is.
      values = field.default?.kind === "tenant" ? (ids.get(t.table) ?? []).slice(0, 1) : [...(ids.get(t.table) ?? [])];
      break;
    case "uuid":
      values = [...principalIds];
      break;
    case "enum":
      values = [...t.values];
      break;
    case "bool":
      values = [true, false];
      break;
    case "int": {
      const nums = lits.filter((v): v is number => typeof v === "number");
      values = [...new Set([...nums.flatMap((n) => [n, n + 1, n - 1]), 1, 2, 3])];
      break;
    }
    case "date":
      values = [...lits, "2026-01-15", "2026-06-15"];
      break;
    case "datetime":
      values = [...lits, "2026-01-15T10:00:00.000Z", "2026-06-15T10:00:00.000Z"];
      break;
    case "email":
      values = [...lits, "ann@example.com", "bob@example.com", "cat@example.com"];
      break;
    case "str":
    case "text":
      values = [...new Set([...lits.map(String), ...STRINGS].map((s) => truncate(s, field)))];
      break;
    default: {
      // Types without access rules of their own: one plausible value each.
      const k = (t as { kind: string }).kind;
      const c = (t as { currency?: string }).currency;
      const sample: Record<string, Value> = { decimal: "12.50", float: 1.5, url: "https://example.com/a", slug: "alpha", timezone: "UTC", json: "x", file: "file.txt", moneyMinor: "1250", moneyCurrency: c ?? "EUR" };
      values = [...lits, sample[k] ?? "x"];
    }
  }
  values = [...new Set(values)];
  if (!field.required) values.push(null);
  return values;
}

/**
 * The value a column the create body omits gets from its default, as far as the evaluator knows
 * it: literals, and — on a column compared with a relative date — `now()`/`CURRENT_DATE`/`today ±
 * d` at the reference instant; otherwise null.
 */
function defaultValue(f: FieldIR, relativeColumn: boolean): Value {
  const d = f.default;
  if (d === null) return null;
  if (d.kind === "literal") return d.value;
  if (!relativeColumn) return null;
  const sqlType = f.type.kind === "date" ? "date" : "timestamptz";
  if (d.kind === "generated" && (d.fn === "now" || d.fn === "today")) return relativeValue({ kind: "relativeDate", base: d.fn, sign: "+", amount: 0, unit: "d" }, sqlType);
  if (d.kind === "relative") return relativeValue({ kind: "relativeDate", base: d.base, sign: d.sign, amount: d.amount, unit: d.unit }, sqlType);
  return null;
}

/** Makes a unique column's value distinct per row. */
function uniqueValue(field: FieldIR, v: Value, i: number): Value {
  if (v === null) return v;
  switch (field.type.kind) {
    case "str":
    case "text": {
      const suffix = `${i}`;
      const base = String(v);
      return field.type.kind === "str" ? base.slice(0, Math.max(0, field.type.maxLength - suffix.length)) + suffix : base + suffix;
    }
    case "email":
      return `u${i}.${String(v)}`;
    case "int":
      return 1000 + i;
    case "slug":
      return `${String(v)}-${i}`; // still `^[a-z0-9]+(-[a-z0-9]+)*$`, 3–40 characters
    default:
      return v;
  }
}

function tablesOf(app: AppIR): TableInfo[] {
  const out: TableInfo[] = app.entities.map((e) => ({ table: e.table, fields: e.fields, entity: e }));
  if (!out.some((t) => t.table === app.principal.table)) {
    const f = (name: string, type: FieldIR["type"], serverManaged: boolean): FieldIR => ({
      name, column: name, type, required: true, unique: name !== "id", default: null, serverManaged, autoUpdate: false, indexed: false,
    });
    out.unshift({ table: app.principal.table, entity: null, fields: [f("id", { kind: "uuid" }, true), f("email", { kind: "email" }, false), ...appUserTenantKey(app)] });
  }
  return out;
}

/**
 * The generated app_user's partition key under tenancy, for seeding only: marked with the
 * `tenant` default so it takes the first tenant like the tenant-scoped rows.
 */
function appUserTenantKey(app: AppIR): FieldIR[] {
  const tenant = app.principal.tenant;
  if (tenant === undefined || tenant.column === null) return [];
  const { entity, table } = tenant.root;
  return [{ name: tenant.column, column: tenant.column, type: { kind: "ref", entity, table }, required: false, unique: false, default: { kind: "tenant" }, serverManaged: false, autoUpdate: false, indexed: true }];
}

function principalTable(app: AppIR): string {
  return app.entities.find((e) => e.name === app.principal.entity)?.table ?? app.principal.table;
}

function rowFor(info: TableInfo, i: number, literals: Map<string, LiteralValue[]>, ids: Map<string, string[]>, principalIds: string[], id: string, relative: ReadonlySet<string>): SeedRow {
  const row: SeedRow = {};
  info.fields.forEach((field, k) => {
    if (field.column === "id") {
      row.id = id;
      return;
    }
    const values = pool(info, field, literals, ids, principalIds, relative);
    if (values.length === 0) {
      row[field.column] = null;
      return;
    }
    // Unique columns and refs cycle without offset (distinct parents first); others are staggered.
    const v = values[(field.unique ? i : i + Math.floor(i / values.length) * k) % values.length]!;
    row[field.column] = field.unique ? uniqueValue(field, v, i) : v;
  });
  return row;
}

/** Drops rows that repeat a unique key (single unique columns and `unique` index lines). */
function dedupe(info: TableInfo, rows: SeedRow[]): SeedRow[] {
  const keys: string[][] = info.fields.filter((f) => f.unique && f.column !== "id").map((f) => [f.column]);
  for (const ix of info.entity?.rules?.indexes ?? []) if (ix.unique) keys.push([...ix.columns]);
  const seen = keys.map(() => new Set<string>());
  return rows.filter((row) => {
    const ks = keys.map((cols) => (cols.some((c) => row[c] === null || row[c] === undefined) ? null : JSON.stringify(cols.map((c) => row[c]))));
    if (ks.some((k, n) => k !== null && seen[n]!.has(k))) return false;
    ks.forEach((k, n) => k !== null && seen[n]!.add(k));
    return true;
  });
}

// ── row-local invariants (CHECK constraints): seed rows must satisfy them ─────────────────

/** An invariant expression over one row; undefined when the expression is beyond this evaluator. */
function evalExpr(x: ExprIR, row: SeedRow): Value | undefined {
  const all = (xs: readonly ExprIR[]) => xs.map((c) => evalExpr(c, row));
  switch (x.kind) {
    case "literal":
      return x.value;
    case "enumLiteral":
      return x.value;
    case "column":
      return row[x.column] ?? null;
    case "compare": {
      const [a, b] = all([x.left, x.right]);
      if (a === undefined || b === undefined) return undefined;
      return compare(a, x.op, b);
    }
    case "isNull": {
      const v = evalExpr(x.operand, row);
      return v === undefined ? undefined : (v === null) !== x.negated;
    }
    case "in": {
      const v = evalExpr(x.operand, row);
      const items = all(x.items);
      if (v === undefined || items.includes(undefined)) return undefined;
      const r = or3(items.map((i) => compare(v, "=", i as Value)));
      return x.negated ? not3(r) : r;
    }
    case "and":
    case "or": {
      const vs = all(x.operands);
      if (vs.some((v) => v === undefined || (v !== null && typeof v !== "boolean"))) return undefined;
      return x.kind === "and" ? and3(vs as Tri[]) : or3(vs as Tri[]);
    }
    case "not": {
      const v = evalExpr(x.operand, row);
      return v === undefined || (v !== null && typeof v !== "boolean") ? undefined : not3(v);
    }
    case "arith": {
      const [a, b] = all([x.left, x.right]);
      if (a === undefined || b === undefined) return undefined;
      if (a === null || b === null) return null;
      if (typeof a !== "number" || typeof b !== "number") return undefined;
      switch (x.op) {
        case "+":
          return a + b;
        case "-":
          return a - b;
        case "*":
          return a * b;
        default:
          return undefined;
      }
    }
    case "negate": {
      const v = evalExpr(x.operand, row);
      return typeof v === "number" ? -v : v === null ? null : undefined;
    }
    case "case": {
      for (const b of x.branches) {
        const w = evalExpr(b.when, row);
        if (w === undefined) return undefined;
        if (w === true) return evalExpr(b.then, row);
      }
      return evalExpr(x.otherwise, row);
    }
    default:
      return undefined;
  }
}

/** False when a row-local invariant (a CHECK) is FALSE for the row; unknown forms pass. */
function satisfiesChecks(entity: EntityIR | null, row: SeedRow): boolean {
  for (const inv of entity?.rules?.invariants ?? []) {
    if (inv.rowLocal && evalExpr(inv.expr, row) === false) return false;
  }
  return true;
}

// ── the evaluator (three-valued, like SQL) ──────────────────────────────────────────────────

type Tri = boolean | null;

function compare(a: Value, op: ComparisonOp, b: Value): Tri {
  if (a === null || b === null) return null;
  switch (op) {
    case "=":
      return a === b;
    case "!=":
      return a !== b;
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
    default:
      return assertNever(op);
  }
}

/**
 * `v op value` of a ColumnCheck with SQL semantics: `in` is an OR of `=` (NULL unless some item
 * equals), `not in` its negation, `is [not] true|false` two-valued, `= null` IS NULL, a relative
 * date resolved at the reference instant.
 */
function columnTest(v: Value, t: ColumnTest, sqlType: string): Tri {
  switch (t.op) {
    case "in":
      return or3(t.value.map((x) => compare(v, "=", x)));
    case "not in":
      return not3(or3(t.value.map((x) => compare(v, "=", x))));
    case "is":
      return v === t.value;
    case "is not":
      return v !== t.value;
    default:
      if (t.value === null) return t.op === "!=" ? v !== null : v === null;
      if (typeof t.value === "object") return compare(v, t.op, relativeValue(t.value, sqlType));
      return compare(v, t.op, t.value);
  }
}

const and3 = (xs: Tri[]): Tri => (xs.includes(false) ? false : xs.includes(null) ? null : true);
const or3 = (xs: Tri[]): Tri => (xs.includes(true) ? true : xs.includes(null) ? null : false);
const not3 = (x: Tri): Tri => (x === null ? null : !x);

/** `x IN (set)` / `(x, y) IN (set)` with SQL semantics; the set never holds NULLs. */
function inSet(tuple: Value[], set: Value[][]): Tri {
  return or3(set.map((s) => and3(tuple.map((v, k) => compare(v, "=", s[k]!)))));
}

export class Evaluator {
  private readonly byTable = new Map<string, SeedRow[]>();
  private readonly principalRows: Map<string, SeedRow>;

  constructor(private readonly app: AppIR, seed: readonly SeedTable[]) {
    for (const t of seed) this.byTable.set(t.table, [...t.rows]);
    this.principalRows = new Map((this.byTable.get(principalTable(app)) ?? []).map((r) => [r.id as string, r]));
  }

  rows(table: string): SeedRow[] {
    return this.byTable.get(table) ?? [];
  }

  /** `current_user[.attr]` for a caller: NULL when unset or unresolvable. */
  /** The caller's tenant (DSL.md §7): the partition key of its principal row, or NULL. */
  tenantOf(caller: RbacCaller): Value {
    const column = this.app.principal.tenant?.column ?? null;
    const row = caller.userId === null ? undefined : this.principalRows.get(caller.userId);
    return column === null || row === undefined ? null : (row[column] ?? null);
  }

  /** The tenant fence: a tenant-scoped row is reachable only from its own tenant. */
  inTenant(e: EntityIR, row: SeedRow, caller: RbacCaller): boolean {
    if (e.tenant === undefined) return true;
    const tenant = this.tenantOf(caller);
    return tenant !== null && row[e.tenant.column] === tenant;
  }

  userValue(caller: RbacCaller, attr: string): Value {
    if (caller.userId === null) return null;
    if (attr === "id") return caller.userId;
    const a = this.app.principal.attributes.find((x) => x.name === attr);
    const row = this.principalRows.get(caller.userId);
    return a === undefined || row === undefined ? null : (row[a.column] ?? null);
  }

  permit(e: PermitExpr, caller: RbacCaller): boolean {
    return permits(e, caller.roles ?? [], caller.userId !== null);
  }

  private pathIds(p: PathCheck, test: ColumnTest): Set<Value> {
    let ids: Set<Value> | null = null;
    for (let k = p.hops.length - 1; k >= 0; k--) {
      const rows = this.rows(p.hops[k]!.table);
      const prev: Set<Value> | null = ids;
      const match = (r: SeedRow): boolean => {
        if (prev === null) return columnTest(r[p.column] ?? null, test, p.sqlType) === true;
        const v = r[p.hops[k + 1]!.column] ?? null;
        return v !== null && prev.has(v);
      };
      ids = new Set(rows.filter(match).map((r) => r.id ?? null));
    }
    return ids ?? new Set();
  }

  /** A path's terminal comparison as a ColumnTest, with the caller's value filled in. */
  private pathTest(p: PathCheck, caller: RbacCaller): ColumnTest {
    switch (p.op) {
      case "in":
      case "not in":
        return { op: p.op, value: p.value.values };
      case "is":
      case "is not":
        return { op: p.op, value: p.value.value };
      default:
        switch (p.value.kind) {
          case "userAttr": {
            return { op: p.op, value: this.userValue(caller, p.value.attr) };
          }
          case "relativeDate":
            return { op: p.op, value: p.value };
          case "literal":
            return { op: p.op, value: p.value.value };
          default:
            return assertNever(p.value);
        }
    }
  }

  private follow(start: SeedRow, path: { hops: readonly { column: string; table: string }[]; column: string }): Value | undefined {
    let row: SeedRow | undefined = start;
    for (const hop of path.hops) {
      const id: Value = row[hop.column] ?? null;
      if (id === null) return undefined;
      row = this.rows(hop.table).find((r) => r.id === id);
      if (row === undefined) return undefined;
    }
    return row[path.column] ?? null;
  }

  private exists(e: ExistsCheck, row: SeedRow, caller: RbacCaller): Tri {
    const values = e.principalBindings.map((b) => this.userValue(caller, b.attr));
    if (values.some((v) => v === null)) return null;
    const set: Value[][] = [];
    for (const j of this.rows(e.junction.table)) {
      const selected = e.entityBindings.map((b) => this.follow(j, b.path));
      if (selected.some((v) => v === undefined || v === null)) continue;
      const principalOk = e.principalBindings.every((b, i) => {
        const v = this.follow(j, b.path);
        return v !== undefined && compare(v, b.op, values[i]!) === true;
      });
      const nullOk = e.nullBindings.every((b) => {
        const v = this.follow(j, b.path);
        return v !== undefined && (b.op === "=" ? v === null : v !== null);
      });
      if (principalOk && nullOk) set.push(selected as Value[]);
    }
    const test = inSet(e.entityBindings.map((b) => row[b.column] ?? null), set);
    return e.negated ? not3(test) : test;
  }

  predicate(p: Predicate, row: SeedRow, caller: RbacCaller): Tri {
    switch (p.kind) {
      case "true":
        return true;
      case "false":
        return false;
      case "column":
        return columnTest(row[p.column] ?? null, p, p.sqlType);
      case "userAttr":
        return compare(row[p.column] ?? null, p.op, this.userValue(caller, p.attr));
      case "path": {
        if (p.value.kind === "userAttr" && this.userValue(caller, p.value.attr) === null) return null;
        const ids = this.pathIds(p, this.pathTest(p, caller));
        return inSet([row[p.hops[0]!.column] ?? null], [...ids].map((id) => [id]));
      }
      case "exists":
        return this.exists(p, row, caller);
      case "and":
        return and3(p.children.map((c) => this.predicate(c, row, caller)));
      case "or":
        return or3(p.children.map((c) => this.predicate(c, row, caller)));
      case "not":
        return not3(this.predicate(p.child, row, caller));
      default:
        return assertNever(p);
    }
  }

  allowed(e: EntityIR, op: Operation, caller: RbacCaller): boolean {
    return this.permit(e.access.permit[op], caller) && !this.permit(e.access.forbid[op], caller);
  }

  /** null: no matching rule (deny); otherwise whether the row is in op's scope. */
  inScope(e: EntityIR, op: Operation, row: SeedRow, caller: RbacCaller): boolean | null {
    const scope = e.access.scope;
    const fenced = this.inTenant(e, row, caller);
    if (scope === null) return fenced;
    const roles = caller.roles ?? [];
    const matching = scope.filter((r) => r.operation === op && (r.roles === "*" || r.roles.some((x) => roles.includes(x))));
    if (matching.length === 0) return null;
    return fenced && or3(matching.map((r) => this.predicate(r.predicate, row, caller))) === true;
  }

  /**
   * A create's status after permit: 201 when the would-be row (its partition key is the caller's
   * tenant, DSL.md §7) is in the create scope and, on a tenant-scoped table, the caller has a
   * tenant (else the fence refuses the insert); 403 otherwise.
   */
  createStatus(e: EntityIR, candidate: SeedRow, caller: RbacCaller): number {
    const row = e.tenant === undefined ? candidate : { ...candidate, [e.tenant.column]: this.tenantOf(caller) };
    return this.inScope(e, "create", row, caller) === true ? 201 : 403;
  }

  /** What RLS alone admits for op (permit AND NOT forbid AND scope). */
  admits(e: EntityIR, op: Operation, row: SeedRow, caller: RbacCaller): boolean {
    return this.allowed(e, op, caller) && this.inScope(e, op, row, caller) === true;
  }
}

// ── the model ───────────────────────────────────────────────────────────────────────────────

function callersOf(app: AppIR, userIds: string[]): RbacCaller[] {
  // Two principals per role: the first user row (whose attributes take the first value of each
  // pool, like the first rows of every table) and one of its own, so rules match for some callers.
  const callers: RbacCaller[] = app.roles.flatMap((role, i) => [
    { name: role, userId: userIds[0]!, roles: [role] },
    { name: `${role} (2)`, userId: userIds[(i + 1) % userIds.length]!, roles: [role] },
  ]);
  // Callers holding several roles: each pair of neighbouring roles and all roles at once. Their
  // permit decisions and scope rules combine (ORed rules, forbid still wins), which is what the
  // normalised policy bodies (emit/sql/policy-body.ts) must reproduce.
  if (app.roles.length > 1) {
    for (let i = 0; i + 1 < app.roles.length; i++) {
      const pair = [app.roles[i]!, app.roles[i + 1]!];
      callers.push({ name: pair.join("+"), userId: userIds[(i + 2) % userIds.length]!, roles: pair });
    }
    if (app.roles.length > 2) callers.push({ name: "(all roles)", userId: userIds[0]!, roles: [...app.roles] });
  }
  callers.push({ name: "(unknown role)", userId: userIds[app.roles.length % userIds.length]!, roles: [UNKNOWN_ROLE] });
  callers.push({ name: "(anonymous)", userId: null, roles: null });
  return callers;
}

function pickUpdateColumn(e: EntityIR): string | null {
  const states = new Set((e.rules?.stateMachines ?? []).map((m) => m.field));
  const ok = e.fields.filter((f) => !f.serverManaged && f.column !== "id" && !states.has(f.name) && !states.has(f.column));
  return (ok.find((f) => f.type.kind !== "ref" && !f.unique) ?? ok[0])?.column ?? null;
}

export function buildRbacModel(app: AppIR): RbacModel {
  const literals = collectLiterals(app);
  const relative = collectRelativeColumns(app);
  const infos = tablesOf(app);
  const ptable = principalTable(app);
  const count = (t: string) => (t === ptable ? Math.max(ROWS_PER_TABLE, app.roles.length + 2) : ROWS_PER_TABLE);
  const ids = new Map(infos.map((t) => [t.table, Array.from({ length: count(t.table) }, (_, i) => uuidFor(t.table, i + 1))]));
  const principalIds = ids.get(ptable)!;
  const seed: SeedTable[] = infos.map((info) => ({
    table: info.table,
    rows: dedupe(info, ids.get(info.table)!.map((id, i) => rowFor(info, i, literals, ids, principalIds, id, relative))).filter((r) => satisfiesChecks(info.entity, r)),
  }));
  // Refs to rows dropped above (unique keys, CHECKs) would break their FK: drop those rows too,
  // until nothing changes.
  let fixed: SeedTable[] = seed;
  const aliveIds = () => new Map(fixed.map((t) => [t.table, new Set(t.rows.map((r) => r.id))]));
  const refsAlive = (info: TableInfo, r: SeedRow, alive: Map<string, Set<Value | undefined>>) =>
    info.fields.every((f) => f.type.kind !== "ref" || r[f.column] === null || alive.get(f.type.table)?.has(r[f.column]!) === true);
  for (;;) {
    const alive = aliveIds();
    const next = fixed.map((t, n) => ({ table: t.table, rows: t.rows.filter((r) => refsAlive(infos[n]!, r, alive)) }));
    const changed = next.some((t, n) => t.rows.length !== fixed[n]!.rows.length);
    fixed = next;
    if (!changed) break;
  }
  const alive = aliveIds();
  const aliveUsers = fixed.find((t) => t.table === ptable)!.rows.map((r) => r.id as string);
  const callers = callersOf(app, aliveUsers);
  const ev = new Evaluator(app, fixed);
  // Tables some FK deletes along with (or nulls) when their row goes: their deletes cascade.
  const cascadeTargets = new Set(
    infos.flatMap((t) => t.fields.flatMap((f) => (f.type.kind === "ref" && f.onDelete !== undefined && f.onDelete !== "restrict" ? [f.type.table] : []))),
  );
  const referenced = new Set<Value>();
  for (const [n, t] of fixed.entries()) {
    for (const f of infos[n]!.fields) {
      // A cascading or nulling FK does not block the delete (DSL.md §4.6); NO ACTION and RESTRICT do.
      const onDelete = (f as { onDelete?: string }).onDelete;
      if (f.type.kind !== "ref" || onDelete === "cascade" || onDelete === "set null") continue;
      for (const r of t.rows) if (r[f.column] !== null) referenced.add(`${f.type.table}:${String(r[f.column])}`);
    }
  }

  const entities: EntityMatrix[] = [];
  for (const [n, info] of infos.entries()) {
    const e = info.entity;
    if (e === null || !e.access.exposed) continue;
    const rows = fixed[n]!.rows;
    const candidates = Array.from({ length: CANDIDATES * 4 }, (_, k) => {
      const row = rowFor(info, rows.length + 20 + k, literals, ids, principalIds, uuidFor(info.table, 9000 + k), relative);
      if (!satisfiesChecks(e, row) || !refsAlive(info, row, alive)) return null;
      // A candidate repeating a seeded row's unique key (`unique a, b` lines too) would be a 422.
      if (dedupe(info, [...rows, row]).length <= rows.length) return null;
      const body: Record<string, Value> = {};
      for (const f of e.fields) if (!f.serverManaged && f.column !== "id" && row[f.column] !== null) body[f.column] = row[f.column]!;
      return body;
    })
      .filter((b): b is Record<string, Value> => b !== null)
      .slice(0, CANDIDATES);
    const candidateRow = (body: Record<string, Value>): SeedRow => {
      const row: SeedRow = {};
      for (const f of e.fields) row[f.column] = body[f.column] ?? defaultValue(f, relative.has(`${info.table}.${f.column}`));
      return row;
    };
    const expectations = callers.map((caller): CallerExpectation => {
      const gate = (op: Operation): number | null => {
        if (caller.userId === null && !allowsAnonymous(e.access.permit[op])) return 401;
        return ev.allowed(e, op, caller) ? null : 403;
      };
      const visible = (row: SeedRow) => ev.admits(e, "read", row, caller) || ev.admits(e, "list", row, caller);
      const listGate = gate("list");
      const list = listGate !== null
        ? { status: listGate, ids: [] }
        : { status: 200, ids: rows.filter((r) => ev.inScope(e, "list", r, caller) === true).map((r) => r.id as string).sort() };
      const perRow = (op: Operation, ok: number, extra: (r: SeedRow) => number | null = () => null): Record<string, number> => {
        const out: Record<string, number> = {};
        for (const r of rows) {
          const g = gate(op);
          out[r.id as string] = g ?? (ev.inScope(e, op, r, caller) === true && visible(r) ? (extra(r) ?? ok) : 404);
        }
        return out;
      };
      const createGate = gate("create");
      return {
        caller: caller.name,
        list,
        read: perRow("read", 200),
        update: perRow("update", 200),
        delete: perRow("delete", 204, (r) => (referenced.has(`${info.table}:${String(r.id)}`) ? 409 : null)),
        create: candidates.map((c) => createGate ?? ev.createStatus(e, candidateRow(c), caller)),
        rls: rows.filter(visible).map((r) => r.id as string).sort(),
      };
    });
    const cascades = cascadeTargets.has(e.table);
    entities.push({ name: e.name, table: e.table, route: e.route, updateColumn: pickUpdateColumn(e), cascades, candidates, expectations });
  }
  return { seed: fixed, callers, entities };
}

export { OPERATIONS };
