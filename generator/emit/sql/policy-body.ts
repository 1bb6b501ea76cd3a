/**
 * The body of one RLS policy (DSL.md §6.11): for the verb's operations o, the OR of
 * `permit(o) AND NOT forbid(o) AND scope(o)`, where scope(o) ORs `(<as: role test> AND <predicate>)`
 * over o's rules.
 *
 * Written naively, that repeats every role test several times (the permit gate once per operation,
 * then again inside each rule), and PostgreSQL evaluates each `(SELECT dazzle_has_role(…))` as its
 * own init-plan. The body is therefore normalised first, without changing its truth table:
 *
 * 1. Each rule becomes one alternative `guard AND predicate`. The guard is the gate
 *    `permit AND NOT forbid` restricted to the rule's roles by cofactoring: for an `as: r` rule,
 *    `gate AND r` equals `r AND gate[r := true]`, so with `permit: role(admin) or role(member)` an
 *    `as: admin` rule is guarded by `admin` alone. `as: *` rules keep the whole gate.
 * 2. Alternatives with the same guard are merged by ORing their predicates (read and list rules
 *    of one role in the SELECT policy), then alternatives with the same predicate by ORing their
 *    guards.
 *
 * ```sql
 * -- permit list, read: role(admin) or role(member); as: admin → all; as: member → owner = current_user
 * (SELECT dazzle_has_role('admin')) OR ((SELECT dazzle_has_role('member')) AND "owner" = (SELECT dazzle_user_id()))
 * ```
 *
 * The generated RBAC matrix compares every policy with the IR evaluator, so a normalisation error
 * here fails the generated app's tests.
 */
import type { Operation, PermitExpr, Predicate, ScopeRuleIR } from "../../ir/ir";
import { or, permitAnd, permitNot, permitOr } from "../../ir/simplify";
import { compilePermit, compilePredicate } from "./predicate";

const ANYONE: PermitExpr = { kind: "anyone" };
const NEVER: PermitExpr = { kind: "never" };

/** One `guard AND predicate` term of a policy body. */
export interface PolicyAlternative {
  readonly guard: PermitExpr;
  readonly predicate: Predicate;
}

export interface OperationAccess {
  readonly permit: Readonly<Record<Operation, PermitExpr>>;
  readonly forbid: Readonly<Record<Operation, PermitExpr>>;
  readonly scope: readonly ScopeRuleIR[] | null;
}

/** The RLS body for the operations of one verb; null when it is statically FALSE (no policy). */
export function compilePolicyBody(access: OperationAccess, operations: readonly Operation[]): string | null {
  const alternatives = normalise(operations.flatMap((op) => operationAlternatives(access, op)));
  if (alternatives.length === 0) return null;
  const terms = alternatives.map(compileAlternative);
  if (terms.includes("TRUE")) return "TRUE";
  // Each single part is one SQL unit (and/or nodes come parenthesised); a `guard AND predicate`
  // term needs parentheses only inside an OR.
  return terms.length === 1 ? terms[0]! : terms.map((t, i) => (isConjunction(alternatives[i]!) ? `(${t})` : t)).join(" OR ");
}

/** The alternatives of one operation before merging; empty when the operation is denied to all. */
export function operationAlternatives(access: OperationAccess, op: Operation): PolicyAlternative[] {
  const gate = permitAnd([access.permit[op], permitNot(access.forbid[op])]);
  if (gate.kind === "never") return [];
  if (access.scope === null) return [{ guard: gate, predicate: { kind: "true" } }];
  return access.scope
    .filter((r) => r.operation === op && r.predicate.kind !== "false")
    .map((r) => ({ guard: ruleGuard(gate, r.roles), predicate: r.predicate }))
    .filter((a) => a.guard.kind !== "never");
}

/**
 * `gate AND (r1 OR r2 …)` as `(r1 AND gate[r1]) OR (r2 AND gate[r2]) …`, with roles whose
 * cofactors are equal sharing one term (`(r1 OR r2) AND c`); the gate itself for `as: *`.
 */
function ruleGuard(gate: PermitExpr, roles: ScopeRuleIR["roles"]): PermitExpr {
  if (roles === "*") return gate;
  const terms = groupBy(
    roles.map((role) => ({ roles: [role], cofactor: assumeRole(gate, role) })),
    (t) => key(t.cofactor),
    (group) => ({ roles: group.flatMap((t) => t.roles), cofactor: group[0]!.cofactor }),
  );
  return permitOr(terms.map((t) => permitAnd([permitOr(t.roles.map((role) => ({ kind: "role", role }))), t.cofactor])));
}

