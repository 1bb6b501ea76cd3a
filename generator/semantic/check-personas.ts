/**
 * Checks persona role mappings and every role reference outside permit/forbid/scope (DSL.md §5.1,
 * §10): a persona's `role:` is one identifier (DZ1004); `grant_schema` scopes name entities (DZ2002);
 * roles named by transitions, `show_to:` and grant relations that no persona declares warn DZ2008
 * and still exist at run time. Returns those roles for the catalogue.
 */
import { unexpectedToken, unknownEntity, unknownRole } from "../diagnostics/codes";
import type { Diagnostic } from "../diagnostics/diagnostic";
import type { Ident } from "../syntax/ast";
import { closest } from "../util/names";
import type { LinkedProgram, PassResult } from "./program";

export function checkPersonas(program: LinkedProgram, roleRefs: readonly Ident[]): PassResult<readonly string[]> {
  const diagnostics: Diagnostic[] = [];
  for (const p of program.personas) {
    for (const e of p.decl.entries) {
      if (e.kind === "keyValue" && e.key.name === "role" && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(e.value)) {
        diagnostics.push(unexpectedToken(e.valueSpan, `\`${e.value}\``, "one role name"));
      }
    }
  }
  const refs = [...roleRefs];
  for (const file of program.project.files) {
    for (const s of file.statements) {
      if (s.kind !== "grantSchema") continue;
      for (const e of s.entries) {
        if (e.kind === "grantScope" && !program.entitiesByName.has(e.entity.name)) {
          diagnostics.push(unknownEntity(e.entity.span, e.entity.name, closest(e.entity.name, program.entitiesByName.keys())));
        } else if (e.kind === "grantRelation") {
          for (const r of e.entries) if (r.kind === "grantRoles") refs.push(...r.roles);
        }
      }
    }
  }
  const roles = new Set<string>();
  for (const ref of refs) {
    if (!program.declaredRoles.has(ref.name)) diagnostics.push(unknownRole(ref.span, ref.name, closest(ref.name, program.declaredRoles)));
    roles.add(ref.name);
  }
  return { value: [...roles].sort(), diagnostics };
}
