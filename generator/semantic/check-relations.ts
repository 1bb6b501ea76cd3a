/**
 * Resolves `has_many`/`has_one` to the child FK they name and computes its ON DELETE action
 * (DSL.md §4.6); checks the child entities of computed aggregates (§4.8) and refs to entities
 * that emit no table (§4.1 `subtype_of`). Guarantees, when it reports no error: each child FK has
 * at most one action, `set null` only on a nullable FK, and no `ref` targets a `subtype_of`
 * entity. Errors: DZ2002 (unknown child or junction entity, or no ref back), DZ2014 (more than one
 * ref back: ambiguous), DZ4015 (nullify on a required FK; two declarations giving one FK
 * different actions), DZ4016 (ref to a `subtype_of` entity). Needs resolved entities.
 */
import { ambiguousChildFk, impossibleOnDelete, noChildFk, refToTablelessEntity, unknownEntity } from "../diagnostics/codes";
import type { Diagnostic } from "../diagnostics/diagnostic";
import type { Span } from "../diagnostics/span";
import type { OnDeleteAction } from "../ir/ir";
import type { Expr, Ident } from "../syntax/ast";
import { closest } from "../util/names";
import type { EntityInfo, FieldInfo, LinkedProgram, PassResult } from "./program";

/** Entity name → FK field name → the ON DELETE action a has_many/has_one gave it. */
export type OnDeleteActions = ReadonlyMap<string, ReadonlyMap<string, OnDeleteAction>>;

const ACTIONS: Readonly<Record<string, OnDeleteAction>> = { cascade: "cascade", restrict: "restrict", nullify: "set null" };
const AGGREGATES = new Set(["count", "sum", "avg", "min", "max"]);

export function checkRelations(program: LinkedProgram): PassResult<OnDeleteActions> {
  const diagnostics: Diagnostic[] = [];
  const actions = new Map<string, Map<string, { action: OnDeleteAction; span: Span }>>();

  const tableless = new Map<string, Span>();
  for (const e of program.entities) {
    const subtype = subtypeLine(e);
    if (subtype) tableless.set(e.name, subtype.span);
  }

  for (const parent of program.entities) {
    for (const m of parent.decl.members) {
      if (m.kind !== "field") continue;
      const t = m.type;
      if (t.kind === "relationType" && (t.relation.name === "ref" || t.relation.name === "belongs_to")) {
        const declared = tableless.get(t.target.name);
        if (declared) diagnostics.push(refToTablelessEntity(t.target.span, t.target.name, declared));
      } else if (t.kind === "collectionType" && (t.relation.name === "has_many" || t.relation.name === "has_one")) {
        const holderIdent = t.via ?? t.target;
        const fk = childFk(holderIdent, parent, program, diagnostics, `${t.relation.name} ${t.target.name}${t.via ? ` via ${t.via.name}` : ""}`);
        if (t.via && !program.entitiesByName.has(t.target.name)) {
          diagnostics.push(unknownEntity(t.target.span, t.target.name, closest(t.target.name, program.entitiesByName.keys())));
        }
        if (fk === null || t.onDelete === null) continue;
        const action = ACTIONS[t.onDelete.name];
        if (action === undefined) continue; // the grammar accepts only the three words
        const { holder, field } = fk;
        if (action === "set null" && field.required) {
          diagnostics.push(impossibleOnDelete(t.onDelete.span, `\`nullify\` needs a nullable FK, but \`${holder.name}.${field.name}\` is required`, { message: "the FK is declared here", span: field.span }));
          continue;
        }
        const perEntity = actions.get(holder.name) ?? new Map<string, { action: OnDeleteAction; span: Span }>();
        actions.set(holder.name, perEntity);
        const first = perEntity.get(field.name);
        if (first && first.action !== action) {
          diagnostics.push(
            impossibleOnDelete(t.onDelete.span, `conflicting ON DELETE for \`${holder.name}.${field.name}\`: ${action.toUpperCase()} here, ${first.action.toUpperCase()} in the other declaration`, { message: "the other declaration is here", span: first.span }),
          );
        } else if (!first) perEntity.set(field.name, { action, span: t.onDelete.span });
      } else if (t.kind === "computedType") {
        forEachAggregate(t.expr, program, (child, span) => {
          const refs = refsTo(child, parent);
          if (refs.length > 1) diagnostics.push(ambiguousChildFk(span, child.name, parent.name, refs.map((r) => r.name), `an aggregate needs exactly one \`ref ${parent.name}\` in ${child.name}`));
        });
      }
    }
  }

  const value = new Map([...actions].map(([entity, fields]) => [entity, new Map([...fields].map(([f, a]) => [f, a.action]))]));
  return { value, diagnostics };
}

