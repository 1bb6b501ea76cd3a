/**
 * `dazzle-gen explain <spec> <Entity> <op> --as <role>[,<role>]`: what the access layer does for
 * one operation and caller (DSL.md §6). Prints, from the same compilers the generator uses:
 *
 * - the permit and forbid rules of the operation (ids and DSL text) and the decision for the roles;
 * - the scope rules whose `as:` matches the roles (ids and DSL text);
 * - for a list, the database role it runs as: the caller role `dazzle_as_<role>` of a caller
 *   holding exactly one role that has one (caller-roles.ts listRole), with its `select_as_<role>`
 *   policy and the app-layer WHERE it sends (TRUE: the policy is the scope), else `dazzle_app`;
 * - the RLS policy of the operation's verb, exactly as the migration creates it;
 * - the app-layer WHERE the roles get as `dazzle_app` (what `scopeFor` builds from
 *   `<entity>/access.ts`; for a caller-role list, what a caller holding other roles too gets);
 * - the definer helper functions those predicates call.
 *
 * `--as anonymous` (or no role at all, `--as ''`) explains a caller without a token.
 */
import { permits } from "./ir/permits";
import { analyze } from "./compile";
import { hasErrors } from "./diagnostics/diagnostic";
import { renderDiagnostics } from "./diagnostics/render";
import { allowsAnonymous } from "./emit/ts/emit-access";
import { callerPolicyName, callerRoles, listRole, listRoleRefusal } from "./emit/sql/caller-roles";
import { emitRls } from "./emit/sql/emit-rls";
import { assertNever, compilePredicate } from "./emit/sql/predicate";
import { pathHelper, viaHelper, type ScopeHelper } from "./emit/sql/scope-helper";
import { OPERATIONS, type AppIR, type EntityIR, type Operation, type PermitExpr, type Predicate } from "./ir/ir";
import { predicateLeaves } from "./ir/predicate-leaves";
import { InputError, readProject } from "./read-project";

export interface ExplainIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const USAGE = "usage: dazzle-gen explain <spec.dz | project-dir> <Entity> <list|read|create|update|delete> --as <role>[,<role>…]\n";

/** The policy (verb) that enforces each operation in the database. */
const VERB: Readonly<Record<Operation, string>> = {
  list: "scope_select",
  read: "scope_select",
  create: "scope_insert",
  update: "scope_update",
  delete: "scope_delete",
};

/** A permit/forbid expression in DSL spelling. */
export function permitText(e: PermitExpr): string {
  switch (e.kind) {
    case "role":
      return `role(${e.role})`;
    case "authenticated":
      return "authenticated";
    case "anyone":
      return "anonymous";
    case "never":
      return "false";
    case "and":
    case "or":
      return e.children.map((c) => (c.kind === "and" || c.kind === "or" ? `(${permitText(c)})` : permitText(c))).join(` ${e.kind} `);
    case "not":
      return `not (${permitText(e.child)})`;
    default:
      return assertNever(e);
  }
}

function helpersOf(p: Predicate, out: Map<string, ScopeHelper>): void {
  for (const leaf of predicateLeaves(p)) {
    const h = leaf.kind === "path" ? pathHelper(leaf) : leaf.kind === "exists" ? viaHelper(leaf) : null;
    if (h) out.set(h.name, h);
  }
}

/**
 * The statement(s) of one policy (a verb's `scope_*` or a caller role's `select_as_<role>`), cut
 * from the migration's RLS section for the entity: from its `-- <name>` comment to the next one.
 */
function policyText(rls: string, name: string): string {
  const lines = rls.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`-- ${name} `) || l.startsWith(`-- ${name}:`));
  if (start < 0) return "(none)";
  const out: string[] = [];
  for (let i = start; i < lines.length; i++) {
    const line = lines[i]!;
    if (i > start && /^-- \S/.test(line)) break;
    if (line.startsWith("DROP POLICY")) continue;
    out.push(line);
  }
  while (out.length > 0 && out[out.length - 1]!.trim() === "") out.pop();
  return out.join("\n");
}

const indent = (text: string, by = "  ") => text.split("\n").map((l) => (l === "" ? l : by + l)).join("\n");

/** Why a list the caller may run runs as `dazzle_app` rather than a caller role (caller-roles.ts listRole). */
function appRoleReason(entity: EntityIR, roles: readonly string[]): string {
  if (roles.length === 0) return "no token";
  if (roles.length > 1) return "several roles (a caller role serves a caller holding exactly one)";
  return listRoleRefusal(entity, roles[0]!) ?? "";
}

