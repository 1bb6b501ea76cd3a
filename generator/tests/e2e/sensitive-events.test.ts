/**
 * `sensitive` redaction (DSL.md §4.4, §8.2) end to end: a generated app with a sensitive `str`
 * and a sensitive `money` field, written through the API. The SSE stream carries ids only; the
 * event rows in `_dazzle_events` carry the row images with every sensitive column (both money
 * columns, NULLs too) replaced by the JSON string "[redacted]" in `new` and `old`, while
 * `changed` still names a sensitive column that changed. The API itself still answers with the
 * values (sensitive is not access control), and nothing the server logs contains them, not even
 * the log of a PostgreSQL error whose detail quotes the row.
 */
import {
  http,
  openEventStream,
  signToken,
  type SseStream,
  type StartedApp,
} from "../support/app";
import { bootGeneratedApp, type BootedApp } from "../support/boot";
import { withClient, type TestDatabase } from "../support/pg";

const SPEC = `module vault

app vault "Vault"

entity Account "Account":
  owner: uuid required
  name: str(80) required
  ssn: str(11) sensitive
  salary: money(EUR) sensitive
  note: text

  permit:
    list: authenticated
    read: authenticated
    create: authenticated
    update: authenticated
    delete: authenticated

  scope:
    list: owner = current_user
      as: *
    read: owner = current_user
      as: *
    create: owner = current_user
      as: *
    update: owner = current_user
      as: *
    delete: owner = current_user
      as: *
`;

const OWNER = "b0000000-0000-4000-8000-000000000001";
const SSN = "123-45-6789";
const NEW_SSN = "987-65-4321";
const R = "[redacted]";

let booted: BootedApp | undefined;
let db: TestDatabase | undefined;
let app: StartedApp | undefined;
let stream: SseStream | undefined;

beforeAll(async () => {
  booted = await bootGeneratedApp({ name: "sensitive", spec: { text: SPEC } });
  ({ db, app } = booted);
}, 300_000);

afterAll(async () => {
  stream?.close();
  await booted?.close();
}, 60_000);

const token = () => signToken(OWNER, ["member"]);
const api = (method: string, url: string, body?: unknown) => http(app!.baseUrl, method, url, { token: token(), body });

/** The stored payloads of one row's events, in order. */
async function payloads(id: string): Promise<{ event_type: string; payload: unknown }[]> {
  return withClient(db!.url, async (c) => (await c.query(`SELECT event_type, payload FROM _dazzle_events WHERE entity_id = $1 ORDER BY seq`, [id])).rows);
}

test("create, update, delete: SSE sends ids only, stored payloads have every sensitive column redacted", async () => {
  stream = await openEventStream(app!.baseUrl, "/api/events", { token: token() });
  expect(stream.status).toBe(200);
  await new Promise((r) => setTimeout(r, 200));

  const created = await api("POST", "/api/accounts", { owner: OWNER, name: "Ann", ssn: SSN, salary_minor: "150000", note: "first" });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  // The API is not redacted: `sensitive` is METADATA, access is decided by the rules.
  expect([created.body.ssn, created.body.salary_minor, created.body.salary_currency]).toEqual([SSN, "150000", "EUR"]);

  const updated = await api("PATCH", `/api/accounts/${id}`, { ssn: NEW_SSN, note: "second" });
  expect(updated.status).toBe(200);
  // The hub authorises an `updated` event by reading the row as the subscriber; once the row is
  // deleted there is nothing to authorise against and the event is withheld (fail-closed). Wait
  // for it before deleting, so the test does not race the hub.
  await stream.waitFor((e) => e.event === "Account.updated");
  expect((await api("DELETE", `/api/accounts/${id}`)).status).toBe(204);

  const deleted = await stream.waitFor((e) => e.event === "Account.deleted");
  const seen = stream.events.filter((e) => JSON.parse(e.data).id === id);
  expect(seen.map((e) => [e.event, JSON.parse(e.data)])).toEqual(
    // A fresh database: these are its first three events.
    ["created", "updated", "deleted"].map((kind, i) => [`Account.${kind}`, { seq: String(i + 1), type: `Account.${kind}`, entity: "Account", id }]),
  );
  expect(seen.map((e) => Object.keys(JSON.parse(e.data)))).toEqual([0, 1, 2].map(() => ["seq", "type", "entity", "id"]));
  expect(JSON.parse(deleted.data).id).toBe(id);

  const image = (name: string, note: string) => ({ id, owner: OWNER, name, ssn: R, salary_minor: R, salary_currency: R, note });
  expect(await payloads(id)).toEqual([
    { event_type: "Account.created", payload: { new: image("Ann", "first"), old: null, changed: [] } },
    { event_type: "Account.updated", payload: { new: image("Ann", "second"), old: image("Ann", "first"), changed: ["note", "ssn"] } },
    { event_type: "Account.deleted", payload: { new: null, old: image("Ann", "second"), changed: [] } },
  ]);
  const everything = JSON.stringify(await payloads(id));
  for (const secret of [SSN, NEW_SSN, "150000"]) expect([secret, everything.includes(secret)]).toEqual([secret, false]);
});

test("a NULL sensitive value is redacted too (whether it is set does not leak)", async () => {
  const created = await api("POST", "/api/accounts", { owner: OWNER, name: "Bob" });
  expect(created.status).toBe(201);
  const [event] = await payloads(created.body.id);
  expect(event!.payload).toEqual({
    new: { id: created.body.id, owner: OWNER, name: "Bob", ssn: R, salary_minor: R, salary_currency: R, note: null },
    old: null,
    changed: [],
  });
});

test("a 500 caused by PostgreSQL logs SQLSTATE and message, never the error's detail (which may quote row values)", async () => {
  // A user's own trigger (as custom SQL could add) that fails with the row's ssn in its DETAIL.
  await withClient(db!.url, (c) =>
    c.query(`CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      RAISE EXCEPTION 'boom' USING ERRCODE = 'P0001', DETAIL = 'Failing row contains (' || NEW.ssn || ')'; END $$;
      CREATE TRIGGER boom BEFORE INSERT ON account FOR EACH ROW EXECUTE FUNCTION boom();`),
  );
  const failed = await api("POST", "/api/accounts", { owner: OWNER, name: "Cy", ssn: "555-00-1234" });
  expect([failed.status, failed.body]).toEqual([500, { error: { type: "internal", message: "internal error" } }]);
  await withClient(db!.url, (c) => c.query("DROP TRIGGER boom ON account; DROP FUNCTION boom();"));
  const logged = app!.output().split("\n").filter((l) => l.startsWith("POST /api/accounts failed:"));
  expect(logged).toEqual(["POST /api/accounts failed: PostgreSQL error P0001: boom"]);
});

test("nothing the server printed contains a sensitive value", () => {
  const output = app!.output();
  expect(output).toContain("listening on");
  for (const secret of [SSN, NEW_SSN, "555-00-1234"]) expect([secret, output.includes(secret)]).toEqual([secret, false]);
});
