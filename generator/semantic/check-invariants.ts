/**
 * Type-checks every `invariant:` expression (DSL.md §4.10, §4.11) and resolves it to expression IR.
 * Guarantees: every invariant in `invariants` is boolean-typed, every name in it is a stored field
 * of the entity (or a ref path), an enum literal of the enum it is compared with, or `today`/`now`;
 * every comparison compares compatible types; no `in [...]` list holds `null`. Aggregates are
 * LATER (DZ1902) and such invariants are left out (not enforced); a computed field is DZ4012.
 *
 * `ExprChecker` is the one §4.11 name resolution and typing: check-computed.ts runs it over
 * computed fields (§4.8) with aggregates allowed and reads the inferred type.
 */
import {
  badIndexField,
  badInvariant,
  constructLater,
  enumLiteralShadowsField,
  noChildFk,
  unknownEntity,
  unknownField,
  unknownFunction,
  unresolvedName,
} from "../diagnostics/codes";
import type { Diagnostic } from "../diagnostics/diagnostic";
import type { AggregateIR, ComparisonOp, ExprIR } from "../ir/ir";
import type { Expr, Ident, InvariantDecl } from "../syntax/ast";
import { closest } from "../util/names";
import type { EntityInfo, LinkedProgram, PassResult, ResolvedType } from "./program";

export interface CheckedInvariant {
  readonly expr: ExprIR;
  /** Own columns, literals and time-independent functions only: can be a CHECK constraint. */
  readonly rowLocal: boolean;
}

export type CheckedInvariants = Map<InvariantDecl, CheckedInvariant>;

/** Numbers: `int` (SQL integer/bigint), `decimal` (numeric: decimal, money minor units, `/`), `float`. */
export type NumberKind = "int" | "decimal" | "float";

/** Value types of the expression language; `unknown` after an error or for a LATER field type. */
export type ExprType =
  | { readonly kind: "bool" | "text" | "date" | "datetime" | "uuid" | "duration" | "null" | "unknown" | "list" }
  | { readonly kind: "number"; readonly num: NumberKind }
  | { readonly kind: "enum"; readonly field: string; readonly values: readonly string[] };

const T = {
  bool: { kind: "bool" },
  int: { kind: "number", num: "int" },
  decimal: { kind: "number", num: "decimal" },
  float: { kind: "number", num: "float" },
  text: { kind: "text" },
  date: { kind: "date" },
  datetime: { kind: "datetime" },
  uuid: { kind: "uuid" },
  duration: { kind: "duration" },
  null: { kind: "null" },
  unknown: { kind: "unknown" },
  list: { kind: "list" },
} as const satisfies Record<string, ExprType>;

/** Scalar functions of §4.11 with their result type (`first` = the first argument's type). */
const FUNCTIONS: Readonly<Record<string, ExprType | "first">> = {
  today: T.date, now: T.datetime, days_since: T.int, days_until: T.int, concat: T.text, len: T.int,
  abs: "first", round: T.decimal, coalesce: "first", min: "first", max: "first",
};
const AGGREGATES = new Set(["count", "sum", "avg", "min", "max"]);
const TIME_DEPENDENT = new Set(["today", "now", "days_since", "days_until"]);

export function checkInvariants(program: LinkedProgram): PassResult<CheckedInvariants> {
  const diagnostics: Diagnostic[] = [];
  const invariants: CheckedInvariants = new Map();
  for (const entity of program.entities) {
    for (const member of entity.decl.members) {
      if (member.kind !== "invariant") continue;
      const checker = new ExprChecker(entity, program, diagnostics, "invariant");
      const result = checker.check(member.expr);
      if (checker.later) continue;
      if (!isBoolish(result.type)) {
        diagnostics.push(badInvariant(member.expr.span, `an invariant must be a condition (boolean), not a ${describe(result.type)}`));
        continue;
      }
      if (!checker.failed) invariants.set(member, { expr: result.ir, rowLocal: checker.rowLocal });
    }
  }
  return { value: invariants, diagnostics };
}

interface Checked {
  readonly type: ExprType;
  readonly ir: ExprIR;
}

const isBoolish = (t: ExprType) => t.kind === "bool" || t.kind === "null" || t.kind === "unknown";
const isNumeric = (t: ExprType) => t.kind === "number" || t.kind === "unknown" || t.kind === "null";

