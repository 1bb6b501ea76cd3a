/**
 * Every field type through the whole pipeline (issue 4, Schema): generate fixtures/e2e-types,
 * install, type-check under strict, boot once against a fresh database (the process in a far-off
 * time zone, so any accidental Date conversion would shift values), then
 *
 * - the emitted Kysely `DB` (src/generated/db.ts) equals what kysely-codegen 0.20 introspects
 *   from the migrated database with `--date-parser string --numeric-parser string`, except for
 *   the documented deviations (enum columns are unions of their values; codegen's column
 *   comments are not reproduced);
 * - values round-trip exactly over HTTP: decimals (`12.10` stays `12.10`), money minor units
 *   beyond 2^53 as strings, dates without a time-zone shift, date-times given in any offset,
 *   jsonb (objects, arrays, bare strings), enums, slugs, URLs, time zones, relative defaults;
 * - invalid values and constraint violations answer 422 naming the field, and the CHECKs exist
 *   in the database for writes that bypass the app.
 */
import path from "node:path";
import {
  http,
  signToken,
  type HttpResponse,
  type StartedApp,
} from "../support/app";
import { emittedAndIntrospected } from "../support/db-types";
import { bootGeneratedApp, type BootedApp } from "../support/boot";
import { withClient, type TestDatabase } from "../support/pg";

const FIXTURE = path.resolve(__dirname, "../../../fixtures/e2e-types/app.dz");
const USER = "a0000000-0000-4000-8000-000000000001";

interface Ctx {
  booted?: BootedApp;
  tmp?: string;
  appDir: string;
  db?: TestDatabase;
  app?: StartedApp;
  typecheck?: Promise<{ exitCode: number; output: string }>;
  token: string;
}
const ctx: Ctx = { appDir: "", token: signToken(USER, ["admin"]) };

const api = <T = any>(method: string, urlPath: string, body?: unknown) =>
  http<T>(ctx.app!.baseUrl, method, urlPath, { token: ctx.token, body });

const sql = <R extends Record<string, unknown> = Record<string, unknown>>(text: string, values: unknown[] = []) =>
  withClient(ctx.db!.url, async (c) => (await c.query<R>(text, values)).rows);

/** A 422 validation_error whose details name exactly these fields. */
function expectInvalid(res: HttpResponse, fields: readonly string[]): void {
  expect({ status: res.status, type: res.body?.error?.type }).toEqual({ status: 422, type: "validation_error" });
  expect((res.body.error.details as { field: string }[]).map((d) => d.field).sort()).toEqual([...fields].sort());
}

const BASE = { name: "Widget", price: "12.10", handle: "widget-base" } as const;
let n = 0;
/** A valid create body with a fresh handle and name. */
const body = (extra: Record<string, unknown> = {}) => ({ ...BASE, name: `${BASE.name} ${++n}`, handle: `widget-${n}`, ...extra });

beforeAll(async () => {
  // UTC+14: a DATE parsed into a JS Date, or a timestamp formatted in local time, would show.
  const booted = await bootGeneratedApp({ name: "types", spec: { file: FIXTURE }, env: { TZ: "Pacific/Kiritimati" } });
  Object.assign(ctx, { booted, tmp: booted.tmp, appDir: booted.appDir, db: booted.db, app: booted.app, typecheck: booted.typecheck });
}, 10 * 60_000);

afterAll(async () => {
  await ctx.booted?.close();
}, 60_000);

