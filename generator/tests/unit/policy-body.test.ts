/**
 * Policy bodies (emit/sql/policy-body.ts): the exact SQL of each normalisation step, a
 * brute-force check that normalising never changes the truth table of the body, and the same for
 * the role-assigned predicate a caller role's policy is made of (rolePredicate).
 */
import type { Operation, PermitExpr, Predicate, ScopeRuleIR } from "../../ir/ir";
import { assignRoles, assumeRole, compilePolicyBody, rolePredicate, type OperationAccess } from "../../emit/sql/policy-body";
import { permits } from "../../ir/permits";
import { prng, type Rand } from "../support/fuzz";

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

describe("assignRoles / rolePredicate", () => {
  test("assignRoles is the value of the expression for an authenticated caller holding exactly those roles", () => {
    const exprs: PermitExpr[] = [
      anyOf("a", "b"),
      { kind: "and", children: [role("a"), { kind: "not", child: role("b") }] },
      { kind: "or", children: [{ kind: "and", children: [role("a"), role("c")] }, { kind: "not", child: role("a") }] },
      { kind: "and", children: [{ kind: "authenticated" }, { kind: "not", child: anyOf("a", "c") }] },
      { kind: "not", child: { kind: "authenticated" } },
      { kind: "anyone" },
      NEVER,
    ];
    const universe = ["a", "b", "c"];
    const outcomes = new Set<string>();
    for (const e of exprs) {
      for (let mask = 0; mask < 1 << universe.length; mask++) {
        const roles = universe.filter((_, i) => mask & (1 << i));
        const assigned = assignRoles(e, roles);
        expect(["anyone", "never"]).toContain(assigned.kind);
        expect(assigned.kind === "anyone").toBe(permits(e, roles, true));
        outcomes.add(assigned.kind);
      }
    }
    expect([...outcomes].sort()).toEqual(["anyone", "never"]);
  });

  test("rolePredicate: the predicates of the rules whose guard holds for the role, ORed without repeats", () => {
    const access: OperationAccess = {
      ...ops({ list: anyOf("admin", "member"), read: anyOf("admin", "member") }, { list: role("admin") }),
      scope: [rule("list", "*", OWNER), rule("list", ["member"], PUBLIC), rule("read", ["member"], OWNER), rule("list", ["admin"], ALL)],
    };
    expect(rolePredicate(access, ["list"], "member")).toEqual({ kind: "or", children: [OWNER, PUBLIC] });
    expect(rolePredicate(access, ["read", "list"], "member")).toEqual({ kind: "or", children: [OWNER, PUBLIC] });
    expect(rolePredicate(access, ["read"], "member")).toEqual(OWNER);
    // admin's list is forbidden; its read has no rule.
    expect(rolePredicate(access, ["list"], "admin")).toEqual({ kind: "false" });
    expect(rolePredicate(access, ["read", "list"], "admin")).toEqual({ kind: "false" });
    expect(rolePredicate(access, ["list"], "other")).toEqual({ kind: "false" });
    expect(rolePredicate({ ...access, scope: null }, ["read"], "admin")).toEqual(ALL);
  });
});

