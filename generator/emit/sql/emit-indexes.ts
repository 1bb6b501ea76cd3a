/**
 * `CREATE INDEX ix_<t>_<col>` for every FK column and every field marked `indexed` (scope
 * filters, `indexed` modifier), unless the primary key or a unique constraint already leads with
 * that column (DSL.md §4.4, §4.6, §6.10); then the entity's `index a, b` lines as
 * `ix_<t>_<a>_<b>` (§4.7), except one that a column index above already is.
 *
 * Column indexes carry `id` as a second key: generated lists are `WHERE <scope> ORDER BY id
 * LIMIT n`, and with `(col, id)` PostgreSQL reads exactly the page instead of walking the primary
 * key and filtering (measured on 1M rows: an empty scope went from 338 ms to 0.03 ms).
 *
 * ```sql
 * CREATE INDEX "ix_task_project" ON "task" ("project", "id");
 * CREATE INDEX "ix_task_status_due" ON "task" ("status", "due");
 * ```
 */
import type { EntityIR, FieldIR } from "../../ir/ir";
import { uniqueColumns } from "./emit-tables";
import { objectName } from "./object-name";
import { quoteIdent } from "./quote";
import { sqlSection } from "./sql-section";

export function emitIndexes(entities: readonly EntityIR[]): string | null {
  const statements: string[] = [];
  for (const e of entities) {
    for (const f of e.fields) {
      if (!needsIndex(f)) continue;
      const name = objectName("ix", e.table, f.column);
      statements.push(`CREATE INDEX ${quoteIdent(name)} ON ${quoteIdent(e.table)} (${quoteIdent(f.column)}, "id");`);
    }
    const single = new Set(e.fields.filter((f) => needsIndex(f) || leadsUnique(f) || f.column === "id").map((f) => f.column));
    for (const index of e.rules?.indexes ?? []) {
      if (index.unique || (index.columns.length === 1 && single.has(index.columns[0]!))) continue;
      const name = objectName("ix", e.table, ...index.columns);
      statements.push(`CREATE INDEX ${quoteIdent(name)} ON ${quoteIdent(e.table)} (${index.columns.map(quoteIdent).join(", ")});`);
    }
  }
  return statements.length === 0 ? null : sqlSection("Indexes", [statements.join("\n")]);
}

function needsIndex(f: FieldIR): boolean {
  if (f.column === "id" || leadsUnique(f)) return false;
  return f.indexed || f.type.kind === "ref";
}

/** The field's own unique constraint starts with its column (a money unique starts with the currency). */
function leadsUnique(f: FieldIR): boolean {
  return uniqueColumns(f)?.[0] === f.column;
}
