/**
 * Type-checks every computed field (`name: computed <expr>`, DSL.md §4.8) with the §4.11 checker of
 * check-invariants.ts, aggregates over child entities allowed, and infers its value type.
 * Guarantees, for each entry of the result: every name is a stored field of the entity (or a ref
 * path) or an enum literal; every aggregate names a child entity with exactly one `ref` to this
 * entity and, except `count`, a stored field of it (a number for `sum`/`avg`); the value type is
 * one of ComputedTypeIR. Errors: those of the checker (DZ2013, DZ4008, DZ2002, DZ2003), DZ4012
 * for a computed field read by another one (computed fields do not nest: no column to read, and
 * inlining would hide cycles), DZ4008 for a value that is a duration, a list or of no inferable type,
 * DZ4002 for a computed `id`, DZ4006 for the name of a money field's generated column.
 */
import { badInvariant, generatedColumnCollision, idNotUuid } from "../diagnostics/codes";
import type { Diagnostic } from "../diagnostics/diagnostic";
import type { ComputedTypeIR, ExprIR } from "../ir/ir";
import type { FieldDecl } from "../syntax/ast";
import { describe, ExprChecker, type ExprType } from "./check-invariants";
import type { EntityInfo, FieldInfo, LinkedProgram, PassResult } from "./program";

export interface CheckedComputedField {
  readonly type: ComputedTypeIR;
  readonly expr: ExprIR;
}

/** Computed field declaration → its checked expression; fields with errors are absent. */
export type CheckedComputed = Map<FieldDecl, CheckedComputedField>;

export function checkComputed(program: LinkedProgram): PassResult<CheckedComputed> {
  const diagnostics: Diagnostic[] = [];
  const computed: CheckedComputed = new Map();
  for (const entity of program.entities) {
    for (const member of entity.decl.members) {
      if (member.kind !== "field" || member.type.kind !== "computedType") continue;
      const clash = columnClash(entity, member.name.name);
      if (member.name.name === "id") diagnostics.push(idNotUuid(member.type.span));
      else if (clash) diagnostics.push(generatedColumnCollision(member.name.span, `computed field \`${member.name.name}\` has the name of a column of money field \`${clash.name}\``, clash.span));
      const checker = new ExprChecker(entity, program, diagnostics, "computed");
      const result = checker.check(member.type.expr);
      if (checker.failed) continue;
      const type = valueType(result.type);
      if (type === null) {
        diagnostics.push(badInvariant(member.type.expr.span, `a computed field needs a number, text, boolean, date, date-time or uuid value, not ${article(result.type)}`));
        continue;
      }
      computed.set(member, { type, expr: result.ir });
    }
  }
  return { value: computed, diagnostics };
}

/** The money field whose `<f>_minor`/`<f>_currency` column has this name: a SELECT cannot return both (DZ4006). */
function columnClash(entity: EntityInfo, name: string): FieldInfo | undefined {
  return entity.fields.find((f) => f.type.kind === "money" && (name === `${f.name}_minor` || name === `${f.name}_currency`));
}

/** The computed type of an expression type; null for durations, lists, `null` and unknown types. */
function valueType(t: ExprType): ComputedTypeIR | null {
  switch (t.kind) {
    case "number":
      return t.num;
    case "enum":
      return "text";
    case "text":
    case "bool":
    case "date":
    case "datetime":
    case "uuid":
      return t.kind;
    case "duration":
    case "list":
    case "null":
    case "unknown":
      return null;
  }
}

function article(t: ExprType): string {
  if (t.kind === "unknown") return "a value of unknown type";
  if (t.kind === "null") return "`null`";
  return `a ${describe(t)}`;
}