describe("rolePredicate keeps the truth table of the generic body for a single-role caller", () => {
  const ROLES = ["a", "b", "c"];
  const LEAVES: Predicate[] = ["p", "q", "r", "s"].map((c) => ({ kind: "column", column: c, op: "=", value: true, sqlType: "boolean" }));
  const OPS: Operation[] = ["list", "read"];

  function randomPermit(rand: Rand, depth: number): PermitExpr {
    const k = depth === 0 ? rand.int(4) : rand.int(7);
    if (k <= 1) return role(rand.pick(ROLES));
    if (k === 2) return rand.pick<PermitExpr>([{ kind: "authenticated" }, { kind: "anyone" }, NEVER]);
    if (k === 3 || k === 6) return { kind: "not", child: randomPermit(rand, depth - 1) };
    const children = [randomPermit(rand, depth - 1), randomPermit(rand, depth - 1)];
    return { kind: k === 4 ? "and" : "or", children };
  }

  function randomPredicate(rand: Rand, depth: number): Predicate {
    const k = depth === 0 ? rand.int(2) : rand.int(6);
    if (k === 0) return rand.pick(LEAVES);
    if (k === 1) return rand.pick<Predicate>([ALL, { kind: "false" }, ...LEAVES]);
    if (k === 2) return { kind: "not", child: randomPredicate(rand, depth - 1) };
    const children = [randomPredicate(rand, depth - 1), randomPredicate(rand, depth - 1)];
    return { kind: k <= 3 ? "and" : "or", children };
  }

  function randomRoles(rand: Rand): string[] | "*" {
    if (rand.int(4) === 0) return "*";
    const picked = ROLES.filter(() => rand.int(2) === 0);
    return picked.length === 0 ? [rand.pick(ROLES)] : picked;
  }

  function randomAccess(rand: Rand): OperationAccess {
    const permit = Object.fromEntries(OPS.map((op) => [op, randomPermit(rand, 2)]));
    const forbid = Object.fromEntries(OPS.map((op) => [op, rand.int(3) === 0 ? randomPermit(rand, 1) : NEVER]));
    const scope = rand.int(6) === 0 ? null : Array.from({ length: rand.int(5) }, () => rule(rand.pick(OPS), randomRoles(rand), randomPredicate(rand, 2)));
    return { ...ops(permit, forbid), scope };
  }

  /** Two-valued evaluation with each leaf an independent boolean (`row` by leaf column). */
  function holds(p: Predicate, row: Readonly<Record<string, boolean>>): boolean {
    switch (p.kind) {
      case "true":
        return true;
      case "false":
        return false;
      case "column":
        return row[p.column]!;
      case "and":
        return p.children.every((c) => holds(c, row));
      case "or":
        return p.children.some((c) => holds(c, row));
      case "not":
        return !holds(p.child, row);
      default:
        throw new Error(`unexpected leaf ${p.kind}`);
    }
  }

  /**
   * The generic body as DSL.md §6.11 states it, before any normalisation: the OR over the
   * operations of `permit(o) AND NOT forbid(o) AND scope(o)`, scope(o) the OR over o's rules of
   * `(as: role test) AND predicate` (TRUE without a scope block).
   */
  function genericBody(access: OperationAccess, operations: readonly Operation[], roles: readonly string[], row: Record<string, boolean>): boolean {
    return operations.some(
      (op) =>
        permits(access.permit[op], roles, true) &&
        !permits(access.forbid[op], roles, true) &&
        (access.scope === null ||
          access.scope.some((r) => r.operation === op && (r.roles === "*" || r.roles.some((x) => roles.includes(x))) && holds(r.predicate, row))),
    );
  }

  test("on 400 random permit/forbid/scope configurations, every role, both verbs, every row", () => {
    const rand = prng(20261128);
    const rows = Array.from({ length: 1 << LEAVES.length }, (_, mask) => Object.fromEntries(["p", "q", "r", "s"].map((c, i) => [c, (mask & (1 << i)) !== 0])));
    const kinds = new Map<string, number>();
    let compared = 0;
    for (let i = 0; i < 400; i++) {
      const access = randomAccess(rand);
      for (const operations of [["list"], ["read", "list"]] as Operation[][]) {
        for (const r of ROLES) {
          const p = rolePredicate(access, operations, r);
          kinds.set(p.kind, (kinds.get(p.kind) ?? 0) + 1);
          for (const row of rows) {
            if (holds(p, row) !== genericBody(access, operations, [r], row)) {
              throw new Error(`case ${i}, role ${r}, ${operations.join("+")}, row ${JSON.stringify(row)}: ${JSON.stringify({ access, p })}`);
            }
            compared++;
          }
        }
      }
    }
    expect(compared).toBe(400 * 2 * 3 * 16);
    // The configurations exercise denied, open and real predicate outcomes alike.
    for (const kind of ["false", "true", "column", "and", "or", "not"]) expect(kinds.get(kind) ?? 0).toBeGreaterThan(20);
  });
});
