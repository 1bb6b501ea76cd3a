/**
 * Event streams when transactions commit out of seq order (runtime/events.ts,
 * runtime/event-position.ts), on the generated fixtures/e2e-teams app: a seq is taken when the
 * trigger inserts the event, so a transaction still open holds a lower seq than one that commits
 * after it. Each event's SSE id is the stream's position — `<highest seq passed>` plus the lower
 * seqs not handed to it yet (`<seq>:<h1>,…`) — so a client that resumes with it gets the late
 * event instead of losing it. Events the caller may not see move the position all the same.
 * Writes are raw SQL on their own connections (the superuser; the triggers record them as usual).
 */
import path from "node:path";
import type { Client } from "pg";
import { http, openEventStream, signToken, type SseStream, type StartedApp } from "../support/app";
import { bootGeneratedApp, type BootedApp } from "../support/boot";
import { withClient, type TestDatabase } from "../support/pg";

const FIXTURE = path.resolve(__dirname, "../../../fixtures/e2e-teams/app.dz");
/** A member of team core: sees the open tasks of team core. */
const MEMBER = "b0000000-0000-4000-8000-000000000001";
const PROJECT = "e0000000-0000-4000-8000-000000000001";
const BAD_ID = {
  error: {
    type: "bad_request",
    message: "Last-Event-ID must be an event id of this stream: <seq> or <seq>:<hole>,… (at most 32 holes, ascending, below <seq>)",
  },
};

let booted: BootedApp | undefined;
let db: TestDatabase | undefined;
let app: StartedApp | undefined;
const streams: SseStream[] = [];
let taskCount = 0;

beforeAll(async () => {
  booted = await bootGeneratedApp({ name: "events-order", spec: { file: FIXTURE } });
  ({ db, app } = booted);
  await withClient(db.url, async (c) => {
    await c.query(`INSERT INTO "user" (id, email, name, team) VALUES ($1, 'm1@example.com', 'Mia', 'core')`, [MEMBER]);
    await c.query(`INSERT INTO project (id, name, owner) VALUES ($1, 'P', $2)`, [PROJECT, MEMBER]);
  });
  // The hub connects with the first stream; once that stream has an event, the hub knows the
  // last seq, and every stream opened later starts there (holes right after it count).
  const warmUp = await open();
  const marker = await insertTask();
  await warmUp.waitFor((e) => JSON.parse(e.data).id === marker.id, 20_000);
  warmUp.close();
}, 300_000);

afterAll(async () => {
  for (const stream of streams) stream.close();
  await booted?.close();
}, 60_000);

function open(lastEventId?: string): Promise<SseStream> {
  return openEventStream(app!.baseUrl, "/api/events", { token: signToken(MEMBER, ["member"]), lastEventId }).then((s) => {
    streams.push(s);
    return s;
  });
}

interface Inserted {
  readonly id: string;
  readonly seq: string;
}

/** Inserts a task (team core: visible; other: not) on `c` (its own commit if none), returning its id and event seq. */
async function insertTask(team = "core", c?: Client): Promise<Inserted> {
  const id = `f0000000-0000-4000-8000-${String(++taskCount).padStart(12, "0")}`;
  const write = async (client: Client) => {
    await client.query("INSERT INTO task (id, title, project, team) VALUES ($1, 't', $2, $3)", [id, PROJECT, team]);
    return (await client.query<{ seq: string }>("SELECT seq::text AS seq FROM _dazzle_events WHERE entity_id = $1", [id])).rows[0]!.seq;
  };
  return { id, seq: c === undefined ? await withClient(db!.url, write) : await write(c) };
}

/** Runs `body` with a transaction open on its own connection; `finish` ends it (COMMIT or ROLLBACK). */
async function withOpenTransaction<T>(body: (c: Client, finish: (how: "COMMIT" | "ROLLBACK") => Promise<void>) => Promise<T>): Promise<T> {
  return withClient(db!.url, async (c) => {
    await c.query("BEGIN");
    let open = true;
    try {
      return await body(c, async (how) => {
        open = false;
        await c.query(how);
      });
    } finally {
      if (open) await c.query("ROLLBACK");
    }
  });
}

/** What a stream received: [SSE id, data]. */
const shape = (s: SseStream) => s.events.map((e) => [e.id, JSON.parse(e.data)]);
const created = (t: Inserted) => ({ seq: t.seq, type: "Task.created", entity: "Task", id: t.id });
const arrived = (s: SseStream, t: Inserted) => s.waitFor((e) => JSON.parse(e.data).id === t.id, 20_000);

test("the generated app type-checks", async () => {
  expect(await booted!.typecheck).toEqual({ exitCode: 0, output: "" });
}, 120_000);

