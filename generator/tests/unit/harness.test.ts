/** The PostgreSQL test harness: fresh, empty, isolated databases that drop cleanly. */
import { adminUrl, createTestDatabase, withClient, type TestDatabase } from "../support/pg";

const USER_SCHEMAS_SQL = `
  SELECT nspname FROM pg_namespace
  WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%'
  ORDER BY nspname`;

const USER_RELATIONS_SQL = `
  SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'`;

async function exists(name: string): Promise<boolean> {
  return withClient(adminUrl(), async (c) => {
    const { rows } = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_database WHERE datname = $1", [name]);
    return rows[0]!.n === 1;
  });
}

describe("createTestDatabase", () => {
  const created: TestDatabase[] = [];
  afterAll(async () => {
    for (const db of created) await db.drop();
  });

  test("the admin URL is a superuser connection", async () => {
    const superuser = await withClient(adminUrl(), async (c) => {
      const { rows } = await c.query<{ s: boolean }>("SELECT rolsuper AS s FROM pg_roles WHERE rolname = current_user");
      return rows[0]!.s;
    });
    expect(superuser).toBe(true);
  });

  test("gives a fresh, empty database under a random dz_<label>_ name", async () => {
    const db = await createTestDatabase("Harness Check!");
    created.push(db);
    expect(db.name).toMatch(/^dz_harness_check_[0-9a-f]{12}$/);
    expect(new URL(db.url).pathname).toBe(`/${db.name}`);
    const facts = await withClient(db.url, async (c) => ({
      database: (await c.query<{ d: string }>("SELECT current_database() AS d")).rows[0]!.d,
      schemas: (await c.query<{ nspname: string }>(USER_SCHEMAS_SQL)).rows.map((r) => r.nspname),
      relations: (await c.query<{ n: number }>(USER_RELATIONS_SQL)).rows[0]!.n,
    }));
    expect(facts).toEqual({ database: db.name, schemas: ["public"], relations: 0 });
  });

  test("databases are isolated from each other", async () => {
    const a = await createTestDatabase("harness");
    const b = await createTestDatabase("harness");
    created.push(a, b);
    expect(a.name).not.toBe(b.name);
    await withClient(a.url, (c) => c.query("CREATE TABLE marker (id int PRIMARY KEY); INSERT INTO marker VALUES (1)"));
    const inA = await withClient(a.url, async (c) => (await c.query<{ id: number }>("SELECT id FROM marker")).rows);
    const inB = await withClient(b.url, async (c) => (await c.query<{ n: number }>(USER_RELATIONS_SQL)).rows[0]!.n);
    expect(inA).toEqual([{ id: 1 }]);
    expect(inB).toBe(0);
  });

  test("drop removes the database even with a connection open, and is idempotent", async () => {
    const db = await createTestDatabase("harness_drop");
    expect(await exists(db.name)).toBe(true);
    const { Client } = await import("pg");
    const open = new Client({ connectionString: db.url });
    open.on("error", () => undefined);
    await open.connect();
    try {
      await db.drop();
      expect(await exists(db.name)).toBe(false);
      await expect(db.drop()).resolves.toBeUndefined();
    } finally {
      await open.end().catch(() => undefined);
    }
  });
});
