/**
 * The events pipeline under a burst (DESIGN.md §4, runtime/events.ts): 300 writes committed back
 * to back — creates, updates and deletes, in and out of each caller's scope, in two tenants —
 * reach every stream completely, in seq order, with exactly the events of rows the caller may
 * list: the hub reads them in batches and each stream authorizes a batch per entity in one
 * transaction, deleted rows through their last image (`dazzle_deleted_images`, tenant-fenced).
 * A `Last-Event-ID` replay of the same range yields the same events. `_dazzle_events.tenant_id`
 * holds the row's partition key (DSL.md §8).
 *
 * Rows the burst updates or deletes exist before it, and rows it creates are not touched again,
 * so whether a created/updated row is in scope does not depend on when it is authorized.
 */
import type { Client } from "pg";
import {
  openEventStream,
  signToken,
  type SseStream,
  type StartedApp,
} from "../support/app";
import { bootGeneratedApp, type BootedApp } from "../support/boot";
import { withClient, type TestDatabase } from "../support/pg";

const SPEC = `module burst

app burst "Burst"

tenancy:
  mode: shared_schema
  partition_key: tenant_id

entity Org "Organisation":
  archetype: tenant
  name: str(80) required

  permit:
    list: authenticated

  scope:
    list: id = current_user.tenant_id
      as: *

entity User "User":
  email: email required unique
  tenant_id: ref Org required

  permit:
    list: authenticated

  scope:
    list: id = current_user
      as: *

entity Note "Note":
  owner: uuid required
  title: str(80) required

  permit:
    list: authenticated

  scope:
    list: owner = current_user
      as: *
`;

const ORG = { a: "a0000000-0000-4000-8000-00000000000a", b: "a0000000-0000-4000-8000-00000000000b" };
const USER = {
  a1: "b0000000-0000-4000-8000-0000000000a1",
  a2: "b0000000-0000-4000-8000-0000000000a2",
  b1: "b0000000-0000-4000-8000-0000000000b1",
};
/** A note's owner and tenant. `a1` in tenant b is owned by a1 but outside a1's tenant (fence). */
const KINDS = [
  { owner: USER.a1, tenant: ORG.a },
  { owner: USER.a2, tenant: ORG.a },
  { owner: USER.a1, tenant: ORG.b },
  { owner: USER.b1, tenant: ORG.b },
] as const;
const OPS = ["created", "updated", "deleted"] as const;
const N = 300;

let booted: BootedApp | undefined;
let db: TestDatabase | undefined;
let app: StartedApp | undefined;
const streams: SseStream[] = [];

beforeAll(async () => {
  booted = await bootGeneratedApp({ name: "burst", spec: { text: SPEC } });
  ({ db, app } = booted);
  await withClient(db.url, async (c) => {
    await c.query(`INSERT INTO org (id, name) VALUES ($1, 'A'), ($2, 'B')`, [ORG.a, ORG.b]);
    await c.query(`INSERT INTO "user" (id, email, tenant_id) VALUES ($1, 'a1@x.test', $4), ($2, 'a2@x.test', $4), ($3, 'b1@x.test', $5)`, [
      USER.a1,
      USER.a2,
      USER.b1,
      ORG.a,
      ORG.b,
    ]);
  });
}, 300_000);

afterAll(async () => {
  for (const stream of streams) stream.close();
  await booted?.close();
}, 60_000);

interface Write {
  readonly op: (typeof OPS)[number];
  readonly id: string;
  readonly owner: string;
  readonly tenant: string;
}

/** The i-th write of the burst: kinds and operations in turn. Updated and deleted rows are inserted up front. */
function plan(): Write[] {
  return Array.from({ length: N }, (_, i) => {
    const kind = KINDS[i % KINDS.length]!;
    const n = String(i).padStart(12, "0");
    return { op: OPS[Math.floor(i / KINDS.length) % OPS.length]!, id: `c0000000-0000-4000-8000-${n}`, ...kind };
  });
}

async function perform(c: Client, w: Write): Promise<void> {
  if (w.op === "created") await c.query("INSERT INTO note (id, tenant_id, owner, title) VALUES ($1, $2, $3, 'new')", [w.id, w.tenant, w.owner]);
  else if (w.op === "updated") await c.query("UPDATE note SET title = 'changed' WHERE id = $1", [w.id]);
  else await c.query("DELETE FROM note WHERE id = $1", [w.id]);
}

const open = (user: string, lastEventId?: string) =>
  openEventStream(app!.baseUrl, "/api/events", { token: signToken(user, ["member"]), lastEventId }).then((s) => {
    streams.push(s);
    return s;
  });

