/**
 * Invariants, transitions and ON DELETE end to end (issue 4, Schema; DSL.md §4.6, §4.9, §4.10):
 * generate fixtures/e2e-rules, install, type-check under strict, boot once against a fresh
 * database, then
 *
 * - row-local invariants are named CHECKs in the database, and their violation (23514) answers
 *   the invariant's 422 on create and update; time-dependent and dotted ones are probed by the
 *   app before the write (NULL passes);
 * - transitions: no edge, a role-gated edge allowed/denied (roles ORed), `requires` on the
 *   destination row, `*` edges, an `auto after` edge unavailable to the API, an unchanged state
 *   is not a transition, and create accepts any state (pitfall 33); two machines over two enum
 *   fields are each checked when their field changes;
 * - ON DELETE CASCADE / RESTRICT (409) / SET NULL on the child FKs, exactly as emitted.
 */
import path from "node:path";
import {
  http,
  signToken,
  type HttpResponse,
  type StartedApp,
} from "../support/app";
import { bootGeneratedApp, type BootedApp } from "../support/boot";
import { withClient, type TestDatabase } from "../support/pg";

const FIXTURE = path.resolve(__dirname, "../../../fixtures/e2e-rules/app.dz");
const USER = "a0000000-0000-4000-8000-000000000002";
const TOKENS = {
  clerk: signToken(USER, ["clerk"]),
  approver: signToken(USER, ["approver"]),
  admin: signToken(USER, ["admin"]),
} as const;
type Who = keyof typeof TOKENS;

interface Ctx {
  booted?: BootedApp;
  tmp?: string;
  appDir: string;
  db?: TestDatabase;
  app?: StartedApp;
  typecheck?: Promise<{ exitCode: number; output: string }>;
}
const ctx: Ctx = { appDir: "" };

const api = <T = any>(who: Who, method: string, urlPath: string, body?: unknown): Promise<HttpResponse<T>> =>
  http<T>(ctx.app!.baseUrl, method, urlPath, { token: TOKENS[who], body });

const sql = <R extends Record<string, unknown> = Record<string, unknown>>(text: string, values: unknown[] = []) =>
  withClient(ctx.db!.url, async (c) => (await c.query<R>(text, values)).rows);

/** status + error body, for exact comparisons. */
const outcome = (res: HttpResponse) => ({ status: res.status, body: res.body });