/** The explanation text; `roles` empty means an anonymous caller (no token). */
export function explain(app: AppIR, entityName: string, op: Operation, roles: readonly string[]): string {
  const entity = app.entities.find((e) => e.name === entityName);
  if (entity === undefined) throw new InputError(`no entity ${entityName}; entities: ${app.entities.map((e) => e.name).join(", ")}`);
  const anonymous = roles.length === 0;
  const who = anonymous ? "anonymous (no token)" : roles.join(", ");
  const out: string[] = [`${entity.name} ${op} as ${who}`, ""];
  const { permit, forbid, scope } = entity.access;

  out.push("permit/forbid:");
  if (!entity.access.exposed) out.push("  (no permit/forbid rules: default-deny, the entity has no routes; DZ3010)");
  out.push(`  ${entity.name}.${op}.permit: ${permit[op].kind === "never" ? "(no rule: denied to everyone)" : permitText(permit[op])}`);
  out.push(`  ${entity.name}.${op}.forbid: ${forbid[op].kind === "never" ? "(none)" : permitText(forbid[op])}`);
  let decision: string;
  if (anonymous && !allowsAnonymous(permit[op])) decision = "401 unauthorized (no anonymous permit rule)";
  else if (permits(forbid[op], roles, !anonymous)) decision = `403 forbidden (${entity.name}.${op}.forbid matches)`;
  else if (!permits(permit[op], roles, !anonymous)) decision = `403 forbidden (${entity.name}.${op}.permit does not match)`;
  else decision = "permitted";
  out.push(`  decision: ${decision}`, "");

  out.push("scope rules:");
  const matching = (scope ?? []).filter((r) => r.operation === op && (r.roles === "*" || r.roles.some((x) => roles.includes(x))));
  if (scope === null) out.push("  (no scope: block: every row; permit is the only gate)");
  else if (matching.length === 0) out.push(`  (no ${op} rule matches: ${op === "list" ? "empty page" : op === "create" ? "403 scope_create_denied" : "404"})`);
  for (const r of matching) {
    out.push(`  ${r.id} (as: ${r.roles === "*" ? "*" : r.roles.join(", ")}): ${r.source.replace(/\s*[\r\n]+\s*/g, " ").trim()}`);
  }
  const others = (scope ?? []).filter((r) => r.operation === op && !matching.includes(r));
  for (const r of others) out.push(`  not for these roles: ${r.id} (as: ${r.roles === "*" ? "*" : r.roles.join(", ")})`);
  out.push("");

  const verb = VERB[op];
  const rls = emitRls([entity], callerRoles(app)) ?? "";
  const reached = decision === "permitted" && !(scope !== null && matching.length === 0);
  const asRole = op === "list" && reached && roles.length === 1 ? listRole(entity, roles[0]!) : null;
  if (op === "list" && reached) {
    out.push("database role:");
    if (asRole === null) out.push(`  dazzle_app: ${appRoleReason(entity, roles)}`);
    else {
      out.push(
        `  ${asRole} (caller role): a caller whose only role is ${roles[0]} lists as it, under its policy ${callerPolicyName(roles[0]!)}`,
        `  dazzle_app for a caller holding ${roles[0]} and other roles: ${verb} and the app-layer WHERE below`,
      );
    }
    out.push("");
  }
  if (asRole !== null) {
    const policy = callerPolicyName(roles[0]!);
    out.push(`RLS policy ${policy} on ${JSON.stringify(entity.table)} (${asRole} only; ${roles[0]}'s list scope, role tests assigned):`);
    out.push(indent(policyText(rls, policy)), "");
    out.push(`app-layer WHERE for ${who} as ${asRole} (none of its own: the policy is the scope):`, "  TRUE", "");
  }

  out.push(`RLS policy ${verb} on ${JSON.stringify(entity.table)} (all roles; gated per role inside):`);
  out.push(indent(policyText(rls, verb)), "");

  out.push(asRole === null ? `app-layer WHERE for ${who}:` : `app-layer WHERE for ${who} with other roles, as dazzle_app (ORed with their rules' filters):`);
  let where: string;
  if (decision !== "permitted") where = `(not reached: ${decision})`;
  else if (scope === null) where = "TRUE";
  else if (matching.length === 0) where = "(no query: no matching rule)";
  else if (matching.some((r) => r.predicate.kind === "true")) where = "TRUE";
  else {
    const parts = matching.map((r) => compilePredicate(r.predicate, { kind: "table", alias: entity.table }));
    where = parts.length === 1 ? parts[0]! : `(${parts.join(" OR ")})`;
  }
  out.push(`  ${where}`, "");

  const helpers = new Map<string, ScopeHelper>();
  for (const r of matching) helpersOf(r.predicate, helpers);
  out.push("helper functions:");
  if (helpers.size === 0) out.push("  (none)");
  for (const h of [...helpers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    out.push(`  ${h.name}${h.signature} RETURNS ${h.returns} -- ${h.comment}`, `    ${h.body}`);
  }
  return out.join("\n") + "\n";
}

/** `dazzle-gen explain …` (argv after `explain`); exit 0 ok, 1 spec errors, 2 usage. */
export function explainMain(argv: readonly string[], io: ExplainIo): number {
  const positional: string[] = [];
  let roles: string[] | null = null;
  let principal: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--as" || a.startsWith("--as=")) {
      const v = a === "--as" ? argv[++i] : a.slice(5);
      if (v === undefined) {
        io.stderr(`dazzle-gen: --as needs a value\n${USAGE}`);
        return 2;
      }
      roles = v.split(",").map((r) => r.trim()).filter((r) => r !== "" && r !== "anonymous");
    } else if (a.startsWith("--principal=")) principal = a.slice("--principal=".length);
    else positional.push(a);
  }
  const [spec, entityName, op] = positional;
  if (positional.length !== 3 || roles === null || !(OPERATIONS as readonly string[]).includes(op!)) {
    io.stderr(`dazzle-gen: explain ${positional.length !== 3 ? "takes <spec> <Entity> <op>" : roles === null ? "needs --as" : `: unknown operation ${op}`}\n${USAGE}`);
    return 2;
  }
  try {
    const result = analyze(readProject(spec!), principal !== undefined ? { principal } : {});
    if (hasErrors(result.diagnostics) || result.ir === null) {
      io.stderr(renderDiagnostics(result.diagnostics, result.sources));
      return 1;
    }
    io.stdout(explain(result.ir, entityName!, op as Operation, roles));
    return 0;
  } catch (e) {
    if (e instanceof InputError) {
      io.stderr(`dazzle-gen: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