test(`a burst of ${N} writes reaches each stream complete, in seq order, with exactly the caller's events`, async () => {
  const writes = plan();
  // The rows to update and delete, then a marker: once an observer has it, the hub has handed
  // out every earlier event, so the streams opened next start after them.
  const observer = await open(USER.a1);
  await new Promise((r) => setTimeout(r, 200));
  const marker = "d0000000-0000-4000-8000-000000000000";
  const { before, seqs } = await withClient(db!.url, async (c) => {
    for (const w of writes.filter((x) => x.op !== "created")) {
      await c.query("INSERT INTO note (id, tenant_id, owner, title) VALUES ($1, $2, $3, 'old')", [w.id, w.tenant, w.owner]);
    }
    await perform(c, { op: "created", id: marker, owner: USER.a1, tenant: ORG.a });
    return { before: (await c.query<{ seq: string }>("SELECT max(seq)::text AS seq FROM _dazzle_events")).rows[0]!.seq, seqs: [] as string[] };
  });
  await observer.waitFor((e) => JSON.parse(e.data).id === marker, 20_000);
  observer.close();
  const a1 = await open(USER.a1);
  const b1 = await open(USER.b1);
  expect([a1.status, b1.status]).toEqual([200, 200]);
  await new Promise((r) => setTimeout(r, 200));

  // Back to back, one commit each: commit order is seq order.
  await withClient(db!.url, async (c) => {
    for (const w of writes) await perform(c, w);
    // A last in-scope write per stream: once it arrives, every earlier event has been decided.
    await perform(c, { op: "created", id: "d0000000-0000-4000-8000-0000000000a1", owner: USER.a1, tenant: ORG.a });
    await perform(c, { op: "created", id: "d0000000-0000-4000-8000-0000000000b1", owner: USER.b1, tenant: ORG.b });
    const rows = (await c.query<{ seq: string }>("SELECT seq::text AS seq FROM _dazzle_events WHERE seq > $1 ORDER BY seq", [before])).rows;
    seqs.push(...rows.map((r) => r.seq));
  });
  expect(seqs.length).toBe(N + 2);

  await a1.waitFor((e) => JSON.parse(e.data).seq === seqs[N], 20_000);
  await b1.waitFor((e) => JSON.parse(e.data).seq === seqs[N + 1], 20_000);

  /** Every event a stream received, as [SSE id, data]. */
  const shape = (s: SseStream) => s.events.map((e) => [e.id, JSON.parse(e.data)]);
  /** The burst's events of one owner in one tenant, in seq order, then the stream's sentinel. */
  const want = (owner: string, tenant: string, sentinel: number, sentinelId: string) =>
    [
      ...writes.flatMap((w, i) => (w.owner === owner && w.tenant === tenant ? [{ seq: seqs[i]!, type: `Note.${w.op}`, id: w.id }] : [])),
      { seq: seqs[sentinel]!, type: "Note.created", id: sentinelId },
    ].map((e) => [e.seq, { seq: e.seq, type: e.type, entity: "Note", id: e.id }]);
  const forA1 = want(USER.a1, ORG.a, N, "d0000000-0000-4000-8000-0000000000a1");
  const forB1 = want(USER.b1, ORG.b, N + 1, "d0000000-0000-4000-8000-0000000000b1");
  // 300 writes over 4 kinds and 3 operations: 25 of each operation per kind, plus the sentinel.
  expect([forA1.length, forB1.length]).toEqual([76, 76]);
  expect(shape(a1)).toEqual(forA1);
  expect(shape(b1)).toEqual(forB1);

  // Resuming before the burst replays the same events (and then stays live).
  const replay = await open(USER.a1, before);
  await replay.waitFor((e) => JSON.parse(e.data).seq === seqs[N], 20_000);
  expect(shape(replay)).toEqual(forA1);
}, 120_000);

test("_dazzle_events.tenant_id is the row's partition key on a tenant-scoped table, NULL on the tenant root", async () => {
  const rows = await withClient(db!.url, async (c) =>
    (
      await c.query<{ entity: string; tenant: string | null; n: number }>(
        `SELECT entity, tenant_id::text AS tenant, count(*)::int AS n FROM _dazzle_events
          WHERE entity IN ('Note', 'Org') GROUP BY entity, tenant_id ORDER BY entity, tenant_id NULLS FIRST`,
      )
    ).rows,
  );
  // Note: per tenant, 150 burst writes + 100 rows inserted up front (updated / deleted) + 1 sentinel (+ the marker in a).
  expect(rows).toEqual([
    { entity: "Note", tenant: ORG.a, n: 252 },
    { entity: "Note", tenant: ORG.b, n: 251 },
    { entity: "Org", tenant: null, n: 2 },
  ]);
});

test("dazzle_deleted_images hands a session only its own tenant's images of the entity and seqs asked for", async () => {
  const result = await withClient(db!.url, async (c) => {
    const deleted = (await c.query<{ seq: string; tenant: string }>(`SELECT seq::text AS seq, tenant_id::text AS tenant FROM _dazzle_events WHERE event_type = 'Note.deleted' ORDER BY seq`)).rows;
    const created = (await c.query<{ seq: string }>(`SELECT seq::text AS seq FROM _dazzle_events WHERE event_type = 'Note.created' ORDER BY seq LIMIT 1`)).rows;
    const ask = [...deleted.map((r) => r.seq), created[0]!.seq];
    const asTenant = async (tenant: string | null, entity: string) => {
      await c.query("BEGIN");
      try {
        await c.query("SET LOCAL ROLE dazzle_app");
        if (tenant !== null) await c.query("SELECT set_config('dazzle.tenant_id', $1, true)", [tenant]);
        return (await c.query<{ seq: string; owner: string }>(`SELECT seq::text AS seq, old ->> 'owner' AS owner FROM dazzle_deleted_images($1, $2::bigint[]) ORDER BY seq`, [entity, ask])).rows;
      } finally {
        await c.query("ROLLBACK");
      }
    };
    const ofTenant = (t: string) => deleted.filter((r) => r.tenant === t).map((r) => r.seq);
    const a = await asTenant(ORG.a, "Note");
    return {
      a: a.map((r) => r.seq),
      expectedA: ofTenant(ORG.a),
      owners: [...new Set(a.map((r) => r.owner))].sort(),
      b: (await asTenant(ORG.b, "Note")).map((r) => r.seq),
      expectedB: ofTenant(ORG.b),
      none: await asTenant(null, "Note"),
      otherEntity: await asTenant(ORG.a, "Org"),
    };
  });
  expect(result.a).toEqual(result.expectedA);
  expect(result.b).toEqual(result.expectedB);
  expect({ count: result.a.length, owners: result.owners, none: result.none, otherEntity: result.otherEntity }).toEqual({
    count: 50,
    owners: [USER.a1, USER.a2].sort(),
    none: [],
    otherEntity: [],
  });
});
