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
 * On a tenant-scoped table (DSL.md §7) every index leads with the partition key: queries there
 * always carry the fence `tenant_id = dazzle_tenant_id()`.
 *
 * ```sql
 * CREATE INDEX "ix_task_project" ON "task" ("project", "id");
 * CREATE INDEX "ix_task_project" ON "task" ("tenant_id", "project", "id");   -- tenant-scoped
 * CREATE INDEX "ix_task_status_due" ON "task" ("status", "due");
 * ```
 */
import type { EntityIR, FieldIR } from "../../ir/ir";
import { tenantKeyed, uniqueColumns } from "./emit-tables";
import { objectName } from "./object-name";
import { quoteIdent } from "./quote";
import { sqlSection } from "./sql-section";

export function emitIndexes(entities: readonly EntityIR[]): string | null {
  const statements: string[] = [];
  for (const e of entities) {
    const tenant = e.tenant?.column ?? null;
    for (const f of e.fields) {
      // The partition key's index is its `uq_<t>_<key>_id UNIQUE (<key>, id)` (emit-tables).
      if (!needsIndex(f) || f.column === tenant) continue;
      const name = objectName("ix", e.table, f.column);
      statements.push(`CREATE INDEX ${quoteIdent(name)} ON ${quoteIdent(e.table)} (${tenantKeyed([f.column, "id"], tenant).map(quoteIdent).join(", ")});`);
    }
    const single = new Set(e.fields.filter((f) => needsIndex(f) || leadsUnique(f) || f.column === "id").map((f) => f.column));
    for (const index of e.rules?.indexes ?? []) {
      if (index.unique || (index.columns.length === 1 && single.has(index.columns[0]!))) continue;
      const name = objectName("ix", e.table, ...index.columns);
      statements.push(`CREATE INDEX ${quoteIdent(name)} ON ${quoteIdent(e.table)} (${tenantKeyed(index.columns, tenant).map(quoteIdent).join(", ")});`);
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
