/**
 * `GET /api/events`: the change feed as Server-Sent Events.
 *
 * Triggers write every change into `_dazzle_events` (with a growing `seq`) and `pg_notify` its id
 * on `dazzle_events` when the transaction commits. One hub per process holds a dedicated LISTEN
 * connection (as `dazzle_app`; re-established when it drops, catching up on what it missed). On
 * each wake-up it reads every event notified since its last read in ONE query on that connection
 * (NOTIFYs that arrive while a read is in flight are coalesced into the next one) and hands the
 * batch, in seq order, to every open stream. Each stream authorizes what it has pending as one
 * batch — one transaction per entity for its caller (`EventAuthorizer`) — and writes the events
 * its caller may see, strictly in the order the hub handed them in.
 *
 * Each event's SSE `id:` is the stream's position after it (`event-position.ts`): the highest seq
 * the stream has passed plus the lower seqs it has not been handed yet (`<seq>` or
 * `<seq>:<h1>,<h2>,…`), since transactions commit out of seq order. A client that reconnects with
 * that `Last-Event-ID` first gets the stored events of those holes and after that seq, then the
 * live ones, without duplicates.
 */
import { randomUUID } from "node:crypto";
import express from "express";
import pg from "pg";
import { type Caller, callerOf } from "./auth";
import { type Database, onClose } from "./database";
import { HttpError } from "./errors";
import { MAX_HOLES, StreamPosition } from "./event-position";

export interface StoredEvent {
  readonly seq: string;
  readonly eventType: string;
  readonly entity: string;
  readonly entityId: string;
}

/**
 * The seqs, among `events` (all of the authorizer's entity, in seq order), of the events the
 * caller may receive. One call is one batch: it should cost one transaction, not one per event.
 */
export type EventAuthorizer = (events: readonly StoredEvent[], caller: Caller, database: Database) => Promise<ReadonlySet<string>>;

/** Authorizers by entity name; events of other entities reach no one. */
export type EventAuthorizers = Readonly<Record<string, EventAuthorizer>>;

const CHANNEL = "dazzle_events";
const APP_ROLE = "dazzle_app";
const HEARTBEAT_MS = 15_000;
/** Rows per read: of a replay or catch-up (by seq), of the hub's read by notified ids, of one authorization. */
const BATCH = 500;
/** A stream whose client reads slower than this much buffered output is closed; it resumes by id. */
const MAX_BUFFERED_BYTES = 1 << 20;
const RETRY_MS = { first: 100, max: 5_000 };
/**
 * Batches one stream authorizes at once (each a transaction on a pooled connection). Two: while
 * one batch is in the database, the events arriving meanwhile need not wait for it to finish.
 */
const AHEAD = 2;
/** How many recent seqs the hub remembers to drop an event it is handed twice. */
const RECENT_SEQS = 4_096;
/** How long a stream waits for the hub to drain notifications after a replay (listener down). */
const SYNC_TIMEOUT_MS = 2_000;
/** Payload prefix of the hub's own barrier notifications (event ids are uuids). */
const SYNC_PREFIX = "sync:";
const EVENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/**
 * Rows as `EventRow`, by seq, through the definer functions `dazzle_read_events(after_seq,
 * max_rows)`, `dazzle_read_events_by_id(event_ids)` and `dazzle_read_events_by_seq(seqs)` (as
 * `dazzle_app`, which may not read `_dazzle_events` itself): seq, type, entity and row id only. Authorizers re-read live rows
 * through RLS and ask `dazzle_deleted_images` for the old image of a deleted row, within the
 * caller's tenant.
 */
const EVENT_COLUMNS = `e.seq::text AS seq, e.event_type, e.entity, coalesce(e.entity_id::text, '') AS entity_id`;
const READ_AFTER = `SELECT ${EVENT_COLUMNS} FROM dazzle_read_events($1, $2) e`;
const READ_BY_ID = `SELECT ${EVENT_COLUMNS} FROM dazzle_read_events_by_id($1) e`;
const READ_BY_SEQ = `SELECT ${EVENT_COLUMNS} FROM dazzle_read_events_by_seq($1) e`;

