/**
 * Every `ref` column's foreign key (DSL.md §4.6), after all tables so self-references and cycles
 * need no ordering. The action comes from a `has_many`/`has_one` of the referenced entity:
 * `cascade` → `ON DELETE CASCADE`, `restrict` → `ON DELETE RESTRICT`, `nullify` → `ON DELETE SET
 * NULL (col)`; without one, no action (NO ACTION: deleting a referenced row fails, the API answers 409).
 *
 * ```sql
 * ALTER TABLE "task" ADD CONSTRAINT "fk_task_project" FOREIGN KEY ("project") REFERENCES "project" ("id") ON DELETE CASCADE;
 * ```
 */
import type { EntityIR, FieldIR } from "../../ir/ir";
import { objectName } from "./object-name";
import { quoteIdent } from "./quote";
import { sqlSection } from "./sql-section";

export function emitForeignKeys(entities: readonly EntityIR[]): string | null {
  const statements: string[] = [];
  for (const e of entities) {
    for (const f of e.fields) {
      if (f.type.kind !== "ref") continue;
      const name = objectName("fk", e.table, f.column);
      statements.push(
        `ALTER TABLE ${quoteIdent(e.table)} ADD CONSTRAINT ${quoteIdent(name)} ` +
          `FOREIGN KEY (${quoteIdent(f.column)}) REFERENCES ${quoteIdent(f.type.table)} (${quoteIdent("id")})${onDelete(f)};`,
      );
    }
  }
  return statements.length === 0 ? null : sqlSection("Foreign keys", [statements.join("\n")]);
}

/** ` ON DELETE …` for the FK's action, or nothing for NO ACTION. */
function onDelete(f: FieldIR): string {
  switch (f.onDelete) {
    case undefined:
      return "";
    case "cascade":
      return " ON DELETE CASCADE";
    case "restrict":
      return " ON DELETE RESTRICT";
    case "set null":
      return ` ON DELETE SET NULL (${quoteIdent(f.column)})`;
  }
}
