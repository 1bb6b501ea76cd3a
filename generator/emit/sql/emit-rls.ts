/**
 * Row-level security per entity table (DSL.md §6.11): ENABLE + FORCE (the owner is subject too),
 * the grant to `dazzle_app`, and one permissive policy per verb whose body is
 * `compilePolicyBody` (permit AND NOT forbid AND scope, normalised so each role test appears
 * once per alternative) of the verb's operations, ORed for SELECT (read, list). A verb whose body
 * is statically FALSE gets no policy, so it is denied.
 * Every policy is dropped first, so re-applying the section converges.
 *
 * ```sql
 * DROP POLICY IF EXISTS "scope_delete" ON "task";
 * CREATE POLICY "scope_delete" ON "task" FOR DELETE TO "dazzle_app"
 *   USING (((SELECT dazzle_user_id()) IS NOT NULL) AND "status" = 'done');
 * ```
 *
 * The grant is given to every entity table, exposed or not: RLS is the gate (a default-deny
 * entity has no policy, so `dazzle_app` sees no rows), and custom code or other entities'
 * subqueries get an empty result rather than a permission error.
 *
 * Each caller role (caller-roles.ts) gets SELECT on every table and one SELECT policy per table,
 * `select_as_<role>`: the list scope of a caller holding exactly that role, with no role test
 * left. The tenant fence applies to them too.
 */
import type { EntityIR, Operation } from "../../ir/ir";
import { callerPolicyBody, callerPolicyName, callerRoleName } from "./caller-roles";
import { APP_ROLE } from "./emit-roles";
import { compilePolicyBody } from "./policy-body";
import { quoteIdent } from "./quote";
import { sqlSection } from "./sql-section";

interface Verb {
  readonly policy: string;
  readonly command: "SELECT" | "INSERT" | "UPDATE" | "DELETE";
  readonly operations: readonly Operation[];
  readonly using: boolean;
  readonly withCheck: boolean;
}

const VERBS: readonly Verb[] = [
  { policy: "scope_select", command: "SELECT", operations: ["read", "list"], using: true, withCheck: false },
  { policy: "scope_insert", command: "INSERT", operations: ["create"], using: false, withCheck: true },
  { policy: "scope_update", command: "UPDATE", operations: ["update"], using: true, withCheck: true },
  { policy: "scope_delete", command: "DELETE", operations: ["delete"], using: true, withCheck: false },
];

/** `callers`: the app roles with a caller role (caller-roles.ts callerRoles). */
export function emitRls(entities: readonly EntityIR[], callers: readonly string[] = []): string | null {
  if (entities.length === 0) return null;
  return sqlSection("Row-level security", entities.map((e) => entityRls(e, callers)));
}

function entityRls(e: EntityIR, callers: readonly string[]): string {
  const table = quoteIdent(e.table);
  const callerRoleList = callers.map((role) => quoteIdent(callerRoleName(role)!)).join(", ");
  const head = [
    `-- ${e.name}${e.access.exposed ? "" : " (default-deny: no permit rule, so no policy)"}`,
    `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;`,
    `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO ${quoteIdent(APP_ROLE)};`,
    ...(callers.length === 0 ? [] : [`GRANT SELECT ON ${table} TO ${callerRoleList};`]),
  ].join("\n");
  return [head, ...tenantFence(e, callers), ...VERBS.map((v) => verbPolicy(e, v)), ...callers.map((role) => callerPolicy(e, role))].join("\n");
}

/** The caller role's SELECT policy on the table (none when the role may see no row). */
function callerPolicy(e: EntityIR, role: string): string {
  const table = quoteIdent(e.table);
  const name = quoteIdent(callerPolicyName(role));
  const body = callerPolicyBody(e, role);
  const lines = [
    `-- ${callerPolicyName(role)}: the list scope of a caller whose only role is ${role}${body === null ? ": none, denied" : ""}`,
    `DROP POLICY IF EXISTS ${name} ON ${table};`,
  ];
  if (body !== null) lines.push(`CREATE POLICY ${name} ON ${table} FOR SELECT TO ${quoteIdent(callerRoleName(role)!)}`, `  USING (${body});`);
  return lines.join("\n");
}

/**
 * The RESTRICTIVE `tenant_fence` of a tenant-scoped table (DSL.md §6.11, §7): ANDed with every
 * permissive policy, for every verb, so no rule can reach another tenant's rows; none elsewhere.
 */
function tenantFence(e: EntityIR, callers: readonly string[]): string[] {
  if (e.tenant === undefined) return [];
  const roles = [APP_ROLE, ...callers.map((role) => callerRoleName(role)!)].map(quoteIdent).join(", ");
  const table = quoteIdent(e.table);
  const name = quoteIdent("tenant_fence");
  const test = `${quoteIdent(e.tenant.column)} = (SELECT dazzle_tenant_id())`;
  return [
    `-- tenant_fence: rows of the caller's tenant only`,
    `DROP POLICY IF EXISTS ${name} ON ${table};`,
    `CREATE POLICY ${name} ON ${table} AS RESTRICTIVE FOR ALL TO ${roles}`,
    `  USING (${test}) WITH CHECK (${test});`,
  ];
}

function verbPolicy(e: EntityIR, verb: Verb): string {
  const table = quoteIdent(e.table);
  const name = quoteIdent(verb.policy);
  const body = verbBody(e, verb);
  const lines = [...policyComment(e, verb, body !== null), `DROP POLICY IF EXISTS ${name} ON ${table};`];
  if (body !== null) {
    lines.push(`CREATE POLICY ${name} ON ${table} FOR ${verb.command} TO ${quoteIdent(APP_ROLE)}`);
    const clauses: string[] = [];
    if (verb.using) clauses.push(`  USING (${body})`);
    if (verb.withCheck) clauses.push(`  WITH CHECK (${body})`);
    lines.push(`${clauses.join("\n")};`);
  }
  return lines.join("\n");
}

/** The policy body of the verb's operations; null when it is statically FALSE. */
function verbBody(e: EntityIR, verb: Verb): string | null {
  return compilePolicyBody(e.access, verb.operations);
}

/** Names the operations and the scope rules (id and source) the policy encodes. */
function policyComment(e: EntityIR, verb: Verb, hasPolicy: boolean): string[] {
  const ops = verb.operations.join(", ");
  const lines = [`-- ${verb.policy} (${ops})${hasPolicy ? "" : ": no policy, denied"}`];
  if (!hasPolicy) return lines;
  if (e.access.scope === null) return [...lines, "--   no scope block: permit/forbid only"];
  for (const rule of e.access.scope) {
    if (verb.operations.includes(rule.operation)) lines.push(`--   ${rule.id}: ${oneLine(rule.source)}`);
  }
  return lines;
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