interface EventRow {
  seq: string;
  event_type: string;
  entity: string;
  entity_id: string;
}

export function eventsRouter(database: Database, authorizers: EventAuthorizers): express.Router {
  const hub = hubFor(database);
  const router = express.Router();
  router.get("/", async (req, res) => {
    const caller = callerOf(res);
    if (caller === null) throw new HttpError(401, "unauthorized", "the event stream requires a bearer token");
    const from = parseLastEventId(req.get("last-event-id"));
    openStream(res);
    const stream = new Stream(res, caller, authorizers, database, from?.copy() ?? hub.position());
    hub.add(stream);
    res.on("close", () => {
      stream.close();
      hub.remove(stream);
    });
    await stream.start(from, from === null ? null : hub.replay(from), () => hub.sync());
  });
  return router;
}

/** Ends every open event stream and the LISTEN connection (before the HTTP server drains). */
export async function closeEventStreams(database: Database): Promise<void> {
  await hubs.get(database)?.close();
}

function parseLastEventId(raw: string | undefined): StreamPosition | null {
  if (raw === undefined || raw.trim() === "") return null;
  const position = StreamPosition.parse(raw.trim());
  if (position === null) {
    throw new HttpError(400, "bad_request", `Last-Event-ID must be an event id of this stream: <seq> or <seq>:<hole>,… (at most ${MAX_HOLES} holes, ascending, below <seq>)`);
  }
  return position;
}

function openStream(res: express.Response): void {
  res.status(200).set({
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no", // nginx: do not buffer the stream
    // The socket is not reused after the stream ends, so ending streams lets the server close.
    Connection: "close",
  });
  res.flushHeaders();
  res.write(": connected\n\n");
}

function toEvent(row: EventRow): StoredEvent {
  return { seq: row.seq, eventType: row.event_type, entity: row.entity, entityId: row.entity_id };
}

/** The event as SSE; `id` is the stream's position after it, `data.seq` the event's own seq. */
function format(event: StoredEvent, id: string): string {
  const data = JSON.stringify({ seq: event.seq, type: event.eventType, entity: event.entity, id: event.entityId });
  return `id: ${id}\nevent: ${event.eventType}\ndata: ${data}\n\n`;
}

/** The events of each entity, in the order given. */
function byEntity(events: readonly StoredEvent[]): Map<string, StoredEvent[]> {
  const groups = new Map<string, StoredEvent[]>();
  for (const event of events) {
    const group = groups.get(event.entity);
    if (group === undefined) groups.set(event.entity, [event]);
    else group.push(event);
  }
  return groups;
}

/**
 * One client connection. Events wait in `pending` while AHEAD batches are being authorized; when
 * one finishes, everything pending (up to BATCH) becomes the next batch. Batches are written in
 * the order they were taken, so events go out in the order the hub handed them in, and the
 * position passes each event of a batch (written or not) in that order as it is written.
 */
