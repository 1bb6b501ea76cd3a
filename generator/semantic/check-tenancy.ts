/**
 * Checks `tenancy:` (DSL.md §7). Guarantees: at most one `tenancy:` block (DZ2001); its mode is one
 * of single | shared_schema | schema_per_tenant | database_per_tenant and there is at most one
 * tenant root (DZ4009); excluded entities exist (DZ2002); a declared partition-key field is a ref to
 * the tenant root (DZ4009). Tenancy without a tenant root is a no-op with warning DZ4010.
 */
import { duplicateDeclaration, tenancyError, tenancyWithoutRoot, unknownEntity } from "../diagnostics/codes";
import type { Diagnostic } from "../diagnostics/diagnostic";
import type { TenancyDecl } from "../syntax/ast";
import { closest } from "../util/names";
import { isTenantRoot } from "./link-tenancy";
import type { EntityInfo, LinkedProgram, PassResult } from "./program";

export const TENANCY_MODES = ["single", "shared_schema", "schema_per_tenant", "database_per_tenant"] as const;

export interface CheckedTenancy {
  readonly decl: TenancyDecl | null;
  /** The entity with `archetype: tenant` (null when none, or after DZ4009). */
  readonly root: EntityInfo | null;
}

export function checkTenancy(program: LinkedProgram): PassResult<CheckedTenancy> {
  const diagnostics: Diagnostic[] = [];
  const decls = program.project.files.flatMap((f) => f.statements.filter((s): s is TenancyDecl => s.kind === "tenancy"));
  for (const extra of decls.slice(1)) diagnostics.push(duplicateDeclaration(extra.keyword.span, "block", "tenancy", decls[0]!.keyword.span));
  const decl = decls[0] ?? null;

  const roots = program.entities.filter(isTenantRoot);
  if (roots.length > 1) {
    diagnostics.push(tenancyError(roots[1]!.decl.name.span, `two tenant roots: ${roots[0]!.name} and ${roots[1]!.name} both declare \`archetype: tenant\``, roots[0]!.decl.name.span));
  }
  const root = roots.length === 1 ? roots[0]! : null;
  if (decl === null) return { value: { decl, root }, diagnostics };

  let mode = "shared_schema";
  let partitionKey = "tenant_id";
  for (const e of decl.entries) {
    if (e.kind === "tenancyMode") {
      mode = e.value.name;
      if (!(TENANCY_MODES as readonly string[]).includes(mode)) {
        diagnostics.push(tenancyError(e.value.span, `unknown tenancy mode \`${mode}\` (use ${TENANCY_MODES.join(", ")})`));
      }
    } else if (e.kind === "tenancyPartitionKey") partitionKey = e.value.name;
    else if (e.kind === "tenancyExcluded") {
      for (const name of e.entities) {
        if (!program.entitiesByName.has(name.name)) diagnostics.push(unknownEntity(name.span, name.name, closest(name.name, program.entitiesByName.keys())));
      }
    }
  }
  if (mode === "shared_schema" && roots.length === 0) diagnostics.push(tenancyWithoutRoot(decl.keyword.span));
  if (mode === "shared_schema" && root !== null) {
    for (const entity of program.entities) {
      const field = entity.fieldsByName.get(partitionKey);
      if (entity === root || !field || field.injected) continue; // injected by link-tenancy.ts: `ref <Root>` by construction
      if (field.type.kind !== "ref" || field.type.entity !== root.name) {
        diagnostics.push(tenancyError(field.span, `the partition key \`${partitionKey}\` of ${entity.name} must be \`ref ${root.name}\``));
      }
    }
  }
  return { value: { decl, root }, diagnostics };
}
