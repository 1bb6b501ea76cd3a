/**
 * Lowers the checked program (AST + side tables) to the IR. Assumes checked input: every failed
 * assumption here is a bug (DZ9001), never a user error. The IR is frozen and sorted.
 */
import type { CheckedProgram, EntityInfo, FieldInfo, ResolvedType } from "../semantic/program";
import type { Condition, ScopeFilter } from "../syntax/ast";
import { routeSegment, snakeCase } from "../util/names";
import { columnType } from "./column-type";
import { predicateLeaves } from "./predicate-leaves";
import { lowerComputed, withComputed } from "./lower-computed";
import { lowerAppRules, lowerEntityRules } from "./lower-rules";
import { declaresSubtype } from "../semantic/check-relations";
import { applyTenancy } from "./lower-tenancy";
import {
  OPERATIONS,
  type AccessIR,
  type AppIR,
  type EntityIR,
  type FieldIR,
  type FieldTypeIR,
  type OnDeleteAction,
  type Operation,
  type PermitExpr,
  type Predicate,
  type ScopeRuleIR,
} from "./ir";
import { and, not, or, permitAnd, permitNot, permitOr } from "./simplify";

export function lower(program: CheckedProgram): AppIR {
  // `subtype_of` entities emit no table and no routes (DSL.md §4.7); check-relations forbids refs to them.
  const entities = program.entities.filter((e) => !declaresSubtype(e)).map((e) => lowerEntity(e, program));
  const app: AppIR = {
    name: program.app.name,
    title: program.app.title,
    entities,
    roles: program.roles,
    personas: program.personas.map((p) => ({ id: p.id, label: p.decl.label ?? p.id, role: p.role })),
    principal: {
      entity: program.principal.entity?.name ?? null,
      table: program.principal.table,
      attributes: principalAttributes(entities, program),
    },
    sources: program.project.files.map((f) => f.path),
    rules: lowerAppRules(program),
  };
  return deepFreeze(applyTenancy(app, program));
}

/** The ON DELETE action a `has_many`/`has_one` gave this FK (DSL.md §4.6); absent for NO ACTION. */
function withOnDelete(f: FieldIR, action: OnDeleteAction | undefined): FieldIR {
  return action === undefined || f.type.kind !== "ref" ? f : { ...f, onDelete: action };
}

function lowerEntity(entity: EntityInfo, program: CheckedProgram): EntityIR {
  const access = lowerAccess(entity, program);
  const scoped = new Set<string>();
  for (const rule of access.scope ?? []) collectColumns(rule.predicate, scoped);
  return {
    name: entity.name,
    title: entity.decl.title ?? entity.name,
    table: entity.table,
    route: routeSegment(entity.name),
    fields: entity.fields.flatMap((f) => lowerField(f, program, scoped)).map((f) => withOnDelete(f, program.onDelete?.get(entity.name)?.get(f.name))),
    access,
    rules: lowerEntityRules(entity, program),
    ...withComputed(lowerComputed(entity, program)),
    ...(entity.was !== undefined ? { wasTable: snakeCase(entity.was) } : {}),
  };
}

/**
 * The columns of a field: one, except for `money`, which is `<f>_minor` (BIGINT minor units, takes
 * `required`, the number default, `unique` and `indexed`) and `<f>_currency` (CHAR(3) NOT NULL
 * DEFAULT 'CCY'), both named `f` (DSL.md §4.3).
 */
function lowerField(f: FieldInfo, program: CheckedProgram, scopedColumns: ReadonlySet<string>): FieldIR[] {
  const base = {
    name: f.name,
    required: f.required,
    unique: f.unique,
    default: f.default,
    serverManaged: f.name === "id" || f.autoAdd || f.autoUpdate,
    autoUpdate: f.autoUpdate,
    sensitive: f.sensitive,
    pii: f.pii,
  };
  if (f.type.kind === "money") {
    const currency = f.type.currency;
    return [
      {
        ...base,
        column: `${f.name}_minor`,
        type: { kind: "moneyMinor", currency },
        indexed: f.indexed || scopedColumns.has(`${f.name}_minor`),
        ...(f.was !== undefined ? { wasColumn: `${f.was}_minor` } : {}),
      },
      {
        ...base,
        column: `${f.name}_currency`,
        ...(f.was !== undefined ? { wasColumn: `${f.was}_currency` } : {}),
        type: { kind: "moneyCurrency", currency },
        required: true,
        unique: false,
        default: { kind: "literal", value: currency },
        indexed: false,
      },
    ];
  }
  const type = lowerType(f.type, program);
  return [
    {
      ...base,
      column: f.name,
      ...(f.was !== undefined ? { wasColumn: f.was } : {}),
      type,
      // `indexed` modifier, FK column, or filtered on by a scope rule (DSL.md §4.4, §4.6, §6.10).
      indexed: f.name !== "id" && (f.indexed || type.kind === "ref" || scopedColumns.has(f.name)),
    },
  ];
}

function lowerType(t: Exclude<ResolvedType, { kind: "money" }>, program: CheckedProgram): FieldTypeIR {
  if (t.kind === "ref") {
    const target = program.entitiesByName.get(t.entity);
    if (!target) throw new Error(`DZ9001: ref to unknown entity ${t.entity}`);
    return { kind: "ref", entity: t.entity, table: target.table };
  }
  return t;
}

