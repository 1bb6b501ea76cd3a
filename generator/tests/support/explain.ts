/**
 * EXPLAIN helpers shared by generator/tests/e2e/explain-index*.test.ts and `npm run bench`: the
 * app-layer list SQL of every scope rule of a spec, compiled by the one predicate compiler exactly
 * as the generated `<entity>/access.ts` embeds it, a populated fixtures/e2e-teams database, a
 * caller with placeholder session values for any spec, and the scan nodes of a JSON plan.
 */
import path from "node:path";
import type { Client } from "pg";
import { analyze } from "../../compile";
import { emitMigrations } from "../../emit/sql/emit-migrations";
import { listRole } from "../../emit/sql/caller-roles";
import { compilePredicate } from "../../emit/sql/predicate";
import type { AppIR, Operation, Predicate } from "../../ir/ir";
import { readProject } from "../../read-project";

export const TEAMS_SPEC = path.resolve(__dirname, "../../../fixtures/e2e-teams/app.dz");

/** The IR of a one-file spec or a project directory (dazzle.toml); throws on errors. */
export function irOf(specPath: string): AppIR {
  const result = analyze(readProject(specPath));
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0 || !result.ir) throw new Error(`${specPath}: ${errors.map((d) => d.message).join("; ")}`);
  return result.ir;
}

/** Applies the generated initial migration (without its graphile-migrate header) in one transaction. */
export async function applyMigration(client: Client, ir: AppIR): Promise<void> {
  const contents = emitMigrations(ir, { specName: "app.dz", generatorVersion: "0.0.0-test", templates: new Map() })[0]!.contents;
  await client.query(`BEGIN;\n${contents.slice(contents.indexOf("\n\n") + 2)}\nCOMMIT;`);
}

export interface Caller {
  readonly userId: string | null;
  readonly roles: readonly string[];
  readonly attrs?: Readonly<Record<string, string>>;
  /** `dazzle.tenant_id` under tenancy (DSL.md §7). */
  readonly tenantId?: string;
}

/** Runs `fn` in a rolled-back transaction as `role` (dazzle_app or a caller role) with the caller's session settings. */
export async function asCaller<T>(client: Client, caller: Caller, fn: () => Promise<T>, role = "dazzle_app"): Promise<T> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT set_config('role', $1, true)", [role]);
    await client.query("SELECT set_config('dazzle.user_id', $1, true), set_config('dazzle.roles', $2, true)", [caller.userId ?? "", caller.roles.join(",")]);
    for (const [k, v] of Object.entries(caller.attrs ?? {})) await client.query("SELECT set_config($1, $2, true)", [`dazzle.user_${k}`, v]);
    if (caller.tenantId !== undefined) await client.query("SELECT set_config('dazzle.tenant_id', $1, true)", [caller.tenantId]);
    return await fn();
  } finally {
    await client.query("ROLLBACK");
  }
}

const PLACEHOLDER_UUID = "00000000-0000-4000-8000-00000000abcd";

/** A non-empty value of a principal attribute's PostgreSQL type (an unset one would make the scope NULL). */
export function placeholderValue(sqlType: string): string {
  if (sqlType === "uuid") return PLACEHOLDER_UUID;
  if (sqlType === "text") return "x";
  if (sqlType === "char(3)") return "XXX";
  if (/^(integer|bigint|double precision|numeric)/.test(sqlType)) return "1";
  if (sqlType === "boolean") return "true";
  if (sqlType === "date") return "2026-01-01";
  if (sqlType === "timestamptz") return "2026-01-01T00:00:00Z";
  throw new Error(`no placeholder for principal attribute type ${sqlType}`);
}

/**
 * A caller of the spec holding `roles` with every session value its scopes may read set to a
 * placeholder: the user id, each principal attribute (DSL.md §6.11) and, under tenancy, the tenant.
 */
export function placeholderCaller(ir: AppIR, roles: readonly string[]): Caller {
  const attrs = ir.principal.attributes.filter((a) => a.name !== "id" && a.tenantKey !== true);
  return {
    userId: PLACEHOLDER_UUID,
    roles,
    attrs: Object.fromEntries(attrs.map((a) => [a.name, placeholderValue(a.sqlType)])),
    ...(ir.principal.tenant !== undefined ? { tenantId: PLACEHOLDER_UUID } : {}),
  };
}