/** The number kind of mixed operands, as PostgreSQL types them: float wins, then decimal. */
function joinNumbers(types: readonly ExprType[], division = false): ExprType {
  const kinds = types.flatMap((t) => (t.kind === "number" ? [t.num] : []));
  if (kinds.includes("float")) return T.float;
  if (division || kinds.includes("decimal") || kinds.length === 0) return T.decimal;
  return T.int;
}

/**
 * The type of `coalesce`/`min`/`max`/`abs` (the first argument's): numbers among the arguments
 * join like PostgreSQL's LEAST/GREATEST/COALESCE do (`min(n, 2.5)` is a decimal).
 */
function firstArgType(args: readonly ExprType[]): ExprType {
  const known = args.filter((t) => t.kind !== "null" && t.kind !== "unknown");
  if (known.length === 0) return args[0] ?? T.unknown;
  return known[0]!.kind === "number" ? joinNumbers(known) : known[0]!;
}

export function describe(t: ExprType): string {
  return t.kind === "enum" ? `value of the enum \`${t.field}\`` : `${t.kind} value`;
}

/** Types that may be compared with each other. */
function group(t: ExprType): string {
  switch (t.kind) {
    case "enum":
      return "text";
    case "date":
    case "datetime":
      return "time";
    default:
      return t.kind;
  }
}

function fieldType(t: ResolvedType, field: string): ExprType {
  switch (t.kind) {
    case "str":
    case "text":
    case "email":
    case "url":
    case "slug":
    case "timezone":
    case "file":
      return T.text;
    case "int":
      return T.int;
    case "float":
      return T.float;
    case "decimal":
    case "money":
      return T.decimal;
    case "json":
      return T.unknown;
    case "bool":
      return T.bool;
    case "date":
      return T.date;
    case "datetime":
      return T.datetime;
    case "uuid":
    case "ref":
      return T.uuid;
    case "enum":
      return { kind: "enum", field, values: t.values };
  }
}

/** What the expression is: an invariant (aggregates are LATER) or a computed field (aggregates allowed). */
export type ExprUse = "invariant" | "computed";

/** A field declared with `computed` (it has no column, so no FieldInfo). */
export function isComputedField(entity: EntityInfo, name: string): boolean {
  return entity.decl.members.some((m) => m.kind === "field" && m.name.name === name && m.type.kind === "computedType");
}

export class ExprChecker {
  failed = false;
  later = false;
  rowLocal = true;

  constructor(
    private readonly entity: EntityInfo,
    private readonly program: LinkedProgram,
    private readonly diagnostics: Diagnostic[],
    private readonly use: ExprUse,
  ) {}

  private fail(d: Diagnostic): Checked {
    if (d.severity === "error") this.failed = true;
    this.diagnostics.push(d);
    return { type: T.unknown, ir: { kind: "literal", value: null } };
  }

  check(e: Expr, enumContext: ExprType | null = null): Checked {
    switch (e.kind) {
      case "numberLit":
        return { type: /^[0-9]+$/.test(e.text) ? T.int : T.decimal, ir: { kind: "literal", value: Number(e.text) } };
      case "stringLit":
        return { type: T.text, ir: { kind: "literal", value: e.value } };
      case "boolLit":
        return { type: T.bool, ir: { kind: "literal", value: e.value } };
      case "nullLit":
        return { type: T.null, ir: { kind: "literal", value: null } };
      case "durationLit":
        return { type: T.duration, ir: { kind: "duration", amount: e.duration.amount, unit: e.duration.unit } };
      case "listExpr":
        return this.fail(badInvariant(e.span, "a list may only follow `in` / `not in`"));
      case "refExpr":
        return this.ref(e, enumContext);
      case "callExpr":
        return this.call(e);
      case "negate": {
        const operand = this.check(e.operand);
        if (!isNumeric(operand.type)) return this.fail(badInvariant(e.span, `\`-\` needs a number, not a ${describe(operand.type)}`));
        return { type: joinNumbers([operand.type]), ir: { kind: "negate", operand: operand.ir } };
      }
      case "arith":
        return this.arith(e);
      case "notExpr": {
        const operand = this.check(e.operand);
        if (!isBoolish(operand.type)) return this.fail(badInvariant(e.operand.span, `\`not\` needs a condition, not a ${describe(operand.type)}`));
        return { type: T.bool, ir: { kind: "not", operand: operand.ir } };
      }
      case "logical": {
        const operands = e.operands.map((o) => {
          const c = this.check(o);
          if (!isBoolish(c.type)) this.fail(badInvariant(o.span, `\`${e.op}\` needs conditions, not a ${describe(c.type)}`));
          return c.ir;
        });
        return { type: T.bool, ir: { kind: e.op, operands } };
      }
      case "isNull": {
        const operand = this.check(e.operand);
        return { type: T.bool, ir: { kind: "isNull", negated: e.negated, operand: operand.ir } };
      }
      case "inList":
        return this.inList(e);
      case "compare":
        return this.compare(e);
      case "ifExpr": {
        const branches = e.branches.map((b) => {
          const cond = this.check(b.cond);
          if (!isBoolish(cond.type)) this.fail(badInvariant(b.cond.span, `an \`if\` condition must be boolean, not a ${describe(cond.type)}`));
          return { when: cond.ir, then: this.check(b.then) };
        });
        const otherwise = this.check(e.otherwise);
        const known = [...branches.map((b) => b.then.type), otherwise.type].filter((t) => t.kind !== "null" && t.kind !== "unknown");
        const first = known[0] ?? T.unknown;
        if (known.some((t) => group(t) !== group(first))) return this.fail(badInvariant(e.span, "the branches of an `if` have different types"));
        return { type: first.kind === "number" ? joinNumbers(known) : first, ir: { kind: "case", branches: branches.map((b) => ({ when: b.when, then: b.then.ir })), otherwise: otherwise.ir } };
      }
    }
  }