const NEVER: PermitExpr = { kind: "never" };

function lowerAccess(entity: EntityInfo, program: CheckedProgram): AccessIR {
  const permits = new Map<Operation, PermitExpr[]>();
  const forbids = new Map<Operation, PermitExpr[]>();
  let exposed = false;
  let scope: ScopeRuleIR[] | null = null;
  const counters = new Map<Operation, number>();

  for (const member of entity.decl.members) {
    if (member.kind === "policyBlock") {
      exposed = true;
      const into = member.effect === "permit" ? permits : forbids;
      for (const rule of member.rules) {
        const op = rule.operation.name as Operation;
        if (!OPERATIONS.includes(op)) continue;
        into.set(op, [...(into.get(op) ?? []), lowerPermit(rule.condition)]);
      }
    } else if (member.kind === "scopeBlock") {
      scope ??= [];
      for (const rule of member.rules) {
        const op = rule.operation.name as Operation;
        if (!OPERATIONS.includes(op) || rule.as === null) continue;
        const n = (counters.get(op) ?? 0) + 1;
        counters.set(op, n);
        scope.push({
          id: `${entity.name}.${op}.${n}`,
          operation: op,
          roles: rule.as.roles === "*" ? "*" : [...new Set(rule.as.roles.map((r) => r.name))],
          predicate: lowerFilter(rule.filter, program),
          source: sourceText(program, rule.filter.span),
        });
      }
    }
  }
  const byOp = (m: Map<Operation, PermitExpr[]>) =>
    Object.fromEntries(OPERATIONS.map((op) => [op, permitOr(m.get(op) ?? [NEVER])])) as Record<Operation, PermitExpr>;
  return { exposed, permit: byOp(permits), forbid: byOp(forbids), scope };
}

function lowerPermit(c: Condition): PermitExpr {
  switch (c.kind) {
    case "or":
      return permitOr(c.children.map(lowerPermit));
    case "and":
      return permitAnd(c.children.map(lowerPermit));
    case "not":
      return permitNot(lowerPermit(c.child));
    case "roleCall":
      return permitOr(c.roles.map((r) => ({ kind: "role", role: r.name })));
    case "grantCall":
      return NEVER; // has_grant is LATER: always false in v1 (DZ3013)
    case "keywordCondition":
      return c.keyword === "authenticated" ? { kind: "authenticated" } : c.keyword === "anonymous" ? { kind: "anyone" } : NEVER;
    case "comparison":
      throw new Error("DZ9001: field comparison in permit survived checking");
  }
}

function lowerFilter(f: ScopeFilter, program: CheckedProgram): Predicate {
  switch (f.kind) {
    case "all":
      return { kind: "true" };
    case "via":
    case "comparison": {
      const leaf = program.leaves.get(f);
      if (!leaf) throw new Error(`DZ9001: unresolved scope leaf at ${f.span.file}:${f.span.start.line}`);
      return leaf;
    }
    case "or":
      return or(f.children.map((c) => lowerFilter(c, program)));
    case "and":
      return and(f.children.map((c) => lowerFilter(c, program)));
    case "not":
      return not(lowerFilter(f.child, program));
    case "roleCall":
    case "grantCall":
    case "keywordCondition":
      throw new Error(`DZ9001: ${f.kind} in scope survived checking`);
  }
}

/** Scoped-table columns a scope compares or uses as its first FK hop (they get an index, §6.10). */
function collectColumns(p: Predicate, into: Set<string>): void {
  for (const leaf of predicateLeaves(p)) {
    switch (leaf.kind) {
      case "column":
      case "userAttr":
        into.add(leaf.column);
        break;
      case "path":
        into.add(leaf.hops[0]!.column);
        break;
      case "exists":
        for (const b of leaf.entityBindings) into.add(b.column);
        break;
      case "true":
      case "false":
        break;
    }
  }
}

function principalAttributes(entities: readonly EntityIR[], program: CheckedProgram): AppIR["principal"]["attributes"] {
  const attrs = new Set<string>();
  for (const e of entities) {
    for (const leaf of (e.access.scope ?? []).flatMap((r) => predicateLeaves(r.predicate))) {
      if (leaf.kind === "userAttr") attrs.add(leaf.attr);
      else if (leaf.kind === "path" && leaf.value.kind === "userAttr") attrs.add(leaf.value.attr);
      else if (leaf.kind === "exists") for (const b of leaf.principalBindings) attrs.add(b.attr);
    }
  }
  attrs.delete("id"); // `current_user` itself is dazzle_user_id(), not an attribute setting
  const principal = program.principal.entity;
  return [...attrs].sort().map((name) => {
    const field = principal ? principal.fieldsByName.get(name) : program.principal.appUserFields?.get(name); // app_user: its partition key (§7)
    if (!field) throw new Error(`DZ9001: current_user.${name} survived checking without a principal field`);
    return { name, column: field.name, sqlType: columnType(field.type) };
  });
}

function sourceText(program: CheckedProgram, span: { file: string; start: { offset: number }; end: { offset: number } }): string {
  const file = program.project.sources.get(span.file);
  return file ? file.text.slice(span.start.offset, span.end.offset) : "";
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
