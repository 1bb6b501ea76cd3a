/**
 * Checks `permit:`/`forbid:`/`scope:` of every entity (DSL.md §6.2–6.4) and resolves each scope
 * leaf to its IR predicate. Guarantees: after this pass, every operation name is valid, permit
 * conditions only test roles, every scope leaf in `leaves` names a stored field of its entity
 * compared with a value of a matching type, and every `current_user.attr` names a stored field of
 * the principal. Leaves this version cannot compile yet are reported (DZ1902/DZ3013) and resolve
 * to FALSE, so access stays fail-closed.
 */
import {
  bareNameIsField,
  constructLater,
  entityDefaultDeny,
  falseInForbid,
  fieldConditionInPermit,
  nonPrincipalUserCompare,
  notAnEnumValue,
  predicateTypeMismatch,
  roleInScope,
  scopeRuleWithoutAs,
  unexpectedToken,
  unknownField,
  unknownRole,
  unknownUserAttribute,
  writeInPermit,
  diagnostic,
} from "../diagnostics/codes";
import type { Diagnostic } from "../diagnostics/diagnostic";
import type { Span } from "../diagnostics/span";
import { OPERATIONS, type ComparisonOp, type LiteralValue, type Predicate } from "../ir/ir";
import type { Comparison, Condition, Ident, ScopeFilter, Value } from "../syntax/ast";
import { closest } from "../util/names";
import { columnType } from "../ir/column-type";
import type { EntityInfo, FieldInfo, LinkedProgram, PassResult, ResolvedLeaves, ResolvedType } from "./program";

export interface AccessCheck {
  readonly leaves: ResolvedLeaves;
  readonly roles: readonly string[];
}

const FALSE: Predicate = { kind: "false" };

export function checkAccess(program: LinkedProgram): PassResult<AccessCheck> {
  const diagnostics: Diagnostic[] = [];
  const leaves: ResolvedLeaves = new Map();
  const roleRefs: Ident[] = [];

  for (const entity of program.entities) {
    let hasPolicy = false;
    for (const member of entity.decl.members) {
      if (member.kind === "policyBlock") {
        hasPolicy = true;
        for (const rule of member.rules) {
          checkOperation(rule.operation, diagnostics, true);
          checkPermitCondition(rule.condition, member.effect, diagnostics, roleRefs);
        }
      } else if (member.kind === "scopeBlock") {
        for (const rule of member.rules) {
          checkOperation(rule.operation, diagnostics, false);
          if (rule.as === null) diagnostics.push(scopeRuleWithoutAs(rule.span));
          else if (rule.as.keyword === "for") diagnostics.push(scopeRuleWithoutAs(rule.as.span, "`for:` was renamed to `as:`"));
          else if (rule.as.roles !== "*") roleRefs.push(...rule.as.roles);
          resolveFilter(rule.filter, entity, program, leaves, diagnostics);
        }
      }
    }
    if (!hasPolicy) diagnostics.push(entityDefaultDeny(entity.decl.name.span, entity.name));
  }

  const roles = new Set(program.declaredRoles);
  for (const ref of roleRefs) {
    if (!program.declaredRoles.has(ref.name)) diagnostics.push(unknownRole(ref.span, ref.name, closest(ref.name, program.declaredRoles)));
    roles.add(ref.name);
  }
  return { value: { leaves, roles: [...roles].sort() }, diagnostics };
}

function checkOperation(op: Ident, diagnostics: Diagnostic[], inPermit: boolean): void {
  if ((OPERATIONS as readonly string[]).includes(op.name)) return;
  if (op.name === "write" && inPermit) diagnostics.push(writeInPermit(op.span));
  else diagnostics.push(unexpectedToken(op.span, `operation \`${op.name}\``, "`list`, `read`, `create`, `update` or `delete`"));
}

