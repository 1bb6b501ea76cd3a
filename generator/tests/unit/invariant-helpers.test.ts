/**
 * Invariants that read other rows (DSL.md §4.10, issue 4): the definer helper
 * (emit/sql/emit-invariant-helpers.ts, compileInvariantFunction in compile-expression.ts) and the
 * probe that calls it. Exact function SQL with and without tenancy, the exact probe in the
 * generated routes spec, which invariants get no helper, name stability, and the migration diff
 * (a re-created group; a helper that disappears is dropped); on PostgreSQL, the tenant fence.
 */
import { analyze } from "../../compile";
import { makeSourceFile } from "../../diagnostics/span";
import { compileInvariantFunction } from "../../emit/sql/compile-expression";
import { emitInvariantHelpers, invariantHelper, invariantHelperCall } from "../../emit/sql/emit-invariant-helpers";
import { migrationSections, planMigrations, type PreviousSchema } from "../../emit/sql/emit-migrations";
import { emitRoutes } from "../../emit/ts/emit-routes";
import type { AppIR, EntityIR } from "../../ir/ir";
import { createTestDatabase, withClient, type TestDatabase } from "../support/pg";

const CTX = { specName: "t.dz", generatorVersion: "0.0.0", templates: new Map<string, string>() };
const PERMIT = "  permit:\n    read: authenticated\n";

function ir(text: string): AppIR {
  const result = analyze({ files: [makeSourceFile("t.dz", `app t "T"\n${text}`)], rootModule: null, fallbackName: "t", specName: "t.dz" });
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0 || result.ir === null) throw new Error(errors.map((d) => `${d.code} ${d.message}`).join("\n"));
  return result.ir;
}

const PROJECT = `entity Project:\n  budget: int\n  cap: decimal(12,2)\n  parent: ref Project\n${PERMIT}`;
const invoice = (invariants: string) =>
  `${PROJECT}entity Invoice:\n  project: ref Project required\n  amount: int required\n  total: decimal(12,2)\n  due: date\n${invariants}${PERMIT}`;

const TENANCY = `tenancy:
  mode: shared_schema
  partition_key: tenant_id

entity Org:
  archetype: tenant
  name: str(80) required
  cap: int
${PERMIT}entity User:
  email: email required unique
  tenant_id: ref Org required
${PERMIT}`;

const entityOf = (app: AppIR, name: string): EntityIR => app.entities.find((e) => e.name === name)!;

