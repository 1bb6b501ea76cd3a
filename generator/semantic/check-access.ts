/**
 * Checks `permit:`/`forbid:`/`scope:` of every entity (DSL.md §6.2–6.7) and resolves each scope
 * leaf to its IR predicate. Guarantees: after this pass, every operation name is valid, permit
 * conditions only test roles, every scope leaf in `leaves` compares a stored field of its entity —
 * or the terminal field of an FK path of at most 4 `ref` hops (§6.6) — with a value of a matching
 * type, every `via` names an entity and has at least one entity and one principal binding with
 * resolved paths (§6.7), and every `current_user.attr` names a stored field of the principal.
 * Values may be literals, lists (`in`/`not in`), `today`/`now` ± a duration (date and datetime
 * fields) and `true`/`false` after `is [not]` (bool fields). LATER leaves (`current_tenant`,
 * `f[T].x`) are reported (DZ3013) and resolve to FALSE, so access stays fail-closed. (`via`
 * combined with and/or never gets here: the grammar reports it as DZ3004.)
 */
import {
  badIndexField,
  badViaBinding,
  bareNameIsField,
  entityDefaultDeny,
  falseInForbid,
  fieldConditionInPermit,
  fkPathNotFound,
  nonPrincipalUserCompare,
  notAnEnumValue,
  pathSegmentViaId,
  pathTooLong,
  predicateTypeMismatch,
  roleInScope,
  scopeRuleWithoutAs,
  unexpectedToken,
  unknownEntity,
  unknownField,
  unknownRole,
  unknownUserAttribute,
  writeInPermit,
  diagnostic,
} from "../diagnostics/codes";
import type { Diagnostic } from "../diagnostics/diagnostic";
import type { Span } from "../diagnostics/span";
import { OPERATIONS, type ColumnPath, type ComparisonOp, type ExistsCheck, type IsOp, type ListOp, type LiteralValue, type PathHop, type Predicate, type RelativeDate } from "../ir/ir";
import type { Comparison, Condition, Ident, ScopeFilter, Value, ViaFilter } from "../syntax/ast";
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
      leaves.set(f, resolveVia(f, entity, program, diagnostics));
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

  const path = resolvePath(lhs.segments, lhs.span, entity, program, diagnostics);
  if (path === null) return FALSE;
  const { field, owner } = path;

  let leaf: Predicate;
  if (c.op === null || c.value === null) {
    if (field.type.kind !== "bool") return fail(predicateTypeMismatch(c.span, `\`${field.name}\` alone means \`${field.name} = true\`, but it is a ${field.type.kind} field`));
    leaf = { kind: "column", column: field.name, op: "=", value: true, sqlType: "boolean" };
  } else if (c.op === "in" || c.op === "not in") {
    leaf = resolveList(c.value, field, c.op, owner, program, diagnostics, fail);
  } else if (c.op === "is" || c.op === "is not") {
    leaf = resolveIs(c.value, field, c.op, owner, program, diagnostics, fail);
  } else {
    leaf = resolveValue(c.value, field, normaliseOp(c.op), owner, program, diagnostics, fail);
  }
  if (path.hops.length === 0) return leaf;
  const sqlType = columnType(field.type);
  const at = { kind: "path", hops: path.hops, column: field.name, sqlType } as const;
  switch (leaf.kind) {
    case "column":
      switch (leaf.op) {
        case "in":
        case "not in":
          return { ...at, op: leaf.op, value: { kind: "list", values: leaf.value } };
        case "is":
        case "is not":
          return { ...at, op: leaf.op, value: { kind: "literal", value: leaf.value } };
        default:
          return { ...at, op: leaf.op, value: leaf.value !== null && typeof leaf.value === "object" ? leaf.value : { kind: "literal", value: leaf.value } };
      }
    case "userAttr":
      return { kind: "path", hops: path.hops, column: field.name, sqlType, op: leaf.op, value: { kind: "userAttr", attr: leaf.attr } };
    default:
      return leaf; // FALSE after an error
  }
}

