/**
 * Lifecycle events (DSL.md §8.2): the framework table `_dazzle_events` (not under RLS, not
 * granted to `dazzle_app`), one generic SECURITY DEFINER trigger function, and per entity table
 * an `AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW` trigger passing the entity name. Each write
 * inserts `topic 'app.<Entity>'`, `event_type '<Entity>.created|updated|deleted'`, payload
 * `{"new": row|null, "old": row|null, "changed": [columns]}` and NOTIFYs `dazzle_events` with
 * only the event id (payloads over 8000 bytes would abort the write). On a tenant-scoped table the
 * row's partition key is recorded as `tenant_id` (DSL.md §8), NULL elsewhere.
 *
 * ```sql
 * CREATE TRIGGER "dazzle_events" AFTER INSERT OR UPDATE OR DELETE ON "task"
 *   FOR EACH ROW EXECUTE FUNCTION "dazzle_record_event"('Task', 'tenant_id');
 * ```
 */
import type { EntityIR } from "../../ir/ir";
import { TENANT_SETTING } from "./emit-readers";
import { APP_ROLE, DEFINER_ROLE } from "./emit-roles";
import { objectName } from "./object-name";
import { dollarQuote, quoteIdent, quoteLiteral } from "./quote";
import { sqlSection } from "./sql-section";

export const EVENTS_TABLE = "_dazzle_events";
export const EVENTS_CHANNEL = "dazzle_events";
/** What a `sensitive` column's value becomes in event payloads (DSL.md §4.4). */
export const REDACTED = "[redacted]";

export function emitEvents(entities: readonly EntityIR[]): string {
  const fn = quoteIdent("dazzle_record_event");
  const triggers = entities.map(
    (e) =>
      `CREATE TRIGGER ${quoteIdent("dazzle_events")} AFTER INSERT OR UPDATE OR DELETE ON ${quoteIdent(e.table)}\n` +
      `  FOR EACH ROW EXECUTE FUNCTION ${fn}(${[e.name, e.tenant?.column ?? "", ...sensitiveColumns(e)].map(quoteLiteral).join(", ")});`,
  );
  return sqlSection("Events: every committed write leaves a row in _dazzle_events and NOTIFYs its id", [
    eventsTable(),
    eventsIndexes(),
    recordEventFunction(fn),
    eventReaders(),
    ...triggers,
  ]);
}

/**
 * How the runtime reads `_dazzle_events` without any privilege of its own (the login role may be
 * a NOINHERIT authenticator, DSL.md §6.11): as `dazzle_app`, through definer functions.
 *
 * - `dazzle_read_events(after_seq, max_rows)` (catch-up, `Last-Event-ID` replay),
 *   `dazzle_read_events_by_id(event_ids)` (the hub's read of the ids a batch of NOTIFYs named) and
 *   `dazzle_read_events_by_seq(seqs)` (the replay of a `Last-Event-ID`'s holes: seqs that were not
 *   committed yet when the client saw a higher one): seq, type, entity and row id only, by seq —
 *   no row data of any tenant. Separate functions, not one with optional arguments: a definer
 *   function's query is planned without its argument values, and each of these must use its own
 *   index (seq range; id; seq list).
 * - `dazzle_deleted_images(entity, seqs)`: the last image of deleted rows, which is all that is
 *   left to decide who may see a deletion — only for the deleted events of that entity among the
 *   seqs asked for, only of the session's own tenant (`dazzle.tenant_id`, set by `withCaller`
 *   from the caller's principal row; tenant_id NULL = a table without tenancy), and without
 *   its redacted (sensitive) columns. The authorizer applies the caller's list scope on top, in
 *   the same query, so what leaves the database is the seqs the caller may see.
 * - `dazzle_events_last_seq()`: where the hub starts on its first connect.
 *
 * Created/updated events are re-read through RLS instead.
 */
