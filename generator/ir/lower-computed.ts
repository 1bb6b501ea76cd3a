/**
 * Lowers an entity's computed fields (DSL.md §4.8) from check-computed's side table: name, value
 * type and expression IR, in declaration order. Computed fields get no column; emitters add
 * `(<sql>) AS "name"` to every SELECT of the entity (emit/sql/compile-expression.ts).
 */
import type { CheckedProgram, EntityInfo } from "../semantic/program";
import type { AggregateIR, ComputedFieldIR, ExprIR } from "./ir";

export function lowerComputed(entity: EntityInfo, program: CheckedProgram): ComputedFieldIR[] {
  const out: ComputedFieldIR[] = [];
  for (const member of entity.decl.members) {
    if (member.kind !== "field" || member.type.kind !== "computedType") continue;
    const checked = program.rules.computed?.get(member);
    if (!checked) throw new Error(`DZ9001: computed field ${entity.name}.${member.name.name} survived checking unchecked`);
    out.push({ name: member.name.name, type: checked.type, expr: checked.expr });
  }
  return out;
}

/** The `computed` member of an EntityIR: absent when the entity has no computed field (keeps other IR unchanged). */
export function withComputed(computed: readonly ComputedFieldIR[]): { computed?: readonly ComputedFieldIR[] } {
  return computed.length === 0 ? {} : { computed };
}

/** The aggregates of an expression, in text order (each `count(C)`, `sum(C.f)`, …). */
export function aggregatesOf(e: ExprIR): AggregateIR[] {
  switch (e.kind) {
    case "aggregate":
      return [e];
    case "compare":
    case "arith":
      return [...aggregatesOf(e.left), ...aggregatesOf(e.right)];
    case "isNull":
    case "not":
    case "negate":
      return aggregatesOf(e.operand);
    case "in":
      return [e.operand, ...e.items].flatMap(aggregatesOf);
    case "and":
    case "or":
      return e.operands.flatMap(aggregatesOf);
    case "call":
      return e.args.flatMap(aggregatesOf);
    case "case":
      return [...e.branches.flatMap((b) => [b.when, b.then]), e.otherwise].flatMap(aggregatesOf);
    case "literal":
    case "enumLiteral":
    case "duration":
    case "column":
    case "refPath":
      return [];
  }
}
