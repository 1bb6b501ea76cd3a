/**
 * Tenancy activation and partition-key injection at link time (DSL.md §7), before any check runs,
 * so that rules, `index`/`unique` lines, invariants, `requires` and paths see the injected key
 * like a declared field (`list: tenant_id = current_user.tenant_id`, `tenant_id.name = …`).
 *
 * This is the ONE place that decides which entities are tenant-scoped; lower-tenancy.ts reads the
 * decision from `LinkedProgram.tenancy` and only shapes the IR. It is deliberately tolerant:
 * checking the `tenancy:` block (duplicates, unknown modes, unknown exclusions, two roots, a
 * declared key that is not `ref <Root>`) is check-tenancy.ts's job; on those errors the pipeline
 * stops before lowering, so whatever this step decided is never generated.
 *
 * - Activation: the (first) `tenancy:` block has mode `shared_schema` (the default) and exactly
 *   one entity declares `archetype: tenant` (the root).
 * - Tenant-scoped: every entity but the root that declares the key, or that is none of the §7
 *   exclusions (`entities_excluded`; archetype `user`, `settings`, `tenant_settings`; `domain:
 *   platform`; a `user_membership` already holding a ref to the root).
 * - Injection: a scoped entity that does not declare the key gets a synthetic field
 *   `<key>: ref <Root> required` (default: the caller's tenant) right after `id`, marked
 *   `injected` so that relation lookups (`has_many`, aggregates) keep ignoring it: before this
 *   step it was invisible to them, and a second ref to the root must not make them ambiguous.
 * - The generated `app_user` (no principal entity) carries the key: `current_user.<key>` resolves
 *   against `appUserFields`.
 */
import type { EntityDecl, TenancyDecl } from "../syntax/ast";
import type { EntityInfo, FieldInfo, ParsedProject } from "./program";

/** What active tenancy decided; null when tenancy is not active. */
export interface TenancyLink {
  readonly partitionKey: string;
  readonly root: string;
  /** Tenant-scoped entities (declared or injected key), by name. */
  readonly scoped: ReadonlySet<string>;
}

const UNSCOPED_ARCHETYPES: ReadonlySet<string> = new Set(["user", "settings", "tenant_settings"]);

/** The entities with the partition key injected where §7 says so, and the activation decision. */
export function linkTenancy(project: ParsedProject, entities: readonly EntityInfo[]): { entities: EntityInfo[]; tenancy: TenancyLink | null } {
  const tenancy = tenancyActivation(project, entities);
  if (tenancy === null) return { entities: [...entities], tenancy };
  return { entities: entities.map((e) => (tenancy.scoped.has(e.name) ? withPartitionKey(e, tenancy) : e)), tenancy };
}

/** Any `archetype: tenant` line makes the entity a tenant root (two roots: DZ4009 in check-tenancy.ts). */
export function isTenantRoot(e: EntityInfo): boolean {
  return e.decl.members.some((m) => m.kind === "archetypeLine" && m.name.name === "tenant");
}

/**
 * The stored fields of the generated `app_user` that `current_user.<attr>` may read besides `id`:
 * the partition key under active tenancy (DSL.md §7 "Caller's tenant"), none otherwise.
 */
export function appUserFields(tenancy: TenancyLink | null, entities: readonly EntityInfo[]): ReadonlyMap<string, FieldInfo> {
  const root = tenancy === null ? undefined : entities.find((e) => e.name === tenancy.root);
  if (tenancy === null || root === undefined) return new Map();
  return new Map([[tenancy.partitionKey, partitionKeyInfo(tenancy, root.decl.name.span)]]);
}

function tenancyActivation(project: ParsedProject, entities: readonly EntityInfo[]): TenancyLink | null {
  const decl = project.files.flatMap((f) => f.statements).find((s): s is TenancyDecl => s.kind === "tenancy");
  if (decl === undefined) return null;
  let mode = "shared_schema";
  let partitionKey = "tenant_id";
  const excluded = new Set<string>();
  for (const e of decl.entries) {
    if (e.kind === "tenancyMode") mode = e.value.name;
    else if (e.kind === "tenancyPartitionKey") partitionKey = e.value.name;
    else if (e.kind === "tenancyExcluded") for (const name of e.entities) excluded.add(name.name);
  }
  const roots = entities.filter(isTenantRoot);
  if (mode !== "shared_schema" || roots.length !== 1) return null;
  const root = roots[0]!.name;
  const scoped = entities.filter((e) => isTenantScoped(e, root, partitionKey, excluded)).map((e) => e.name);
  return { partitionKey, root, scoped: new Set(scoped) };
}

/** §7: whether the entity holds the partition key after injection. */
function isTenantScoped(e: EntityInfo, root: string, key: string, excluded: ReadonlySet<string>): boolean {
  if (e.name === root) return false;
  if (e.fieldsByName.has(key)) return true; // declared (check-tenancy requires `ref <Root>`)
  if (excluded.has(e.name)) return false;
  const archetype = archetypeOf(e.decl);
  if (archetype !== null && UNSCOPED_ARCHETYPES.has(archetype)) return false;
  if (archetype === "user_membership" && e.fields.some((f) => f.type.kind === "ref" && f.type.entity === root)) return false;
  return !e.decl.members.some((m) => m.kind === "metadata" && m.key.name === "domain" && m.value.trim() === "platform");
}

/** The last `archetype:` line wins, as in lowering (lower-rules.ts). */
function archetypeOf(decl: EntityDecl): string | null {
  let archetype: string | null = null;
  for (const m of decl.members) if (m.kind === "archetypeLine") archetype = m.name.name;
  return archetype;
}

/** The entity with the synthetic key right after `id`, unless it declares the key. */
function withPartitionKey(e: EntityInfo, tenancy: TenancyLink): EntityInfo {
  if (e.fieldsByName.has(tenancy.partitionKey)) return e;
  const key = partitionKeyInfo(tenancy, e.decl.name.span);
  const [id, ...rest] = e.fields;
  return { ...e, fields: [id!, key, ...rest], fieldsByName: new Map([...e.fieldsByName, [key.name, key]]) };
}

function partitionKeyInfo(tenancy: TenancyLink, span: FieldInfo["span"]): FieldInfo {
  return {
    name: tenancy.partitionKey, decl: null, span, type: { kind: "ref", entity: tenancy.root }, required: true, unique: false,
    default: { kind: "tenant" }, autoAdd: false, autoUpdate: false, indexed: true, sensitive: false, pii: null, injected: true,
  };
}