function checkPermitCondition(c: Condition, effect: "permit" | "forbid", diagnostics: Diagnostic[], roleRefs: Ident[]): void {
  switch (c.kind) {
    case "or":
    case "and":
      for (const child of c.children) checkPermitCondition(child, effect, diagnostics, roleRefs);
      return;
    case "not":
      checkPermitCondition(c.child, effect, diagnostics, roleRefs);
      return;
    case "roleCall":
      roleRefs.push(...c.roles);
      return;
    case "grantCall":
      diagnostics.push(diagnostic("DZ3013", "`has_grant(…)` is not implemented in this version and is always false", c.span));
      return;
    case "keywordCondition":
      if (c.keyword === "false" && effect === "forbid") diagnostics.push(falseInForbid(c.span));
      return;
    case "comparison":
      diagnostics.push(fieldConditionInPermit(c.span));
      return;
  }
}

function resolveFilter(f: ScopeFilter, entity: EntityInfo, program: LinkedProgram, leaves: ResolvedLeaves, diagnostics: Diagnostic[]): void {
  switch (f.kind) {
    case "all":
      return;
    case "via":
      diagnostics.push(constructLater(f.span, f.negated ? "not via" : "via", f.junction.name));
      leaves.set(f, FALSE);
      return;
    case "or":
    case "and":
      for (const child of f.children) resolveFilter(child, entity, program, leaves, diagnostics);
      return;
    case "not":
      resolveFilter(f.child, entity, program, leaves, diagnostics);
      return;
    case "roleCall":
    case "grantCall":
      diagnostics.push(roleInScope(f.span));
      return;
    case "keywordCondition":
      diagnostics.push(unexpectedToken(f.span, `\`${f.keyword}\``, "a field condition, `all` or `via`"));
      return;
    case "comparison":
      leaves.set(f, resolveComparison(f, entity, program, diagnostics));
      return;
  }
}

/** One scope leaf → its IR predicate (FALSE after an error or for a LATER form). */
function resolveComparison(c: Comparison, entity: EntityInfo, program: LinkedProgram, diagnostics: Diagnostic[]): Predicate {
  const fail = (d: Diagnostic): Predicate => {
    diagnostics.push(d);
    return FALSE;
  };
  const lhs = c.lhs;
  if (lhs.kind === "call") return fail(diagnostic("DZ3016", `function call \`${lhs.fn.name}(…)\` is not allowed in a scope predicate`, lhs.span));
  if (lhs.polyType !== null) return fail(diagnostic("DZ3013", "a polymorphic path `f[T].x` is not implemented in this version and is always false", lhs.span));
  if (lhs.segments.length > 1) return fail(constructLater(lhs.span, "FK path", lhs.segments.map((s) => s.name).join(".")));

  const name = lhs.segments[0]!;
  const field = entity.fieldsByName.get(name.name);
  if (!field) return fail(unknownField(name.span, entity.name, name.name, closest(name.name, entity.fieldsByName.keys())));

  if (c.op === null || c.value === null) {
    if (field.type.kind !== "bool") return fail(predicateTypeMismatch(c.span, `\`${field.name}\` alone means \`${field.name} = true\`, but it is a ${field.type.kind} field`));
    return { kind: "column", column: field.name, op: "=", value: true, sqlType: "boolean" };
  }
  if (c.op === "in" || c.op === "not in") return fail(constructLater(c.span, c.op, null));
  const op = normaliseOp(c.op);
  return resolveValue(c.value, field, op, entity, program, diagnostics, fail);
}

function normaliseOp(op: Exclude<Comparison["op"], null | "in" | "not in">): ComparisonOp {
  if (op === "==" || op === "is") return "=";
  if (op === "is not") return "!=";
  return op;
}

type ValueGroup = "uuid" | "text" | "int" | "bool" | "date" | "datetime";

function groupOf(t: ResolvedType): ValueGroup {
  switch (t.kind) {
    case "uuid":
    case "ref":
      return "uuid";
    case "str":
    case "text":
    case "email":
    case "enum":
      return "text";
    default:
      return t.kind;
  }
}

