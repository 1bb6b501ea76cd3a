/**
 * Caller roles (emit/sql/caller-roles.ts) from hand-built IR: which app roles get a database role
 * and why, the exact SELECT policy body of each (fail-closed gating included), the fail-closed
 * classification of every predicate kind (exactly, then checked against SQL three-valued logic),
 * and the exact roles and row-level-security SQL that name them.
 */
import type { AppIR, EntityIR, ExistsCheck, FieldIR, Operation, PathCheck, PermitExpr, Predicate, ScopeRuleIR } from "../../ir/ir";
import { callerPolicyBody, callerRoleName, callerRoles, failsClosed, listRole, listRoleRefusal, listScope, runtimeRoles } from "../../emit/sql/caller-roles";
import { emitRls } from "../../emit/sql/emit-rls";
import { emitRoles } from "../../emit/sql/emit-roles";
import { prng, type Rand } from "../support/fuzz";
import { ORG_PATH } from "../support/predicates";

const role = (r: string): PermitExpr => ({ kind: "role", role: r });
const anyOf = (...roles: string[]): PermitExpr => ({ kind: "or", children: roles.map(role) });
const NEVER: PermitExpr = { kind: "never" };
const ALL: Predicate = { kind: "true" };
const OWNER: Predicate = { kind: "userAttr", column: "owner", op: "=", attr: "id" };
const PUBLIC: Predicate = { kind: "column", column: "visibility", op: "=", value: "public", sqlType: "text" };
const DONE: Predicate = { kind: "column", column: "done", op: "=", value: false, sqlType: "boolean" };

const NOT_MEMBER: ExistsCheck = {
  kind: "exists",
  junction: { entity: "Membership", table: "membership" },
  entityBindings: [{ path: { hops: [], column: "project", sqlType: "uuid" }, column: "id" }],
  principalBindings: [{ path: { hops: [], column: "user", sqlType: "uuid" }, op: "=", attr: "id" }],
  nullBindings: [],
  negated: true,
};

const has = (r: string) => `(SELECT dazzle_has_role('${r}'))`;

function ops(e: Partial<Record<Operation, PermitExpr>>): Record<Operation, PermitExpr> {
  return { list: NEVER, read: NEVER, create: NEVER, update: NEVER, delete: NEVER, ...e };
}

/** A scope rule; task() numbers it. */
const rule = (operation: Operation, roles: string[] | "*", predicate: Predicate, source = ""): ScopeRuleIR => ({
  id: "",
  operation,
  roles,
  predicate,
  source,
});

/** Ids as lowering gives them: `Task.<op>.<1-based position among the op's rules>`. */
const numbered = (rules: ScopeRuleIR[]) =>
  rules.map((r, i) => ({ ...r, id: `Task.${r.operation}.${rules.slice(0, i + 1).filter((x) => x.operation === r.operation).length}` }));

function field(column: string, type: FieldIR["type"]): FieldIR {
  return { name: column, column, type, required: false, unique: false, default: null, serverManaged: false, autoUpdate: false, indexed: false };
}

const FIELDS: FieldIR[] = [
  field("id", { kind: "uuid" }),
  field("owner", { kind: "uuid" }),
  field("visibility", { kind: "text" }),
  field("done", { kind: "bool" }),
];

/** An entity `Task` (table `task`) with the given permit, forbid and scope. */
function task(
  permit: Partial<Record<Operation, PermitExpr>>,
  scope: ScopeRuleIR[] | null,
  forbid: Partial<Record<Operation, PermitExpr>> = {},
  extra: Partial<EntityIR> = {},
): EntityIR {
  return {
    name: "Task",
    title: "Task",
    table: "task",
    route: "tasks",
    fields: FIELDS,
    access: { exposed: true, permit: ops(permit), forbid: ops(forbid), scope: scope === null ? null : numbered(scope) },
    ...extra,
  };
}

/** A Task listed by `member` only, through the one list rule `predicate`. */
const memberLists = (predicate: Predicate) => task({ list: role("member") }, [rule("list", ["member"], predicate)]);