test("live: an event committed after a higher seq is a hole in the ids until it arrives", async () => {
  const stream = await open();
  await withOpenTransaction(async (a, finish) => {
    const first = await insertTask("core", a);
    const second = await insertTask();
    expect(BigInt(second.seq)).toBe(BigInt(first.seq) + 1n);
    await arrived(stream, second);
    await finish("COMMIT");
    await arrived(stream, first);
    expect(shape(stream)).toEqual([
      [`${second.seq}:${first.seq}`, created(second)],
      [second.seq, created(first)],
    ]);
  });
});

test("a hole that commits while the hub's LISTEN connection is down reaches the live stream when the hub catches up", async () => {
  const stream = await open();
  await withOpenTransaction(async (a, finish) => {
    const first = await insertTask("core", a);
    const second = await insertTask();
    await arrived(stream, second);
    // Every other connection to the database goes: the app's pool and its LISTEN connection. The
    // commit's NOTIFY then reaches no listener; the hub reconnects and reads its holes again.
    const own = (await a.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
    await withClient(db!.url, (k) =>
      k.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid NOT IN (pg_backend_pid(), $1)", [own]),
    );
    await finish("COMMIT");
    await arrived(stream, first);
    expect(shape(stream)).toEqual([
      [`${second.seq}:${first.seq}`, created(second)],
      [second.seq, created(first)],
    ]);
  });
});

test("resume: Last-Event-ID with a hole replays exactly the event committed since, with the hole filled", async () => {
  const stream = await open();
  const { first, second } = await withOpenTransaction(async (a, finish) => {
    const first = await insertTask("core", a);
    const second = await insertTask();
    await arrived(stream, second);
    stream.close();
    await finish("COMMIT");
    return { first, second };
  });
  expect(shape(stream)).toEqual([[`${second.seq}:${first.seq}`, created(second)]]);
  const resumed = await open(`${second.seq}:${first.seq}`);
  expect(resumed.status).toBe(200);
  await arrived(resumed, first);
  // A later event: nothing else came in between.
  const later = await insertTask();
  await arrived(resumed, later);
  expect(shape(resumed)).toEqual([
    [second.seq, created(first)],
    [later.seq, created(later)],
  ]);
});

test("resume: a hole still uncommitted when the client reconnects is delivered live once it commits", async () => {
  const stream = await open();
  await withOpenTransaction(async (a, finish) => {
    const first = await insertTask("core", a);
    const second = await insertTask();
    await arrived(stream, second);
    stream.close();
    const resumed = await open(`${second.seq}:${first.seq}`);
    expect(resumed.status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    await finish("COMMIT");
    await arrived(resumed, first);
    expect(shape(resumed)).toEqual([[second.seq, created(first)]]);
  });
});

test("resume with a plain seq: the events after it, ids moved by the events the caller may not see too", async () => {
  const before = await insertTask("other");
  const mine = await insertTask();
  const hidden = await insertTask("other");
  const last = await insertTask();
  const resumed = await open(before.seq);
  await arrived(resumed, last);
  expect(shape(resumed)).toEqual([
    [mine.seq, created(mine)],
    [last.seq, created(last)],
  ]);
  expect(BigInt(last.seq)).toBe(BigInt(hidden.seq) + 1n);
});

test("a rolled-back insert stays a hole in the ids; resuming over it replays nothing for it", async () => {
  const stream = await open();
  const { gone, second } = await withOpenTransaction(async (a, finish) => {
    const gone = await insertTask("core", a);
    const second = await insertTask();
    await arrived(stream, second);
    await finish("ROLLBACK");
    return { gone, second };
  });
  const later = await insertTask();
  await arrived(stream, later);
  expect(shape(stream)).toEqual([
    [`${second.seq}:${gone.seq}`, created(second)],
    [`${later.seq}:${gone.seq}`, created(later)],
  ]);
  stream.close();
  const resumed = await open(`${second.seq}:${gone.seq}`);
  const next = await insertTask();
  await arrived(resumed, next);
  expect(shape(resumed)).toEqual([
    [`${later.seq}:${gone.seq}`, created(later)],
    [`${next.seq}:${gone.seq}`, created(next)],
  ]);
});

test("a Last-Event-ID that is not an id the stream writes is a 400 with the exact message", async () => {
  const holes = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1)).join(",");
  const bad = ["abc", "12:", "12:,11", "12:11,", "12:12", "12:11,3", "12:3,3", "-1", "9223372036854775808", `100:${holes(33)}`];
  const answers = await Promise.all(
    bad.map((value) => http(app!.baseUrl, "GET", "/api/events", { token: signToken(MEMBER, ["member"]), headers: { "last-event-id": value } })),
  );
  expect(answers.map((r) => [r.status, r.body])).toEqual(bad.map(() => [400, BAD_ID]));
});