class Stream {
  private pending: StoredEvent[] = [];
  /** Batches being authorized; changed synchronously, so no event is ever left behind. */
  private inFlight = 0;
  /** The writes of every batch taken so far, one after another. */
  private written: Promise<void> = Promise.resolve();
  /** Live events that arrive while the replay runs; null once live. */
  private held: StoredEvent[] | null = [];
  private closed = false;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly res: express.Response,
    private readonly caller: Caller,
    private readonly authorizers: EventAuthorizers,
    private readonly database: Database,
    private readonly position: StreamPosition,
  ) {
    this.heartbeat = setInterval(() => this.write(": heartbeat\n\n"), HEARTBEAT_MS);
  }

  /**
   * Sends the replayed events (if any), then switches to live delivery. Held events that `after`
   * (the client's Last-Event-ID) covers are ones the hub was still handing out when the stream
   * opened: the client has them already.
   */
  async start(after: StreamPosition | null, replay: AsyncIterable<readonly StoredEvent[]> | null, sync: () => Promise<void>): Promise<void> {
    const replayed = new Set<string>();
    if (replay !== null) {
      for await (const batch of replay) {
        if (this.closed) return;
        for (const event of batch) replayed.add(event.seq);
        this.enqueue(batch);
        await this.idle(); // backpressure: authorize and write one batch before reading the next
      }
      // Notifications of replayed events may still be on their way to the hub; once it has
      // handled everything committed before now, every duplicate is among the held events.
      await sync();
    }
    const held = this.held ?? [];
    this.held = null;
    this.enqueue(held.filter((event) => !replayed.has(event.seq) && (after === null || !after.covers(event.seq))));
  }

  deliver(events: readonly StoredEvent[]): void {
    if (this.held !== null) for (const event of events) this.held.push(event);
    else this.enqueue(events);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    if (!this.res.writableEnded) this.res.end();
  }

  private enqueue(events: readonly StoredEvent[]): void {
    for (const event of events) this.pending.push(event);
    this.launch();
  }

  /** Takes pending events as batches while fewer than AHEAD are being authorized. */
  private launch(): void {
    while (this.inFlight < AHEAD && this.pending.length > 0 && !this.closed) {
      const batch = this.pending.splice(0, BATCH);
      this.inFlight++;
      const allowed = this.allowed(batch); // never rejects
      this.written = this.written
        .then(async () => {
          const seqs = await allowed;
          for (const event of batch) {
            this.position.pass(event.seq);
            if (seqs.has(event.seq)) this.write(format(event, this.position.toString()));
          }
        })
        .catch((err) => console.error("events: writing to a stream failed:", err));
      void allowed.then(() => {
        this.inFlight--;
        this.launch();
      });
    }
  }

  /** Resolves once everything handed in so far is written (or the stream is closed). */
  private async idle(): Promise<void> {
    while (!this.closed && (this.inFlight > 0 || this.pending.length > 0)) await this.written;
  }

  /** The seqs of the batch the caller may see: the entities' authorizers run at once. A failure withholds that entity's events. */
  private async allowed(batch: readonly StoredEvent[]): Promise<Set<string>> {
    const allowed = new Set<string>();
    const checks = [...byEntity(batch)].map(async ([entity, events]) => {
      if (!Object.prototype.hasOwnProperty.call(this.authorizers, entity)) return;
      try {
        for (const seq of await this.authorizers[entity]!(events, this.caller, this.database)) allowed.add(seq);
      } catch (err) {
        console.error(`events: authorizing ${events.length} ${entity} event(s) from #${events[0]!.seq} failed:`, err);
      }
    });
    await Promise.all(checks);
    return allowed;
  }

  private write(chunk: string): void {
    if (this.closed) return;
    this.res.write(chunk);
    if (this.res.writableLength > MAX_BUFFERED_BYTES) this.close();
  }
}

const hubs = new WeakMap<Database, EventHub>();

function hubFor(database: Database): EventHub {
  let hub = hubs.get(database);
  if (hub === undefined) {
    hub = new EventHub(database);
    hubs.set(database, hub);
    onClose(database, () => closeEventStreams(database));
  }
  return hub;
}

/** A `sync()` caller waiting until the hub has read the `before` ids notified ahead of its barrier. */
interface Barrier {
  readonly before: number;
  readonly release: () => void;
}