describe("listScope / listRole", () => {
  test("a scope that follows an FK path or a via junction keeps its filter in the query (dazzle_app): a WHERE semi-join can use the index, a policy's subplan cannot", () => {
    for (const p of [ORG_PATH, NOT_MEMBER, { kind: "and", children: [OWNER, ORG_PATH] } as Predicate]) {
      expect(listRole(memberLists(p), "member")).toBeNull();
      expect(listRoleRefusal(memberLists(p), "member")).toBe(
        "member's list scope follows an FK path or a via junction, which the query's WHERE turns into an indexed semi-join (no caller role)",
      );
    }
    expect(listRoleRefusal(memberLists(OWNER), "member")).toBeNull();
    expect(listRoleRefusal(memberLists(ALL), "member")).toBe("member's list scope is every row (no caller role)");
  });

  test("a predicate list scope gets dazzle_as_<role>", () => {
    const e = memberLists(OWNER);
    expect(listScope(e, "member")).toEqual(OWNER);
    expect(listRole(e, "member")).toBe("dazzle_as_member");
  });

  test("`all`, with or without a scope block, runs as dazzle_app", () => {
    const e = task({ list: anyOf("admin", "member") }, [rule("list", ["admin"], ALL), rule("list", ["member"], OWNER)]);
    expect(listScope(e, "admin")).toEqual(ALL);
    expect(listRole(e, "admin")).toBeNull();
    expect(listRole(e, "member")).toBe("dazzle_as_member");
    const noScope = task({ list: role("member") }, null);
    expect(listScope(noScope, "member")).toEqual(ALL);
    expect(listRole(noScope, "member")).toBeNull();
  });

  test("a list denied by permit or by forbid runs as dazzle_app", () => {
    const notPermitted = task({ list: role("admin"), read: role("member") }, [rule("list", ["member"], OWNER), rule("read", ["member"], OWNER)]);
    expect(listScope(notPermitted, "member")).toEqual({ kind: "false" });
    expect(listRole(notPermitted, "member")).toBeNull();
    const forbidden = task({ list: { kind: "authenticated" } }, [rule("list", "*", OWNER)], { list: role("guest") });
    expect(listScope(forbidden, "guest")).toEqual({ kind: "false" });
    expect(listRole(forbidden, "guest")).toBeNull();
    // The forbid names only guest: another role still lists through the `as: *` rule.
    expect(listRole(forbidden, "member")).toBe("dazzle_as_member");
  });

  test("a non-exposed entity runs as dazzle_app whatever its rules say", () => {
    const e = memberLists(OWNER);
    const hidden: EntityIR = { ...e, access: { ...e.access, exposed: false } };
    expect(listScope(hidden, "member")).toEqual({ kind: "false" });
    expect(listRole(hidden, "member")).toBeNull();
  });

  test("`as: *` rules apply to every permitted role and OR with the role's own rules", () => {
    const e = task({ list: anyOf("member", "viewer") }, [rule("list", "*", OWNER), rule("list", ["viewer"], PUBLIC)]);
    expect(listScope(e, "member")).toEqual(OWNER);
    expect(listScope(e, "viewer")).toEqual({ kind: "or", children: [OWNER, PUBLIC] });
    expect(listRole(e, "viewer")).toBe("dazzle_as_viewer");
  });

  test("several list rules of one role are ORed; read rules are not part of the list scope", () => {
    const e = task({ list: role("member"), read: role("member") }, [
      rule("list", ["member"], OWNER),
      rule("read", ["member"], DONE),
      rule("list", ["member"], PUBLIC),
    ]);
    expect(listScope(e, "member")).toEqual({ kind: "or", children: [OWNER, PUBLIC] });
  });

  test("a role whose database role would pass 63 bytes gets none and is left out of callerRoles", () => {
    const fits = "r".repeat(53); // dazzle_as_ + 53 = 63 bytes
    const tooLong = "r".repeat(54);
    const wide = "ü".repeat(27); // 54 bytes in UTF-8, 27 characters
    expect(callerRoleName(fits)).toBe(`dazzle_as_${fits}`);
    expect(callerRoleName(tooLong)).toBeNull();
    expect(callerRoleName(wide)).toBeNull();
    const e = task({ list: anyOf(fits, tooLong, wide) }, [rule("list", [fits, tooLong, wide], OWNER)]);
    expect(listRole(e, fits)).toBe(`dazzle_as_${fits}`);
    expect(listRole(e, tooLong)).toBeNull();
    expect(listRole(e, wide)).toBeNull();
    expect(callerRoles({ roles: [fits, tooLong, wide], entities: [e] })).toEqual([fits]);
  });
});

