/**
 * `dazzle-gen explain` (issue 5): exact output for a caller matched by a path rule and a `via`
 * rule (helpers listed), for a permit denial, for an anonymous caller, and the CLI's usage errors.
 * Lists (caller-roles.ts): exact output for a single-role caller whose list runs as its caller
 * role (its `select_as_<role>` policy as emitted, WHERE TRUE, then the `dazzle_app` policy and
 * filter of callers with several roles) and for one whose list scope is `all` (as `dazzle_app`).
 */
import { analyze } from "../../compile";
import { main } from "../../cli";
import { makeSourceFile } from "../../diagnostics/span";
import { explain } from "../../explain";
import type { AppIR } from "../../ir/ir";
import path from "node:path";

const SPEC = `app school "School"

persona teacher "Teacher":
  description: "Own department"
persona admin "Admin":
  description: "Everything"
persona banned "Banned":
  description: "Suspended"

entity Department "Department":
  name: str(120) required
  permit:
    list: authenticated

entity User "User":
  email: email required
  department: ref Department
  permit:
    read: role(admin)

entity Group "Group":
  name: str(120) required
  department: ref Department required
  permit:
    list: role(admin)

entity Membership "Membership":
  user: ref User required
  group: ref Group required
  revoked_at: datetime
  permit:
    list: role(admin)

entity Notice "Notice":
  title: str(120) required
  department: ref Department required
  pinned: bool=false
  permit:
    list: role(teacher) or role(admin)
  scope:
    list: department = current_user.department or pinned = true
      as: teacher
    list: all
      as: admin

entity Enrolment "Enrolment":
  label: str(120) required
  group: ref Group required
  permit:
    read: role(teacher) or role(admin)
  forbid:
    read: role(banned)
  scope:
    read: group.department = current_user.department
      as: teacher
    read: via Membership(user = current_user, group = group, revoked_at = null)
      as: teacher
    read: all
      as: admin
`;

function ir(): AppIR {
  const result = analyze({ files: [makeSourceFile("app.dz", SPEC)], rootModule: null, fallbackName: "school", specName: "app.dz" });
  if (result.ir === null) throw new Error(JSON.stringify(result.diagnostics));
  return result.ir;
}

test("a teacher reading enrolments: rules, RLS policy, app WHERE and helpers", () => {
  expect(explain(ir(), "Enrolment", "read", ["teacher"])).toBe(EXPECTED_TEACHER);
});

test("permit denial and anonymous callers are explained", () => {
  const denied = explain(ir(), "Enrolment", "read", ["teacher", "banned"]);
  expect(denied).toContain("  decision: 403 forbidden (Enrolment.read.forbid matches)\n");
  expect(denied).toContain("app-layer WHERE for teacher, banned:\n  (not reached: 403 forbidden (Enrolment.read.forbid matches))\n");
  const anonymous = explain(ir(), "Enrolment", "read", []);
  expect(anonymous.split("\n")[0]).toBe("Enrolment read as anonymous (no token)");
  expect(anonymous).toContain("  decision: 401 unauthorized (no anonymous permit rule)\n");
  expect(explain(ir(), "Enrolment", "create", ["admin"])).toContain("RLS policy scope_insert on \"enrolment\" (all roles; gated per role inside):\n  -- scope_insert (create): no policy, denied\n");
});

test("a teacher listing notices runs as dazzle_as_teacher: its policy, WHERE TRUE, and the dazzle_app policy and filter", () => {
  expect(explain(ir(), "Notice", "list", ["teacher"])).toBe(EXPECTED_NOTICE_TEACHER);
});

test("an admin listing notices (scope all) and a caller with several roles run as dazzle_app", () => {
  expect(explain(ir(), "Notice", "list", ["admin"])).toBe(EXPECTED_NOTICE_ADMIN);
  const both = explain(ir(), "Notice", "list", ["teacher", "admin"]);
  expect(both).toContain("database role:\n  dazzle_app: several roles (a caller role serves a caller holding exactly one)\n\nRLS policy scope_select on \"notice\" (all roles; gated per role inside):\n");
  expect(both).not.toContain("select_as_");
  expect(explain(ir(), "Enrolment", "read", ["teacher"])).not.toContain("database role:");
});

test("the CLI subcommand prints the explanation and rejects bad usage", async () => {
  let out = "";
  let err = "";
  const io = { stdout: (s: string) => void (out += s), stderr: (s: string) => void (err += s) };
  const spec = path.resolve(__dirname, "../../../fixtures/e2e-teams/app.dz");
  expect(await main(["explain", spec, "Task", "list", "--as", "member"], io)).toBe(0);
  expect(out).toContain('app-layer WHERE for member as dazzle_as_member (none of its own: the policy is the scope):\n  TRUE\n');
  expect(out).toContain('app-layer WHERE for member with other roles, as dazzle_app (ORed with their rules\' filters):\n  ("task"."team" = (SELECT dazzle_user_attr_team()) AND "task"."done" = FALSE)\n');
  expect(await main(["explain", spec, "Task", "list"], io)).toBe(2);
  expect(await main(["explain", spec, "Task", "write", "--as", "member"], io)).toBe(2);
  expect(await main(["explain", spec, "Nope", "list", "--as", "member"], io)).toBe(2);
  expect(err).toContain("no entity Nope");
});