/** The cofactor `e[role := true]`: what is left of `e` for a caller known to hold `role`. */
export function assumeRole(e: PermitExpr, role: string): PermitExpr {
  return substitute(e, (r) => (r === role ? ANYONE : { kind: "role", role: r }), null);
}

/**
 * `e` for a caller known to hold exactly `roles` and to be authenticated: every role test and
 * `authenticated` replaced by its value, so the result is `anyone` or `never`.
 */
export function assignRoles(e: PermitExpr, roles: readonly string[]): PermitExpr {
  return substitute(e, (r) => (roles.includes(r) ? ANYONE : NEVER), ANYONE);
}

/** `e` with each role test replaced by `role(name)` and, unless null, `authenticated` by `authenticated`; simplified. */
function substitute(e: PermitExpr, role: (name: string) => PermitExpr, authenticated: PermitExpr | null): PermitExpr {
  switch (e.kind) {
    case "role":
      return role(e.role);
    case "authenticated":
      return authenticated ?? e;
    case "anyone":
    case "never":
      return e;
    case "and":
      return permitAnd(e.children.map((c) => substitute(c, role, authenticated)));
    case "or":
      return permitOr(e.children.map((c) => substitute(c, role, authenticated)));
    case "not":
      return permitNot(substitute(e.child, role, authenticated));
  }
}

/**
 * The rows a policy over `operations` admits for an authenticated caller holding exactly `role`:
 * the policy body with the role tests assigned, i.e. the OR of the predicates of the alternatives
 * whose guard holds (FALSE when none does). caller-roles.ts compiles it into the role's own policy.
 */
export function rolePredicate(access: OperationAccess, operations: readonly Operation[], role: string): Predicate {
  const admitted = operations.flatMap((op) => operationAlternatives(access, op)).filter((a) => assignRoles(a.guard, [role]).kind === "anyone");
  return uniqueOr(admitted.map((a) => a.predicate));
}

/** Merges alternatives with equal guards (OR of predicates), then with equal predicates (OR of guards). */
function normalise(alternatives: readonly PolicyAlternative[]): PolicyAlternative[] {
  const byGuard = groupBy(alternatives, (a) => key(a.guard), (group) => ({
    guard: group[0]!.guard,
    predicate: uniqueOr(group.map((a) => a.predicate)),
  }));
  return groupBy(byGuard, (a) => key(a.predicate), (group) => ({
    guard: permitOr(group.map((a) => a.guard)),
    predicate: group[0]!.predicate,
  }));
}

/**
 * OR without repeating an identical child (`owner = current_user` in both read and list), and
 * with absorption `a OR (a AND b) = a` (a list rule narrowing the read rule adds nothing).
 */
export function uniqueOr(predicates: readonly Predicate[]): Predicate {
  const flat = or(predicates);
  if (flat.kind !== "or") return flat;
  const seen = new Set<string>();
  const unique = flat.children.filter((c) => !seen.has(key(c)) && seen.add(key(c)) !== undefined);
  const conjuncts = (p: Predicate) => new Set((p.kind === "and" ? p.children : [p]).map(key));
  const absorbed = (c: Predicate) =>
    unique.some((d) => d !== c && [...conjuncts(d)].every((k) => conjuncts(c).has(k)) && conjuncts(c).size > conjuncts(d).size);
  return or(unique.filter((c) => !absorbed(c)));
}

/** Groups in order of first appearance and folds each group. */
function groupBy<T>(items: readonly T[], keyOf: (item: T) => string, fold: (group: T[]) => T): T[] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = keyOf(item);
    groups.set(k, [...(groups.get(k) ?? []), item]);
  }
  return [...groups.values()].map(fold);
}

const key = (value: unknown) => JSON.stringify(value);

const isConjunction = (a: PolicyAlternative) => a.guard.kind !== "anyone" && a.predicate.kind !== "true";

function compileAlternative(a: PolicyAlternative): string {
  const guard = a.guard.kind === "anyone" ? null : compilePermit(a.guard);
  const predicate = a.predicate.kind === "true" ? null : compilePredicate(a.predicate, { kind: "policy" });
  if (guard === null) return predicate ?? "TRUE";
  if (predicate === null) return guard;
  return `${guard} AND ${predicate}`;
}
