/**
 * The access-decision log (`audit:`, DSL.md §9.1) end to end: generate fixtures/e2e-audit,
 * install, type-check, boot once against a fresh database, run a scripted sequence of requests and
 * assert the exact rows of `_dazzle_audit_log` (read as the superuser, ordered by `at, id`):
 *
 * - Document (`audit: all`): allow rows (`permit`) for create, list (one row per request, the
 *   query string dropped from the path), read, update (field_changes with the sensitive field
 *   redacted) and delete; deny rows for `forbid`, `no_permit`, `no_scope_rule`, `out_of_scope`
 *   and `scope_create_denied`; a 401 is not logged;
 * - Note (`audit: [update]`): only its update is logged;
 * - a deny row that cannot be written leaves the HTTP answer as it was;
 * - `dazzle_app` can neither read nor write the table directly (42501).
 */
import path from "node:path";
import { http, signToken, type HttpResponse, type StartedApp } from "../support/app";
import { bootGeneratedApp, type BootedApp } from "../support/boot";
import { withClient, type TestDatabase } from "../support/pg";

const FIXTURE = path.resolve(__dirname, "../../../fixtures/e2e-audit/app.dz");
const CLERK = "a0000000-0000-4000-8000-00000000000c";
const VIEWER = "a0000000-0000-4000-8000-00000000000e";
const INTERN = "a0000000-0000-4000-8000-00000000000f";
const ARCHIVED = "d0000000-0000-4000-8000-000000000001";
const TOKENS = {
  clerk: signToken(CLERK, ["clerk"]),
  viewer: signToken(VIEWER, ["viewer"]),
  intern: signToken(INTERN, ["intern"]),
  clerkIntern: signToken(INTERN, ["clerk", "intern"]),
  anonymous: undefined,
} as const;
type Who = keyof typeof TOKENS;

interface Ctx {
  booted?: BootedApp;
  db?: TestDatabase;
  app?: StartedApp;
}
const ctx: Ctx = {};

const api = <T = any>(who: Who, method: string, urlPath: string, body?: unknown): Promise<HttpResponse<T>> =>
  http<T>(ctx.app!.baseUrl, method, urlPath, { token: TOKENS[who], body });

/** The deterministic columns of every log row, in the order written. */
async function logRows(): Promise<unknown[]> {
  return withClient(ctx.db!.url, async (c) =>
    (
      await c.query(
        `SELECT user_id, roles, tenant_id, operation, entity, entity_id, decision, reason, request_method, request_path, field_changes
           FROM _dazzle_audit_log ORDER BY at, id`,
      )
    ).rows,
  );
}

const row = (
  user: string | null,
  roles: string[],
  operation: string,
  entity: string,
  entityId: string | null,
  decision: string,
  reason: string,
  method: string,
  requestPath: string,
  changes: unknown = null,
) => ({
  user_id: user,
  roles,
  tenant_id: null,
  operation,
  entity,
  entity_id: entityId,
  decision,
  reason,
  request_method: method,
  request_path: requestPath,
  field_changes: changes,
});

beforeAll(async () => {
  const booted = await bootGeneratedApp({ name: "audit", spec: { file: FIXTURE } });
  Object.assign(ctx, { booted, db: booted.db, app: booted.app });
}, 10 * 60_000);

afterAll(async () => {
  await ctx.booted?.close();
}, 60_000);

describe("audit: build", () => {
  test("tsc --noEmit passes under strict", async () => {
    expect(await ctx.booted!.typecheck).toEqual({ exitCode: 0, output: "" });
  }, 5 * 60_000);
});

