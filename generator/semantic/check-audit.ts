/**
 * Checks `audit:` lines and `audit on E:` blocks (DSL.md §9). Guarantees: `audit: [ops]` names only
 * operations (DZ1011); each `audit on` names an entity (DZ2002), at most once per entity (DZ2001),
 * and tracks only its fields (DZ2003). `show_to` roles are returned for the catalogue check (DZ2008).
 */
import { badAuditOperation, duplicateDeclaration, unknownEntity, unknownField } from "../diagnostics/codes";
import type { Diagnostic } from "../diagnostics/diagnostic";
import { OPERATIONS } from "../ir/ir";
import type { AuditOnDecl, Ident } from "../syntax/ast";
import { closest } from "../util/names";
import type { LinkedProgram, PassResult } from "./program";

export interface CheckedAudit {
  /** One block per entity, sorted by entity name. */
  readonly fieldHistory: readonly AuditOnDecl[];
  readonly roleRefs: readonly Ident[];
}

export function checkAudit(program: LinkedProgram): PassResult<CheckedAudit> {
  const diagnostics: Diagnostic[] = [];
  for (const entity of program.entities) {
    for (const m of entity.decl.members) {
      if (m.kind !== "entityAudit" || m.value.kind !== "auditList") continue;
      for (const op of m.value.operations) {
        if (!(OPERATIONS as readonly string[]).includes(op.name)) diagnostics.push(badAuditOperation(op.span, op.name));
      }
    }
  }

  const blocks = new Map<string, AuditOnDecl>();
  const roleRefs: Ident[] = [];
  for (const file of program.project.files) {
    for (const s of file.statements) {
      if (s.kind !== "auditOn") continue;
      for (const e of s.entries) if (e.kind === "auditShowTo") roleRefs.push(...e.roles);
      const entity = program.entitiesByName.get(s.entity.name);
      if (!entity) {
        diagnostics.push(unknownEntity(s.entity.span, s.entity.name, closest(s.entity.name, program.entitiesByName.keys())));
        continue;
      }
      const first = blocks.get(entity.name);
      if (first) {
        diagnostics.push(duplicateDeclaration(s.entity.span, "audit block for entity", entity.name, first.entity.span));
        continue;
      }
      blocks.set(entity.name, s);
      for (const e of s.entries) {
        if (e.kind !== "auditTrack") continue;
        for (const f of e.fields) {
          const declared = f.name === "id" || entity.decl.members.some((m) => m.kind === "field" && m.name.name === f.name);
          if (!declared) diagnostics.push(unknownField(f.span, entity.name, f.name, closest(f.name, entity.fieldsByName.keys())));
        }
      }
    }
  }
  const fieldHistory = [...blocks.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, d]) => d);
  return { value: { fieldHistory, roleRefs }, diagnostics };
}