function eventReaders(): string {
  const events = quoteIdent(EVENTS_TABLE);
  const read = quoteIdent("dazzle_read_events");
  const readById = quoteIdent("dazzle_read_events_by_id");
  const readBySeq = quoteIdent("dazzle_read_events_by_seq");
  const images = quoteIdent("dazzle_deleted_images");
  const last = quoteIdent("dazzle_events_last_seq");
  const readReturns = ["seq bigint", "event_type text", "entity text", "entity_id uuid"].join(", ");
  const readColumns = ` SELECT e."seq", e."event_type", e."entity", e."entity_id" FROM ${events} e`;
  const readBody = `${readColumns} WHERE e."seq" > $1 ORDER BY e."seq" LIMIT $2 `;
  const readByIdBody = `${readColumns} WHERE e."id" = ANY ($1) ORDER BY e."seq" `;
  const readBySeqBody = `${readColumns} WHERE e."seq" = ANY ($1) ORDER BY e."seq" `;
  const sessionTenant = `NULLIF(current_setting(${quoteLiteral(TENANT_SETTING)}, true), '')::uuid`;
  const imagesBody =
    ` SELECT e."seq", ${withoutRedacted(`e."payload" -> 'old'`)} FROM ${events} e` +
    ` WHERE e."seq" = ANY ($2) AND e."entity" = $1 AND e."event_type" = $1 || '.deleted'` +
    ` AND (e."tenant_id" IS NULL OR e."tenant_id" = ${sessionTenant}) `;
  const definer = (signature: string, result: string, body: string) =>
    [
      `CREATE OR REPLACE FUNCTION ${signature} RETURNS ${result}`,
      "  LANGUAGE sql STABLE SECURITY DEFINER",
      "  SET search_path = public, pg_temp",
      `  AS ${dollarQuote(body)};`,
    ].join("\n");
  const signatures = [`${read}(bigint, integer)`, `${readById}(uuid[])`, `${readBySeq}(bigint[])`, `${images}(text, bigint[])`, `${last}()`];
  return [
    `GRANT SELECT ON ${events} TO ${quoteIdent(DEFINER_ROLE)};`,
    definer(`${read}(after_seq bigint, max_rows integer)`, `TABLE (${readReturns})`, readBody),
    definer(`${readById}(event_ids uuid[])`, `TABLE (${readReturns})`, readByIdBody),
    definer(`${readBySeq}(seqs bigint[])`, `TABLE (${readReturns})`, readBySeqBody),
    definer(`${images}(entity text, seqs bigint[])`, "TABLE (seq bigint, old jsonb)", imagesBody),
    definer(`${last}()`, "bigint", ` SELECT coalesce(max(e."seq"), 0) FROM ${events} e `),
    ...signatures.flatMap((sig) => [
      `ALTER FUNCTION ${sig} OWNER TO ${quoteIdent(DEFINER_ROLE)};`,
      `REVOKE ALL ON FUNCTION ${sig} FROM PUBLIC;`,
      `GRANT EXECUTE ON FUNCTION ${sig} TO ${quoteIdent(APP_ROLE)};`,
    ]),
  ].join("\n");
}

/**
 * The columns of `sensitive` fields (both columns of a money field), passed to the trigger after
 * the entity name: their values are replaced by the JSON string "[redacted]" in the payload
 * (DSL.md §4.4, §8.2).
 */
function sensitiveColumns(e: EntityIR): string[] {
  return e.fields.filter((f) => f.sensitive === true).map((f) => f.column);
}

/**
 * A row image without its redacted (sensitive) columns: the authorizer populates a record of the
 * table from it, where "[redacted]" would not cast to a number or date; an absent column is NULL,
 * so a scope over a sensitive column fails closed.
 */
function withoutRedacted(image: string): string {
  return `(SELECT jsonb_object_agg(o.key, o.value) FROM jsonb_each(${image}) AS o WHERE o.value <> ${quoteLiteral(JSON.stringify(REDACTED))}::jsonb)`;
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
 * Generic over tables: the row is handled as jsonb, the entity name comes from TG_ARGV[0] and the
 * partition-key column of a tenant-scoped table from TG_ARGV[1] ('' on other tables: tenant_id NULL).
 * `changed` lists the columns whose value differs, sorted by name; [] for INSERT and DELETE.
 * TG_ARGV[2…] name the entity's sensitive columns: computed `changed` first (a sensitive column
 * is listed by name when it changes), then their values in `new` and `old` — NULL included, so
 * not even whether one is set leaks — become "[redacted]".
 */
function recordEventFunction(fn: string): string {
  const body = `
DECLARE
  v_entity text := TG_ARGV[0];
  v_new jsonb;
  v_old jsonb;
  v_changed jsonb := '[]';
  v_event_id uuid;
  v_redacted jsonb;
  v_tenant uuid;
BEGIN
  IF TG_OP <> 'DELETE' THEN v_new := to_jsonb(NEW); END IF;
  IF TG_OP <> 'INSERT' THEN v_old := to_jsonb(OLD); END IF;
  IF TG_ARGV[1] <> '' THEN v_tenant := (coalesce(v_new, v_old) ->> TG_ARGV[1])::uuid; END IF;
  IF TG_OP = 'UPDATE' THEN
    SELECT coalesce(jsonb_agg(n.key ORDER BY n.key COLLATE "C"), '[]')
      INTO v_changed
      FROM jsonb_each(v_new) AS n
     WHERE n.value IS DISTINCT FROM v_old -> n.key;
  END IF;
  IF TG_NARGS > 2 THEN
    SELECT jsonb_object_agg(c, ${quoteLiteral(JSON.stringify(REDACTED))}::jsonb) INTO v_redacted FROM unnest(TG_ARGV[2:TG_NARGS - 1]) AS c;
    v_new := v_new || v_redacted;
    v_old := v_old || v_redacted;
  END IF;
  INSERT INTO ${quoteIdent(EVENTS_TABLE)} ("topic", "event_type", "entity", "entity_id", "tenant_id", "actor_id", "payload")
  VALUES (
    'app.' || v_entity,
    v_entity || CASE TG_OP WHEN 'INSERT' THEN '.created' WHEN 'UPDATE' THEN '.updated' ELSE '.deleted' END,
    v_entity,
    (coalesce(v_new, v_old) ->> 'id')::uuid,
    v_tenant,
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
