/**
 * The graphile-migrate history of the app. For now always the one initial migration, built from
 * the whole IR; later versions diff against the snapshot in `dazzle.lock.json` and append.
 *
 * Body order (each section depends only on earlier ones): roles and schema usage → session
 * readers → tables → foreign keys → indexes → principal lookup (its `SETOF <table>` needs the
 * table) → scope helpers (their bodies need the tables; policies call them) → auto_update
 * triggers → events → row-level security.
 */
import type { AppIR } from "../../ir/ir";
import { sqlHeader, type EmitContext, type GeneratedFile } from "../types";
import { emitAutoUpdate } from "./emit-auto-update";
import { emitEvents } from "./emit-events";
import { emitForeignKeys } from "./emit-foreign-keys";
import { emitIndexes } from "./emit-indexes";
import { emitPrincipalLookup } from "./emit-principal-lookup";
import { emitReaders } from "./emit-readers";
import { emitRls } from "./emit-rls";
import { emitRoles } from "./emit-roles";
import { emitScopeHelpers } from "./emit-scope-helpers";
import { emitTables } from "./emit-tables";
import { graphileMigration } from "./graphile-migration";

export const INITIAL_MIGRATION_PATH = "migrations/committed/000001-initial.sql";

export function emitMigrations(app: AppIR, ctx: EmitContext): GeneratedFile[] {
  const sections = [
    sqlHeader(ctx).trimEnd(),
    emitRoles(),
    emitReaders(app.principal),
    emitTables(app.entities, app.principal),
    emitForeignKeys(app.entities),
    emitIndexes(app.entities),
    emitPrincipalLookup(app.principal),
    emitScopeHelpers(app.entities),
    emitAutoUpdate(app.entities),
    emitEvents(app.entities),
    emitRls(app.entities),
  ].filter((s): s is string => s !== null);
  const { contents } = graphileMigration(sections.join("\n\n"), null, "initial");
  return [{ path: INITIAL_MIGRATION_PATH, contents, owner: "migration" }];
}