/** An LHS or binding path after resolution: the hops walked and the field compared. */
interface ResolvedPath {
  readonly hops: readonly PathHop[];
  /** The compared field; after `x.id` normalisation, the FK field `x` itself. */
  readonly field: FieldInfo;
  /** The entity `field` belongs to. */
  readonly owner: EntityInfo;
}

const MAX_HOPS = 4;
const FOLLOWABLE = "FK paths follow only `ref`/`belongs_to` fields";

/**
 * Resolves `s1.….sn` from `start` (DSL.md §6.6): s1…s(n-1) are `ref` fields, sn a stored field;
 * a missing `si` falls back to a ref `si_id` (DZ3018); a trailing `id` after a hop is normalised
 * to that hop's FK column. Reports DZ3009 over 4 hops, else DZ3002 naming the whole path, the
 * failing segment and the entity where it fails (single fields keep DZ2003). Null after an error.
 */
function resolvePath(segments: readonly Ident[], span: Span, start: EntityInfo, program: LinkedProgram, diagnostics: Diagnostic[]): ResolvedPath | null {
  const text = segments.map((s) => s.name).join(".");
  if (segments.length - 1 > MAX_HOPS) {
    diagnostics.push(pathTooLong(span, text, segments.length - 1));
    return null;
  }
  const hops: PathHop[] = [];
  const hopFields: FieldInfo[] = [];
  const walked: string[] = [];
  let current = start;
  const notFound = (segment: Ident, why: string, suggestion?: string): null => {
    if (segments.length === 1) diagnostics.push(unknownField(segment.span, current.name, segment.name, suggestion));
    else {
      const walk = walked.length === 0 ? "" : ` (walked ${[...walked, current.name].join(" → ")})`;
      diagnostics.push(fkPathNotFound(span, text, `${why}${walk}`, suggestion));
    }
    return null;
  };

  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const terminal = i === segments.length - 1;
    const field = lookupField(current, segment, diagnostics);
    if (field === null) {
      const declared = declaredKind(current, segment.name);
      if (declared === "computed field" && terminal) {
        // DSL.md §4.8: a computed field has no column and may not be used in `scope:` (DZ4012).
        diagnostics.push(badIndexField(segment.span, `\`${segment.name}\` is a computed field of entity ${current.name}; scope rules need stored fields`));
        return null;
      }
      if (declared !== null) {
        const why = terminal ? ", which a scope predicate cannot compare" : `; ${FOLLOWABLE}${/^(has_|embeds)/.test(declared) ? " (use `via`)" : ""}`;
        return notFound(segment, `\`${segment.name}\` is a ${declared} of entity ${current.name}${why}`);
      }
      const candidates = terminal ? current.fieldsByName.keys() : refFieldNames(current);
      return notFound(segment, `\`${segment.name}\` is not a field of entity ${current.name}`, closest(segment.name, candidates));
    }
    if (terminal) {
      if (field.name === "id" && hops.length > 0) {
        // `x.id` is the FK value `x` itself: no need to read the referenced table.
        hops.pop();
        walked.pop();
        const fk = hopFields.pop()!;
        const owner = hops.length === 0 ? start : program.entitiesByName.get(entityOfRef(hopFields[hopFields.length - 1]!))!;
        return { hops, field: fk, owner };
      }
      return { hops, field, owner: current };
    }
    if (field.type.kind !== "ref") {
      return notFound(segment, `\`${field.name}\` is a ${field.type.kind} field of entity ${current.name}, not a \`ref\`; ${FOLLOWABLE}`, closest(segment.name, refFieldNames(current)));
    }
    const target = program.entitiesByName.get(field.type.entity)!;
    hops.push({ column: field.name, table: target.table });
    hopFields.push(field);
    walked.push(`${current.name}.${field.name}`);
    current = target;
  }
  return null; // unreachable: the loop returns at the terminal segment
}

/** `segment` as a stored field of `entity`, or the ref `segment_id` with DZ3018; null if neither. */
function lookupField(entity: EntityInfo, segment: Ident, diagnostics: Diagnostic[]): FieldInfo | null {
  const field = entity.fieldsByName.get(segment.name);
  if (field) return field;
  const fallback = entity.fieldsByName.get(`${segment.name}_id`);
  if (fallback && fallback.type.kind === "ref") {
    diagnostics.push(pathSegmentViaId(segment.span, segment.name, entity.name));
    return fallback;
  }
  return null;
}