describe("audit: the access-decision log", () => {
  test("a scripted sequence of requests leaves exactly its rows, in order", async () => {
    await withClient(ctx.db!.url, (c) => c.query("INSERT INTO document (id, title, archived) VALUES ($1, 'Old', true)", [ARCHIVED]));

    const created = await api("clerk", "POST", "/api/documents", { title: "Plan", secret: "s1" });
    expect(created.status).toBe(201);
    const doc = created.body.id as string;
    expect((await api("viewer", "GET", "/api/documents?page=1&page_size=5")).status).toBe(200);
    expect((await api("viewer", "GET", `/api/documents/${ARCHIVED}`)).status).toBe(404);
    expect((await api("intern", "GET", `/api/documents/${doc}`)).status).toBe(404);
    const denied = await api("clerk", "POST", "/api/documents", { title: "Filed away", archived: true });
    expect([denied.status, denied.body.error.type]).toEqual([403, "scope_create_denied"]);
    expect((await api("clerk", "PATCH", `/api/documents/${doc}`, { title: "Plan B", secret: "s2" })).status).toBe(200);
    const forbidden = await api("clerkIntern", "PATCH", `/api/documents/${doc}`, { title: "Z" });
    expect([forbidden.status, forbidden.body.error.rule]).toEqual([403, "Document.update.forbid"]);
    const notPermitted = await api("viewer", "DELETE", `/api/documents/${doc}`);
    expect([notPermitted.status, notPermitted.body.error.rule]).toEqual([403, "Document.delete.permit"]);
    expect((await api("anonymous", "GET", "/api/documents")).status).toBe(401);
    expect((await api("viewer", "GET", "/api/notes")).status).toBe(200);
    const note = await api("viewer", "POST", "/api/notes", { body: "first" });
    expect(note.status).toBe(201);
    expect((await api("viewer", "PATCH", `/api/notes/${note.body.id}`, { body: "second" })).status).toBe(200);
    expect((await api("viewer", "GET", `/api/documents/${doc}`)).status).toBe(200);
    expect((await api("clerk", "DELETE", `/api/documents/${doc}`)).status).toBe(204);

    const docs = "/api/documents";
    expect(await logRows()).toEqual([
      row(CLERK, ["clerk"], "create", "Document", doc, "allow", "permit", "POST", docs),
      row(VIEWER, ["viewer"], "list", "Document", null, "allow", "permit", "GET", docs),
      row(VIEWER, ["viewer"], "read", "Document", ARCHIVED, "deny", "out_of_scope", "GET", `${docs}/${ARCHIVED}`),
      row(INTERN, ["intern"], "read", "Document", doc, "deny", "no_scope_rule", "GET", `${docs}/${doc}`),
      row(CLERK, ["clerk"], "create", "Document", null, "deny", "scope_create_denied", "POST", docs),
      row(CLERK, ["clerk"], "update", "Document", doc, "allow", "permit", "PATCH", `${docs}/${doc}`, {
        title: { old: "Plan", new: "Plan B" },
        secret: { old: "[redacted]", new: "[redacted]" },
      }),
      row(INTERN, ["clerk", "intern"], "update", "Document", doc, "deny", "forbid", "PATCH", `${docs}/${doc}`),
      row(VIEWER, ["viewer"], "delete", "Document", doc, "deny", "no_permit", "DELETE", `${docs}/${doc}`),
      row(VIEWER, ["viewer"], "update", "Note", note.body.id, "allow", "permit", "PATCH", `/api/notes/${note.body.id}`, {
        body: { old: "first", new: "second" },
      }),
      row(VIEWER, ["viewer"], "read", "Document", doc, "allow", "permit", "GET", `${docs}/${doc}`),
      row(CLERK, ["clerk"], "delete", "Document", doc, "allow", "permit", "DELETE", `${docs}/${doc}`),
    ]);
  }, 60_000);

  test("a deny row that cannot be written leaves the answer unchanged", async () => {
    const fn = `dazzle_log_decision(text, text, uuid, text, text, text, text, jsonb)`;
    const before = (await logRows()).length;
    await withClient(ctx.db!.url, (c) => c.query(`REVOKE EXECUTE ON FUNCTION ${fn} FROM dazzle_app`));
    try {
      const res = await api("viewer", "DELETE", `/api/documents/${ARCHIVED}`);
      expect([res.status, res.body.error.rule]).toEqual([403, "Document.delete.permit"]);
    } finally {
      await withClient(ctx.db!.url, (c) => c.query(`GRANT EXECUTE ON FUNCTION ${fn} TO dazzle_app`));
    }
    expect((await logRows()).length).toBe(before);
  }, 60_000);

  test("dazzle_app can neither read nor write the log directly", async () => {
    const asApp = (statement: string) =>
      withClient(ctx.db!.url, async (c) => {
        await c.query("BEGIN");
        try {
          await c.query("SET LOCAL ROLE dazzle_app");
          await c.query(statement);
          return "ok";
        } catch (error) {
          return (error as { code?: string }).code;
        } finally {
          await c.query("ROLLBACK");
        }
      });
    expect(await asApp("SELECT count(*) FROM _dazzle_audit_log")).toBe("42501");
    expect(
      await asApp(
        `INSERT INTO _dazzle_audit_log (roles, operation, entity, decision, reason, request_method, request_path) VALUES ('{}', 'list', 'Document', 'allow', 'permit', 'GET', '/api/documents')`,
      ),
    ).toBe("42501");
  }, 60_000);
});
