/**
 * The graphile-migrate history of the app. Without a previous schema snapshot: the one initial
 * migration, built from the whole IR. With one (read from `dazzle.lock.json` by the caller): the
 * diff against it as ONE new committed migration `00000N-<slug>.sql` chained to the last
 * committed hash, or nothing when the schema did not change. Pure: IR + previous state in, files
 * and the new snapshot out.
 *
 * Body order (each section depends only on earlier ones): roles and schema usage → session
 * readers → tables → foreign keys → indexes → principal lookup (its `SETOF <table>` needs the
 * table) → scope helpers (their bodies need the tables; policies call them) → invariant helpers
 * (dotted invariants, called by the write flow's probe) → auto_update
 * triggers → events → the access-decision log (`audit:`; its writer reads the session readers) →
 * row-level security.
 */
import type { AppIR } from "../../ir/ir";
import { sqlHeader, type EmitContext, type GeneratedFile } from "../types";
import { callerRoles, runtimeRoles } from "./caller-roles";
import { diffSchema, type MigrationStep } from "./diff-schema";
import { emitAudit } from "./emit-audit";
import { emitAutoUpdate } from "./emit-auto-update";
import { emitEvents } from "./emit-events";
import { emitForeignKeys } from "./emit-foreign-keys";
import { emitIndexes } from "./emit-indexes";
import { emitInvariantHelpers } from "./emit-invariant-helpers";
import { emitPrincipalLookup } from "./emit-principal-lookup";
import { emitReaders } from "./emit-readers";
import { emitRls } from "./emit-rls";
import { emitRoles } from "./emit-roles";
import { emitScopeHelpers } from "./emit-scope-helpers";
import { emitTables } from "./emit-tables";
import { graphileMigration } from "./graphile-migration";
import type { Renames } from "./rename-schema";
import { buildSchemaSnapshot, type NamedSection, type SchemaSnapshot } from "./schema-snapshot";

export const INITIAL_MIGRATION_PATH = "migrations/committed/000001-initial.sql";

/** What the caller read from the output directory before generating. */
export interface PreviousSchema {
  readonly snapshot: SchemaSnapshot;
  /** The last committed migration: its file name (`000003-add-tags.sql`) and `--! Hash`. */
  readonly last: { readonly file: string; readonly hash: string };
}

export interface MigrationPlan {
  /** The migration files to add (empty when the schema is unchanged). */
  readonly files: GeneratedFile[];
  readonly snapshot: SchemaSnapshot;
  /** Steps of the follow-up migration (empty for the initial one). */
  readonly steps: readonly MigrationStep[];
  /** DZ5005 hints. */
  readonly warnings: readonly string[];
}

export function migrationSections(app: AppIR): NamedSection[] {
  // Who runs requests (dazzle_app and the caller roles) is decided once for every section that grants to them.
  const runtime = runtimeRoles(app);
  const callers = callerRoles(app);
  const sections: [string, string | null][] = [
    ["roles", emitRoles(app)],
    ["session readers", emitReaders(app.principal, runtime)],
    ["tables", emitTables(app.entities, app.principal)],
    ["foreign keys", emitForeignKeys(app.entities)],
    ["indexes", emitIndexes(app.entities)],
    ["principal lookup", emitPrincipalLookup(app.principal)],
    ["scope helpers", emitScopeHelpers(app.entities, runtime)],
    ["invariant helpers", emitInvariantHelpers(app.entities)],
    ["auto_update triggers", emitAutoUpdate(app.entities)],
    ["events", emitEvents(app.entities)],
    ["audit log", emitAudit(app, runtime)],
    ["row-level security", emitRls(app.entities, callers)],
  ];
  return sections.filter((s): s is [string, string] => s[1] !== null).map(([name, sql]) => ({ name, sql }));
}

export function planMigrations(app: AppIR, ctx: EmitContext, previous: PreviousSchema | null, options: { allowDestructive?: boolean } = {}): MigrationPlan {
  const sections = migrationSections(app);
  const snapshot = buildSchemaSnapshot(sections);
  if (previous === null) {
    const body = [sqlHeader(ctx).trimEnd(), ...sections.map((s) => s.sql)].join("\n\n");
    const { contents } = graphileMigration(body, null, "initial");
    return { files: [{ path: INITIAL_MIGRATION_PATH, contents, owner: "migration" }], snapshot, steps: [], warnings: [] };
  }
  const diff = diffSchema(previous.snapshot, snapshot, sections, renamesOf(app));
  if (diff.steps.length === 0) return { files: [], snapshot, steps: [], warnings: diff.warnings };
  const slug = migrationSlug(diff.steps);
  const number = Number(/^(\d+)/.exec(previous.last.file)?.[1] ?? "0") + 1;
  const destructive = diff.steps.filter((s) => s.refusal !== undefined);
  const head = [
    sqlHeader(ctx).trimEnd(),
    `-- Schema change: ${diff.steps.length} step(s), from the snapshot in dazzle.lock.json.`,
    ...(destructive.length > 0 && options.allowDestructive
      ? [`-- DESTRUCTIVE: generated with --allow-destructive; these steps can lose data:`, ...destructive.map((s) => `--   ${s.refusal} ${s.description}`)]
      : []),
  ].join("\n");
  const body = [head, ...diff.steps.map((s) => `-- ${s.refusal ? `${s.refusal} ` : ""}${s.description}\n${s.sql}`)].join("\n\n");
  const { contents } = graphileMigration(body, previous.last.hash, slug);
  const file = `${String(number).padStart(6, "0")}-${slug}.sql`;
  return { files: [{ path: `migrations/committed/${file}`, contents, owner: "migration" }], snapshot, steps: diff.steps, warnings: diff.warnings };
}

/** The `was:` hints of the IR: entity renames by new table, field renames by new column. */
export function renamesOf(app: AppIR): Renames {
  const tables = new Map<string, string>();
  const columns = new Map<string, Map<string, string>>();
  for (const e of app.entities) {
    if (e.wasTable !== undefined) tables.set(e.table, e.wasTable);
    const renamed = e.fields.flatMap((f) => (f.wasColumn !== undefined ? [[f.column, f.wasColumn] as const] : []));
    if (renamed.length > 0) columns.set(e.table, new Map(renamed));
  }
  return { tables, columns };
}

/** The initial migration (no previous snapshot): the files only. */
export function emitMigrations(app: AppIR, ctx: EmitContext): GeneratedFile[] {
  return planMigrations(app, ctx, null).files;
}

/** A short file-name slug from the first steps, e.g. `add-column-task-due`. */
function migrationSlug(steps: readonly MigrationStep[]): string {
  const words = steps[0]!.description
    .replace(/\(.*$/, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48)
    .replace(/-+$/, "");
  return steps.length > 1 ? `${words}-and-${steps.length - 1}-more` : words || "schema-change";
}