describe("callerPolicyBody", () => {
  test("a predicate NULL for an unset context needs no role test", () => {
    expect(callerPolicyBody(memberLists(OWNER), "member")).toBe(`"owner" = (SELECT dazzle_user_id())`);
  });

  test("a literal-only predicate is gated by the role test, after the predicate", () => {
    expect(callerPolicyBody(memberLists(PUBLIC), "member")).toBe(`"visibility" = 'public' AND ${has("member")}`);
  });

  test("an OR gates only its open disjunct, parenthesised", () => {
    expect(callerPolicyBody(memberLists({ kind: "or", children: [OWNER, PUBLIC] }), "member")).toBe(
      `"owner" = (SELECT dazzle_user_id()) OR ("visibility" = 'public' AND ${has("member")})`,
    );
    // The same from two rules, the open one first.
    const twoRules = task({ list: role("member") }, [rule("list", ["member"], PUBLIC), rule("list", ["member"], OWNER)]);
    expect(callerPolicyBody(twoRules, "member")).toBe(`("visibility" = 'public' AND ${has("member")}) OR "owner" = (SELECT dazzle_user_id())`);
  });

  test("an AND with a closed conjunct is closed", () => {
    expect(callerPolicyBody(memberLists({ kind: "and", children: [PUBLIC, OWNER] }), "member")).toBe(
      `("visibility" = 'public' AND "owner" = (SELECT dazzle_user_id()))`,
    );
  });

  test("`all` is the role test alone; a denied list has no policy", () => {
    expect(callerPolicyBody(memberLists(ALL), "member")).toBe(has("member"));
    expect(callerPolicyBody(memberLists(OWNER), "viewer")).toBeNull();
    expect(callerPolicyBody(task({ list: role("member") }, [rule("list", ["member"], OWNER)], { list: role("member") }), "member")).toBeNull();
  });

  test("`not via` with a principal binding is closed by its CASE guard", () => {
    expect(callerPolicyBody(memberLists(NOT_MEMBER), "member")).toBe(
      `CASE WHEN (SELECT dazzle_user_id()) IS NULL THEN NULL ELSE NOT ("id" IN (SELECT * FROM dz_via_1f51ac8e((SELECT dazzle_user_id())))) END`,
    );
  });

  test("`not` of a literal column test is open and gated", () => {
    expect(callerPolicyBody(memberLists({ kind: "not", child: PUBLIC }), "member")).toBe(`NOT ("visibility" = 'public') AND ${has("member")}`);
  });

  test("a path compared with a principal attribute is closed", () => {
    expect(callerPolicyBody(memberLists(ORG_PATH), "member")).toBe(`"invoice" IN (SELECT * FROM dz_path_8d2e57e7((SELECT dazzle_user_attr_org())))`);
  });

  test("a role name with quotes is quoted as a literal in the role test", () => {
    const hostile = `o'ne"`;
    const e = task({ list: role(hostile) }, [rule("list", [hostile], { kind: "or", children: [OWNER, PUBLIC] })]);
    expect(callerPolicyBody(e, hostile)).toBe(
      `"owner" = (SELECT dazzle_user_id()) OR ("visibility" = 'public' AND (SELECT dazzle_has_role('o''ne"')))`,
    );
  });
});