/** At least one index of each group must be scanned (an OR needs every branch indexed). */
export type IndexRequirement = ReadonlyArray<ReadonlySet<string>>;

export interface ListQuery {
  readonly entity: string;
  readonly table: string;
  readonly rule: string;
  readonly source: string;
  readonly roles: readonly string[];
  /** `SELECT * FROM t WHERE <scope> ORDER BY id LIMIT 20 OFFSET 0`, as the generated list handler sends it. */
  readonly sql: string;
  /** Columns of the scoped table each group of the requirement is about. */
  readonly columns: ReadonlyArray<readonly string[]>;
}

/** Columns of the scoped table a predicate filters on, grouped as `IndexRequirement` is. */
function columnGroups(p: Predicate): string[][] {
  switch (p.kind) {
    case "true":
    case "false":
      return [];
    case "column":
    case "userAttr":
      return [[p.column]];
    case "path":
      return [[p.hops[0]!.column]];
    case "exists":
      return [["id"]];
    case "not":
      return columnGroups(p.child);
    case "and":
      return [p.children.flatMap((c) => columnGroups(c).flat())];
    case "or":
      return p.children.flatMap((c) => columnGroups(c));
  }
}

/** The list (and, with `ops`, other) queries of every non-`all` scope rule of the spec. */
export function listQueries(ir: AppIR, ops: readonly Operation[] = ["list"]): ListQuery[] {
  const out: ListQuery[] = [];
  for (const e of ir.entities) {
    for (const r of e.access.scope ?? []) {
      if (!ops.includes(r.operation) || r.predicate.kind === "true") continue;
      const where = compilePredicate(r.predicate, { kind: "table", alias: e.table });
      out.push({
        entity: e.name,
        table: e.table,
        rule: r.id,
        source: r.source,
        roles: r.roles === "*" ? [] : r.roles,
        sql: `SELECT * FROM "${e.table}" WHERE ${where} ORDER BY "id" LIMIT 20 OFFSET 0`,
        columns: columnGroups(r.predicate),
      });
    }
  }
  return out;
}

/**
 * The list query the generated app sends for a caller holding exactly `role` (runtime/crud.ts
 * list with runtime/access.ts `listPlanFor`): as the role's caller role with no filter of its own
 * when it has one (caller-roles.ts), else as dazzle_app with the rule's filter.
 */
export function appListQuery(ir: AppIR, q: ListQuery, role: string): { readonly role: string; readonly sql: string } {
  const entity = ir.entities.find((e) => e.name === q.entity)!;
  const dbRole = listRole(entity, role);
  if (dbRole === null) return { role: "dazzle_app", sql: q.sql };
  return { role: dbRole, sql: `SELECT * FROM "${entity.table}" WHERE TRUE ORDER BY "id" LIMIT 20 OFFSET 0` };
}

/** Index names of `table` by leading column. */
export async function indexesByLeadingColumn(client: Client, table: string): Promise<Map<string, string[]>> {
  const { rows } = await client.query<{ index: string; col: string }>(
    `SELECT i.relname AS index, a.attname AS col
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
      WHERE t.relname = $1 ORDER BY 1`,
    [table],
  );
  const map = new Map<string, string[]>();
  for (const r of rows) map.set(r.col, [...(map.get(r.col) ?? []), r.index]);
  return map;
}

export interface ScanNode {
  readonly node: string;
  readonly relation: string | undefined;
  readonly index: string | undefined;
}

/** Every scan node of a `FORMAT JSON` plan, depth first. */
export function scanNodes(plan: any): ScanNode[] {
  const out: ScanNode[] = [];
  const walk = (n: any) => {
    if (/Scan$/.test(n["Node Type"])) out.push({ node: n["Node Type"], relation: n["Relation Name"], index: n["Index Name"] });
    for (const c of n.Plans ?? []) walk(c);
  };
  walk(plan.Plan ?? plan);
  return out;
}

