/**
 * Chooses the principal entity — the rows `current_user` stands for (DSL.md §5.3): the
 * `--principal` option, else the entity with `auth_identity:`, else the entity named `User`,
 * else none (a table `app_user` is generated; under active tenancy it carries the partition key,
 * which `current_user.<partition_key>` reads, DSL.md §7).
 */
import { unknownEntity } from "../diagnostics/codes";
import type { Diagnostic } from "../diagnostics/diagnostic";
import { closest } from "../util/names";
import { appUserFields, type TenancyLink } from "./link-tenancy";
import type { EntityInfo, GeneratorOptions, PassResult, Principal } from "./program";

export function resolvePrincipal(entities: readonly EntityInfo[], options: GeneratorOptions, tenancy: TenancyLink | null = null): PassResult<Principal> {
  const diagnostics: Diagnostic[] = [];
  const byName = new Map(entities.map((e) => [e.name, e]));
  let entity: EntityInfo | undefined;
  if (options.principal !== undefined) {
    entity = byName.get(options.principal);
    if (!entity) {
      diagnostics.push(unknownEntity(undefined, options.principal, closest(options.principal, byName.keys())));
    }
  }
  entity ??= entities.find((e) => e.decl.members.some((m) => m.kind === "authIdentity"));
  entity ??= byName.get("User");
  const value: Principal = entity ? { entity, table: entity.table } : { entity: null, table: "app_user", appUserFields: appUserFields(tenancy, entities) };
  return { value, diagnostics };
}