const UUID_TEXT = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function resolveValue(
  value: Value,
  field: FieldInfo,
  op: ComparisonOp,
  entity: EntityInfo,
  program: LinkedProgram,
  diagnostics: Diagnostic[],
  fail: (d: Diagnostic) => Predicate,
): Predicate {
  const group = groupOf(field.type);
  const column = (v: LiteralValue): Predicate => ({ kind: "column", column: field.name, op, value: v, sqlType: columnType(field.type) });
  const mismatch = (what: string) => fail(predicateTypeMismatch(value.span, `cannot compare ${field.type.kind} field \`${field.name}\` with ${what}`));
  const ordered = op !== "=" && op !== "!=";
  if (ordered && group === "bool") return fail(predicateTypeMismatch(value.span, `\`${op}\` needs an ordered type; \`${field.name}\` is a bool field`));
  if (ordered && group === "uuid") return fail(predicateTypeMismatch(value.span, `\`${op}\` needs an ordered type; \`${field.name}\` is a ${field.type.kind} field`));

  switch (value.kind) {
    case "null":
      if (ordered) return mismatch("null (use `= null` or `!= null`)");
      return column(null);
    case "bool":
      return group === "bool" ? column(value.value) : mismatch(`\`${value.value}\``);
    case "number":
      if (group !== "int") return mismatch(`the number ${value.text}`);
      if (!/^-?[0-9]+$/.test(value.text)) return mismatch(`the non-integer ${value.text}`);
      return column(Number(value.text));
    case "string":
      return resolveText(value.value, value.span, false);
    case "name":
      return resolveText(value.name, value.span, true);
    case "currentUser":
      return resolveCurrentUser(value.attr, value.span);
    case "currentTenant":
      return fail(diagnostic("DZ3013", "`current_tenant` is not implemented in this version and is always false", value.span));
    case "relativeDate":
      return fail(constructLater(value.span, "relative date in a scope", null));
    case "list":
      return mismatch("a list (use `in`)");
  }

  function resolveText(text: string, span: Span, bare: boolean): Predicate {
    if (field.type.kind === "enum") {
      if (!field.type.values.includes(text)) return fail(notAnEnumValue(span, text, field.name, field.type.values));
      return column(text);
    }
    if (group === "text") {
      if (bare && entity.fieldsByName.has(text)) diagnostics.push(bareNameIsField(span, text));
      return column(text);
    }
    if (group === "uuid" && !bare && UUID_TEXT.test(text)) return column(text.toLowerCase());
    if ((group === "date" || group === "datetime") && !bare && !Number.isNaN(Date.parse(text))) return column(text);
    return mismatch(bare ? `the name \`${text}\`` : "a string");
  }

  function resolveCurrentUser(attr: Ident | null, span: Span): Predicate {
    const principal = program.principal;
    if (attr === null || attr.name === "id") {
      if (group !== "uuid") return mismatch("`current_user` (a uuid)");
      const target = field.type.kind === "ref" ? field.type.entity : field.name === "id" ? entity.name : null;
      const principalName = principal.entity?.name ?? null;
      if (target !== null && principalName !== null && target !== principalName) {
        diagnostics.push(nonPrincipalUserCompare(span, field.name, target, principalName));
      }
      return { kind: "userAttr", column: field.name, op, attr: "id" };
    }
    const principalEntity = principal.entity;
    const target = principalEntity?.fieldsByName.get(attr.name);
    if (!principalEntity || !target) {
      const candidates = principalEntity ? principalEntity.fieldsByName.keys() : ["id", "email"];
      return fail(unknownUserAttribute(attr.span, attr.name, principalEntity?.name ?? "the generated app_user", closest(attr.name, candidates)));
    }
    if (groupOf(target.type) !== group) return mismatch(`\`current_user.${attr.name}\` (a ${target.type.kind})`);
    return { kind: "userAttr", column: field.name, op, attr: attr.name };
  }
}
