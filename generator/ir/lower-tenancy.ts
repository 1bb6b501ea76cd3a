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
 * Position: right after `id`, so the key leads every tenant-scoped table like it leads its
 * constraints and indexes. A declared key keeps the author's position.
 *
 * Exclusions (§7): the root; `entities_excluded`; archetype `user`, `settings`,
 * `tenant_settings`; `domain: platform`; a `user_membership` that already holds a ref to the
 * root. Without active tenancy the IR is returned unchanged.
 */
import type { CheckedProgram } from "../semantic/program";
import type { AppIR, EntityIR, FieldIR, PrincipalIR, TenancyIR } from "./ir";

const UNSCOPED_ARCHETYPES: ReadonlySet<string> = new Set(["user", "settings", "tenant_settings"]);

export function applyTenancy(app: AppIR, program: CheckedProgram): AppIR {
  const tenancy = app.rules?.tenancy;
  if (!tenancy?.active || tenancy.root === null) return app;
  const root = app.entities.find((e) => e.name === tenancy.root);
  if (root === undefined) throw new Error(`DZ9001: tenant root ${tenancy.root} has no table`);
  const entities = app.entities.map((e) => (isTenantScoped(e, tenancy, root, program) ? scoped(e, tenancy.partitionKey, root) : e));
  return { ...app, entities, principal: principalTenant(app.principal, entities, tenancy.partitionKey, root) };
}

/** Whether the entity holds the partition key after injection (§7). */
function isTenantScoped(e: EntityIR, tenancy: TenancyIR, root: EntityIR, program: CheckedProgram): boolean {
  if (e.name === root.name) return false;
  if (e.fields.some((f) => f.name === tenancy.partitionKey)) return true; // declared: ref <Root>, checked
  if (tenancy.excluded.includes(e.name)) return false;
  const archetype = e.rules?.archetype ?? null;
  if (archetype !== null && UNSCOPED_ARCHETYPES.has(archetype)) return false;
  if (archetype === "user_membership" && e.fields.some((f) => f.type.kind === "ref" && f.type.entity === root.name)) return false;
  return !isPlatformDomain(e.name, program);
}

function isPlatformDomain(entity: string, program: CheckedProgram): boolean {
  const info = program.entitiesByName.get(entity);
  return info?.decl.members.some((m) => m.kind === "metadata" && m.key.name === "domain" && m.value.trim() === "platform") ?? false;
}

/** The entity with its (injected or declared) partition key server-managed, marked tenant-scoped. */
function scoped(e: EntityIR, key: string, root: EntityIR): EntityIR {
  const declared = e.fields.find((f) => f.name === key);
  const field = partitionKeyField(key, root, declared);
  const fields = declared !== undefined
    ? e.fields.map((f) => (f === declared ? field : f))
    : [...e.fields.filter((f) => f.column === "id"), field, ...e.fields.filter((f) => f.column !== "id")];
  return { ...e, fields, tenant: { column: field.column, rootTable: root.table } };
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
