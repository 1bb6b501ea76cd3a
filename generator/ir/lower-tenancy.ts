/**
 * Active tenancy (DSL.md §7) applied to the lowered IR, one pass after `lower`:
 *
 * - every entity except the exclusions of §7 gets the partition key `<pk>: ref <Root> required`
 *   as its first field after `id` (injected), or keeps the one it declares (already checked to be
 *   `ref <Root>`, DZ4009), and is marked tenant-scoped (`EntityIR.tenant`);
 * - the key is server-managed on every tenant-scoped entity: never read from a create or update
 *   payload, NOT NULL, `DEFAULT NULLIF(current_setting('dazzle.tenant_id', true), '')::uuid`
 *   (an unset tenant makes the insert fail: fail-closed);
 * - the principal records which of its columns holds the caller's tenant, and
 *   `current_user.<pk>` attributes are marked to read `dazzle.tenant_id`.
 *
 * Which entities are tenant-scoped, and the injected key's place (right after `id`, so the key
 * leads every tenant-scoped table like it leads its constraints and indexes), were decided at
 * link time (semantic/link-tenancy.ts, the one place that applies the §7 exclusions), so the
 * checks could see the key; here an injected key (`FieldInfo.injected`) is rebuilt as the bare
 * server-managed ref, and a declared one keeps the author's position and modifiers. Without
 * active tenancy the IR is returned unchanged.
 */
import type { CheckedProgram } from "../semantic/program";
import type { AppIR, EntityIR, FieldIR, PrincipalIR } from "./ir";

export function applyTenancy(app: AppIR, program: CheckedProgram): AppIR {
  const tenancy = app.rules?.tenancy;
  if (!tenancy?.active || tenancy.root === null) return app;
  const link = program.tenancy;
  if (!link) throw new Error("DZ9001: active tenancy without a link-time tenancy decision");
  const root = app.entities.find((e) => e.name === tenancy.root);
  if (root === undefined) throw new Error(`DZ9001: tenant root ${tenancy.root} has no table`);
  const entities = app.entities.map((e) => (link.scoped.has(e.name) ? scoped(e, tenancy.partitionKey, root, isInjected(e.name, tenancy.partitionKey, program)) : e));
  return { ...app, entities, principal: principalTenant(app.principal, entities, tenancy.partitionKey, root) };
}

function isInjected(entity: string, key: string, program: CheckedProgram): boolean {
  return program.entitiesByName.get(entity)?.fieldsByName.get(key)?.injected === true;
}

/** The entity with its (injected or declared) partition key server-managed, marked tenant-scoped. */
function scoped(e: EntityIR, key: string, root: EntityIR, injected: boolean): EntityIR {
  const lowered = e.fields.find((f) => f.name === key);
  if (lowered === undefined) throw new Error(`DZ9001: tenant-scoped ${e.name} has no partition key ${key}`);
  const field = partitionKeyField(key, root, injected ? undefined : lowered);
  return { ...e, fields: e.fields.map((f) => (f === lowered ? field : f)), tenant: { column: field.column, rootTable: root.table } };
}

function partitionKeyField(key: string, root: EntityIR, declared: FieldIR | undefined): FieldIR {
  return {
    ...(declared ?? { name: key, column: key, unique: false, autoUpdate: false }),
    type: { kind: "ref", entity: root.name, table: root.table },
    required: true,
    default: { kind: "tenant" },
    serverManaged: true,
    indexed: true,
  };
}

/** The principal's tenant column (null when the principal is not tenant-scoped) and tenant-key attributes. */
function principalTenant(principal: PrincipalIR, entities: readonly EntityIR[], key: string, root: EntityIR): PrincipalIR {
  const column = principal.entity === null ? key : (entities.find((e) => e.name === principal.entity)?.tenant?.column ?? null);
  const attributes = principal.attributes.map((a) => (a.name === key && column !== null ? { ...a, tenantKey: true } : a));
  return { ...principal, attributes, tenant: { column, root: { entity: root.name, table: root.table } } };
}