  /** A bare name that is a value of the compared enum is that enum literal (§4.11). */
  private enumLiteral(e: Expr, context: ExprType | null): Checked | null {
    if (context?.kind !== "enum" || e.kind !== "refExpr" || e.segments.length !== 1) return null;
    const name = e.segments[0]!;
    if (!context.values.includes(name.name)) return null;
    if (this.entity.fieldsByName.has(name.name) || this.declared(name.name)) {
      this.diagnostics.push(enumLiteralShadowsField(name.span, name.name, context.field));
    }
    return { type: context, ir: { kind: "enumLiteral", value: name.name } };
  }

  private declared(name: string): boolean {
    return this.entity.decl.members.some((m) => m.kind === "field" && m.name.name === name);
  }

  private ref(e: Extract<Expr, { kind: "refExpr" }>, enumContext: ExprType | null): Checked {
    const literal = this.enumLiteral(e, enumContext);
    if (literal) return literal;
    const [head, ...rest] = e.segments;
    const field = this.entity.fieldsByName.get(head!.name);
    if (!field) {
      if (rest.length === 0 && (head!.name === "today" || head!.name === "now")) {
        this.rowLocal = false;
        return { type: head!.name === "today" ? T.date : T.datetime, ir: { kind: "call", fn: head!.name, args: [] } };
      }
      if (isComputedField(this.entity, head!.name)) return this.fail(this.computedUse(head!));
      // A declared field of a type this version does not resolve (money, decimal, …): no error here.
      if (this.declared(head!.name)) return { type: T.unknown, ir: { kind: "column", column: head!.name } };
      const candidates = [...this.entity.fieldsByName.keys(), ...(enumContext?.kind === "enum" ? enumContext.values : [])];
      return this.fail(unresolvedName(head!.span, head!.name, closest(head!.name, candidates)));
    }
    if (rest.length === 0) return { type: fieldType(field.type, field.name), ir: { kind: "column", column: field.name } };
    // A dotted reference walks refs (§6.6 rules); it is not row-local.
    this.rowLocal = false;
    const refs = [field.name];
    let current = field;
    for (const segment of rest) {
      if (current.type.kind !== "ref") return this.fail(badInvariant(segment.span, `\`${current.name}\` is not a ref, so \`.${segment.name}\` cannot follow it`));
      const target = this.program.entitiesByName.get(current.type.entity)!;
      const next = target.fieldsByName.get(segment.name);
      if (!next && isComputedField(target, segment.name)) return this.fail(this.computedUse(segment));
      if (!next) return this.fail(unresolvedName(segment.span, segment.name, closest(segment.name, target.fieldsByName.keys())));
      current = next;
      refs.push(next.name);
    }
    const column = refs.pop()!;
    return { type: fieldType(current.type, current.name), ir: { kind: "refPath", refs, column } };
  }

