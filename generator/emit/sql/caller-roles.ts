/**
 * Caller roles (DSL.md §6.11; GENERATED-APP.md "Caller roles"): a database role per app role,
 * `dazzle_as_<role>`, that the list requests of a caller whose only role it is run as.
 *
 * The generic policies of `dazzle_app` test the caller's roles inside the row expression
 * (`(SELECT dazzle_has_role('admin')) OR ((SELECT dazzle_has_role('member')) AND …)`), because
 * one policy serves every role combination and both read and list. The planner cannot know those
 * tests' values, so a list query must repeat its scope in its WHERE clause to reach the scope's
 * index, and every row then pays for the policy again. A caller role's SELECT policy is the list
 * scope itself with the role tests assigned for a caller holding exactly that role — a plain
 * predicate — so such a list runs as the caller role and sends no scope of its own: the planner
 * sees the scope once, with its index, as with RLS off. The database enforces the whole scope;
 * the generated RBAC matrix checks that each caller role admits exactly the list rows.
 *
 * ```sql
 * CREATE POLICY "select_as_member" ON "task" FOR SELECT TO "dazzle_as_member"
 *   USING (("team" = (SELECT dazzle_user_attr_team()) AND "done" = FALSE));
 * -- the list as dazzle_as_member:  SELECT * FROM "task" WHERE TRUE ORDER BY "id" LIMIT 20
 * ```
 *
 * Fail-closed: a session switched to a caller role without the caller's context must see
 * nothing. A disjunct that is NULL when the principal values are unset (`owner =
 * current_user`) is closed already; any other (`visibility = public`, `all`) is ANDed with the
 * role test `(SELECT dazzle_has_role('<role>'))`, one init-plan read only by the rows the
 * disjunct admits.
 *
 * Only roles whose list scope is a predicate over the table's own columns (not `all`, not denied,
 * no FK path or `via`: see listRole) on some entity get a database role; other callers (several roles, anonymous, lists open to the role) use
 * `dazzle_app` and the app-layer filter as before. `dazzle_app` is NOINHERIT and a member of each
 * caller role, so a login granted `dazzle_app` may switch to them while a `dazzle_app` session
 * never gets their policies (emit-roles.ts).
 */
import type { AppIR, EntityIR, Operation, Predicate } from "../../ir/ir";
import { predicateLeaves } from "../../ir/predicate-leaves";
import { APP_ROLE } from "./emit-roles";
import { rolePredicate } from "./policy-body";
import { compilePermit, compilePredicate } from "./predicate";

const PREFIX = "dazzle_as_";
const LIST: readonly Operation[] = ["list"];

/** The database role of an app role; null when the name would pass PostgreSQL's 63 bytes. */
export function callerRoleName(role: string): string | null {
  const name = `${PREFIX}${role}`;
  return Buffer.byteLength(name, "utf8") <= 63 ? name : null;
}

/** The SELECT policy name of a caller role on every table (`select_as_<role>`, ≤ 63 bytes like the role). */
export function callerPolicyName(role: string): string {
  return `select_as_${role}`;
}

/**
 * The list scope of a caller holding exactly `role` (permit and scope rules with the role tests
 * assigned, as runtime/access.ts scopeFor would filter): FALSE when the list is denied, TRUE when
 * every row is in scope.
 */
export function listScope(e: EntityIR, role: string): Predicate {
  return e.access.exposed ? rolePredicate(e.access, LIST, role) : { kind: "false" };
}

/**
 * The caller role a list of a caller holding exactly `role` runs as, or null (as `dazzle_app`, with
 * the scope in the query): when the scope is `all` or denied, or when it reads other tables (an FK
 * path or a `via` junction). PostgreSQL keeps a policy's `col IN (SELECT …)` a per-row hashed
 * subplan, while the same test in the query's WHERE becomes a semi-join that can start from the
 * index on `col` — so those lists stay faster with their scope in the query.
 */
export function listRole(e: EntityIR, role: string): string | null {
  return listRoleRefusal(e, role) === null ? callerRoleName(role) : null;
}

/** Why a list of a caller holding exactly `role` runs as `dazzle_app` (listRole null), or null. */
export function listRoleRefusal(e: EntityIR, role: string): string | null {
  const scope = listScope(e, role);
  if (scope.kind === "true") return `${role}'s list scope is every row (no caller role)`;
  if (scope.kind === "false") return `${role} lists no row (no caller role)`;
  if (predicateLeaves(scope).some((leaf) => leaf.kind === "path" || leaf.kind === "exists")) {
    return `${role}'s list scope follows an FK path or a via junction, which the query's WHERE turns into an indexed semi-join (no caller role)`;
  }
  if (callerRoleName(role) === null) return `the caller role name of ${role} would pass PostgreSQL's 63 bytes`;
  return null;
}

/** The app roles that get a caller role: those whose list runs as one on some entity, sorted. */
export function callerRoles(app: Pick<AppIR, "roles" | "entities">): string[] {
  return app.roles.filter((role) => app.entities.some((e) => listRole(e, role) !== null));
}

/** Every role that runs requests: `dazzle_app`, then the caller roles. Grants name them all. */
export function runtimeRoles(app: Pick<AppIR, "roles" | "entities">): string[] {
  return [APP_ROLE, ...callerRoles(app).map((role) => callerRoleName(role)!)];
}

/**
 * The body of the caller role's SELECT policy on the entity's table (policy form): the role's list
 * scope; null when it lists no row. Disjuncts that are not NULL for an unset context get the role test.
 */
export function callerPolicyBody(e: EntityIR, role: string): string | null {
  const p = listScope(e, role);
  const gate = compilePermit({ kind: "role", role });
  if (p.kind === "false") return null;
  if (p.kind === "true") return gate;
  const disjuncts = p.kind === "or" ? p.children : [p];
  // The role test after the predicate: rows the predicate rejects never read it.
  const parts = disjuncts.map((d) => (failsClosed(d) ? compilePredicate(d, { kind: "policy" }) : `${compilePredicate(d, { kind: "policy" })} AND ${gate}`));
  if (parts.length === 1) return parts[0]!;
  return parts.map((part, i) => (failsClosed(disjuncts[i]!) ? part : `(${part})`)).join(" OR ");
}

/**
 * Whether the predicate admits no row when every principal value is unset. Compiled (predicate.ts),
 * a leaf reading one is then NULL — a plain comparison by SQL, a path or junction under a `not`
 * by its CASE guard — or FALSE (a path or junction elsewhere: its helper returns no row), and
 * either way not TRUE, nor is its negation.
 */
export function failsClosed(p: Predicate): boolean {
  switch (p.kind) {
    case "and":
      return p.children.some(failsClosed);
    case "or":
      return p.children.every(failsClosed);
    case "not":
      return nullWhenUnset(p.child);
    default:
      return nullWhenUnset(p);
  }
}

/** A leaf that is not TRUE, and whose compiled negation is not TRUE, when the principal values it reads are unset. */
function nullWhenUnset(p: Predicate): boolean {
  switch (p.kind) {
    case "userAttr":
      return true;
    case "path":
      return p.value.kind === "userAttr";
    case "exists":
      return p.principalBindings.length > 0;
    default:
      return false;
  }
}