/** The process-wide LISTEN connection and the set of open streams. */
class EventHub {
  private readonly streams = new Set<Stream>();
  private listener: pg.Client | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs = RETRY_MS.first;
  /**
   * What the hub has handed out, as a stream position (event-position.ts): the highest seq and the
   * lower ones not seen yet. After a reconnect it reads those holes and everything above again, so
   * an event that committed out of seq order while no LISTEN connection was open still reaches
   * the live streams; a stream opened now starts here.
   */
  private seen = StreamPosition.at(null);
  private readonly recent = new Set<string>();
  /** Pending `sync()` calls by token. */
  private readonly barriers = new Map<string, () => void>();
  /** Event ids notified and not read yet, in notification (= commit) order. */
  private notified: string[] = [];
  /** How many notified ids have been queued / taken for a read since the hub started. */
  private queuedCount = 0;
  private takenCount = 0;
  /** Barriers that reached the LISTEN connection, released once the ids before them are dispatched. */
  private waiting: Barrier[] = [];
  /** Set on (re)connect: read the hub's holes and everything above its highest seq before the notified ids. */
  private catchUpDue = false;
  /** Whether `pump` runs; set and cleared synchronously. */
  private pumping = false;
  private closed = false;

  constructor(private readonly database: Database) {
    this.listen();
  }

  add(stream: Stream): void {
    this.streams.add(stream);
  }

  remove(stream: Stream): void {
    this.streams.delete(stream);
  }

  /** Where a stream opened now starts: every event handed out so far is behind it, the hub's holes ahead. */
  position(): StreamPosition {
    return this.seen.copy();
  }

  /**
   * The stored events of `from`'s holes, then those with seq > its seq, oldest first, in batches
   * (through the pool: works while the listener is down).
   */
  async *replay(from: StreamPosition): AsyncGenerator<StoredEvent[]> {
    if (from.missing.length > 0) {
      const rows = await this.poolQuery(READ_BY_SEQ, [from.missing]);
      if (rows.length > 0) yield rows.map(toEvent);
    }
    for (let cursor = from.after!; ; ) {
      const rows = await this.poolQuery(READ_AFTER, [cursor, BATCH]);
      if (rows.length > 0) yield rows.map(toEvent);
      if (rows.length < BATCH) return;
      cursor = rows[rows.length - 1]!.seq;
    }
  }