describe("types: build and schema", () => {
  test("tsc --noEmit passes under strict", async () => {
    expect(await ctx.typecheck!).toEqual({ exitCode: 0, output: "" });
  }, 5 * 60_000);

  test("db.ts equals what kysely-codegen introspects from the migrated database", async () => {
    const { emitted, introspected } = await emittedAndIntrospected(ctx.appDir, ctx.db!.url, ctx.tmp!);
    expect(emitted).toEqual(introspected);
    // Sanity: the comparison saw every type family.
    expect(introspected.tables.item).toMatchObject({
      price: "Generated<Numeric>",
      rate: "Generated<Numeric | null>",
      cost_minor: "Generated<Int8>",
      cost_currency: "Generated<string>",
      attrs: "Json | null",
      ratio: "Generated<number | null>",
      due: "string | null",
      starts: "Timestamp | null",
      kind: "Generated<string | null>",
    });
  }, 180_000);

  test("the DDL: NUMERIC(P,S), BIGINT + CHAR(3), jsonb, named CHECKs, composite unique and index lines", async () => {
    const columns = await sql<{ column_name: string; type: string; is_nullable: string; dflt: string | null }>(
      `SELECT a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type,
              CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS is_nullable, pg_get_expr(d.adbin, d.adrelid) AS dflt
         FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = 'item'::regclass AND a.attnum > 0 AND NOT a.attisdropped`,
    );
    const col = (name: string) => columns.find((c) => c.column_name === name);
    expect(col("price")).toEqual({ column_name: "price", type: "numeric(10,2)", is_nullable: "NO", dflt: "12.50" });
    expect(col("rate")?.dflt).toBe("'-0.0125'::numeric");
    expect(col("cost_minor")).toEqual({ column_name: "cost_minor", type: "bigint", is_nullable: "NO", dflt: "1250" });
    expect(col("cost_currency")).toEqual({ column_name: "cost_currency", type: "character(3)", is_nullable: "NO", dflt: "'EUR'::bpchar" });
    expect(col("fee_minor")?.is_nullable).toBe("YES");
    expect(col("fee_currency")?.dflt).toBe("'GBP'::bpchar");
    expect(col("attrs")?.type).toBe("jsonb");
    expect(col("ratio")?.type).toBe("double precision");
    expect(col("launch")?.dflt).toBe("((CURRENT_DATE + '7 days'::interval))::date");
    expect(col("review")?.dflt).toBe("((CURRENT_DATE - '3 mons'::interval))::date");
    expect(col("expires")?.dflt).toBe("(now() + '00:30:00'::interval)");
    expect(col("price")).toBeDefined();
    expect(col("cost")).toBeUndefined();

    const constraints = (await sql<{ conname: string }>(`SELECT conname FROM pg_constraint WHERE conrelid = 'item'::regclass ORDER BY conname`)).map((r) => r.conname);
    expect(constraints).toEqual(
      expect.arrayContaining([
        "ck_item_handle_slug",
        "ck_item_cost_currency_ccy",
        "ck_item_fee_currency_ccy",
        "ck_item_kind_enum",
        "uq_item_handle",
        "uq_item_sku",
        "uq_item_name_kind",
        "uq_item_kind_name",
        "uq_item_cost_currency_cost_minor_name",
      ]),
    );
    const indexes = (await sql<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE tablename = 'item' AND indexname LIKE 'ix_%' ORDER BY indexname`)).map((r) => r.indexname);
    expect(indexes).toEqual(["ix_item_active", "ix_item_catalog", "ix_item_kind_launch", "ix_item_rank"]);
    const [comment] = await sql<{ c: string }>(`SELECT col_description('item'::regclass, attnum) AS c FROM pg_attribute WHERE attrelid = 'item'::regclass AND attname = 'contact'`);
    expect(comment?.c).toBe("pii: category=contact, sensitivity=high");
  });
});

describe("types: values round-trip exactly over HTTP", () => {
  let created: Record<string, any>;

  beforeAll(async () => {
    const res = await api("POST", "/api/items", {
      ...BASE,
      rate: "-12.5000",
      cost_minor: "123456789012345678",
      fee_minor: -5,
      fee_currency: "USD",
      homepage: "https://example.com/a?b=c",
      zone: "America/New_York",
      attrs: { a: [1, 2.5, { b: null }], s: "x", big: "12345678901234567890" },
      due: "2024-02-29",
      starts: "2024-03-10T01:30:00.123-08:00",
      kind: "on_hold",
      manual: "uploads/ab/cd.pdf",
      contact: "ann@example.com",
    });
    if (res.status !== 201) throw new Error(`POST /api/items → ${res.status} ${res.text}\n${ctx.app!.output().slice(-3000)}`);
    created = res.body;
  });

  test("decimals and money minor units are strings, exactly as sent", () => {
    expect(created).toMatchObject({ price: "12.10", rate: "-12.5000", cost_minor: "123456789012345678", cost_currency: "EUR", fee_minor: "-5", fee_currency: "USD" });
  });

  test("dates do not shift; date-times come back in UTC whatever the offset sent", () => {
    expect(created.due).toBe("2024-02-29");
    expect(created.starts).toBe("2024-03-10T09:30:00.123Z");
  });

  test("json, enum, url, timezone, file and email values come back as sent", () => {
    expect(created).toMatchObject({
      attrs: { a: [1, 2.5, { b: null }], s: "x", big: "12345678901234567890" },
      kind: "on_hold",
      homepage: "https://example.com/a?b=c",
      zone: "America/New_York",
      manual: "uploads/ab/cd.pdf",
      contact: "ann@example.com",
    });
  });

  test("database defaults fill omitted fields: numbers as written, relative dates, currencies", async () => {
    const [today] = await sql<{ plus7: string; minus3m: string }>(
      "SELECT (CURRENT_DATE + 7)::text AS plus7, (CURRENT_DATE - INTERVAL '3 months')::date::text AS minus3m",
    );
    expect(created).toMatchObject({ qty: -3, ratio: 0.5, active: true, launch: today!.plus7, review: today!.minus3m, sku: null, notes: null });
    const res = await api("POST", "/api/items", body());
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ rate: "-0.0125", cost_minor: "1250", cost_currency: "EUR", fee_minor: null, fee_currency: "GBP", zone: "Europe/London", kind: "basic", attrs: null });
    const expires = Date.parse(res.body.expires) - Date.parse(res.body.created);
    const seen = Date.parse(res.body.created) - Date.parse(res.body.seen);
    expect(Math.round(expires / 60_000)).toBe(30);
    expect(Math.round(seen / 3_600_000)).toBe(24);
  });

  test("GET returns the same row; the database holds the exact values", async () => {
    const res = await api("GET", `/api/items/${created.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(created);
    const [row] = await sql(
      "SELECT price::text AS price, cost_minor::text AS cost_minor, due::text AS due, to_char(starts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') AS starts, jsonb_typeof(attrs) AS attrs FROM item WHERE id = $1",
      [created.id],
    );
    expect(row).toEqual({ price: "12.10", cost_minor: "123456789012345678", due: "2024-02-29", starts: "2024-03-10 09:30:00.123", attrs: "object" });
  });

  test("PATCH keeps exactness: decimals, JSON arrays and bare JSON strings, offsets east of UTC", async () => {
    const res = await api("PATCH", `/api/items/${created.id}`, { price: "0.10", attrs: [1, "two", [3]], starts: "2024-01-01T00:15:00+05:30", due: "2024-12-31" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ price: "0.10", attrs: [1, "two", [3]], starts: "2023-12-31T18:45:00.000Z", due: "2024-12-31" });
    const again = await api("PATCH", `/api/items/${created.id}`, { attrs: "just text", price: 7 });
    expect(again.body).toMatchObject({ attrs: "just text", price: "7.00" });
  });
});

describe("types: scope probes bind every type (create and update scopes are `active = true`)", () => {
  test("a would-be row with every type is evaluated in PostgreSQL: active=false is denied, the rest passes", async () => {
    const every = { attrs: [1, { a: "b" }], price: "99999999.99", cost_minor: "-9223372036854775808", due: "2000-01-01", starts: "2000-01-01T00:00:00.000Z", kind: "premium" };
    const denied = await api("POST", "/api/items", body({ ...every, active: false }));
    expect({ status: denied.status, type: denied.body?.error?.type }).toEqual({ status: 403, type: "scope_create_denied" });
    const ok = await api("POST", "/api/items", body(every));
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject(every);
    // The update probe re-binds the stored row (its jsonb array included) with the changes.
    const patched = await api("PATCH", `/api/items/${ok.body.id}`, { name: "renamed", attrs: "text" });
    expect(patched.body).toMatchObject({ name: "renamed", attrs: "text", price: "99999999.99" });
    expect((await api("PATCH", `/api/items/${ok.body.id}`, { active: false })).status).toBe(404);
  });
});

describe("types: invalid values and constraint violations are 422 naming the field", () => {
  test.each([
    ["price", "12.345"],
    ["price", 12.1],
    ["price", "123456789.00"],
    ["rate", "100.0"],
    ["ratio", "0.5"],
    ["handle", "Not A Slug"],
    ["handle", "ab"],
    ["homepage", "ftp://example.com"],
    ["homepage", "example.com"],
    ["zone", "Mars/Olympus_Mons"],
    ["cost_minor", "12.50"],
    ["cost_minor", "99999999999999999999"],
    ["cost_currency", "eur"],
    ["kind", "gold"],
    ["due", "2023-02-29"],
    ["starts", "2024-03-10T01:30:00"],
    ["qty", 2147483648],
  ])("%s = %j", async (field, value) => {
    expectInvalid(await api("POST", "/api/items", body({ [field]: value })), [field]);
  });

  test("a taken unique value, a taken (name, kind) pair and a dangling ref name their field", async () => {
    const first = await api("POST", "/api/items", body({ sku: "SKU-1" }));
    expect(first.status).toBe(201);
    expectInvalid(await api("POST", "/api/items", body({ handle: first.body.handle })), ["handle"]);
    expectInvalid(await api("POST", "/api/items", body({ sku: "SKU-1" })), ["sku"]);
    expectInvalid(await api("POST", "/api/items", body({ name: first.body.name })), ["name"]);
    // Same name, another kind and cost: the composite uniques allow it.
    expect((await api("POST", "/api/items", body({ name: first.body.name, kind: "premium", cost_minor: "1" }))).status).toBe(201);
    expectInvalid(await api("POST", "/api/items", body({ catalog: "c0000000-0000-4000-8000-000000000001" })), ["catalog"]);
    const catalog = await api("POST", "/api/catalogs", { title: "Main" });
    expect(catalog.status).toBe(201);
    expect((await api("POST", "/api/items", body({ catalog: catalog.body.id }))).status).toBe(201);
  });

  test("the CHECKs hold for writes that bypass the app", async () => {
    const attempt = (column: string, value: string) =>
      sql(`INSERT INTO item (name, price, handle, ${column}) VALUES ('raw', 1, 'raw-${column.replace(/_/g, "-")}', $1)`, [value]).then(
        () => null,
        (e: { code?: string; constraint?: string }) => ({ code: e.code, constraint: e.constraint }),
      );
    expect(await attempt("cost_currency", "eu1")).toEqual({ code: "23514", constraint: "ck_item_cost_currency_ccy" });
    expect(await attempt("kind", "gold")).toEqual({ code: "23514", constraint: "ck_item_kind_enum" });
    expect(
      await sql("INSERT INTO item (name, price, handle) VALUES ('raw', 1, 'Bad Slug')").then(
        () => null,
        (e: { code?: string; constraint?: string }) => ({ code: e.code, constraint: e.constraint }),
      ),
    ).toEqual({ code: "23514", constraint: "ck_item_handle_slug" });
  });
});
