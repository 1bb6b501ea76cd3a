/**
 * Checks every `transitions:` block (DSL.md §4.9) and finds its state field. Guarantees: each block
 * in `stateFields` has a state field — the first `enum` field whose values include every named
 * state, else a field named `status` — and every state is a value of it (else DZ4007); every
 * `requires f` names a field (DZ2003). Roles named by `role(…)` are returned for the catalogue check.
 */
import { noStateField, unknownField } from "../diagnostics/codes";
import type { Diagnostic } from "../diagnostics/diagnostic";
import type { Ident, TransitionsBlock } from "../syntax/ast";
import { closest } from "../util/names";
import type { EntityInfo, LinkedProgram, PassResult } from "./program";

export interface CheckedTransitions {
  /** The state field of each transitions block. */
  readonly stateFields: Map<TransitionsBlock, string>;
  /** Every role named in a transition constraint. */
  readonly roleRefs: readonly Ident[];
}

export function checkTransitions(program: LinkedProgram): PassResult<CheckedTransitions> {
  const diagnostics: Diagnostic[] = [];
  const stateFields = new Map<TransitionsBlock, string>();
  const roleRefs: Ident[] = [];
  for (const entity of program.entities) {
    for (const member of entity.decl.members) {
      if (member.kind !== "transitions") continue;
      const field = findStateField(member, entity, diagnostics);
      if (field !== null) stateFields.set(member, field);
      for (const t of member.transitions) {
        for (const c of t.constraints) {
          if (c.kind === "roleConstraint") roleRefs.push(...c.roles);
          else if (c.kind === "requires" && !entity.fieldsByName.has(c.field.name) && !declares(entity, c.field.name)) {
            diagnostics.push(unknownField(c.field.span, entity.name, c.field.name, closest(c.field.name, entity.fieldsByName.keys())));
          }
        }
      }
    }
  }
  return { value: { stateFields, roleRefs }, diagnostics };
}

function declares(entity: EntityInfo, name: string): boolean {
  return entity.decl.members.some((m) => m.kind === "field" && m.name.name === name);
}

function findStateField(block: TransitionsBlock, entity: EntityInfo, diagnostics: Diagnostic[]): string | null {
  const states: Ident[] = [];
  for (const t of block.transitions) {
    if (t.from.kind === "ident") states.push(t.from);
    states.push(t.to);
  }
  const names = new Set(states.map((s) => s.name));
  const enumFields = entity.fields.filter((f) => f.type.kind === "enum");
  const covering = enumFields.find((f) => f.type.kind === "enum" && [...names].every((n) => (f.type as { values: readonly string[] }).values.includes(n)));
  if (covering) return covering.name;
  const status = entity.fieldsByName.get("status");
  if (!status) {
    diagnostics.push(noStateField(block.span, `no enum field of ${entity.name} has every state of these transitions as a value, and there is no \`status\` field`));
    return null;
  }
  if (status.type.kind !== "enum") {
    diagnostics.push(noStateField(block.span, `the state field \`status\` of ${entity.name} is not an enum`));
    return null;
  }
  const values = status.type.values;
  let ok = true;
  for (const s of states) {
    if (!values.includes(s.name)) {
      diagnostics.push(noStateField(s.span, `\`${s.name}\` is not a value of the state field \`status\``, values));
      ok = false;
    }
  }
  return ok ? "status" : null;
}
