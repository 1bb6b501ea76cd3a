/**
 * Lifecycle events (DSL.md §8.2): the framework table `_dazzle_events` (not under RLS, not
 * granted to `dazzle_app`), one generic SECURITY DEFINER trigger function, and per entity table
 * an `AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW` trigger passing the entity name. Each write
 * inserts `topic 'app.<Entity>'`, `event_type '<Entity>.created|updated|deleted'`, payload
 * `{"new": row|null, "old": row|null, "changed": [columns]}` and NOTIFYs `dazzle_events` with
 * only the event id (payloads over 8000 bytes would abort the write).
 *
 * ```sql
 * CREATE TRIGGER "dazzle_events" AFTER INSERT OR UPDATE OR DELETE ON "task"
 *   FOR EACH ROW EXECUTE FUNCTION "dazzle_record_event"('Task');
 * ```
 */
import type { EntityIR } from "../../ir/ir";
import { objectName } from "./object-name";
import { dollarQuote, quoteIdent, quoteLiteral } from "./quote";
import { sqlSection } from "./sql-section";

export const EVENTS_TABLE = "_dazzle_events";
export const EVENTS_CHANNEL = "dazzle_events";

export function emitEvents(entities: readonly EntityIR[]): string {
  const fn = quoteIdent("dazzle_record_event");
  const triggers = entities.map(
    (e) =>
      `CREATE TRIGGER ${quoteIdent("dazzle_events")} AFTER INSERT OR UPDATE OR DELETE ON ${quoteIdent(e.table)}\n` +
      `  FOR EACH ROW EXECUTE FUNCTION ${fn}(${quoteLiteral(e.name)});`,
  );
  return sqlSection("Events: every committed write leaves a row in _dazzle_events and NOTIFYs its id", [
    eventsTable(),
    eventsIndexes(),
    recordEventFunction(fn),
    ...triggers,
  ]);
}

function eventsTable(): string {
  const t = EVENTS_TABLE;
  const columns = [
    `${quoteIdent("id")} uuid NOT NULL DEFAULT gen_random_uuid()`,
    `${quoteIdent("seq")} bigserial NOT NULL`,
    `${quoteIdent("topic")} text NOT NULL`,
    `${quoteIdent("event_type")} text NOT NULL`,
    `${quoteIdent("version")} text NOT NULL DEFAULT ${quoteLiteral("1.0")}`,
    `${quoteIdent("entity")} text NOT NULL`,
    `${quoteIdent("entity_id")} uuid NOT NULL`,
    `${quoteIdent("tenant_id")} uuid`,
    `${quoteIdent("actor_id")} uuid`,
    `${quoteIdent("payload")} jsonb NOT NULL`,
    `${quoteIdent("created_at")} timestamptz NOT NULL DEFAULT now()`,
    `CONSTRAINT ${quoteIdent(objectName("pk", t))} PRIMARY KEY (${quoteIdent("id")})`,
    `CONSTRAINT ${quoteIdent(objectName("uq", t, "seq"))} UNIQUE (${quoteIdent("seq")})`,
  ];
  return `CREATE TABLE ${quoteIdent(t)} (\n${columns.map((c) => `  ${c}`).join(",\n")}\n);`;
}

function eventsIndexes(): string {
  const t = EVENTS_TABLE;
  return [
    ["topic", "seq"],
    ["entity", "entity_id"],
  ]
    .map(
      (cols) =>
        `CREATE INDEX ${quoteIdent(objectName("ix", t, ...cols))} ON ${quoteIdent(t)} ` +
        `(${cols.map(quoteIdent).join(", ")});`,
    )
    .join("\n");
}

/**
 * Generic over tables: the row is handled as jsonb and the entity name comes from TG_ARGV[0].
 * `changed` lists the columns whose value differs, sorted by name; [] for INSERT and DELETE.
 */
function recordEventFunction(fn: string): string {
  const body = `
DECLARE
  v_entity text := TG_ARGV[0];
  v_new jsonb;
  v_old jsonb;
  v_changed jsonb := '[]';
  v_event_id uuid;
BEGIN
  IF TG_OP <> 'DELETE' THEN v_new := to_jsonb(NEW); END IF;
  IF TG_OP <> 'INSERT' THEN v_old := to_jsonb(OLD); END IF;
  IF TG_OP = 'UPDATE' THEN
    SELECT coalesce(jsonb_agg(n.key ORDER BY n.key COLLATE "C"), '[]')
      INTO v_changed
      FROM jsonb_each(v_new) AS n
     WHERE n.value IS DISTINCT FROM v_old -> n.key;
  END IF;
  INSERT INTO ${quoteIdent(EVENTS_TABLE)} ("topic", "event_type", "entity", "entity_id", "actor_id", "payload")
  VALUES (
    'app.' || v_entity,
    v_entity || CASE TG_OP WHEN 'INSERT' THEN '.created' WHEN 'UPDATE' THEN '.updated' ELSE '.deleted' END,
    v_entity,
    (coalesce(v_new, v_old) ->> 'id')::uuid,
    ${quoteIdent("dazzle_user_id")}(),
    jsonb_build_object('new', v_new, 'old', v_old, 'changed', v_changed)
  )
  RETURNING "id" INTO v_event_id;
  PERFORM pg_notify(${quoteLiteral(EVENTS_CHANNEL)}, v_event_id::text);
  RETURN NULL;
END
`;
  return [
    `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger`,
    "  LANGUAGE plpgsql SECURITY DEFINER",
    "  SET search_path = public, pg_temp",
    `  AS ${dollarQuote(body)};`,
  ].join("\n");
}
