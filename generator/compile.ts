/**
 * The whole pipeline, in order (DESIGN.md §1):
 *
 *   parse (+ unsupported constructs) → link (merge modules, resolve entities, tenancy, principal)
 *         → check (access, entity lines, invariants, transitions, tenancy, events, audit, personas,
 *                  modules, relations; access lints)
 *         → lower → emit (project, sql, ts) → [write, in cli.ts]
 *
 * Each stage reports all its diagnostics; the pipeline stops after a stage that reported an
 * error. Everything here is pure except `readProject` (input) — writing is `write/`'s job.
 */
import { hasErrors, sortDiagnostics, type Diagnostic } from "./diagnostics/diagnostic";
import { internalError, unparsableOutput } from "./diagnostics/codes";
import type { SourceFile } from "./diagnostics/span";
import type { EmitContext, GeneratedFile } from "./emit/types";
import type { AppIR } from "./ir/ir";
import { lower } from "./ir/lower";
import type { ProjectInput } from "./read-project";
import { checkAccess } from "./semantic/check-access";
import { checkAudit } from "./semantic/check-audit";
import { checkComputed } from "./semantic/check-computed";
import { checkEntityLines } from "./semantic/check-entity-lines";
import { checkEvents } from "./semantic/check-events";
import { checkInvariants } from "./semantic/check-invariants";
import { checkModules } from "./semantic/check-modules";
import { checkPersonas } from "./semantic/check-personas";
import { checkRelations } from "./semantic/check-relations";
import { checkTenancy } from "./semantic/check-tenancy";
import { checkTransitions } from "./semantic/check-transitions";
import { lintAccess } from "./semantic/lint-access";
import { linkTenancy } from "./semantic/link-tenancy";
import { mergeModules } from "./semantic/merge-modules";
import type { CheckedProgram, GeneratorOptions, LinkedProgram, ParsedProject } from "./semantic/program";
import { resolveEntities } from "./semantic/resolve-entities";
import { resolvePrincipal } from "./semantic/resolve-principal";
import type { FileNode } from "./syntax/ast";
import { parseFile } from "./syntax/parse";
import { reportUnsupportedConstructs } from "./syntax/report-unsupported-constructs";

export interface FrontEndResult {
  readonly diagnostics: readonly Diagnostic[];
  readonly sources: ReadonlyMap<string, SourceFile>;
  readonly ast: readonly FileNode[];
  /** Present when no stage reported an error. */
  readonly ir: AppIR | null;
}

/** parse → link → check → lower. Never throws on bad input. */
export function analyze(input: ProjectInput, options: GeneratorOptions = {}): FrontEndResult {
  const sources = new Map(input.files.map((f) => [f.path, f]));
  const diagnostics: Diagnostic[] = [];
  const done = (ast: readonly FileNode[], ir: AppIR | null): FrontEndResult => ({ diagnostics: sortDiagnostics(diagnostics), sources, ast, ir });

  // ── parse ──
  const ast = input.files.map((file) => {
    const result = parseFile(file);
    diagnostics.push(...result.diagnostics);
    return result.file;
  });
  diagnostics.push(...reportUnsupportedConstructs(ast));
  if (hasErrors(diagnostics)) return done(ast, null);

  // ── link ──
  const project: ParsedProject = { files: ast, sources, rootModule: input.rootModule, fallbackName: input.fallbackName };
  const merged = mergeModules(project);
  const entities = resolveEntities(merged.value.entities);
  const tenancyLink = linkTenancy(project, entities.value); // injects the partition key before the checks (DSL.md §7)
  const principal = resolvePrincipal(tenancyLink.entities, options, tenancyLink.tenancy);
  diagnostics.push(...merged.diagnostics, ...entities.diagnostics, ...principal.diagnostics);
  if (hasErrors(diagnostics)) return done(ast, null);

  const personas = merged.value.personas.map((decl) => {
    const roleEntry = decl.entries.find((e) => e.kind === "keyValue" && e.key.name === "role");
    const role = roleEntry && roleEntry.kind === "keyValue" && roleEntry.value !== "" ? roleEntry.value : decl.id.name;
    return { decl, id: decl.id.name, role };
  });
  const linked: LinkedProgram = {
    project,
    app: merged.value.app,
    entities: tenancyLink.entities,
    entitiesByName: new Map(tenancyLink.entities.map((e) => [e.name, e])),
    personas: [...personas].sort((a, b) => (a.id < b.id ? -1 : 1)),
    principal: principal.value,
    declaredRoles: new Set(personas.map((p) => p.role)),
    tenancy: tenancyLink.tenancy,
  };

  // ── check ──
  const access = checkAccess(linked);
  const entityLines = checkEntityLines(linked);
  const invariants = checkInvariants(linked);
  const computed = checkComputed(linked);
  const transitions = checkTransitions(linked);
  const tenancy = checkTenancy(linked);
  const events = checkEvents(linked);
  const audit = checkAudit(linked);
  const personaRoles = checkPersonas(linked, [...transitions.value.roleRefs, ...audit.value.roleRefs]);
  const modules = checkModules(linked);
  const relations = checkRelations(linked);
  diagnostics.push(...modules.diagnostics, ...relations.diagnostics);
  if (!hasErrors(access.diagnostics)) diagnostics.push(...lintAccess(linked).diagnostics); // lints of broken rules are noise
  diagnostics.push(...access.diagnostics, ...entityLines.diagnostics, ...invariants.diagnostics, ...computed.diagnostics, ...transitions.diagnostics);
  diagnostics.push(...tenancy.diagnostics, ...events.diagnostics, ...audit.diagnostics, ...personaRoles.diagnostics);
  if (hasErrors(diagnostics)) return done(ast, null);
  const rules = {
    stateFields: transitions.value.stateFields,
    invariants: invariants.value,
    tenancy: tenancy.value,
    events: events.value,
    fieldHistory: audit.value.fieldHistory,
    computed: computed.value,
  };
  const roles = [...new Set([...access.value.roles, ...personaRoles.value])].sort();
  const checked: CheckedProgram = { ...linked, leaves: access.value.leaves, roles, rules, onDelete: relations.value };

  // ── lower ──
  try {
    return done(ast, lower(checked));
  } catch (e) {
    diagnostics.push(internalError((e instanceof Error ? e.message : String(e)).replace(/^DZ9001: /, "")));
    return done(ast, null);
  }
}