function entityOfRef(field: FieldInfo): string {
  if (field.type.kind !== "ref") throw new Error("DZ9001: FK hop through a non-ref field");
  return field.type.entity;
}

function refFieldNames(entity: EntityInfo): string[] {
  return entity.fields.filter((f) => f.type.kind === "ref").map((f) => f.name);
}

/** What a declared field that has no column is (`has_many relation`, `money field`, …), or null. */
function declaredKind(entity: EntityInfo, name: string): string | null {
  for (const m of entity.decl.members) {
    if (m.kind !== "field" || m.name.name !== name) continue;
    const t = m.type;
    if ("relation" in t) return `${t.relation.name} relation`;
    if (t.kind === "namedType") return `${t.name.name} field`;
    if (t.kind === "computedType") return "computed field";
    return "field";
  }
  return null;
}

/**
 * `[not] via J(bindings)` → ExistsCheck (DSL.md §6.7). Each binding path starts at J; a target
 * `current_user[.attr]` makes a principal binding, `null`/`None` a null binding, `id` or a field of
 * the scoped entity an entity binding (only with `=`). At least one entity and one principal
 * binding are required. FALSE after an error.
 */
function resolveVia(f: ViaFilter, entity: EntityInfo, program: LinkedProgram, diagnostics: Diagnostic[]): Predicate {
  const junction = program.entitiesByName.get(f.junction.name);
  if (!junction) {
    diagnostics.push(unknownEntity(f.junction.span, f.junction.name, closest(f.junction.name, program.entitiesByName.keys())));
    return FALSE;
  }
  const entityBindings: ExistsCheck["entityBindings"][number][] = [];
  const principalBindings: ExistsCheck["principalBindings"][number][] = [];
  const nullBindings: ExistsCheck["nullBindings"][number][] = [];
  let ok = true;
  const fail = (d: Diagnostic): Predicate => {
    diagnostics.push(d);
    ok = false;
    return FALSE;
  };
  const targets = `\`current_user\`, \`current_user.<attr>\`, \`null\`, \`id\` or a field of ${entity.name}`;

  for (const b of f.bindings) {
    const pathSpan: Span = { file: b.span.file, start: b.path[0]!.span.start, end: b.path[b.path.length - 1]!.span.end };
    const resolved = resolvePath(b.path, pathSpan, junction, program, diagnostics);
    if (resolved === null) {
      ok = false;
      continue;
    }
    const path: ColumnPath = { hops: resolved.hops, column: resolved.field.name, sqlType: columnType(resolved.field.type) };
    const target = b.target;
    switch (target.kind) {
      case "currentUser":
      case "null": {
        const leaf = resolveValue(target, resolved.field, b.op, resolved.owner, program, diagnostics, fail);
        if (leaf.kind === "userAttr") principalBindings.push({ path, op: b.op, attr: leaf.attr });
        else if (leaf.kind === "column") nullBindings.push({ path, op: b.op });
        break;
      }
      case "name": {
        const scoped = entity.fieldsByName.get(target.name);
        if (!scoped) {
          const suggestion = closest(target.name, entity.fieldsByName.keys());
          fail(badViaBinding(target.span, `\`${target.name}\` is not a field of entity ${entity.name}; a \`via\` binding compares with ${targets}`, suggestion ? `did you mean \`${suggestion}\`?` : undefined));
          break;
        }
        if (b.op !== "=") {
          fail(badViaBinding(b.span, `a binding to the scoped row must use \`=\`, not \`${b.op}\``, "`!=` is allowed only for bindings to `current_user` and `null`"));
          break;
        }
        const mismatch = bindingMismatch(resolved, scoped, entity);
        if (mismatch !== null) {
          fail(predicateTypeMismatch(target.span, mismatch));
          break;
        }
        entityBindings.push({ path, column: scoped.name });
        break;
      }
      default:
        fail(badViaBinding(target.span, `a \`via\` binding compares with ${targets}`));
    }
  }
  if (!ok) return FALSE;
  const shape = `\`${f.negated ? "not " : ""}via ${junction.name}(…)\``;
  if (entityBindings.length === 0) {
    return fail(badViaBinding(f.span, `${shape} has no binding to the scoped row`, `add a binding such as \`<field of ${junction.name}> = id\``));
  }
  if (principalBindings.length === 0) {
    return fail(badViaBinding(f.span, `${shape} has no binding to the caller`, `add a binding such as \`<field of ${junction.name}> = current_user\``));
  }
  return { kind: "exists", junction: { entity: junction.name, table: junction.table }, entityBindings, principalBindings, nullBindings, negated: f.negated };
}