async function account(creditLimit: number | null = null): Promise<string> {
  const res = await api("clerk", "POST", "/api/accounts", { name: `Account ${Math.random()}`, credit_limit: creditLimit });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function claim(accountId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await api("clerk", "POST", "/api/claims", { account: accountId, amount: 100, ...extra });
  expect(outcome(res)).toMatchObject({ status: 201 });
  return res.body.id as string;
}

const patch = (who: Who, id: string, body: Record<string, unknown>) => api(who, "PATCH", `/api/claims/${id}`, body);

function transitionError(message: string, from: string, to: string, guard?: unknown) {
  return {
    status: 422,
    body: { error: { type: "transition_error", message, field: "status", from, to, ...(guard === undefined ? {} : { guard }) } },
  };
}

beforeAll(async () => {
  const booted = await bootGeneratedApp({ name: "rules", spec: { file: FIXTURE } });
  Object.assign(ctx, { booted, tmp: booted.tmp, appDir: booted.appDir, db: booted.db, app: booted.app, typecheck: booted.typecheck });
}, 10 * 60_000);

afterAll(async () => {
  await ctx.booted?.close();
}, 60_000);

describe("rules: build and schema", () => {
  test("tsc --noEmit passes under strict", async () => {
    expect(await ctx.typecheck!).toEqual({ exitCode: 0, output: "" });
  }, 5 * 60_000);

  test("row-local invariants are named CHECK constraints; ON DELETE actions are on the child FKs", async () => {
    const rows = await sql<{ name: string; def: string }>(
      `SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
        WHERE conrelid IN ('claim'::regclass, 'note'::regclass, 'tag'::regclass) AND contype IN ('c', 'f') ORDER BY conname`,
    );
    expect(rows).toEqual([
      { name: "ck_claim_inv_2", def: "CHECK (((status <> 'rejected'::text) OR (reason IS NOT NULL)))" },
      { name: "ck_claim_non_negative_total", def: "CHECK (((amount - discount) >= 0))" },
      { name: "ck_claim_priority_enum", def: "CHECK ((priority = ANY (ARRAY['low'::text, 'high'::text, 'urgent'::text])))" },
      {
        name: "ck_claim_status_enum",
        def: "CHECK ((status = ANY (ARRAY['draft'::text, 'submitted'::text, 'approved'::text, 'rejected'::text, 'paid'::text, 'archived'::text])))",
      },
      { name: "ck_tag_label_len", def: "CHECK ((char_length(label) <= 40))" },
      { name: "fk_claim_account", def: "FOREIGN KEY (account) REFERENCES account(id) ON DELETE CASCADE" },
      { name: "fk_note_account", def: "FOREIGN KEY (account) REFERENCES account(id) ON DELETE RESTRICT" },
      { name: "fk_tag_account", def: "FOREIGN KEY (account) REFERENCES account(id) ON DELETE SET NULL (account)" },
    ]);
  });
});

describe("invariants", () => {
  test("a CHECK invariant violated on create answers 422 with its code and message", async () => {
    const a = await account();
    const res = await api("clerk", "POST", "/api/claims", { account: a, amount: 5, discount: 10 });
    expect(outcome(res)).toEqual({
      status: 422,
      body: { error: { type: "invariant_violation", message: "Discount exceeds the amount", code: "non_negative_total" } },
    });
  });

  test("without message: the message is the expression as written and the code inv_<n>", async () => {
    const a = await account();
    const res = await api("clerk", "POST", "/api/claims", { account: a, amount: 5, status: "rejected" });
    expect(outcome(res)).toEqual({
      status: 422,
      body: { error: { type: "invariant_violation", message: "status != rejected or reason != null", code: "inv_2" } },
    });
    await claim(a, { status: "rejected", reason: "duplicate" });
  });

  test("a CHECK invariant violated on update answers 422 and changes nothing", async () => {
    const a = await account();
    const id = await claim(a, { amount: 50 });
    expect(outcome(await patch("clerk", id, { discount: 51 }))).toEqual({
      status: 422,
      body: { error: { type: "invariant_violation", message: "Discount exceeds the amount", code: "non_negative_total" } },
    });
    expect(await sql("SELECT discount FROM claim WHERE id = $1", [id])).toEqual([{ discount: 0 }]);
  });

  test("a time-dependent invariant is probed by the app (today)", async () => {
    const a = await account();
    const res = await api("clerk", "POST", "/api/claims", { account: a, amount: 5, due: "2000-01-01" });
    expect(outcome(res)).toEqual({
      status: 422,
      body: { error: { type: "invariant_violation", message: "due is null or due >= today", code: "due_not_past" } },
    });
    const id = await claim(a, { due: "2999-01-01" });
    expect((await patch("clerk", id, { due: "2001-02-03" })).body).toEqual({
      error: { type: "invariant_violation", message: "due is null or due >= today", code: "due_not_past" },
    });
    expect(await sql("SELECT due::text AS due FROM claim WHERE id = $1", [id])).toEqual([{ due: "2999-01-01" }]);
  });

  test("a dotted invariant reads the referenced row; NULL passes", async () => {
    const limited = await account(100);
    const over = await api("clerk", "POST", "/api/claims", { account: limited, amount: 101 });
    expect(outcome(over)).toEqual({
      status: 422,
      body: { error: { type: "invariant_violation", message: "Amount exceeds the account's credit limit", code: "within_credit" } },
    });
    const id = await claim(limited, { amount: 100 });
    expect((await patch("clerk", id, { amount: 150 })).body.error.code).toBe("within_credit");
    // No limit: `amount <= NULL` is NULL, which passes (CHECK semantics).
    await claim(await account(null), { amount: 1_000_000 });
  });
});

describe("transitions", () => {
  test("create is not a transition: any state is accepted (pitfall 33)", async () => {
    const id = await claim(await account(), { status: "approved" });
    expect(await sql("SELECT status FROM claim WHERE id = $1", [id])).toEqual([{ status: "approved" }]);
  });

  test("no edge from the old state to the new one: invalid transition", async () => {
    const id = await claim(await account());
    expect(outcome(await patch("admin", id, { status: "paid" }))).toEqual(transitionError("invalid transition", "draft", "paid"));
    expect(await sql("SELECT status FROM claim WHERE id = $1", [id])).toEqual([{ status: "draft" }]);
  });

  test("a role-gated edge: allowed for its role, denied for another; role(a) or role(b) means either", async () => {
    const a = await account();
    const id = await claim(a);
    expect(outcome(await patch("approver", id, { status: "submitted" }))).toEqual(
      transitionError("transition draft -> submitted requires role clerk", "draft", "submitted", { kind: "role", roles: ["clerk"] }),
    );
    expect((await patch("clerk", id, { status: "submitted" })).status).toBe(200);
    expect(outcome(await patch("clerk", id, { status: "approved" }))).toEqual(
      transitionError("transition submitted -> approved requires one of the roles approver, admin", "submitted", "approved", {
        kind: "role",
        roles: ["approver", "admin"],
      }),
    );
    expect((await patch("admin", id, { status: "approved" })).body.status).toBe("approved");
    const other = await claim(a, { status: "submitted" });
    expect((await patch("approver", other, { status: "approved" })).body.status).toBe("approved");
  });

  test("requires: the destination row's field must be non-empty; sent in the same PATCH it counts", async () => {
    const id = await claim(await account(), { status: "submitted" });
    const guard = { kind: "requires", field: "reason" };
    const message = "transition submitted -> rejected requires reason";
    expect(outcome(await patch("approver", id, { status: "rejected" }))).toEqual(transitionError(message, "submitted", "rejected", guard));
    expect(outcome(await patch("approver", id, { status: "rejected", reason: "" }))).toEqual(transitionError(message, "submitted", "rejected", guard));
    const res = await patch("approver", id, { status: "rejected", reason: "no receipt" });
    expect({ status: res.status, state: res.body.status }).toEqual({ status: 200, state: "rejected" });
    // An edge without guards.
    expect((await patch("clerk", id, { status: "draft" })).body.status).toBe("draft");
  });

  test("`*` edges apply from every state, with their own role guard", async () => {
    const a = await account();
    for (const from of ["draft", "paid", "rejected"]) {
      const id = await claim(a, from === "rejected" ? { status: from, reason: "r" } : { status: from });
      expect(outcome(await patch("clerk", id, { status: "archived" }))).toEqual(
        transitionError(`transition * -> archived requires role admin`, from, "archived", { kind: "role", roles: ["admin"] }),
      );
      expect((await patch("admin", id, { status: "archived" })).body.status).toBe("archived");
    }
  });

  test("an `auto after` edge without `or manual` is not available to API updates", async () => {
    const id = await claim(await account(), { status: "approved" });
    expect(outcome(await patch("admin", id, { status: "paid" }))).toEqual(
      transitionError("transition approved -> paid is not available to API updates", "approved", "paid", { kind: "available" }),
    );
  });

  test("two state machines (status, priority): an update changing both needs a valid edge in each", async () => {
    const id = await claim(await account());
    // status draft -> submitted is valid for a clerk; priority low -> urgent has no edge.
    expect(outcome(await patch("clerk", id, { status: "submitted", priority: "urgent" }))).toEqual({
      status: 422,
      body: { error: { type: "transition_error", message: "invalid transition", field: "priority", from: "low", to: "urgent" } },
    });
    // priority low -> high is valid; status draft -> submitted needs the clerk role.
    expect(outcome(await patch("approver", id, { status: "submitted", priority: "high" }))).toEqual(
      transitionError("transition draft -> submitted requires role clerk", "draft", "submitted", { kind: "role", roles: ["clerk"] }),
    );
    expect(await sql("SELECT status, priority FROM claim WHERE id = $1", [id])).toEqual([{ status: "draft", priority: "low" }]);
    const res = await patch("clerk", id, { status: "submitted", priority: "high" });
    expect({ status: res.status, state: res.body.status, priority: res.body.priority }).toEqual({ status: 200, state: "submitted", priority: "high" });
    // Only priority changes: only its machine is consulted (the role guard of high -> urgent).
    expect(outcome(await patch("clerk", id, { priority: "urgent" }))).toEqual({
      status: 422,
      body: {
        error: { type: "transition_error", message: "transition high -> urgent requires role approver", field: "priority", from: "high", to: "urgent", guard: { kind: "role", roles: ["approver"] } },
      },
    });
    expect((await patch("approver", id, { priority: "urgent" })).body.priority).toBe("urgent");
    expect(await sql("SELECT status, priority FROM claim WHERE id = $1", [id])).toEqual([{ status: "submitted", priority: "urgent" }]);
  });

  test("an update that keeps the state is not a transition", async () => {
    const id = await claim(await account(), { status: "approved" });
    const res = await patch("clerk", id, { status: "approved", amount: 7 });
    expect({ status: res.status, state: res.body.status, amount: res.body.amount }).toEqual({ status: 200, state: "approved", amount: 7 });
  });
});

describe("ON DELETE", () => {
  test("RESTRICT answers 409 and deletes nothing; CASCADE removes the claims; SET NULL clears the tags' FK", async () => {
    const a = await account();
    const c1 = await claim(a);
    const c2 = await claim(a, { status: "submitted" });
    const note = await api("clerk", "POST", "/api/notes", { account: a, body: "keep" });
    const tag = await api("clerk", "POST", "/api/tags", { account: a, label: "t" });
    expect([note.status, tag.status]).toEqual([201, 201]);

    const blocked = await api("clerk", "DELETE", `/api/accounts/${a}`);
    expect({ status: blocked.status, type: blocked.body?.error?.type }).toEqual({ status: 409, type: "conflict" });
    expect(await sql("SELECT count(*)::int AS n FROM claim WHERE account = $1", [a])).toEqual([{ n: 2 }]);

    expect((await api("clerk", "DELETE", `/api/notes/${note.body.id}`)).status).toBe(204);
    expect((await api("clerk", "DELETE", `/api/accounts/${a}`)).status).toBe(204);
    expect(await sql("SELECT id FROM claim WHERE id = ANY($1::uuid[])", [[c1, c2]])).toEqual([]);
    expect(await sql("SELECT account, label FROM tag WHERE id = $1", [tag.body.id])).toEqual([{ account: null, label: "t" }]);
  });
});