describe("invariant helpers: exact SQL", () => {
  test("a dotted invariant: one definer function over the row's columns, the definer's SELECT grant, the DSL text as COMMENT", () => {
    const app = ir(invoice("  invariant: amount <= project.budget\n    code: within_budget\n"));
    expect(emitInvariantHelpers(app.entities)).toBe(
      [
        "-- Invariant helpers: invariants that read other rows, evaluated as dazzle_definer",
        'GRANT SELECT ON "project" TO "dazzle_definer";',
        "",
        'CREATE OR REPLACE FUNCTION "dz_inv_b52469a4"(integer, uuid) RETURNS boolean',
        "  LANGUAGE sql STABLE SECURITY DEFINER",
        "  SET search_path = public, pg_temp",
        '  AS $$ SELECT ($1 <= (SELECT "dz_r1"."budget" FROM "project" AS "dz_r1" WHERE "dz_r1"."id" = $2)) $$;',
        'ALTER FUNCTION "dz_inv_b52469a4"(integer, uuid) OWNER TO "dazzle_definer";',
        'REVOKE ALL ON FUNCTION "dz_inv_b52469a4"(integer, uuid) FROM PUBLIC;',
        'GRANT EXECUTE ON FUNCTION "dz_inv_b52469a4"(integer, uuid) TO "dazzle_app";',
        "COMMENT ON FUNCTION \"dz_inv_b52469a4\"(integer, uuid) IS 'dazzle-gen invariant helper: Invoice: amount <= project.budget';",
      ].join("\n"),
    );
  });

  test("the probe calls the helper with the would-be row's columns, in parameter order", () => {
    const app = ir(invoice("  invariant: total <= project.parent.cap or amount <= project.budget\n"));
    const helper = invariantHelper(entityOf(app, "Invoice"), entityOf(app, "Invoice").rules!.invariants[0]!, app.entities)!;
    expect(invariantHelperCall(helper, "invoice")).toBe(`"${helper.name}"("invoice"."total", "invoice"."project", "invoice"."amount")`);
    expect(helper.signature).toBe("(numeric, uuid, integer)");
    expect(helper.body).toBe(
      'SELECT (($1 <= (SELECT "dz_r2"."cap" FROM "project" AS "dz_r2" WHERE "dz_r2"."id" = ' +
        '(SELECT "dz_r1"."parent" FROM "project" AS "dz_r1" WHERE "dz_r1"."id" = $2))) OR ' +
        '($3 <= (SELECT "dz_r3"."budget" FROM "project" AS "dz_r3" WHERE "dz_r3"."id" = $2)))',
    );
  });

  test("under tenancy every tenant-scoped table read is fenced; the tenant root is not", () => {
    const app = ir(`${TENANCY}entity Project:\n  budget: int\n  org: ref Org\n${PERMIT}` +
      `entity Invoice:\n  project: ref Project required\n  amount: int required\n  invariant: amount <= project.budget and amount <= project.org.cap\n${PERMIT}`);
    const inv = entityOf(app, "Invoice").rules!.invariants[0]!;
    expect(compileInvariantFunction(inv, { entity: entityOf(app, "Invoice"), entities: app.entities, fenced: new Map([["project", "tenant_id"], ["invoice", "tenant_id"]]) })).toEqual({
      test:
        '(($1 <= (SELECT "dz_r1"."budget" FROM "project" AS "dz_r1" WHERE "dz_r1"."id" = $2 AND "dz_r1"."tenant_id" = dazzle_tenant_id())) AND ' +
        '($1 <= (SELECT "dz_r3"."cap" FROM "org" AS "dz_r3" WHERE "dz_r3"."id" = ' +
        '(SELECT "dz_r2"."org" FROM "project" AS "dz_r2" WHERE "dz_r2"."id" = $2 AND "dz_r2"."tenant_id" = dazzle_tenant_id()))))',
      params: [{ column: "amount", type: "integer" }, { column: "project", type: "uuid" }],
      tables: ["org", "project"],
    });
    // The section takes the fence from EntityIR.tenant itself (Project and Invoice, not the root Org).
    const sql = emitInvariantHelpers(app.entities)!;
    expect(sql).toContain('GRANT SELECT ON "org", "project" TO "dazzle_definer";');
    expect(sql).toContain(`  AS $$ SELECT ${compileInvariantFunction(inv, { entity: entityOf(app, "Invoice"), entities: app.entities, fenced: new Map([["project", "tenant_id"]]) }).test} $$;`);
  });

  test("the generated routes spec probes through the helper; time-dependent and row-local invariants do not", () => {
    const app = ir(invoice("  invariant: amount <= project.budget\n  invariant: due >= today\n  invariant: amount > 0\n"));
    const e = entityOf(app, "Invoice");
    const [dotted, timed, local] = e.rules!.invariants;
    expect(invariantHelper(e, timed!, app.entities)).toBeNull();
    expect(invariantHelper(e, local!, app.entities)).toBeNull();
    const name = invariantHelper(e, dotted!, app.entities)!.name;
    expect(name).toMatch(/^dz_inv_[0-9a-f]{8}$/);
    const routes = emitRoutesText(app, "Invoice");
    expect(routes).toContain(`{ code: "inv_1", message: "amount <= project.budget", probe: "\\"${name}\\"(\\"invoice\\".\\"amount\\", \\"invoice\\".\\"project\\")" },`);
    expect(routes).toContain(`{ code: "inv_2", message: "due >= today", probe: "(\\"invoice\\".\\"due\\" >= CURRENT_DATE)" },`);
    expect(routes).toContain(`{ code: "inv_3", message: "amount > 0", constraint: "ck_invoice_inv_3" },`);
  });

  test("no invariant reads another row: no section", () => {
    expect(emitInvariantHelpers(ir(invoice("  invariant: due >= today\n  invariant: amount > 0\n")).entities)).toBeNull();
  });
});