  /**
   * Resolves once every event committed before the call has been handed to the streams: the
   * hub notifies a barrier on its own channel, and notifications arrive in commit order.
   * Gives up after SYNC_TIMEOUT_MS (e.g. while the LISTEN connection is down).
   */
  async sync(): Promise<void> {
    const token = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const reached = new Promise<void>((resolve) => {
      this.barriers.set(token, resolve);
      timer = setTimeout(resolve, SYNC_TIMEOUT_MS);
    });
    try {
      await this.database.pool.query("SELECT pg_notify($1, $2)", [CHANNEL, SYNC_PREFIX + token]);
      await reached;
    } finally {
      clearTimeout(timer);
      this.barriers.delete(token);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    for (const stream of this.streams) stream.close();
    this.streams.clear();
    await this.listener?.end().catch(() => undefined);
  }

  private listen(): void {
    const client = new pg.Client(this.database.pool.options);
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      if (this.listener === client) this.listener = null;
      client.end().catch(() => undefined);
      if (this.closed) return;
      console.error(`events: LISTEN connection lost${err ? ` (${err.message})` : ""}, retrying in ${this.retryMs} ms`);
      this.retryTimer = setTimeout(() => this.listen(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MS.max);
    };
    client.on("error", onLost);
    client.on("end", () => onLost());
    client.on("notification", ({ channel, payload }) => {
      if (channel !== CHANNEL || !payload) return;
      if (payload.startsWith(SYNC_PREFIX)) {
        const release = this.barriers.get(payload.slice(SYNC_PREFIX.length));
        if (release !== undefined) this.waiting.push({ before: this.queuedCount, release });
      } else if (EVENT_ID.test(payload)) {
        this.notified.push(payload);
        this.queuedCount++;
      }
      this.pump();
    });
    client
      .connect()
      // The hub's reads run on this connection too, as dazzle_app for the whole session (the
      // connection is its own, never pooled): one round trip per read.
      .then(() => client.query(`SET ROLE ${APP_ROLE}; LISTEN ${CHANNEL}`))
      .then(() => {
        if (this.closed) return void client.end();
        this.listener = client;
        this.retryMs = RETRY_MS.first;
        this.catchUpDue = true;
        this.pump();
      }, onLost);
  }

  private pump(): void {
    if (this.pumping || this.listener === null) return;
    this.pumping = true;
    void this.readAll(this.listener);
  }

  /**
   * Reads until nothing is pending: a due catch-up first, then all notified ids (up to BATCH) in
   * one query, dispatched in seq order; barriers are released once the ids before them are. A
   * failed read is logged (a lost connection catches up by seq when it is back).
   */
  private async readAll(client: pg.Client): Promise<void> {
    try {
      while (!this.closed && this.listener === client) {
        if (this.catchUpDue) {
          this.catchUpDue = false;
          await this.catchUp(client);
        } else if (this.notified.length > 0) {
          const ids = this.notified.splice(0, BATCH);
          this.takenCount += ids.length;
          this.dispatch(await this.read(client, READ_BY_ID, [ids]));
        }
        this.releaseBarriers();
        if (!this.catchUpDue && this.notified.length === 0) return;
      }
    } catch (err) {
      console.error("events: reading events failed:", err);
      this.releaseBarriers();
    } finally {
      this.pumping = false;
    }
    // Whatever arrived while a failed read was in flight (on a still-open connection) is read now.
    if (this.notified.length > 0 && this.listener === client) this.pump();
  }

  private releaseBarriers(): void {
    const ready = this.waiting.filter((b) => b.before <= this.takenCount);
    this.waiting = this.waiting.filter((b) => b.before > this.takenCount);
    for (const barrier of ready) barrier.release();
  }

  /**
   * Events committed while no LISTEN connection was open: the hub's holes that exist now, then
   * everything above its highest seq (nothing on the first connect, which starts at the last seq).
   */
  private async catchUp(client: pg.Client): Promise<void> {
    const from = this.seen.copy();
    if (from.after === null) {
      const { rows } = await client.query<{ seq: string }>("SELECT dazzle_events_last_seq()::text AS seq");
      this.seen = StreamPosition.at(BigInt(rows[0]!.seq));
      return;
    }
    if (from.missing.length > 0) this.dispatch(await this.read(client, READ_BY_SEQ, [from.missing]));
    for (let cursor = from.after; ; ) {
      const rows = await this.read(client, READ_AFTER, [cursor, BATCH]);
      this.dispatch(rows);
      if (rows.length < BATCH) return;
      cursor = rows[rows.length - 1]!.seq;
    }
  }

  private async read(client: pg.Client, text: string, values: unknown[]): Promise<StoredEvent[]> {
    return (await client.query<EventRow>(text, values)).rows.map(toEvent);
  }

  /** Hands the events not handed out before to every stream, as one batch. */
  private dispatch(events: readonly StoredEvent[]): void {
    const fresh = events.filter((event) => !this.recent.has(event.seq));
    if (fresh.length === 0) return;
    for (const event of fresh) this.remember(event.seq);
    for (const stream of this.streams) stream.deliver(fresh);
  }

  private remember(seq: string): void {
    this.recent.add(seq);
    if (this.recent.size > RECENT_SEQS) this.recent.delete(this.recent.values().next().value as string);
    this.seen.pass(seq);
  }

  /**
   * Runs as `dazzle_app` (SET LOCAL ROLE in its own transaction), whatever the login role: an
   * authenticator has no privileges of its own. Visibility is decided per stream afterwards.
   */
  private async poolQuery(text: string, values: unknown[]): Promise<EventRow[]> {
    const client = await this.database.pool.connect();
    try {
      await client.query(`BEGIN; SET LOCAL ROLE ${APP_ROLE}`);
      const { rows } = await client.query<EventRow>(text, values);
      await client.query("COMMIT");
      return rows;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