describe("failsClosed", () => {
  const PATH_LITERAL: PathCheck = { ...ORG_PATH, value: { kind: "literal", value: "00000000-0000-4000-8000-000000000001" } };
  const PATH_DATE: PathCheck = { ...ORG_PATH, column: "due", sqlType: "date", op: "<", value: { kind: "relativeDate", base: "today", sign: "+", amount: 0, unit: "d" } };
  const VIA_NO_PRINCIPAL: ExistsCheck = { ...NOT_MEMBER, principalBindings: [], nullBindings: [{ path: { hops: [], column: "revoked_at", sqlType: "timestamptz" }, op: "=" }], negated: false };
  const and = (...children: Predicate[]): Predicate => ({ kind: "and", children });
  const or = (...children: Predicate[]): Predicate => ({ kind: "or", children });
  const not = (child: Predicate): Predicate => ({ kind: "not", child });

  test.each<[string, boolean, Predicate]>([
    ["true", false, ALL],
    ["false (conservatively open)", false, { kind: "false" }],
    ["column literal", false, PUBLIC],
    ["userAttr", true, OWNER],
    ["path = current_user.org", true, ORG_PATH],
    ["path = literal", false, PATH_LITERAL],
    ["path < today", false, PATH_DATE],
    ["not via with a principal binding", true, NOT_MEMBER],
    ["via with a principal binding", true, { ...NOT_MEMBER, negated: false }],
    ["via without a principal binding", false, VIA_NO_PRINCIPAL],
    ["and: one closed child", true, and(PUBLIC, OWNER)],
    ["and: no closed child", false, and(PUBLIC, DONE)],
    ["or: every child closed", true, or(OWNER, ORG_PATH)],
    ["or: one open child", false, or(OWNER, PUBLIC)],
    ["not userAttr", true, not(OWNER)],
    ["not path = current_user.org", true, not(ORG_PATH)],
    ["not column literal", false, not(PUBLIC)],
    ["not via without a principal binding", false, not(VIA_NO_PRINCIPAL)],
    ["not of an and (conservatively open)", false, not(and(OWNER, ORG_PATH))],
    ["not of a not (conservatively open)", false, not(not(OWNER))],
  ])("%s → closed: %s", (_, closed, p) => {
    expect(failsClosed(p)).toBe(closed);
  });

  /**
   * Three-valued (Kleene) evaluation with the context unset: a leaf reading a principal value is
   * NULL (its SQL form is a plain comparison with NULL or a CASE … THEN NULL), any other leaf takes
   * the value `open` gives it.
   */
  type Tri = boolean | null;
  function evalUnset(p: Predicate, open: (leaf: Predicate) => Tri): Tri {
    switch (p.kind) {
      case "and": {
        const vs = p.children.map((c) => evalUnset(c, open));
        return vs.includes(false) ? false : vs.includes(null) ? null : true;
      }
      case "or": {
        const vs = p.children.map((c) => evalUnset(c, open));
        return vs.includes(true) ? true : vs.includes(null) ? null : false;
      }
      case "not": {
        const v = evalUnset(p.child, open);
        return v === null ? null : !v;
      }
      case "userAttr":
        return null;
      case "path":
        return p.value.kind === "userAttr" ? null : open(p);
      case "exists":
        return p.principalBindings.length > 0 ? null : open(p);
      case "true":
        return true;
      case "false":
        return false;
      default:
        return open(p);
    }
  }

  const OPEN_LEAVES: Predicate[] = [PUBLIC, DONE, PATH_LITERAL];
  const CLOSED_LEAVES: Predicate[] = [OWNER, ORG_PATH, NOT_MEMBER];
  function randomPredicate(rand: Rand, depth: number): Predicate {
    const k = depth === 0 ? rand.int(2) : rand.int(5);
    if (k === 0) return rand.pick(OPEN_LEAVES);
    if (k === 1) return rand.pick(CLOSED_LEAVES);
    if (k === 2) return not(randomPredicate(rand, depth - 1));
    const children = Array.from({ length: 2 + rand.int(2) }, () => randomPredicate(rand, depth - 1));
    return k === 3 ? and(...children) : or(...children);
  }

  test("a predicate classified closed is never TRUE with the context unset, whatever its other leaves are", () => {
    const rand = prng(0x6a11ed);
    const values: Tri[] = [true, false, null];
    let closed = 0;
    let assignments = 0;
    for (let i = 0; i < 400; i++) {
      const p = randomPredicate(rand, 3);
      if (!failsClosed(p)) continue;
      closed++;
      // Every assignment of true/false/NULL to the three open leaves.
      for (let a = 0; a < 27; a++) {
        const value = (leaf: Predicate) => values[Math.floor(a / 3 ** OPEN_LEAVES.indexOf(leaf)) % 3]!;
        expect([p, evalUnset(p, value)]).not.toEqual([p, true]);
        assignments++;
      }
    }
    expect(closed).toBeGreaterThan(100);
    expect(assignments).toBe(closed * 27);
  });
});

// ---------------------------------------------------------------------------------------------
// Roles and row-level security naming the caller roles.

/** Task: admin lists everything, member its own rows, viewer the public ones (read: admin and member). */
const TASK = task({ list: anyOf("admin", "member", "viewer"), read: anyOf("admin", "member") }, [
  rule("list", ["admin"], ALL, "list: all"),
  rule("list", ["member"], OWNER, "list: owner = current_user"),
  rule("list", ["viewer"], PUBLIC, "list: visibility = public"),
  rule("read", ["admin"], ALL, "read: all"),
  rule("read", ["member"], { kind: "or", children: [OWNER, PUBLIC] }, "read: owner = current_user or visibility = public"),
]);