/** Why a junction column cannot equal a scoped column (message), or null when it can. */
function bindingMismatch(junction: ResolvedPath, scoped: FieldInfo, entity: EntityInfo): string | null {
  const j = junction.field;
  const describe = (f: FieldInfo, owner: EntityInfo) => `${f.type.kind} field \`${f.name}\` of ${owner.name}`;
  if (groupOf(j.type) !== groupOf(scoped.type)) return `cannot compare ${describe(j, junction.owner)} with ${describe(scoped, entity)}`;
  const refersTo = (f: FieldInfo, owner: EntityInfo) => (f.type.kind === "ref" ? f.type.entity : f.name === "id" ? owner.name : null);
  const a = refersTo(j, junction.owner);
  const b = refersTo(scoped, entity);
  if (a !== null && b !== null && a !== b) {
    return `\`${j.name}\` of ${junction.owner.name} identifies ${a}, but \`${scoped.name}\` of ${entity.name} identifies ${b}`;
  }
  return null;
}

function normaliseOp(op: Exclude<Comparison["op"], null | "in" | "not in" | "is" | "is not">): ComparisonOp {
  return op === "==" ? "=" : op;
}

/** The literal forms a list may hold (DSL.md §6.4 `literal`); `null` is rejected separately. */
const LIST_ITEM_KINDS = new Set<Value["kind"]>(["string", "number", "bool", "name"]);

/**
 * `f in [v, …]` / `f not in [v, …]` (DSL.md §6.4): every item is typed like `f = v` (DZ3007,
 * DZ3008 per item); duplicates are dropped. `null` in a list is DZ3007: SQL's `f IN (…, NULL)`
 * never yields FALSE and `f NOT IN (…, NULL)` never TRUE, which no author means (`f = null or
 * f in […]` says the first; `f not in […]` already leaves NULLs out). An empty list (the grammar
 * accepts `[]`) is DZ3007 too. FALSE after an error.
 */
function resolveList(
  value: Value,
  field: FieldInfo,
  op: ListOp,
  entity: EntityInfo,
  program: LinkedProgram,
  diagnostics: Diagnostic[],
  fail: (d: Diagnostic) => Predicate,
): Predicate {
  if (value.kind !== "list") return fail(predicateTypeMismatch(value.span, `\`${op}\` needs a list such as \`[a, b]\``));
  if (value.items.length === 0) return fail(predicateTypeMismatch(value.span, `\`${op} []\`: the list is empty`));
  const values: (string | number | boolean)[] = [];
  let ok = true;
  for (const item of value.items) {
    if (item.kind === "null") {
      const help = op === "in"
        ? `write \`${field.name} = null or ${field.name} in […]\``
        : `drop it: \`${field.name} not in […]\` already leaves out rows whose \`${field.name}\` is null`;
      diagnostics.push(diagnostic("DZ3007", `\`null\` in a list never matches in SQL (\`${op}\` with NULL is never decided)`, item.span, { help }));
      ok = false;
      continue;
    }
    if (!LIST_ITEM_KINDS.has(item.kind)) {
      diagnostics.push(predicateTypeMismatch(item.span, "a list holds literals only (strings, numbers, `true`/`false`, names)"));
      ok = false;
      continue;
    }
    const leaf = resolveValue(item, field, "=", entity, program, diagnostics, fail);
    if (leaf.kind !== "column" || leaf.op !== "=" || leaf.value === null || typeof leaf.value === "object") ok = false;
    else if (!values.includes(leaf.value)) values.push(leaf.value);
  }
  if (!ok) return FALSE;
  return { kind: "column", column: field.name, op, value: values, sqlType: columnType(field.type) };
}

