/**
 * `GET /api/events`: the change feed as Server-Sent Events.
 *
 * Triggers write every change into `_dazzle_events` (with a growing `seq`) and `pg_notify` its id
 * on `dazzle_events` when the transaction commits. One hub per process holds a dedicated LISTEN
 * connection (re-established when it drops, catching up on what it missed), reads each event
 * row once through the pool, and hands it to every open stream; each stream asks its
 * `EventAuthorizer` whether its caller may see the event, in order, one event at a time.
 *
 * A client that reconnects with `Last-Event-ID: <seq>` first gets the stored events after that
 * seq, then the live ones, without duplicates.
 */
import { randomUUID } from "node:crypto";
import express from "express";
import pg from "pg";
import { type Caller, callerOf } from "./auth";
import { type Database, onClose } from "./database";
import { HttpError } from "./errors";

export interface StoredEvent {
  readonly seq: string;
  readonly eventType: string;
  readonly entity: string;
  readonly entityId: string;
  readonly payload: { new: Record<string, unknown> | null; old: Record<string, unknown> | null };
}

export type EventAuthorizer = (event: StoredEvent, caller: Caller, database: Database) => Promise<boolean>;

const CHANNEL = "dazzle_events";
const HEARTBEAT_MS = 15_000;
const REPLAY_BATCH = 500;
/** A stream whose client reads slower than this much buffered output is closed; it resumes by id. */
const MAX_BUFFERED_BYTES = 1 << 20;
const RETRY_MS = { first: 100, max: 5_000 };
/** How many recent seqs the hub remembers to drop an event it is handed twice. */
const RECENT_SEQS = 4_096;
/** How long a stream waits for the hub to drain notifications after a replay (listener down). */
const SYNC_TIMEOUT_MS = 2_000;
/** Payload prefix of the hub's own barrier notifications (event ids are uuids). */
const SYNC_PREFIX = "sync:";
/**
 * Event reads of the hub, and authorizations of one stream, that run at once (each holds a pooled
 * connection for a few round trips); results are still handed on strictly in order. One at a time,
 * a stream could not keep up with 500 writes/s (`npm run bench` section h: p99 in seconds).
 */
const AHEAD = 4;
/**
 * Rows as `EventRow`, through the definer function `dazzle_read_events(after_seq, event_id,
 * max_rows)` (as `dazzle_app`, which may not read `_dazzle_events` itself): no row data except the
 * old image of a deleted row, which the authorizer needs; other events are re-read through RLS.
 */
const READ_EVENTS = `SELECT e.seq::text AS seq, e.event_type, e.entity, coalesce(e.entity_id::text, '') AS entity_id, e.old
  FROM dazzle_read_events($1, $2, $3) e`;

interface EventRow {
  seq: string;
  event_type: string;
  entity: string;
  entity_id: string;
  old: Record<string, unknown> | null;
}

export function eventsRouter(database: Database, authorize: EventAuthorizer): express.Router {
  const hub = hubFor(database);
  const router = express.Router();
  router.get("/", async (req, res) => {
    const caller = callerOf(res);
    if (caller === null) throw new HttpError(401, "unauthorized", "the event stream requires a bearer token");
    const lastEventId = parseLastEventId(req.get("last-event-id"));
    openStream(res);
    const stream = new Stream(res, caller, authorize, database);
    hub.add(stream);
    res.on("close", () => {
      stream.close();
      hub.remove(stream);
    });
    await stream.start(lastEventId === null ? null : hub.replay(lastEventId), () => hub.sync());
  });
  return router;
}

/** Ends every open event stream and the LISTEN connection (before the HTTP server drains). */
export async function closeEventStreams(database: Database): Promise<void> {
  await hubs.get(database)?.close();
}

function parseLastEventId(raw: string | undefined): string | null {
  if (raw === undefined || raw.trim() === "") return null;
  if (!/^[0-9]{1,19}$/.test(raw.trim())) throw new HttpError(400, "bad_request", "Last-Event-ID must be an event seq");
  return raw.trim();
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
  return { seq: row.seq, eventType: row.event_type, entity: row.entity, entityId: row.entity_id, payload: { new: null, old: row.old } };
}

function format(event: StoredEvent): string {
  const data = JSON.stringify({ seq: event.seq, type: event.eventType, entity: event.entity, id: event.entityId });
  return `id: ${event.seq}\nevent: ${event.eventType}\ndata: ${data}\n\n`;
}