  private call(e: Extract<Expr, { kind: "callExpr" }>): Checked {
    const fn = e.fn.name;
    const entityArg = e.args.length === 1 && e.args[0]!.kind === "refExpr" && this.program.entitiesByName.has(e.args[0]!.segments[0]!.name);
    if (AGGREGATES.has(fn) && (fn === "count" || fn === "sum" || fn === "avg" || entityArg)) {
      if (this.use === "computed") return this.aggregate(e);
      this.later = true;
      this.diagnostics.push(constructLater(e.span, "aggregate in an invariant", fn));
      return { type: T.unknown, ir: { kind: "literal", value: null } };
    }
    const result = FUNCTIONS[fn];
    if (result === undefined) return this.fail(unknownFunction(e.fn.span, fn, closest(fn, Object.keys(FUNCTIONS))));
    if (TIME_DEPENDENT.has(fn)) this.rowLocal = false;
    const args = e.args.map((a) => this.check(a));
    return { type: result === "first" ? firstArgType(args.map((a) => a.type)) : result, ir: { kind: "call", fn, args: args.map((a) => a.ir) } };
  }

  /** DZ4012: a computed field has no column, so it cannot be read by an invariant or another computed field. */
  private computedUse(name: Ident): Diagnostic {
    const why = this.use === "invariant" ? "an invariant needs stored fields" : "a computed field cannot use another one (repeat its expression)";
    return badIndexField(name.span, `\`${name.name}\` is a computed field; ${why}`);
  }

  /**
   * `count(C)`, `sum(C.f)`, `avg(C.f)`, one-argument `min(C.f)`/`max(C.f)` over a child entity C
   * (DSL.md §4.8): C needs exactly one `ref` to this entity (none: DZ2002; more: DZ2014, reported
   * by check-relations); `sum`/`avg` need a number field, `min`/`max` an ordered one.
   */
  private aggregate(e: Extract<Expr, { kind: "callExpr" }>): Checked {
    const fn = e.fn.name as AggregateIR["fn"];
    const arg = e.args[0];
    const shape = fn === "count" ? "`count(Child)`" : `\`${fn}(Child.field)\``;
    if (e.args.length !== 1 || arg!.kind !== "refExpr") return this.fail(badInvariant(e.span, `\`${fn}\` takes one argument: ${shape}`));
    const [head, fieldName, ...rest] = arg!.segments;
    const child = this.program.entitiesByName.get(head!.name);
    if (!child) return this.fail(unknownEntity(head!.span, head!.name, closest(head!.name, this.program.entitiesByName.keys())));
    const refs = child.fields.filter((f) => f.type.kind === "ref" && f.type.entity === this.entity.name && !f.injected); // not the injected partition key (§7)
    if (refs.length === 0) {
      const suggested = this.entity.name.charAt(0).toLowerCase() + this.entity.name.slice(1);
      return this.fail(noChildFk(head!.span, `${fn}(${child.name})`, child.name, this.entity.name, suggested));
    }
    if (refs.length > 1) {
      this.failed = true; // DZ2014, reported once by check-relations
      return { type: T.unknown, ir: { kind: "literal", value: null } };
    }
    this.rowLocal = false;
    const base = { kind: "aggregate", fn, entity: child.name, table: child.table, fk: refs[0]!.name } as const;
    if (fn === "count") {
      if (fieldName !== undefined) return this.fail(badInvariant(arg!.span, `\`count\` counts rows: write \`count(${child.name})\``));
      return { type: T.int, ir: { ...base, column: null } };
    }
    if (fieldName === undefined || rest.length > 0) return this.fail(badInvariant(arg!.span, `\`${fn}\` needs one field of ${child.name}: \`${fn}(${child.name}.<field>)\``));
    const field = child.fieldsByName.get(fieldName.name);
    if (!field && isComputedField(child, fieldName.name)) return this.fail(this.computedUse(fieldName));
    if (!field) return this.fail(unknownField(fieldName.span, child.name, fieldName.name, closest(fieldName.name, child.fieldsByName.keys())));
    const type = fieldType(field.type, field.name);
    const column = field.type.kind === "money" ? `${field.name}_minor` : field.name;
    const ordered = type.kind === "number" || type.kind === "date" || type.kind === "datetime" || type.kind === "text";
    if ((fn === "sum" || fn === "avg") && type.kind !== "number") {
      return this.fail(badInvariant(fieldName.span, `\`${fn}\` needs a number field, but \`${child.name}.${field.name}\` is a ${describe(type)}`));
    }
    if (!ordered) return this.fail(badInvariant(fieldName.span, `\`${fn}\` needs ordered values (numbers, dates, text), not a ${describe(type)}`));
    return { type: fn === "avg" ? T.decimal : type, ir: { ...base, column } };
  }

