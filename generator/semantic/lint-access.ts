/**
 * The access lints of DSL.md §6.12 that need the whole rule set of an entity: DZ3011 (a role is
 * permitted an operation but no scope rule of that operation covers it), DZ3012 (a scope rule
 * names a role that no permit rule of its operation allows) and DZ3017 (an update/delete scope
 * rule for a role without a read or list rule: under RLS it affects no rows, §6.11). Warnings
 * only; guarantees nothing to later passes. Runs beside `check-access` and reads the AST only;
 * malformed rules (unknown operations, missing `as:`) are that pass's errors and skipped here.
 *
 * Roles are read syntactically, which keeps the lints free of false alarms on the corpus:
 * a role is *permitted* an operation when a permit rule of that operation names it in `role(…)`
 * outside `not (…)` and no forbid rule of that operation is a plain `role(…)` disjunction naming
 * it; a role is *allowed* (DZ3012) when some permit rule of the operation names it anywhere, or
 * uses `authenticated`/`anonymous`.
 */
import { deadScopeRule, permittedRoleWithoutScope, updateWithoutRead } from "../diagnostics/codes";
import type { Diagnostic } from "../diagnostics/diagnostic";
import { OPERATIONS, type Operation } from "../ir/ir";
import type { Condition, Ident, PolicyRule, ScopeRule } from "../syntax/ast";
import type { EntityInfo, LinkedProgram, PassResult } from "./program";

export function lintAccess(program: LinkedProgram): PassResult<null> {
  const diagnostics: Diagnostic[] = [];
  for (const entity of program.entities) diagnostics.push(...lintEntity(entity));
  return { value: null, diagnostics };
}

const isOperation = (name: string): name is Operation => (OPERATIONS as readonly string[]).includes(name);

interface EntityRules {
  readonly permits: ReadonlyMap<Operation, readonly PolicyRule[]>;
  readonly forbids: ReadonlyMap<Operation, readonly PolicyRule[]>;
  /** Scope rules with a valid operation and an `as:` line. */
  readonly scopes: readonly (ScopeRule & { readonly as: NonNullable<ScopeRule["as"]> })[];
  readonly hasScopeBlock: boolean;
  readonly hasPolicy: boolean;
}

function collect(entity: EntityInfo): EntityRules {
  const permits = new Map<Operation, PolicyRule[]>();
  const forbids = new Map<Operation, PolicyRule[]>();
  const scopes: EntityRules["scopes"][number][] = [];
  let hasScopeBlock = false;
  let hasPolicy = false;
  for (const m of entity.decl.members) {
    if (m.kind === "policyBlock") {
      hasPolicy = true;
      const into = m.effect === "permit" ? permits : forbids;
      for (const r of m.rules) if (isOperation(r.operation.name)) into.set(r.operation.name, [...(into.get(r.operation.name) ?? []), r]);
    } else if (m.kind === "scopeBlock") {
      hasScopeBlock = true;
      for (const r of m.rules) {
        if (isOperation(r.operation.name) && r.as !== null && r.as.keyword === "as") scopes.push(r as EntityRules["scopes"][number]);
      }
    }
  }
  return { permits, forbids, scopes, hasScopeBlock, hasPolicy };
}

function lintEntity(entity: EntityInfo): Diagnostic[] {
  const rules = collect(entity);
  if (!rules.hasPolicy) return []; // default-deny: DZ3010 says it all
  const out: Diagnostic[] = [];
  const rulesFor = (op: Operation) => rules.scopes.filter((r) => r.operation.name === op);
  const covers = (r: ScopeRule, role: string) => r.as !== null && (r.as.roles === "*" || r.as.roles.some((x) => x.name === role));

  for (const op of OPERATIONS) {
    const permits = rules.permits.get(op) ?? [];
    const forbidden = forbiddenOutright(rules.forbids.get(op) ?? []);

    // DZ3011: permitted, but no scope rule of the operation covers the role.
    if (rules.hasScopeBlock && permits.length > 0) {
      const opRules = rulesFor(op);
      const missing = unique(permits.flatMap((p) => positiveRoles(p.condition)))
        .filter((role) => forbidden !== "all" && !forbidden.has(role))
        .filter((role) => !opRules.some((r) => covers(r, role)));
      if (missing.length > 0) out.push(permittedRoleWithoutScope(permits[0]!.operation.span, entity.name, op, missing));
    }

    // DZ3012: a scope rule names a role no permit rule of the operation allows.
    const wildcard = permits.some((p) => mentionsWildcard(p.condition));
    const allowed = new Set(permits.flatMap((p) => allRoles(p.condition)));
    for (const rule of rulesFor(op)) {
      if (rule.as.roles === "*") continue;
      for (const role of rule.as.roles) {
        const dead = forbidden === "all" || forbidden.has(role.name) || (!wildcard && !allowed.has(role.name));
        if (dead) out.push(deadScopeRule(role.span, entity.name, op, role.name));
      }
    }
  }

  // DZ3017: update/delete rule for a role that no read or list rule covers.
  const readers = rules.scopes.filter((r) => r.operation.name === "read" || r.operation.name === "list");
  for (const rule of rules.scopes) {
    if (rule.operation.name !== "update" && rule.operation.name !== "delete") continue;
    const op = rule.operation.name;
    if (rule.as.roles === "*") {
      if (readers.length === 0) out.push(updateWithoutRead(rule.as.span, entity.name, op, null));
      continue;
    }
    for (const role of rule.as.roles) {
      if (!readers.some((r) => covers(r, role.name))) out.push(updateWithoutRead(role.span, entity.name, op, role.name));
    }
  }
  return out;
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

/** Roles named by `role(…)` outside `not (…)`. */
function positiveRoles(c: Condition): string[] {
  switch (c.kind) {
    case "or":
    case "and":
      return c.children.flatMap(positiveRoles);
    case "roleCall":
      return c.roles.map((r: Ident) => r.name);
    default:
      return [];
  }
}

/** Roles named by `role(…)` anywhere. */
function allRoles(c: Condition): string[] {
  switch (c.kind) {
    case "or":
    case "and":
      return c.children.flatMap(allRoles);
    case "not":
      return allRoles(c.child);
    case "roleCall":
      return c.roles.map((r) => r.name);
    default:
      return [];
  }
}

function mentionsWildcard(c: Condition): boolean {
  switch (c.kind) {
    case "or":
    case "and":
      return c.children.some(mentionsWildcard);
    case "not":
      return mentionsWildcard(c.child);
    case "keywordCondition":
      return c.keyword !== "false";
    default:
      return false;
  }
}

/**
 * Roles that the forbid rules deny outright: those of a rule that is a plain disjunction of
 * `role(…)` calls; "all" for a rule that is `authenticated`/`anonymous` alone.
 */
function forbiddenOutright(forbids: readonly PolicyRule[]): ReadonlySet<string> | "all" {
  const roles = new Set<string>();
  const disjunction = (c: Condition): string[] | null => {
    if (c.kind === "roleCall") return c.roles.map((r) => r.name);
    if (c.kind !== "or") return null;
    const parts = c.children.map(disjunction);
    return parts.every((p) => p !== null) ? parts.flat() as string[] : null;
  };
  for (const f of forbids) {
    if (f.condition.kind === "keywordCondition" && f.condition.keyword !== "false") return "all";
    for (const role of disjunction(f.condition) ?? []) roles.add(role);
  }
  return roles;
}
