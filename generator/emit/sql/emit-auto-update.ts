/**
 * `auto_update` columns (DSL.md §4.4): per table with such columns, one trigger function and one
 * `BEFORE UPDATE FOR EACH ROW` trigger that set them to `now()` (datetime) or `CURRENT_DATE`
 * (date), whatever the UPDATE wrote.
 *
 * ```sql
 * CREATE OR REPLACE FUNCTION "dazzle_auto_update_task"() RETURNS trigger
 *   LANGUAGE plpgsql
 *   AS $$
 * BEGIN
 *   NEW."updated_at" := now();
 *   RETURN NEW;
 * END
 * $$;
 * CREATE TRIGGER "dazzle_auto_update" BEFORE UPDATE ON "task"
 *   FOR EACH ROW EXECUTE FUNCTION "dazzle_auto_update_task"();
 * ```
 */
import type { EntityIR, FieldIR } from "../../ir/ir";
import { objectName } from "./object-name";
import { dollarQuote, quoteIdent } from "./quote";
import { sqlSection } from "./sql-section";

export function emitAutoUpdate(entities: readonly EntityIR[]): string | null {
  const blocks: string[] = [];
  for (const e of entities) {
    const fields = e.fields.filter((f) => f.autoUpdate);
    if (fields.length === 0) continue;
    const fn = quoteIdent(objectName("dazzle_auto_update", e.table));
    const assignments = fields.map((f) => `  NEW.${quoteIdent(f.column)} := ${currentValue(e, f)};\n`).join("");
    blocks.push(
      [
        `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger`,
        "  LANGUAGE plpgsql",
        `  AS ${dollarQuote(`\nBEGIN\n${assignments}  RETURN NEW;\nEND\n`)};`,
        `CREATE TRIGGER ${quoteIdent("dazzle_auto_update")} BEFORE UPDATE ON ${quoteIdent(e.table)}`,
        `  FOR EACH ROW EXECUTE FUNCTION ${fn}();`,
      ].join("\n"),
    );
  }
  return blocks.length === 0 ? null : sqlSection("auto_update columns (refreshed on every UPDATE)", blocks);
}

function currentValue(e: EntityIR, f: FieldIR): string {
  if (f.type.kind === "datetime") return "now()";
  if (f.type.kind === "date") return "CURRENT_DATE";
  throw new Error(`auto_update on ${e.name}.${f.name} of type ${f.type.kind}`);
}