/** One client connection. Events are authorized and written strictly in the order handed in. */
class Stream {
  private queue: Promise<void> = Promise.resolve();
  private readonly ahead = new Slots(AHEAD);
  /** Live events that arrive while the replay runs; null once live. */
  private held: StoredEvent[] | null = [];
  private closed = false;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly res: express.Response,
    private readonly caller: Caller,
    private readonly authorize: EventAuthorizer,
    private readonly database: Database,
  ) {
    this.heartbeat = setInterval(() => this.write(": heartbeat\n\n"), HEARTBEAT_MS);
  }

  /** Sends the replayed events (if any), then switches to live delivery. */
  async start(replay: AsyncIterable<readonly StoredEvent[]> | null, sync: () => Promise<void>): Promise<void> {
    const replayed = new Set<string>();
    if (replay !== null) {
      for await (const batch of replay) {
        if (this.closed) return;
        for (const event of batch) {
          replayed.add(event.seq);
          this.enqueue(event);
        }
        await this.queue; // backpressure: authorize and write one batch before reading the next
      }
      // Notifications of replayed events may still be on their way to the hub; once it has
      // handled everything committed before now, every duplicate is among the held events.
      await sync();
    }
    const held = this.held ?? [];
    this.held = null;
    for (const event of held) if (!replayed.has(event.seq)) this.enqueue(event);
  }

  deliver(event: StoredEvent): void {
    if (this.held !== null) this.held.push(event);
    else this.enqueue(event);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    if (!this.res.writableEnded) this.res.end();
  }

  /** Authorizes ahead (up to AHEAD events at once), writes in the order the events came in. */
  private enqueue(event: StoredEvent): void {
    const allowed = this.ahead.run(() => this.allowed(event));
    this.queue = this.queue.then(async () => {
      if (await allowed) this.write(format(event));
    });
  }

  /** Never rejects: a failed authorization withholds the event. */
  private async allowed(event: StoredEvent): Promise<boolean> {
    if (this.closed) return false;
    try {
      return await this.authorize(event, this.caller, this.database);
    } catch (err) {
      console.error(`events: authorizing ${event.eventType} #${event.seq} failed:`, err);
      return false;
    }
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

/** The process-wide LISTEN connection and the set of open streams. */
class EventHub {
  private readonly streams = new Set<Stream>();
  private listener: pg.Client | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs = RETRY_MS.first;
  /** Highest seq handed out: after a reconnect, everything above it is fetched again. */
  private lastSeq: bigint | null = null;
  private readonly recent = new Set<string>();
  /** Pending `sync()` calls by token. */
  private readonly barriers = new Map<string, () => void>();
  /** Dispatches run one after another, so streams receive events in notification order (the reads behind them run AHEAD). */
  private reads: Promise<void> = Promise.resolve();
  private readonly ahead = new Slots(AHEAD);
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

  /** Stored events with seq > `after`, oldest first, in batches. */
  async *replay(after: string): AsyncGenerator<StoredEvent[]> {
    for (let cursor = after; ; ) {
      const rows = await this.query(READ_EVENTS, [cursor, null, REPLAY_BATCH]);
      if (rows.length > 0) yield rows.map(toEvent);
      if (rows.length < REPLAY_BATCH) return;
      cursor = rows[rows.length - 1].seq;
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
        if (release !== undefined) this.read(async () => release());
      } else {
        // The read starts now (up to AHEAD at once); its events are dispatched in notification order.
        const events = this.ahead.run(() => this.fetchById(payload));
        events.catch(() => undefined); // rejections are reported by read(), in turn
        this.read(async () => this.dispatch(await events));
      }
    });
    client
      .connect()
      .then(() => client.query(`LISTEN ${CHANNEL}`))
      .then(() => {
        if (this.closed) return void client.end();
        this.listener = client;
        this.retryMs = RETRY_MS.first;
        this.read(() => this.catchUp());
      }, onLost);
  }

  private read(task: () => Promise<void>): void {
    this.reads = this.reads.then(task).catch((err) => console.error("events: reading an event failed:", err));
  }

  private async fetchById(id: string): Promise<StoredEvent[]> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return [];
    return (await this.query(READ_EVENTS, ["0", id, 1])).map(toEvent);
  }

  /** Events committed while no LISTEN connection was open (nothing on the first connect). */
  private async catchUp(): Promise<void> {
    if (this.lastSeq === null) {
      const [row] = await this.query<{ seq: string }>("SELECT dazzle_events_last_seq()::text AS seq");
      this.lastSeq = BigInt(row.seq);
      return;
    }
    for await (const batch of this.replay(this.lastSeq.toString())) this.dispatch(batch);
  }

  private dispatch(events: readonly StoredEvent[]): void {
    for (const event of events) {
      if (this.recent.has(event.seq)) continue;
      this.remember(event.seq);
      for (const stream of this.streams) stream.deliver(event);
    }
  }

  private remember(seq: string): void {
    this.recent.add(seq);
    if (this.recent.size > RECENT_SEQS) this.recent.delete(this.recent.values().next().value as string);
    const value = BigInt(seq);
    if (this.lastSeq === null || value > this.lastSeq) this.lastSeq = value;
  }

  /**
   * Runs as `dazzle_app` (SET LOCAL ROLE in its own transaction), whatever the login role: an
   * authenticator has no privileges of its own. Visibility is decided per stream afterwards.
   */
  private async query<R extends object = EventRow>(text: string, values: unknown[] = []): Promise<R[]> {
    const client = await this.database.pool.connect();
    try {
      await client.query("BEGIN; SET LOCAL ROLE dazzle_app");
      const { rows } = await client.query<R>(text, values);
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

/** Runs at most `size` tasks at once; the others start in call order as slots free up. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(size: number) {
    this.free = size;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter, so no newcomer can take it in between.
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.free++;
    }
  }
}
