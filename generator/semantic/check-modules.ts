/**
 * Warns DZ2007 when a `ref`/`belongs_to`, a `has_many`/`has_one` target or `via` junction, a
 * scope `via` junction, or an entity reached by an FK path in a scope rule belongs to a module
 * that is neither the referring file's own module nor one it `use`s (DSL.md §2.3). Names still
 * resolve in the flat namespace: the warning changes nothing else. Reports each (file, entity)
 * pair once, at its first mention. Needs resolved entities (runs after `resolve-entities`).
 */
import { entityFromUnusedModule } from "../diagnostics/codes";
import type { Diagnostic } from "../diagnostics/diagnostic";
import type { Span } from "../diagnostics/span";
import type { Condition, Ident, ScopeFilter } from "../syntax/ast";
import { moduleOf } from "./merge-modules";
import type { EntityInfo, LinkedProgram, PassResult } from "./program";

export function checkModules(program: LinkedProgram): PassResult<null> {
  const diagnostics: Diagnostic[] = [];
  const files = new Map(program.project.files.map((f) => [f.path, f]));
  const moduleOfEntity = new Map<string, string>();
  for (const e of program.entities) {
    const file = files.get(e.decl.span.file);
    if (file) moduleOfEntity.set(e.name, moduleOf(file));
  }

  const reported = new Set<string>();
  for (const entity of program.entities) {
    const file = files.get(entity.decl.span.file);
    if (!file) continue;
    const own = moduleOf(file);
    const visible = new Set([own, ...file.uses.map((u) => u.name)]);
    const mention = (target: string, span: Span) => {
      const module = moduleOfEntity.get(target);
      const key = `${file.path}\0${target}`;
      if (module === undefined || visible.has(module) || reported.has(key)) return;
      reported.add(key);
      diagnostics.push(entityFromUnusedModule(span, target, module, own));
    };
    for (const name of mentionedEntities(entity, program)) mention(name.name, name.span);
  }
  return { value: null, diagnostics };
}

/** Entity names the declaration of `entity` mentions, with the span to report them at. */
function mentionedEntities(entity: EntityInfo, program: LinkedProgram): { name: string; span: Span }[] {
  const out: { name: string; span: Span }[] = [];
  const ident = (i: Ident) => out.push({ name: i.name, span: i.span });
  for (const m of entity.decl.members) {
    if (m.kind === "field") {
      const t = m.type;
      if (t.kind === "relationType") ident(t.target);
      else if (t.kind === "collectionType") {
        ident(t.target);
        if (t.via) ident(t.via);
      }
    } else if (m.kind === "scopeBlock") {
      for (const rule of m.rules) walkFilter(rule.filter, entity, program, out);
    }
  }
  return out;
}

function walkFilter(f: ScopeFilter | Condition, entity: EntityInfo, program: LinkedProgram, out: { name: string; span: Span }[]): void {
  switch (f.kind) {
    case "via": {
      out.push({ name: f.junction.name, span: f.junction.span });
      const junction = program.entitiesByName.get(f.junction.name);
      if (junction) for (const b of f.bindings) walkPath(b.path, junction, program, out);
      return;
    }
    case "or":
    case "and":
      for (const c of f.children) walkFilter(c, entity, program, out);
      return;
    case "not":
      walkFilter(f.child, entity, program, out);
      return;
    case "comparison":
      if (f.lhs.kind === "path") walkPath(f.lhs.segments, entity, program, out);
      return;
    default:
      return;
  }
}

/** The entities an FK path reaches, each reported at the segment that leads to it. */
function walkPath(segments: readonly Ident[], start: EntityInfo, program: LinkedProgram, out: { name: string; span: Span }[]): void {
  let current: EntityInfo | undefined = start;
  for (const segment of segments.slice(0, -1)) {
    const field = current?.fieldsByName.get(segment.name) ?? current?.fieldsByName.get(`${segment.name}_id`);
    if (!field || field.type.kind !== "ref") return; // check-access reports it
    out.push({ name: field.type.entity, span: segment.span });
    current = program.entitiesByName.get(field.type.entity);
  }
}