describe("invariant helpers: names", () => {
  const nameOf = (text: string, entity = "Invoice", n = 0) => {
    const app = ir(text);
    return invariantHelper(entityOf(app, entity), entityOf(app, entity).rules!.invariants[n]!, app.entities)!.name;
  };

  test("the name depends on the table and the expression only: not on message, code or layout", () => {
    const plain = nameOf(invoice("  invariant: amount <= project.budget\n"));
    expect(nameOf(invoice('  invariant: amount  <=  project.budget\n    message: "Over"\n    code: c\n'))).toBe(plain);
    expect(nameOf(invoice("  invariant: amount < project.budget\n"))).not.toBe(plain);
    const other = `${PROJECT}entity Bill:\n  project: ref Project required\n  amount: int required\n  invariant: amount <= project.budget\n${PERMIT}`;
    expect(nameOf(other, "Bill")).not.toBe(plain);
  });

  test("two equal invariants on one entity share one function", () => {
    const sql = emitInvariantHelpers(ir(invoice("  invariant: amount <= project.budget\n  invariant: amount <= project.budget\n    code: again\n")).entities)!;
    expect(sql.match(/^CREATE OR REPLACE FUNCTION/gm)).toHaveLength(1);
  });
});

describe("invariant helpers: migrations", () => {
  function previousOf(text: string): PreviousSchema {
    const plan = planMigrations(ir(text), CTX, null);
    const hash = /^--! Hash: (\S+)$/m.exec(plan.files[0]!.contents)![1]!;
    return { snapshot: plan.snapshot, last: { file: "000001-initial.sql", hash } };
  }

  test("the snapshot records the helper as a re-creatable group; changing the invariant re-creates it and drops the old function", () => {
    const before = invoice("  invariant: amount <= project.budget\n");
    const after = invoice("  invariant: amount < project.budget\n");
    const group = previousOf(before).snapshot.groups.find((g) => g.name === "invariant helpers")!;
    const oldName = invariantHelper(entityOf(ir(before), "Invoice"), entityOf(ir(before), "Invoice").rules!.invariants[0]!, ir(before).entities)!.name;
    expect(group.functions).toEqual([`"${oldName}"(integer, uuid)`]);
    const plan = planMigrations(ir(after), CTX, previousOf(before));
    expect(plan.steps.map((s) => s.description)).toEqual(["re-create invariant helpers", `drop function "${oldName}"(integer, uuid)`]);
    expect(plan.steps[0]!.sql).toBe(emitInvariantHelpers(ir(after).entities));
    expect(plan.steps[1]!.sql).toBe(`DROP FUNCTION IF EXISTS "${oldName}"(integer, uuid);`);
  });

  test("an unchanged spec plans no migration", () => {
    const spec = invoice("  invariant: amount <= project.budget\n");
    expect(planMigrations(ir(spec), CTX, previousOf(spec)).steps).toEqual([]);
  });
});

describe("invariant helpers on PostgreSQL: the tenant fence", () => {
  let db: TestDatabase | undefined;
  afterAll(async () => {
    await db?.drop();
  });

  test("a project of another tenant reads as nothing (NULL), whatever the arguments; the caller's own tenant is checked", async () => {
    const app = ir(`${TENANCY}entity Project:\n  budget: int\n${PERMIT}` +
      `entity Invoice:\n  project: ref Project required\n  amount: int required\n  invariant: amount <= project.budget\n${PERMIT}`);
    const helper = invariantHelper(entityOf(app, "Invoice"), entityOf(app, "Invoice").rules!.invariants[0]!, app.entities)!;
    db = await createTestDatabase("invariant_helpers");
    const A = "a0000000-0000-4000-8000-00000000000a";
    const B = "b0000000-0000-4000-8000-00000000000b";
    const P = "c0000000-0000-4000-8000-00000000000c";
    const rows = await withClient(db.url, async (c) => {
      await c.query(migrationSections(app).map((s) => s.sql).join("\n\n"));
      await c.query(`INSERT INTO org (id, name) VALUES ('${A}', 'A'), ('${B}', 'B')`);
      await c.query(`INSERT INTO project (tenant_id, id, budget) VALUES ('${B}', '${P}', 10)`);
      await c.query("SET ROLE dazzle_app");
      const call = async (tenant: string, amount: number) => {
        await c.query("SELECT set_config('dazzle.tenant_id', $1, false)", [tenant]);
        return (await c.query<{ ok: boolean | null }>(`SELECT "${helper.name}"($1, $2) AS ok`, [amount, P])).rows[0]!.ok;
      };
      return [await call(A, 11), await call(A, 10), await call(B, 11), await call(B, 10)];
    });
    expect(rows).toEqual([null, null, false, true]);
  }, 60_000);
});

/** The generated `<entity>/routes.ts` of one entity. */
function emitRoutesText(app: AppIR, entity: string): string {
  return emitRoutes(app, entityOf(app, entity), CTX).contents;
}
