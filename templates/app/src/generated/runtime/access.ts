/**
 * The app-layer half of DSL.md §6, for every entity: each generated `<entity>/access.ts` declares
 * its rules as data (`AccessRules`), and these functions decide with them. permit/forbid say who
 * may perform an operation, scope rules which rows; the migration compiles the same rules into
 * the table's RLS policies, so the database enforces them again.
 */
import type { Caller } from "./auth";

export type Operation = "list" | "read" | "create" | "update" | "delete";

/** A permit or forbid rule of one operation, as a test of the caller. */
export type Decision = (caller: Caller) => boolean;

/** A `scope:` rule: the roles of its `as:` line ("*" = every caller) and its row filter as SQL. */
export interface ScopeRule {
  readonly id: string;
  readonly roles: readonly string[] | "*";
  /** Generator-compiled SQL over the entity's table, whose name qualifies the columns. */
  readonly sql: string;
}

/** The row filter of one request: a boolean SQL expression and the ids of the rules it came from. */
export interface ScopeFilter {
  readonly sql: string;
  readonly rules: readonly string[];
}

/** The access rules of one entity, as generated from the spec. */
export interface AccessRules {
  /** The entity's name: rule ids are `<entity>.<op>.permit|forbid|<n>`. */
  readonly entity: string;
  /** Operations with an `anonymous` permit rule: a request without credentials proceeds (no 401). */
  readonly anonymous: readonly Operation[];
  /** `permit:` rules (several rules for one operation are ORed); an operation without one is denied. */
  readonly permit: Readonly<Partial<Record<Operation, Decision>>>;
  /** `forbid:` rules; a matching forbid denies whatever permit says. */
  readonly forbid: Readonly<Partial<Record<Operation, Decision>>>;
  /**
   * `scope:` rules per operation, in declaration order (an operation without rules reaches no
   * row); null when the entity has no `scope:` block, which puts every row in scope.
   */
  readonly scope: Readonly<Partial<Record<Operation, readonly ScopeRule[]>>> | null;
  /**
   * Caller roles by app role: an authenticated caller whose only role is listed lists as that
   * database role, whose SELECT policy is exactly the role's list scope.
   */
  readonly listAs?: Readonly<Record<string, string>>;
}

/**
 * How a list runs for the caller, given its list scope: as `dazzle_app` with the scope as the
 * query's filter (`role` ''), or as the caller role of its only role, whose policy is that scope,
 * with no filter of its own — the same rows, and the planner sees the scope once.
 */
export function listPlanFor(access: AccessRules, caller: Caller, scope: ScopeFilter): { readonly role: string; readonly filter: ScopeFilter } {
  const only = caller.userId !== null && caller.roles.length === 1 ? caller.roles[0]! : null;
  const role = only !== null && access.listAs !== undefined && Object.hasOwn(access.listAs, only) ? access.listAs[only]! : null;
  return role === null ? { role: "", filter: scope } : { role, filter: { sql: "TRUE", rules: scope.rules } };
}

/**
 * The permit/forbid decision (DSL.md §6.2): null when the caller may perform `op`, otherwise the
 * id of the rule that denies it. A matching forbid wins; no matching permit denies.
 */
export function permitDenial(access: AccessRules, op: Operation, caller: Caller): string | null {
  if (access.forbid[op]?.(caller) === true) return `${access.entity}.${op}.forbid`;
  if (access.permit[op]?.(caller) !== true) return `${access.entity}.${op}.permit`;
  return null;
}

/**
 * The rows the caller may touch with `op` (DSL.md §6.8): the matching rules are those whose `as:`
 * is `*` or names one of the caller's roles. None ⇒ null (deny); one of them is `all` ⇒ TRUE;
 * otherwise the OR of their filters. Without a `scope:` block every row is in scope.
 */
export function scopeFor(access: AccessRules, op: Operation, caller: Caller): ScopeFilter | null {
  if (access.scope === null) return { sql: "TRUE", rules: [] };
  const matching = (access.scope[op] ?? []).filter(
    (rule) => rule.roles === "*" || rule.roles.some((role) => caller.roles.includes(role)),
  );
  if (matching.length === 0) return null;
  const rules = matching.map((rule) => rule.id);
  if (matching.some((rule) => rule.sql === "TRUE")) return { sql: "TRUE", rules };
  return { sql: `(${matching.map((rule) => rule.sql).join(" OR ")})`, rules };
}

/** `role(name)` in a permit or forbid rule. */
export function hasRole(caller: Caller, role: string): boolean {
  return caller.roles.includes(role);
}