  private arith(e: Extract<Expr, { kind: "arith" }>): Checked {
    const left = this.check(e.left);
    const right = this.check(e.right);
    const ir: ExprIR = { kind: "arith", op: e.op, left: left.ir, right: right.ir };
    const l = left.type.kind;
    const r = right.type.kind;
    if (isNumeric(left.type) && isNumeric(right.type)) return { type: joinNumbers([left.type, right.type], e.op === "/"), ir };
    if ((e.op === "+" || e.op === "-") && (l === "date" || l === "datetime") && (r === "duration" || r === "unknown")) return { type: left.type, ir };
    if (e.op === "+" && l === "duration" && (r === "date" || r === "datetime")) return { type: right.type, ir };
    if (e.op === "-" && l === "date" && r === "date") return { type: T.int, ir };
    if (e.op === "-" && l === r && l === "datetime") return { type: T.duration, ir };
    if (l === "unknown" || r === "unknown") return { type: T.unknown, ir };
    return this.fail(badInvariant(e.span, `\`${e.op}\` cannot combine a ${describe(left.type)} and a ${describe(right.type)}`));
  }

  private compare(e: Extract<Expr, { kind: "compare" }>): Checked {
    // Resolve the side that is not a bare name first, so a bare name can be read as its enum literal.
    const bare = (x: Expr) => x.kind === "refExpr" && x.segments.length === 1;
    const isField = (x: Expr) => x.kind === "refExpr" && this.entity.fieldsByName.has(x.segments[0]!.name);
    const leftFirst = !bare(e.left) || (bare(e.right) && (isField(e.left) || !isField(e.right)));
    let left: Checked;
    let right: Checked;
    if (leftFirst) {
      left = this.check(e.left);
      right = this.check(e.right, left.type);
      if (right.type.kind === "enum" && left.type.kind !== "enum") left = this.check(e.left, right.type);
    } else {
      right = this.check(e.right);
      left = this.check(e.left, right.type);
    }
    const op: ComparisonOp = e.op === "==" ? "=" : e.op;
    if (left.type.kind === "null" || right.type.kind === "null") {
      if (op !== "=" && op !== "!=") return this.fail(badInvariant(e.span, `\`${e.op} null\` never holds; use \`is null\` / \`is not null\``));
      const operand = left.type.kind === "null" ? right.ir : left.ir;
      return { type: T.bool, ir: { kind: "isNull", negated: op === "!=", operand } };
    }
    const ir: ExprIR = { kind: "compare", op, left: left.ir, right: right.ir };
    if (left.type.kind === "unknown" || right.type.kind === "unknown") return { type: T.bool, ir };
    if (group(left.type) !== group(right.type)) {
      return this.fail(badInvariant(e.span, `cannot compare a ${describe(left.type)} with a ${describe(right.type)}`));
    }
    const ordered = op !== "=" && op !== "!=";
    if (ordered && (left.type.kind === "bool" || left.type.kind === "uuid" || left.type.kind === "enum")) {
      return this.fail(badInvariant(e.span, `\`${e.op}\` needs ordered values (numbers, dates, text), not a ${describe(left.type)}`));
    }
    return { type: T.bool, ir };
  }

  private inList(e: Extract<Expr, { kind: "inList" }>): Checked {
    const operand = this.check(e.operand);
    const items = e.list.items.map((item) => {
      if (item.kind === "nullLit") {
        this.fail(badInvariant(item.span, "`null` in an `in [...]` list never matches; test `is null` separately"));
        return { kind: "literal", value: null } as ExprIR;
      }
      const c = this.check(item, operand.type);
      if (c.type.kind !== "unknown" && operand.type.kind !== "unknown" && group(c.type) !== group(operand.type)) {
        this.fail(badInvariant(item.span, `cannot compare a ${describe(operand.type)} with a ${describe(c.type)}`));
      }
      return c.ir;
    });
    return { type: T.bool, ir: { kind: "in", negated: e.negated, operand: operand.ir, items } };
  }
}
