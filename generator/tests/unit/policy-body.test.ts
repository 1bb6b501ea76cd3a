/**
 * Policy bodies (emit/sql/policy-body.ts): the exact SQL of each normalisation step, and a
 * brute-force check that normalising never changes the truth table of the body.
 */
import type { Operation, PermitExpr, Predicate, ScopeRuleIR } from "../../ir/ir";
import { assumeRole, compilePolicyBody, type OperationAccess } from "../../emit/sql/policy-body";
import { permits } from "../../ir/permits";

const role = (r: string): PermitExpr => ({ kind: "role", role: r });
const anyOf = (...roles: string[]): PermitExpr => ({ kind: "or", children: roles.map(role) });
const NEVER: PermitExpr = { kind: "never" };
const OWNER: Predicate = { kind: "userAttr", column: "owner", op: "=", attr: "id" };
const PUBLIC: Predicate = { kind: "column", column: "visibility", op: "=", value: "public", sqlType: "text" };
const ALL: Predicate = { kind: "true" };

const ops = (permit: Partial<Record<Operation, PermitExpr>>, forbid: Partial<Record<Operation, PermitExpr>> = {}) => ({
  permit: { list: NEVER, read: NEVER, create: NEVER, update: NEVER, delete: NEVER, ...permit },
  forbid: { list: NEVER, read: NEVER, create: NEVER, update: NEVER, delete: NEVER, ...forbid },
});

let n = 0;
const rule = (operation: Operation, roles: string[] | "*", predicate: Predicate): ScopeRuleIR => ({
  id: `P.${operation}.${++n}`,
  operation,
  roles,
  predicate,
  source: "",
});

const has = (r: string) => `(SELECT dazzle_has_role('${r}'))`;

describe("compilePolicyBody", () => {
  test("a rule's role test absorbs the permit gate it implies", () => {
    const access: OperationAccess = {
      ...ops({ list: anyOf("admin", "member") }),
      scope: [rule("list", ["admin"], ALL), rule("list", ["member"], OWNER)],
    };
    expect(compilePolicyBody(access, ["list"])).toBe(`${has("admin")} OR (${has("member")} AND "owner" = (SELECT dazzle_user_id()))`);
  });

  test("read and list rules of one role merge into one alternative; identical predicates appear once", () => {
    const access: OperationAccess = {
      ...ops({ list: anyOf("admin", "member"), read: anyOf("admin", "member") }),
      scope: [
        rule("list", ["admin"], ALL),
        rule("list", ["member"], { kind: "or", children: [OWNER, PUBLIC] }),
        rule("read", ["admin"], ALL),
        rule("read", ["member"], OWNER),
      ],
    };
    expect(compilePolicyBody(access, ["read", "list"])).toBe(
      `${has("admin")} OR (${has("member")} AND ("owner" = (SELECT dazzle_user_id()) OR "visibility" = 'public'))`,
    );
  });

  test("roles sharing a predicate share one alternative", () => {
    const access: OperationAccess = {
      ...ops({ update: anyOf("a", "b", "c") }),
      scope: [rule("update", ["a"], OWNER), rule("update", ["b"], OWNER), rule("update", ["c"], ALL)],
    };
    expect(compilePolicyBody(access, ["update"])).toBe(`((${has("a")} OR ${has("b")}) AND "owner" = (SELECT dazzle_user_id())) OR ${has("c")}`);
  });

  test("forbid stays in the guard of every alternative it constrains", () => {
    const access: OperationAccess = {
      ...ops({ delete: role("admin") }, { delete: role("guest") }),
      scope: [rule("delete", ["admin"], ALL)],
    };
    expect(compilePolicyBody(access, ["delete"])).toBe(`(${has("admin")} AND NOT ${has("guest")})`);
  });

  test("`as: *` keeps the whole gate; no scope block is the gate alone; anonymous is TRUE", () => {
    const star: OperationAccess = { ...ops({ list: { kind: "authenticated" } }), scope: [rule("list", "*", OWNER)] };
    expect(compilePolicyBody(star, ["list"])).toBe(`((SELECT dazzle_user_id()) IS NOT NULL) AND "owner" = (SELECT dazzle_user_id())`);
    expect(compilePolicyBody({ ...ops({ list: anyOf("a", "b") }), scope: null }, ["list"])).toBe(`(${has("a")} OR ${has("b")})`);
    expect(compilePolicyBody({ ...ops({ list: { kind: "anyone" } }), scope: null }, ["list"])).toBe("TRUE");
  });

  test("statically FALSE bodies give no policy: no permit, no rule for the op, a rule for a forbidden role", () => {
    expect(compilePolicyBody({ ...ops({}), scope: null }, ["list"])).toBeNull();
    expect(compilePolicyBody({ ...ops({ list: role("a") }), scope: [rule("read", ["a"], ALL)] }, ["list"])).toBeNull();
    expect(compilePolicyBody({ ...ops({ list: role("a") }, { list: role("a") }), scope: [rule("list", ["a"], ALL)] }, ["list"])).toBeNull();
  });

  test("a rule for a role the permit gate does not name still admits callers holding both roles", () => {
    expect(compilePolicyBody({ ...ops({ list: role("a") }), scope: [rule("list", ["b"], ALL)] }, ["list"])).toBe(`(${has("b")} AND ${has("a")})`);
  });
});

describe("normalising keeps the truth table", () => {
  test("assumeRole is the cofactor e[r := true] on every role set", () => {
    const exprs: PermitExpr[] = [
      anyOf("a", "b"),
      { kind: "and", children: [role("a"), { kind: "not", child: role("b") }] },
      { kind: "or", children: [{ kind: "and", children: [role("a"), role("c")] }, { kind: "not", child: role("a") }] },
      { kind: "and", children: [{ kind: "authenticated" }, { kind: "not", child: anyOf("a", "c") }] },
    ];
    const universe = ["a", "b", "c"];
    let checked = 0;
    for (const e of exprs) {
      for (let mask = 0; mask < 1 << universe.length; mask++) {
        const roles = new Set(universe.filter((_, i) => mask & (1 << i)));
        for (const auth of [false, true]) {
          expect(permits(assumeRole(e, "a"), [...roles], auth)).toBe(permits(e, [...roles, "a"], auth));
          checked++;
        }
      }
    }
    expect(checked).toBe(64);
  });
});

describe("absorption", () => {
  test("a list rule that narrows the read rule of the same role adds nothing to the SELECT policy", () => {
    const DONE: Predicate = { kind: "column", column: "done", op: "=", value: false, sqlType: "boolean" };
    const access: OperationAccess = {
      ...ops({ list: role("member"), read: role("member") }),
      scope: [rule("read", ["member"], OWNER), rule("list", ["member"], { kind: "and", children: [OWNER, DONE] })],
    };
    expect(compilePolicyBody(access, ["read", "list"])).toBe(`${has("member")} AND "owner" = (SELECT dazzle_user_id())`);
    // Without the read rule the narrower list rule stands alone.
    expect(compilePolicyBody({ ...access, scope: [access.scope![1]!] }, ["read", "list"])).toBe(
      `${has("member")} AND ("owner" = (SELECT dazzle_user_id()) AND "done" = FALSE)`,
    );
  });
});