/**
 * IR → every generated file, sorted by path. Emitters are loaded on first use: `check` and
 * `--emit` never pay for ts-morph.
 */
export function emit(ir: AppIR, ctx: EmitContext): GeneratedFile[] {
  return emitApp(ir, ctx, null).files;
}

/**
 * `emit` with the migration history: given the previous schema snapshot and last committed
 * migration (read from the output directory by the caller), the migration files are only the new
 * one (or none); `migrations` tells the caller the steps and the snapshot to store.
 */
export function emitApp(
  ir: AppIR,
  ctx: EmitContext,
  previous: import("./emit/sql/emit-migrations").PreviousSchema | null,
  options: { allowDestructive?: boolean } = {},
): { files: GeneratedFile[]; migrations: import("./emit/sql/emit-migrations").MigrationPlan } {
  const { emitProjectFiles } = require("./emit/project/emit-project-files") as typeof import("./emit/project/emit-project-files");
  const { planMigrations } = require("./emit/sql/emit-migrations") as typeof import("./emit/sql/emit-migrations");
  const { emitTypeScript } = require("./emit/ts/emit-typescript") as typeof import("./emit/ts/emit-typescript");
  const migrations = planMigrations(ir, ctx, previous, options);
  const files = [...emitProjectFiles(ir, ctx), ...migrations.files, ...emitTypeScript(ir, ctx)];
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 1; i < files.length; i++) {
    if (files[i]!.path === files[i - 1]!.path) throw new Error(`DZ9001: two emitters produced ${files[i]!.path}`);
  }
  const unparsable = checkEmittedSyntax(files);
  if (unparsable.length > 0) throw new InternalDiagnostics(unparsable);
  return { files, migrations };
}

/** An emitter broke its contract: these DZ9xxx diagnostics are rendered and the CLI exits 2. */
export class InternalDiagnostics extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map((d) => d.message).join("\n"));
  }
}

/**
 * DZ9002 for each generated `.ts` file the TypeScript parser rejects (syntax only, no type check:
 * a few milliseconds for a whole app), at its first syntax error.
 */
export function checkEmittedSyntax(files: readonly Pick<GeneratedFile, "path" | "contents">[]): Diagnostic[] {
  const { ts } = require("ts-morph") as typeof import("ts-morph");
  const out: Diagnostic[] = [];
  for (const file of files) {
    if (!file.path.endsWith(".ts")) continue;
    const source = ts.createSourceFile(file.path, file.contents, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    // `parseDiagnostics` holds the parser's (syntactic) diagnostics; no program is needed.
    const first = (source as unknown as { parseDiagnostics: readonly import("ts-morph").ts.DiagnosticWithLocation[] }).parseDiagnostics[0];
    if (first === undefined) continue;
    const at = source.getLineAndCharacterOfPosition(first.start);
    out.push(unparsableOutput(file.path, ts.flattenDiagnosticMessageText(first.messageText, " "), at.line + 1, at.character + 1));
  }
  return out;
}