const app = (roles: string[], entities: EntityIR[]): Pick<AppIR, "roles" | "entities"> => ({ roles, entities });

describe("callerRoles / runtimeRoles", () => {
  test("the roles whose list is a predicate on some entity, in catalogue order, after dazzle_app", () => {
    const guestOnly = task({ list: role("guest") }, [rule("list", ["guest"], DONE)]);
    const a = app(["admin", "auditor", "guest", "member", "viewer"], [TASK, guestOnly]);
    expect(callerRoles(a)).toEqual(["guest", "member", "viewer"]);
    expect(runtimeRoles(a)).toEqual(["dazzle_app", "dazzle_as_guest", "dazzle_as_member", "dazzle_as_viewer"]);
    expect(runtimeRoles(app(["admin"], [TASK]))).toEqual(["dazzle_app"]);
  });
});

const CREATE_APP = `DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dazzle_app') THEN
    CREATE ROLE "dazzle_app" NOLOGIN NOBYPASSRLS NOINHERIT;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dazzle_definer') THEN
    CREATE ROLE "dazzle_definer" NOLOGIN BYPASSRLS;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;`;

const APP_NOINHERIT = `DO $$
BEGIN
  IF (SELECT rolinherit FROM pg_catalog.pg_roles WHERE rolname = 'dazzle_app') THEN
    ALTER ROLE "dazzle_app" NOINHERIT;
  END IF;
EXCEPTION WHEN unique_violation OR duplicate_object OR internal_error THEN
  IF (SELECT rolinherit FROM pg_catalog.pg_roles WHERE rolname = 'dazzle_app') THEN RAISE; END IF;
END
$$;`;

describe("emitRoles", () => {
  test("one caller role: dazzle_app NOINHERIT and a member of it, the role created, schema usage for all", () => {
    expect(emitRoles(app(["admin", "member"], [TASK]))).toBe(`-- Roles (cluster-wide; created once, tolerating concurrent creators)
${CREATE_APP}

${APP_NOINHERIT}

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dazzle_as_member') THEN
    CREATE ROLE "dazzle_as_member" NOLOGIN NOBYPASSRLS;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

DO $$
BEGIN
  IF NOT pg_catalog.pg_has_role('dazzle_app', 'dazzle_as_member', 'MEMBER') THEN
    GRANT "dazzle_as_member" TO "dazzle_app";
  END IF;
EXCEPTION WHEN unique_violation OR duplicate_object OR internal_error THEN
  IF NOT pg_catalog.pg_has_role('dazzle_app', 'dazzle_as_member', 'MEMBER') THEN RAISE; END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO "dazzle_app", "dazzle_definer", "dazzle_as_member";`);
  });

  test("no caller role: no ALTER ROLE, no membership grant", () => {
    expect(emitRoles(app(["admin"], [TASK]))).toBe(`-- Roles (cluster-wide; created once, tolerating concurrent creators)
${CREATE_APP}

GRANT USAGE ON SCHEMA public TO "dazzle_app", "dazzle_definer";`);
  });

  test("a role name with quotes: identifiers and literals quoted", () => {
    const hostile = `o'ne"`;
    const sql = emitRoles(app([hostile], [task({ list: role(hostile) }, [rule("list", [hostile], OWNER)])]));
    expect(sql).toContain(`IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'dazzle_as_o''ne"') THEN
    CREATE ROLE "dazzle_as_o'ne""" NOLOGIN NOBYPASSRLS;`);
    expect(sql).toContain(`  IF NOT pg_catalog.pg_has_role('dazzle_app', 'dazzle_as_o''ne"', 'MEMBER') THEN
    GRANT "dazzle_as_o'ne""" TO "dazzle_app";`);
    expect(sql.endsWith(`GRANT USAGE ON SCHEMA public TO "dazzle_app", "dazzle_definer", "dazzle_as_o'ne""";`)).toBe(true);
  });
});

const HEAD = `-- Row-level security
-- Task
ALTER TABLE "task" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "task" FORCE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON "task" TO "dazzle_app";`;

