/**
 * The RBAC matrix's data (emit/ts/rbac-model.ts): seeds valid for the schema, callers, and
 * expectations from the independent IR evaluator (three-valued, like SQL).
 */
import path from "node:path";
import { analyze } from "../../compile";
import { makeSourceFile } from "../../diagnostics/span";
import { buildRbacModel, Evaluator, UNKNOWN_ROLE, type RbacCaller } from "../../emit/ts/rbac-model";
import type { AppIR, Predicate } from "../../ir/ir";
import { readProject } from "../../read-project";

function teams(): AppIR {
  const result = analyze(readProject(path.resolve(__dirname, "../../../fixtures/e2e-teams/app.dz")));
  if (result.ir === null) throw new Error("e2e-teams does not compile");
  return result.ir;
}

test("callers: two per role, neighbouring role pairs, all roles, an unknown role and anonymous; seeds reference existing rows", () => {
  const model = buildRbacModel(teams());
  expect(model.callers.map((c) => c.name)).toEqual([
    "admin",
    "admin (2)",
    "guest",
    "guest (2)",
    "member",
    "member (2)",
    "admin+guest",
    "guest+member",
    "(all roles)",
    "(unknown role)",
    "(anonymous)",
  ]);
  expect(model.callers.find((c) => c.name === "(all roles)")!.roles).toEqual(["admin", "guest", "member"]);
  expect(model.callers.find((c) => c.name === "(unknown role)")!.roles).toEqual([UNKNOWN_ROLE]);
  const ids = new Map(model.seed.map((t) => [t.table, new Set(t.rows.map((r) => r["id"]))]));
  for (const r of model.seed.find((t) => t.table === "task")!.rows) expect(ids.get("project")!.has(r["project"]!)).toBe(true);
});

test("member's task list is exactly the rows of the member's team that are not done", () => {
  const model = buildRbacModel(teams());
  const member = model.callers.find((c) => c.name === "member")!;
  const team = model.seed.find((t) => t.table === "user")!.rows.find((r) => r["id"] === member.userId)!["team"];
  const expected = model.seed.find((t) => t.table === "task")!.rows.filter((r) => r["team"] === team && r["done"] === false).map((r) => r["id"]).sort();
  const task = model.entities.find((e) => e.name === "Task")!;
  const x = task.expectations.find((e) => e.caller === "member")!;
  expect(x.list).toEqual({ status: 200, ids: expected });
  expect(expected.length).toBeGreaterThan(0);
  expect(task.expectations.find((e) => e.caller === "(anonymous)")!.list.status).toBe(401);
  expect(task.expectations.find((e) => e.caller === "guest")!.list.status).toBe(403);
});

test("not via is NULL (fails closed) for an anonymous caller, TRUE/FALSE for a known one", () => {
  const spec = `app s "S"
persona staff "Staff":
  description: "x"
entity Grp "Grp":
  name: str(20) required
  permit:
    read: role(staff)
  scope:
    read: not via Mem(user = current_user, grp = id)
      as: *
entity Mem "Mem":
  user: ref User required
  grp: ref Grp required
  permit:
    list: role(staff)
entity User "User":
  email: email required
  permit:
    list: role(staff)
`;
  const result = analyze({ files: [makeSourceFile("s.dz", spec)], rootModule: null, fallbackName: "s", specName: "s.dz" });
  if (result.ir === null) throw new Error(JSON.stringify(result.diagnostics));
  const app = result.ir!;
  const pred = app.entities.find((e) => e.name === "Grp")!.access.scope![0]!.predicate as Predicate;
  const ev = new Evaluator(app, [
    { table: "user", rows: [{ id: "u1", email: "a@b.c" }] },
    { table: "grp", rows: [{ id: "g1", name: "g" }] },
    { table: "mem", rows: [{ id: "m1", user: "u1", grp: "g1" }] },
  ]);
  const anon: RbacCaller = { name: "anon", userId: null, roles: null };
  const u1: RbacCaller = { name: "u1", userId: "u1", roles: ["staff"] };
  expect(ev.predicate(pred, { id: "g1" }, anon)).toBeNull();
  expect(ev.predicate(pred, { id: "g1" }, u1)).toBe(false);
  expect(ev.predicate(pred, { id: "g2" }, u1)).toBe(true);
});
