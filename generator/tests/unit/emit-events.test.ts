/**
 * emit/sql/emit-events.ts: `sensitive` columns (DSL.md §4.4, §8.2) reach the event trigger as
 * arguments after the entity name, and the trigger function overwrites them with "[redacted]"
 * after computing `changed`. (The payloads a real PostgreSQL writes are checked exactly in
 * e2e/sensitive-events.test.ts.)
 */
import { analyze } from "../../compile";
import { makeSourceFile } from "../../diagnostics/span";
import { emitEvents } from "../../emit/sql/emit-events";

function events(body: string): string {
  const text = `app t "T"\nentity Account:\n${body}  permit:\n    list: authenticated\nentity Plain:\n  n: int\n  permit:\n    list: authenticated\n`;
  const result = analyze({ files: [makeSourceFile("t.dz", text)], rootModule: null, fallbackName: "t", specName: "t.dz" });
  if (!result.ir) throw new Error(result.diagnostics.map((d) => `${d.code} ${d.message}`).join("\n"));
  return emitEvents(result.ir.entities);
}

test("each entity's trigger passes its partition key ('' without tenancy), then its sensitive columns (both money columns)", () => {
  const sql = events("  ssn: str(11) sensitive\n  name: text\n  salary: money sensitive\n");
  expect(sql.split("\n").filter((l) => l.includes("EXECUTE FUNCTION"))).toEqual([
    `  FOR EACH ROW EXECUTE FUNCTION "dazzle_record_event"('Account', '', 'ssn', 'salary_minor', 'salary_currency');`,
    `  FOR EACH ROW EXECUTE FUNCTION "dazzle_record_event"('Plain', '');`,
  ]);
});

test("the function redacts after computing `changed`, in `new` and `old`, only when columns were passed", () => {
  const sql = events("  ssn: text sensitive\n");
  const changed = sql.indexOf("INTO v_changed");
  const redact = sql.indexOf(
    `  IF TG_NARGS > 2 THEN\n` +
      `    SELECT jsonb_object_agg(c, '"[redacted]"'::jsonb) INTO v_redacted FROM unnest(TG_ARGV[2:TG_NARGS - 1]) AS c;\n` +
      `    v_new := v_new || v_redacted;\n` +
      `    v_old := v_old || v_redacted;\n` +
      `  END IF;\n`,
  );
  expect([changed > 0, redact > changed, redact < sql.indexOf(`INSERT INTO "_dazzle_events"`)]).toEqual([true, true, true]);
  expect(sql).toContain(
    ` SELECT e."seq", (SELECT jsonb_object_agg(o.key, o.value) FROM jsonb_each(e."payload" -> 'old') AS o WHERE o.value <> '"[redacted]"'::jsonb) FROM "_dazzle_events" e` +
      ` WHERE e."seq" = ANY ($2) AND e."entity" = $1 AND e."event_type" = $1 || '.deleted'` +
      ` AND (e."tenant_id" IS NULL OR e."tenant_id" = NULLIF(current_setting('dazzle.tenant_id', true), '')::uuid) `,
  );
});

test("the trigger records the partition key of a tenant-scoped row as tenant_id, NULL elsewhere", () => {
  const sql = events("  name: text\n");
  expect([
    sql.includes(`  IF TG_ARGV[1] <> '' THEN v_tenant := (coalesce(v_new, v_old) ->> TG_ARGV[1])::uuid; END IF;\n`),
    sql.includes(`("topic", "event_type", "entity", "entity_id", "tenant_id", "actor_id", "payload")`),
    sql.includes(`    (coalesce(v_new, v_old) ->> 'id')::uuid,\n    v_tenant,\n`),
  ]).toEqual([true, true, true]);
});

test("dazzle_read_events_by_seq reads the seqs asked for (a Last-Event-ID's holes) like its siblings: no row data, EXECUTE for dazzle_app only", () => {
  const sql = events("  name: text\n");
  const start = sql.indexOf(`CREATE OR REPLACE FUNCTION "dazzle_read_events_by_seq"`);
  expect(sql.slice(start, sql.indexOf("\n", sql.indexOf("$$;", start)))).toBe(
    [
      `CREATE OR REPLACE FUNCTION "dazzle_read_events_by_seq"(seqs bigint[]) RETURNS TABLE (seq bigint, event_type text, entity text, entity_id uuid)`,
      "  LANGUAGE sql STABLE SECURITY DEFINER",
      "  SET search_path = public, pg_temp",
      `  AS $$ SELECT e."seq", e."event_type", e."entity", e."entity_id" FROM "_dazzle_events" e WHERE e."seq" = ANY ($1) ORDER BY e."seq" $$;`,
    ].join("\n"),
  );
  expect(sql.split("\n").filter((l) => l.includes(`"dazzle_read_events_by_seq"(bigint[])`))).toEqual([
    `ALTER FUNCTION "dazzle_read_events_by_seq"(bigint[]) OWNER TO "dazzle_definer";`,
    `REVOKE ALL ON FUNCTION "dazzle_read_events_by_seq"(bigint[]) FROM PUBLIC;`,
    `GRANT EXECUTE ON FUNCTION "dazzle_read_events_by_seq"(bigint[]) TO "dazzle_app";`,
  ]);
});
