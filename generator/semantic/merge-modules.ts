/**
 * Merges every file into one flat namespace (DSL.md §2.3): entity and persona names are unique
 * across the project, module names are unique, and the app name and title come from the root
 * module's `app`. Guarantees: the returned declarations have unique names; later passes may index
 * them by name.
 */
import {
  duplicateDeclaration,
  missingApp,
  moduleProblem,
  rootModuleNotFound,
} from "../diagnostics/codes";
import type { Diagnostic } from "../diagnostics/diagnostic";
import type { AppDecl, EntityDecl, FileNode, PersonaDecl } from "../syntax/ast";
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
    }
  }

  for (const file of project.files) {
    for (const use of file.uses) {
      if (!modules.has(use.name)) diagnostics.push(moduleProblem(use.span, `\`use ${use.name}\`: no file declares module \`${use.name}\``));
    }
  }

  return { value: { entities: [...entities.values()], personas: [...personas.values()], app: chooseApp(project, modules, diagnostics) }, diagnostics };
}

export function moduleOf(file: FileNode): string {
  if (file.module) return file.module.name;
  const base = file.path.split("/").pop() ?? file.path;
  return base.replace(/\.(dz|dsl)$/, "");
}

function addUnique<T extends EntityDecl | PersonaDecl>(
  into: Map<string, T>,
  name: string,
  decl: T,
  kind: string,
  diagnostics: Diagnostic[],
): void {
  const first = into.get(name);
  if (first) {
    const nameSpan = decl.kind === "entity" ? decl.name.span : decl.id.span;
    const firstSpan = first.kind === "entity" ? first.name.span : first.id.span;
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
