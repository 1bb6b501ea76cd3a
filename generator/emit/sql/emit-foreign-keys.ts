/**
 * Every `ref` column's foreign key (DSL.md §4.6), after all tables so self-references and cycles
 * need no ordering. The action comes from a `has_many`/`has_one` of the referenced entity:
 * `cascade` → `ON DELETE CASCADE`, `restrict` → `ON DELETE RESTRICT`, `nullify` → `ON DELETE SET
 * NULL (col)`; without one, no action (NO ACTION: deleting a referenced row fails, the API answers 409).
 *
 * ```sql
 * ALTER TABLE "task" ADD CONSTRAINT "fk_task_project" FOREIGN KEY ("project") REFERENCES "project" ("id") ON DELETE CASCADE;
 * -- both tenant-scoped (DSL.md §7); `nullify` clears only the FK column, never the tenant:
 * ALTER TABLE "task" ADD CONSTRAINT "fk_task_project" FOREIGN KEY ("tenant_id", "project") REFERENCES "project" ("tenant_id", "id") ON DELETE SET NULL ("project");
 * ```
 */
import type { EntityIR, FieldIR } from "../../ir/ir";
import { objectName } from "./object-name";
import { quoteIdent } from "./quote";
import { sqlSection } from "./sql-section";

export function emitForeignKeys(entities: readonly EntityIR[]): string | null {
  const tenantScoped = new Set(entities.filter((e) => e.tenant !== undefined).map((e) => e.table));
  const statements: string[] = [];
  for (const e of entities) {
    for (const f of e.fields) {
      if (f.type.kind !== "ref") continue;
      const name = objectName("fk", e.table, f.column);
      const [from, to] = fkColumns(e, f.column, tenantScoped.has(f.type.table));
      statements.push(
        `ALTER TABLE ${quoteIdent(e.table)} ADD CONSTRAINT ${quoteIdent(name)} ` +
          `FOREIGN KEY (${from.map(quoteIdent).join(", ")}) REFERENCES ${quoteIdent(f.type.table)} (${to.map(quoteIdent).join(", ")})${onDelete(f)};`,
      );
    }
  }
  return statements.length === 0 ? null : sqlSection("Foreign keys", [statements.join("\n")]);
}

/**
 * Referencing and referenced columns. A ref between two tenant-scoped tables is the composite
 * `(tenant_id, fk) → parent (tenant_id, id)` (DSL.md §7): MATCH SIMPLE, so a NULL `fk` is not
 * checked, and a row can only reference a row of its own tenant (FK checks ignore RLS, so this is
 * what stops a cross-tenant reference). Refs to the root or to unscoped tables stay simple.
 */
export function fkColumns(e: EntityIR, column: string, targetTenantScoped: boolean): [string[], string[]] {
  if (e.tenant === undefined || !targetTenantScoped || column === e.tenant.column) return [[column], ["id"]];
  return [
    [e.tenant.column, column],
    [e.tenant.column, "id"],
  ];
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
