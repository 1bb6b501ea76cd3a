/**
 * Merges every file into one flat namespace (DSL.md §2.3): entity and persona names are unique
 * across the project, module names are unique, and the app name and title come from the root
 * module's `app`. Guarantees: the returned declarations have unique names; later passes may index
 * them by name.
 *
 * Archetypes (`archetype Name:`, unique names like entities) are field mixins: an entity with
 * `extends: A, B` is returned with the field lines of A, then of B, in front of its own members,
 * so every later pass sees them as its fields and the table reads `id`, the archetype fields, then
 * the entity's own fields. Only field lines are copied. A field the entity (or an earlier
 * archetype of its `extends:`) also declares is DZ2004 and the archetype's copy is left out; an
 * unknown archetype is DZ2015.
 */
import {
  archetypeFieldConflict,
  duplicateDeclaration,
  missingApp,
  moduleProblem,
  rootModuleNotFound,
  unknownArchetype,
} from "../diagnostics/codes";
import type { Diagnostic } from "../diagnostics/diagnostic";
import type { AppDecl, ArchetypeDecl, EntityDecl, FieldDecl, FileNode, PersonaDecl } from "../syntax/ast";
import { closest } from "../util/names";
import type { ParsedProject, PassResult } from "./program";

export interface MergedModules {
  readonly entities: readonly EntityDecl[];
  readonly personas: readonly PersonaDecl[];
  readonly app: { readonly name: string; readonly title: string; readonly decl: AppDecl | null };
}

export function mergeModules(project: ParsedProject): PassResult<MergedModules> {
  const diagnostics: Diagnostic[] = [];
  const entities = new Map<string, EntityDecl>();
  const personas = new Map<string, PersonaDecl>();
  const archetypes = new Map<string, ArchetypeDecl>();
  const modules = new Map<string, FileNode>();

  for (const file of project.files) {
    const moduleName = moduleOf(file);
    const first = modules.get(moduleName);
    if (first && file.module) {
      diagnostics.push(moduleProblem(file.module.span, `module \`${moduleName}\` is declared by two files (${first.path} and ${file.path})`));
    } else if (!first) modules.set(moduleName, file);

    for (const s of file.statements) {
      if (s.kind === "entity") addUnique(entities, s.name.name, s, "entity", diagnostics);
      else if (s.kind === "persona") addUnique(personas, s.id.name, s, "persona", diagnostics);
      else if (s.kind === "archetype") addUnique(archetypes, s.name.name, s, "archetype", diagnostics);
    }
  }

  for (const file of project.files) {
    for (const use of file.uses) {
      if (!modules.has(use.name)) diagnostics.push(moduleProblem(use.span, `\`use ${use.name}\`: no file declares module \`${use.name}\``));
    }
  }

  const expanded = [...entities.values()].map((e) => withArchetypeFields(e, archetypes, diagnostics));
  return { value: { entities: expanded, personas: [...personas.values()], app: chooseApp(project, modules, diagnostics) }, diagnostics };
}

export function moduleOf(file: FileNode): string {
  if (file.module) return file.module.name;
  const base = file.path.split("/").pop() ?? file.path;
  return base.replace(/\.(dz|dsl)$/, "");
}

/** The entity with the field lines of its `extends:` archetypes in front of its own members. */
function withArchetypeFields(decl: EntityDecl, archetypes: ReadonlyMap<string, ArchetypeDecl>, diagnostics: Diagnostic[]): EntityDecl {
  const extendsNames = decl.members.flatMap((m) => (m.kind === "extendsLine" ? m.names : []));
  if (extendsNames.length === 0) return decl;
  const own = new Map(decl.members.flatMap((m) => (m.kind === "field" ? [[m.name.name, m] as const] : [])));
  const copied = new Map<string, FieldDecl>();
  for (const name of extendsNames) {
    const archetype = archetypes.get(name.name);
    if (archetype === undefined) {
      diagnostics.push(unknownArchetype(name.span, name.name, closest(name.name, [...archetypes.keys()])));
      continue;
    }
    for (const field of archetype.members) {
      if (field.kind !== "field") continue;
      const ownField = own.get(field.name.name);
      const earlier = copied.get(field.name.name);
      if (ownField !== undefined) diagnostics.push(archetypeFieldConflict(ownField.name.span, decl.name.name, field.name.name, name.name, field.name.span));
      else if (earlier !== undefined) diagnostics.push(archetypeFieldConflict(name.span, decl.name.name, field.name.name, name.name, earlier.name.span));
      else copied.set(field.name.name, field);
    }
  }
  return { ...decl, members: [...copied.values(), ...decl.members] };
}

function addUnique<T extends EntityDecl | PersonaDecl | ArchetypeDecl>(
  into: Map<string, T>,
  name: string,
  decl: T,
  kind: string,
  diagnostics: Diagnostic[],
): void {
  const first = into.get(name);
  if (first) {
    const nameSpan = decl.kind === "persona" ? decl.id.span : decl.name.span;
    const firstSpan = first.kind === "persona" ? first.id.span : first.name.span;
    diagnostics.push(duplicateDeclaration(nameSpan, kind, name, firstSpan));
  } else into.set(name, decl);
}

function chooseApp(project: ParsedProject, modules: ReadonlyMap<string, FileNode>, diagnostics: Diagnostic[]): MergedModules["app"] {
  const fromDecl = (decl: AppDecl) => ({ name: decl.name.name, title: decl.title ?? decl.name.name, decl });
  let rootFiles: FileNode[] = project.files.length === 1 ? [...project.files] : [];
  if (project.rootModule !== null) {
    if (!modules.has(project.rootModule)) {
      diagnostics.push(rootModuleNotFound(project.rootModule));
      return { name: project.fallbackName, title: project.fallbackName, decl: null };
    }
    rootFiles = project.files.filter((f) => moduleOf(f) === project.rootModule);
  }
  const rootApp = rootFiles.flatMap((f) => f.apps)[0];
  if (rootApp) return fromDecl(rootApp);
  const anyApp = project.files.flatMap((f) => f.apps)[0];
  if (anyApp) {
    diagnostics.push(missingApp(anyApp.span, "the root module declares no `app`; using the first `app` in file order"));
    return fromDecl(anyApp);
  }
  diagnostics.push(missingApp(undefined, `no \`app\` declaration; the app is named \`${project.fallbackName}\``));
  return { name: project.fallbackName, title: project.fallbackName, decl: null };
}