const EXPECTED_TEACHER = [
  "Enrolment read as teacher",
  "",
  "permit/forbid:",
  "  Enrolment.read.permit: role(teacher) or role(admin)",
  "  Enrolment.read.forbid: role(banned)",
  "  decision: permitted",
  "",
  "scope rules:",
  "  Enrolment.read.1 (as: teacher): group.department = current_user.department",
  "  Enrolment.read.2 (as: teacher): via Membership(user = current_user, group = group, revoked_at = null)",
  "  not for these roles: Enrolment.read.3 (as: admin)",
  "",
  "RLS policy scope_select on \"enrolment\" (all roles; gated per role inside):",
  "  -- scope_select (read, list)",
  "  --   Enrolment.read.1: group.department = current_user.department",
  "  --   Enrolment.read.2: via Membership(user = current_user, group = group, revoked_at = null)",
  "  --   Enrolment.read.3: all",
  "  CREATE POLICY \"scope_select\" ON \"enrolment\" FOR SELECT TO \"dazzle_app\"",
  "    USING ((((SELECT dazzle_has_role('teacher')) AND NOT (SELECT dazzle_has_role('banned'))) AND (\"group\" IN (SELECT * FROM dz_path_b43426dc((SELECT dazzle_user_attr_department()))) OR \"group\" IN (SELECT * FROM dz_via_edbe806a((SELECT dazzle_user_id()))))) OR ((SELECT dazzle_has_role('admin')) AND NOT (SELECT dazzle_has_role('banned'))));",
  "",
  "app-layer WHERE for teacher:",
  "  (\"enrolment\".\"group\" IN (SELECT * FROM dz_path_b43426dc((SELECT dazzle_user_attr_department()))) OR \"enrolment\".\"group\" IN (SELECT * FROM dz_via_edbe806a((SELECT dazzle_user_id()))))",
  "",
  "helper functions:",
  "  dz_path_b43426dc(uuid) RETURNS SETOF uuid -- FK path group.department = $1: ids of group rows",
  "    SELECT t1.\"id\" FROM \"group\" t1 WHERE t1.\"department\" = $1",
  "  dz_via_edbe806a(uuid) RETURNS SETOF uuid -- via Membership(group = group, user = $1, revoked_at = null)",
  "    SELECT j.\"group\" FROM \"membership\" j WHERE j.\"user\" = $1 AND j.\"revoked_at\" IS NULL AND j.\"group\" IS NOT NULL",
].join("\n") + "\n";

const EXPECTED_NOTICE_TEACHER = [
  "Notice list as teacher",
  "",
  "permit/forbid:",
  "  Notice.list.permit: role(teacher) or role(admin)",
  "  Notice.list.forbid: (none)",
  "  decision: permitted",
  "",
  "scope rules:",
  "  Notice.list.1 (as: teacher): department = current_user.department or pinned = true",
  "  not for these roles: Notice.list.2 (as: admin)",
  "",
  "database role:",
  "  dazzle_as_teacher (caller role): a caller whose only role is teacher lists as it, under its policy select_as_teacher",
  "  dazzle_app for a caller holding teacher and other roles: scope_select and the app-layer WHERE below",
  "",
  "RLS policy select_as_teacher on \"notice\" (dazzle_as_teacher only; teacher's list scope, role tests assigned):",
  "  -- select_as_teacher: the list scope of a caller whose only role is teacher",
  "  CREATE POLICY \"select_as_teacher\" ON \"notice\" FOR SELECT TO \"dazzle_as_teacher\"",
  "    USING (\"department\" = (SELECT dazzle_user_attr_department()) OR (\"pinned\" = TRUE AND (SELECT dazzle_has_role('teacher'))));",
  "",
  "app-layer WHERE for teacher as dazzle_as_teacher (none of its own: the policy is the scope):",
  "  TRUE",
  "",
  "RLS policy scope_select on \"notice\" (all roles; gated per role inside):",
  "  -- scope_select (read, list)",
  "  --   Notice.list.1: department = current_user.department or pinned = true",
  "  --   Notice.list.2: all",
  "  CREATE POLICY \"scope_select\" ON \"notice\" FOR SELECT TO \"dazzle_app\"",
  "    USING (((SELECT dazzle_has_role('teacher')) AND (\"department\" = (SELECT dazzle_user_attr_department()) OR \"pinned\" = TRUE)) OR (SELECT dazzle_has_role('admin')));",
  "",
  "app-layer WHERE for teacher with other roles, as dazzle_app (ORed with their rules' filters):",
  "  (\"notice\".\"department\" = (SELECT dazzle_user_attr_department()) OR \"notice\".\"pinned\" = TRUE)",
  "",
  "helper functions:",
  "  (none)",
].join("\n") + "\n";

const EXPECTED_NOTICE_ADMIN = [
  "Notice list as admin",
  "",
  "permit/forbid:",
  "  Notice.list.permit: role(teacher) or role(admin)",
  "  Notice.list.forbid: (none)",
  "  decision: permitted",
  "",
  "scope rules:",
  "  Notice.list.2 (as: admin): all",
  "  not for these roles: Notice.list.1 (as: teacher)",
  "",
  "database role:",
  "  dazzle_app: admin's list scope is every row (no caller role)",
  "",
  "RLS policy scope_select on \"notice\" (all roles; gated per role inside):",
  "  -- scope_select (read, list)",
  "  --   Notice.list.1: department = current_user.department or pinned = true",
  "  --   Notice.list.2: all",
  "  CREATE POLICY \"scope_select\" ON \"notice\" FOR SELECT TO \"dazzle_app\"",
  "    USING (((SELECT dazzle_has_role('teacher')) AND (\"department\" = (SELECT dazzle_user_attr_department()) OR \"pinned\" = TRUE)) OR (SELECT dazzle_has_role('admin')));",
  "",
  "app-layer WHERE for admin:",
  "  TRUE",
  "",
  "helper functions:",
  "  (none)",
].join("\n") + "\n";