const VERB_POLICIES = `-- scope_select (read, list)
--   Task.list.1: list: all
--   Task.list.2: list: owner = current_user
--   Task.list.3: list: visibility = public
--   Task.read.1: read: all
--   Task.read.2: read: owner = current_user or visibility = public
DROP POLICY IF EXISTS "scope_select" ON "task";
CREATE POLICY "scope_select" ON "task" FOR SELECT TO "dazzle_app"
  USING (${has("admin")} OR (${has("member")} AND ("owner" = (SELECT dazzle_user_id()) OR "visibility" = 'public')) OR (${has("viewer")} AND "visibility" = 'public'));
-- scope_insert (create): no policy, denied
DROP POLICY IF EXISTS "scope_insert" ON "task";
-- scope_update (update): no policy, denied
DROP POLICY IF EXISTS "scope_update" ON "task";
-- scope_delete (delete): no policy, denied
DROP POLICY IF EXISTS "scope_delete" ON "task";`;

const SELECT_AS_MEMBER = `-- select_as_member: the list scope of a caller whose only role is member
DROP POLICY IF EXISTS "select_as_member" ON "task";
CREATE POLICY "select_as_member" ON "task" FOR SELECT TO "dazzle_as_member"
  USING ("owner" = (SELECT dazzle_user_id()));`;

describe("emitRls with caller roles", () => {
  test("SELECT granted to the caller role and its select_as_ policy after the verb policies", () => {
    expect(emitRls([TASK], ["member"])).toBe(`${HEAD}
GRANT SELECT ON "task" TO "dazzle_as_member";
${VERB_POLICIES}
${SELECT_AS_MEMBER}`);
  });

  test("a caller role's policy on a table it may not list is dropped and not created", () => {
    expect(emitRls([TASK], ["member", "other"])).toBe(`${HEAD}
GRANT SELECT ON "task" TO "dazzle_as_member", "dazzle_as_other";
${VERB_POLICIES}
${SELECT_AS_MEMBER}
-- select_as_other: the list scope of a caller whose only role is other: none, denied
DROP POLICY IF EXISTS "select_as_other" ON "task";`);
  });

  test("under tenancy the tenant fence applies to dazzle_app and every caller role", () => {
    const fenced = { ...TASK, tenant: { column: "tenant_id", rootTable: "org" } };
    expect(emitRls([fenced], ["member", "viewer"])).toBe(`${HEAD}
GRANT SELECT ON "task" TO "dazzle_as_member", "dazzle_as_viewer";
-- tenant_fence: rows of the caller's tenant only
DROP POLICY IF EXISTS "tenant_fence" ON "task";
CREATE POLICY "tenant_fence" ON "task" AS RESTRICTIVE FOR ALL TO "dazzle_app", "dazzle_as_member", "dazzle_as_viewer"
  USING ("tenant_id" = (SELECT dazzle_tenant_id())) WITH CHECK ("tenant_id" = (SELECT dazzle_tenant_id()));
${VERB_POLICIES}
${SELECT_AS_MEMBER}
-- select_as_viewer: the list scope of a caller whose only role is viewer
DROP POLICY IF EXISTS "select_as_viewer" ON "task";
CREATE POLICY "select_as_viewer" ON "task" FOR SELECT TO "dazzle_as_viewer"
  USING ("visibility" = 'public' AND ${has("viewer")});`);
  });

  test("a role name with quotes: grant, policy name and role test quoted", () => {
    const hostile = `o'ne"`;
    const e = task({ list: role(hostile) }, [rule("list", [hostile], PUBLIC, "list: visibility = public")]);
    expect(emitRls([e], [hostile])!.split("\n").filter((l) => l.includes("o'ne") || l.includes("o''ne"))).toEqual([
      `GRANT SELECT ON "task" TO "dazzle_as_o'ne""";`,
      `  USING ((SELECT dazzle_has_role('o''ne"')) AND "visibility" = 'public');`,
      `-- select_as_o'ne": the list scope of a caller whose only role is o'ne"`,
      `DROP POLICY IF EXISTS "select_as_o'ne""" ON "task";`,
      `CREATE POLICY "select_as_o'ne""" ON "task" FOR SELECT TO "dazzle_as_o'ne"""`,
      `  USING ("visibility" = 'public' AND (SELECT dazzle_has_role('o''ne"')));`,
    ]);
  });
});