/** The `subtype_of:` line of an entity, if any. */
function subtypeLine(entity: EntityInfo): { readonly span: Span } | undefined {
  return entity.decl.members.find((m) => m.kind === "laterEntityBlock" && m.keyword.name === "subtype_of");
}

/**
 * True for an entity with `subtype_of:` (DSL.md §4.7, LATER): it emits no table and no routes,
 * so lowering leaves it out of `AppIR.entities`; this pass guarantees nothing references it.
 */
export function declaresSubtype(entity: EntityInfo): boolean {
  return subtypeLine(entity) !== undefined;
}

function refsTo(holder: EntityInfo, parent: EntityInfo): FieldInfo[] {
  // The injected partition key (link-tenancy.ts) is not a relation FK: it must not make a `has_many` of the root ambiguous.
  return holder.fields.filter((f) => f.type.kind === "ref" && f.type.entity === parent.name && !f.injected);
}

/** The unique ref in `holderIdent`'s entity that targets `parent`; null after a diagnostic. */
function childFk(holderIdent: Ident, parent: EntityInfo, program: LinkedProgram, diagnostics: Diagnostic[], what: string): { holder: EntityInfo; field: FieldInfo } | null {
  const holder = program.entitiesByName.get(holderIdent.name);
  if (!holder) {
    diagnostics.push(unknownEntity(holderIdent.span, holderIdent.name, closest(holderIdent.name, program.entitiesByName.keys())));
    return null;
  }
  const refs = refsTo(holder, parent);
  if (refs.length === 0) {
    diagnostics.push(noChildFk(holderIdent.span, what, holder.name, parent.name, lowerFirst(parent.name)));
    return null;
  }
  if (refs.length > 1) {
    diagnostics.push(ambiguousChildFk(holderIdent.span, holder.name, parent.name, refs.map((r) => r.name), `keep one \`ref ${parent.name}\` in ${holder.name}, or put the relation in a \`via\` junction`));
    return null;
  }
  return { holder, field: refs[0]! };
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/** Calls `visit` for each aggregate over a child entity (`count(C)`, `sum(C.f)`, one-argument `min(C.f)`). */
function forEachAggregate(e: Expr, program: LinkedProgram, visit: (child: EntityInfo, span: Span) => void): void {
  const walk = (x: Expr): void => {
    switch (x.kind) {
      case "callExpr": {
        const arg = x.args[0];
        if (AGGREGATES.has(x.fn.name) && x.args.length === 1 && arg!.kind === "refExpr") {
          const child = program.entitiesByName.get(arg!.segments[0]!.name);
          if (child) visit(child, arg!.segments[0]!.span);
        }
        x.args.forEach(walk);
        return;
      }
      case "ifExpr":
        for (const b of x.branches) {
          walk(b.cond);
          walk(b.then);
        }
        walk(x.otherwise);
        return;
      case "logical":
        x.operands.forEach(walk);
        return;
      case "notExpr":
      case "negate":
      case "isNull":
        walk(x.operand);
        return;
      case "compare":
      case "arith":
        walk(x.left);
        walk(x.right);
        return;
      case "inList":
        walk(x.operand);
        walk(x.list);
        return;
      case "listExpr":
        x.items.forEach(walk);
        return;
      default:
        return;
    }
  };
  walk(e);
}
