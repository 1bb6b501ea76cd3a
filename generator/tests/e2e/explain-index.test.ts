/**
 * Index use of every generated list query (issue 5, acceptance 4; DSL.md §6.10 "Indexes"): the
 * fixtures/e2e-teams migration is applied to a fresh database, filled with enough rows for the
 * scoped filters to be selective, and ANALYZEd. For each non-`all` list rule (and read rule) the
 * app-layer SQL the generated handler sends — `SELECT * FROM t WHERE <scope> ORDER BY id LIMIT 20`,
 * the scope compiled by generator/emit/sql/predicate.ts as `<entity>/access.ts` embeds it — is
 * EXPLAINed as dazzle_app with a member's context (so the RLS policy applies too). The plan must
 * scan an index led by each filtered column (every branch of an OR) and never Seq Scan the table.
 *
 * A list of a caller holding exactly one role that has a caller role (caller-roles.ts) sends
 * `WHERE TRUE` as `dazzle_as_<role>`, whose `select_as_<role>` policy is the scope
 * (support/explain.ts appListQuery). That query, EXPLAINed as the caller role, must meet the
 * same standard: the policy alone must lead the planner to the scope's indexes.
 */
import { Client } from "pg";
import type { AppIR } from "../../ir/ir";
import { createTestDatabase, type TestDatabase } from "../support/pg";
import {
  appListQuery,
  applyMigration,
  explain,
  explainText,
  indexesByLeadingColumn,
  irOf,
  listQueries,
  populateTeams,
  scanNodes,
  TEAMS_SPEC,
  teamsMember,
  type ListQuery,
} from "../support/explain";

let db: TestDatabase;
let client: Client;
let ir: AppIR;

beforeAll(async () => {
  ir = irOf(TEAMS_SPEC);
  db = await createTestDatabase("explain_index");
  client = new Client({ connectionString: db.url });
  await client.connect();
  await applyMigration(client, ir);
  await populateTeams(client, { users: 20_000, projects: 100_000, tasks: 100_000 });
}, 120_000);

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

const queries = () => listQueries(irOf(TEAMS_SPEC), ["list", "read"]);

test("every entity of fixtures/e2e-teams has a scoped list query", () => {
  expect(queries().map((q) => `${q.rule}: ${q.source}`)).toEqual([
    "Project.list.2: owner = current_user or visibility = public",
    "Project.read.2: owner = current_user or visibility = public",
    "Task.list.2: team = current_user.team and done = false",
    "Task.read.2: team = current_user.team",
    "User.list.2: team = current_user.team",
    "User.read.2: id = current_user",
  ]);
});

test("every filtered column has an index led by it (emitted by the migration)", async () => {
  const missing: string[] = [];
  for (const q of queries()) {
    const byColumn = await indexesByLeadingColumn(client, q.table);
    for (const col of q.columns.flat()) if (!byColumn.has(col)) missing.push(`${q.table}.${col} (${q.rule})`);
  }
  expect(missing).toEqual([]);
});

/** Seq Scans of the table and the indexes of the table the plan scans, as `role` (dazzle_app or a caller role). */
async function planOf(q: ListQuery, sql: string, needsColumnIndexes: boolean, role = "dazzle_app", roles = q.roles) {
  const byColumn = await indexesByLeadingColumn(client, q.table);
  const tableIndexes = new Set([...byColumn.values()].flat());
  const caller = teamsMember(roles.length > 0 ? roles : ["member"]);
  const scans = scanNodes(await explain(client, caller, sql, false, role));
  const used = new Set(scans.filter((s) => s.index !== undefined && tableIndexes.has(s.index)).map((s) => s.index!));
  const unmet = q.columns.map((cols) => cols.flatMap((c) => byColumn.get(c) ?? [])).filter((group) => !group.some((index) => used.has(index)));
  const seqScan = scans.some((s) => s.node === "Seq Scan" && s.relation === q.table);
  if (seqScan || (needsColumnIndexes && unmet.length > 0)) process.stderr.write(`${q.rule} as ${role}\n${sql}\n${await explainText(client, caller, sql, role)}\n`);
  return { seqScan, used: [...used].sort(), unmet };
}

describe.each(queries().map((q) => [q.rule, q] as [string, ListQuery]))("%s", (_rule, q) => {
  test("the scoped filter uses an index led by each filtered column (every OR branch), no Seq Scan", async () => {
    const filterOnly = q.sql.replace(/ ORDER BY .*$/, "");
    const { seqScan, unmet } = await planOf(q, filterOnly, true);
    expect({ rule: q.rule, seqScan, unmet }).toEqual({ rule: q.rule, seqScan: false, unmet: [] });
  });

  test("the list query itself (ORDER BY id LIMIT 20) never Seq Scans the table", async () => {
    const { seqScan, used } = await planOf(q, q.sql, false);
    expect({ rule: q.rule, seqScan, indexed: used.length > 0 }).toEqual({ rule: q.rule, seqScan: false, indexed: true });
  });
});

/** The list query the app sends for each single-role caller of each list rule, with that role. */
const appQueries = () => {
  const teams = irOf(TEAMS_SPEC);
  return listQueries(teams).flatMap((q) => q.roles.map((role) => ({ q, role, app: appListQuery(teams, q, role) })));
};

test("a single-role member's list of every entity runs as dazzle_as_member with WHERE TRUE", () => {
  expect(appQueries().map(({ q, role, app }) => `${q.rule} ${role}: ${app.role}: ${app.sql}`)).toEqual([
    'Project.list.2 member: dazzle_as_member: SELECT * FROM "project" WHERE TRUE ORDER BY "id" LIMIT 20 OFFSET 0',
    'Task.list.2 member: dazzle_as_member: SELECT * FROM "task" WHERE TRUE ORDER BY "id" LIMIT 20 OFFSET 0',
    'User.list.2 member: dazzle_as_member: SELECT * FROM "user" WHERE TRUE ORDER BY "id" LIMIT 20 OFFSET 0',
  ]);
});

describe.each(appQueries().map(({ q, role, app }) => [`${q.rule} as ${app.role}`, q, role, app] as const))("%s", (_name, q, role, app) => {
  test("the caller role's policy uses an index led by each filtered column (every OR branch), no Seq Scan", async () => {
    const filterOnly = app.sql.replace(/ ORDER BY .*$/, "");
    const { seqScan, unmet } = await planOf(q, filterOnly, true, app.role, [role]);
    expect({ rule: q.rule, seqScan, unmet }).toEqual({ rule: q.rule, seqScan: false, unmet: [] });
  });

  test("the list query the app sends (WHERE TRUE ORDER BY id LIMIT 20) never Seq Scans the table", async () => {
    const { seqScan, used } = await planOf(q, app.sql, false, app.role, [role]);
    expect({ rule: q.rule, seqScan, indexed: used.length > 0 }).toEqual({ rule: q.rule, seqScan: false, indexed: true });
  });
});
