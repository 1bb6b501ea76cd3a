/**
 * Checks `index`/`unique` lines and `display_field:` (DSL.md §4.1, §4.7). Guarantees: every name of
 * an index or unique line is a stored field of its entity (DZ4012 for unknown, computed or relation
 * fields). An unknown `display_field` is only a warning (DZ2003).
 */
import { badIndexField, unknownDisplayField } from "../diagnostics/codes";
import type { Diagnostic } from "../diagnostics/diagnostic";
import type { FieldDecl } from "../syntax/ast";
import { closest } from "../util/names";
import type { LinkedProgram, PassResult } from "./program";

const NO_COLUMN = new Set(["computedType", "collectionType", "latestOneType", "hierarchyType"]);

export function checkEntityLines(program: LinkedProgram): PassResult<null> {
  const diagnostics: Diagnostic[] = [];
  for (const entity of program.entities) {
    const declared = new Map<string, FieldDecl>();
    for (const m of entity.decl.members) if (m.kind === "field" && !declared.has(m.name.name)) declared.set(m.name.name, m);
    const names = [...declared.keys(), "id"];
    for (const m of entity.decl.members) {
      if (m.kind === "indexLine") {
        for (const f of m.fields) {
          const decl = declared.get(f.name);
          if (f.name === "id" || entity.fieldsByName.has(f.name)) continue;
          if (!decl) {
            const hint = closest(f.name, names);
            diagnostics.push(badIndexField(f.span, `\`${f.name}\` is not a field of entity ${entity.name}${hint ? ` (did you mean \`${hint}\`?)` : ""}`));
          } else if (NO_COLUMN.has(decl.type.kind)) {
            const what = decl.type.kind === "computedType" ? "a computed field" : "a relation without a column";
            diagnostics.push(badIndexField(f.span, `\`${f.name}\` is ${what}; \`${m.keyword}\` needs stored fields`));
          }
        }
      } else if (m.kind === "metadata" && m.key.name === "display_field") {
        const name = m.value.trim();
        if (!declared.has(name) && name !== "id") diagnostics.push(unknownDisplayField(m.valueSpan, entity.name, name, closest(name, names)));
      }
    }
  }
  return { value: null, diagnostics };
}