/**
 * `f is [not] null|true|false` (DSL.md §6.4). `is null` is `= null` (IS NULL); `is true`/`is
 * false` on a bool field keep SQL's two-valued `IS [NOT] TRUE|FALSE`: `flag is not true` admits
 * rows whose flag is NULL, unlike `flag != true`. Any other value is DZ3007 (write `=`).
 */
function resolveIs(
  value: Value,
  field: FieldInfo,
  op: IsOp,
  entity: EntityInfo,
  program: LinkedProgram,
  diagnostics: Diagnostic[],
  fail: (d: Diagnostic) => Predicate,
): Predicate {
  if (value.kind === "null") return resolveValue(value, field, op === "is" ? "=" : "!=", entity, program, diagnostics, fail);
  if (value.kind !== "bool") {
    return fail(diagnostic("DZ3007", `\`${op}\` takes \`null\`, \`true\` or \`false\``, value.span, { help: `write \`${op === "is" ? "=" : "!="}\` to compare with a value` }));
  }
  if (field.type.kind !== "bool") return fail(predicateTypeMismatch(value.span, `cannot compare ${field.type.kind} field \`${field.name}\` with \`${value.value}\``));
  return { kind: "column", column: field.name, op, value: value.value, sqlType: "boolean" };
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
    case "url":
    case "slug":
    case "timezone":
    case "file":
    case "json":
      return "text";
    case "decimal":
    case "float":
    case "money":
      return "int";
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
      return resolveRelativeDate(value);
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

  /**
   * `today ± d` / `now ± d` on a date or datetime field, any comparison operator; bare `today`
   * or `now` against a text or enum field is the word itself (an enum value `now`).
   */
  function resolveRelativeDate(v: Extract<Value, { kind: "relativeDate" }>): Predicate {
    if (v.duration === null && group === "text") return resolveText(v.base, v.span, true);
    const written = v.duration === null ? `\`${v.base}\`` : `\`${v.base} ${v.sign} ${v.duration.text}\``;
    if (group !== "date" && group !== "datetime") return mismatch(`${written} (a relative date needs a date or datetime field)`);
    const value: RelativeDate = v.duration === null || v.sign === null
      ? { kind: "relativeDate", base: v.base, sign: "+", amount: 0, unit: "d" }
      : { kind: "relativeDate", base: v.base, sign: v.sign, amount: v.duration.amount, unit: v.duration.unit };
    return { kind: "column", column: field.name, op, value, sqlType: columnType(field.type) };
  }

  function resolveCurrentUser(attr: Ident | null, span: Span): Predicate {
    const principal = program.principal;
    if (attr === null || attr.name === "id") {
      if (group !== "uuid") return mismatch("`current_user` (a uuid)");
      const target = field.type.kind === "ref" ? field.type.entity : field.name === "id" ? entity.name : null;
      const principalName = principal.entity?.name ?? null;
      if (target !== null && target !== principalName) {
        diagnostics.push(nonPrincipalUserCompare(span, field.name, target, principalName ?? `generated \`${principal.table}\``));
      }
      return { kind: "userAttr", column: field.name, op, attr: "id" };
    }
    const principalEntity = principal.entity;
    // No principal entity: the generated app_user's readable fields (its partition key under tenancy, §7).
    const target = principalEntity ? principalEntity.fieldsByName.get(attr.name) : principal.appUserFields?.get(attr.name);
    if (!target) {
      const candidates = principalEntity ? principalEntity.fieldsByName.keys() : ["id", "email", ...(principal.appUserFields?.keys() ?? [])];
      return fail(unknownUserAttribute(attr.span, attr.name, principalEntity?.name ?? "the generated app_user", closest(attr.name, candidates)));
    }
    if (groupOf(target.type) !== group) return mismatch(`\`current_user.${attr.name}\` (a ${target.type.kind})`);
    return { kind: "userAttr", column: field.name, op, attr: attr.name };
  }
}