/** EXPLAIN (FORMAT JSON[, ANALYZE]) of `sql` as the caller; the top plan object. */
export async function explain(client: Client, caller: Caller, sql: string, analyzeIt = false, role = "dazzle_app"): Promise<any> {
  return asCaller(
    client,
    caller,
    async () => {
      const { rows } = await client.query(`EXPLAIN (FORMAT JSON${analyzeIt ? ", ANALYZE, BUFFERS" : ""}) ${sql}`);
      return rows[0]["QUERY PLAN"][0];
    },
    role,
  );
}

/**
 * EXPLAIN (FORMAT JSON) of `sql` as the caller with `enable_seqscan = off`: on a nearly empty
 * table the planner prefers a Seq Scan anyway; with it off, a Seq Scan means no usable index.
 */
export async function explainIndexed(client: Client, caller: Caller, sql: string, role = "dazzle_app"): Promise<any> {
  return (await explainWithoutSeqScan(client, caller, `EXPLAIN (FORMAT JSON) ${sql}`, role))[0]["QUERY PLAN"][0];
}

/** The text plan of `explainIndexed`, for reports. */
export async function explainIndexedText(client: Client, caller: Caller, sql: string, role = "dazzle_app"): Promise<string> {
  return (await explainWithoutSeqScan(client, caller, `EXPLAIN ${sql}`, role)).map((r) => r["QUERY PLAN"]).join("\n");
}

async function explainWithoutSeqScan(client: Client, caller: Caller, explainSql: string, role: string): Promise<any[]> {
  return asCaller(
    client,
    caller,
    async () => {
      await client.query("SET LOCAL enable_seqscan = off");
      return (await client.query(explainSql)).rows;
    },
    role,
  );
}

/** The text plan as `role`, for reports. */
export async function explainText(client: Client, caller: Caller, sql: string, role = "dazzle_app"): Promise<string> {
  return asCaller(client, caller, async () => (await client.query(`EXPLAIN ${sql}`)).rows.map((r) => r["QUERY PLAN"]).join("\n"), role);
}

/** The member of team `team_7` in a database filled by `populateTeams`, and its own user id. */
export const TEAMS_MEMBER_ROW = 7;
export const teamsUserId = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`;
export const teamsMember = (roles: readonly string[] = ["member"]): Caller => ({
  userId: teamsUserId(TEAMS_MEMBER_ROW),
  roles,
  attrs: { team: `team_${TEAMS_MEMBER_ROW % 500}` },
});

/**
 * Fills a fixtures/e2e-teams database as the superuser: `users` users in 500 teams, `projects`
 * projects (owner spread over users, 0.5 % public), `tasks` tasks (teams like users, a third
 * done), then ANALYZE. Scoped filters are selective, as a multi-user table's are.
 */
export async function populateTeams(client: Client, sizes: { users: number; projects: number; tasks: number }): Promise<void> {
  await client.query("SET session_replication_role = replica"); // skip the event triggers while loading
  await client.query(
    `INSERT INTO "user" (id, email, name, team)
     SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'u' || i || '@example.com', 'User ' || i, 'team_' || (i % 500)
       FROM generate_series(1, $1::int) AS i`,
    [sizes.users],
  );
  await client.query(
    `INSERT INTO project (id, name, owner, visibility)
     SELECT ('10000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'Project ' || i,
            ('00000000-0000-4000-8000-' || lpad(to_hex(1 + i % $2::int), 12, '0'))::uuid,
            CASE WHEN i % 200 = 0 THEN 'public' ELSE 'private' END
       FROM generate_series(1, $1::int) AS i`,
    [sizes.projects, sizes.users],
  );
  await client.query(
    `INSERT INTO task (id, title, project, team, done)
     SELECT ('20000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'Task ' || i,
            ('10000000-0000-4000-8000-' || lpad(to_hex(1 + i % $2::int), 12, '0'))::uuid, 'team_' || (i % 500), i % 3 = 0
       FROM generate_series(1, $1::int) AS i`,
    [sizes.tasks, sizes.projects],
  );
  await client.query("SET session_replication_role = DEFAULT");
  await client.query("ANALYZE");
}
