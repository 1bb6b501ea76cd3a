/**
 * Index use of the generated list queries of every tree fixture and the default RBAC-matrix
 * corpus projects (issue 5, acceptance 4; explain-index.test.ts covers fixtures/e2e-teams with
 * a populated database). Each project's initial migration is applied to a fresh database and
 * ANALYZEd; the tables stay empty, so every query is EXPLAINed (no ANALYZE) with
 * `enable_seqscan = off` (support/explain.ts explainIndexed): a Seq Scan of the scoped table then
 * means no index can serve the query. For each non-`all` list rule two queries are checked, each
 * as a caller holding the rule's first role (any app role for an `as: *` rule) with every session
 * value its scopes read set to a placeholder (support/explain.ts placeholderCaller):
 *
 *   (a) the rule's app-layer SQL as dazzle_app (`WHERE <scope> ORDER BY id LIMIT 20`), and
 *   (b) the query the app sends for a caller holding exactly that role (support/explain.ts
 *       appListQuery): `WHERE TRUE` as the role's caller role when it has one (caller-roles.ts).
 *
 * Each plan must scan an index of the scoped table and never Seq Scan it. A case that cannot use
 * an index must be listed in SEQ_SCAN_ALLOWED with its reason; it is then asserted to Seq Scan,
 * so the entry goes when the cause does. Corpus projects are skipped with a message when
 * ../shared/corpus is absent.
 */
import path from "node:path";
import { Client } from "pg";
import type { AppIR } from "../../ir/ir";
import { CORPUS_DIR, corpusPresent, skipMessage } from "../support/corpus";
import {
  appListQuery,
  applyMigration,
  explainIndexed,
  explainIndexedText,
  indexesByLeadingColumn,
  irOf,
  listQueries,
  placeholderCaller,
  scanNodes,
  type ListQuery,
} from "../support/explain";
import { createTestDatabase, type TestDatabase } from "../support/pg";

const FIXTURES = path.resolve(__dirname, "../../../fixtures");

interface Project {
  readonly name: string;
  readonly spec: string;
}

/** Tree fixtures with an access model (e2e-teams: explain-index.test.ts) and the IR fixture rbac-matrix.test.ts generates. */
const LOCAL: readonly Project[] = ["e2e-rules", "e2e-tenancy", "e2e-computed", "e2e-types", "minimal-open-notes", "security-anonymous", "ir-scope-values"].map((name) => ({
  name,
  spec: path.join(FIXTURES, name, "app.dz"),
}));

/** The corpus projects rbac-matrix.test.ts runs by default. */
const CORPUS: readonly Project[] = ["examples/simple_task", "examples/acme_billing"].map((p) => ({ name: path.basename(p), spec: path.join(CORPUS_DIR, p) }));

if (!corpusPresent) process.stderr.write(`[explain-index-fixtures] ${skipMessage()}\n`);
const PROJECTS = corpusPresent ? [...LOCAL, ...CORPUS] : LOCAL;

/** Test name → why that query cannot use an index of its table (asserted to Seq Scan). None so far. */
const SEQ_SCAN_ALLOWED: ReadonlyMap<string, string> = new Map<string, string>([]);

const INDEX_SCANS = new Set(["Index Scan", "Index Only Scan", "Bitmap Index Scan"]);

interface Case {
  readonly name: string;
  readonly q: ListQuery;
  /** The caller's roles: the rule's first role, any app role for `as: *`, none in an app without roles. */
  readonly roles: readonly string[];
  /** dazzle_app or a caller role. */
  readonly dbRole: string;
  readonly sql: string;
}

/** The (a) and (b) cases of every non-`all` list rule of the project. */
function casesOf(project: Project, ir: AppIR): Case[] {
  return listQueries(ir).flatMap((q) => {
    const role = q.roles[0] ?? ir.roles[0] ?? null;
    const roles = role === null ? [] : [role];
    // A caller without roles never runs as a caller role (runtime/access.ts listPlanFor).
    const app = role === null ? { role: "dazzle_app", sql: q.sql } : appListQuery(ir, q, role);
    const label = `${project.name} ${q.rule}`;
    return [
      { name: `${label} filter as dazzle_app [${roles.join(",")}]: index scan`, q, roles, dbRole: "dazzle_app", sql: q.sql },
      { name: `${label} as ${app.role}: index scan`, q, roles, dbRole: app.role, sql: app.sql },
    ];
  });
}

const irs = new Map(PROJECTS.map((p) => [p.name, irOf(p.spec)]));

test("the covered list rules of each project (non-`all` list scopes)", () => {
  const expected: Record<string, string[]> = {
    "e2e-rules": [],
    "e2e-tenancy": ["Org.list.1: id = current_user.tenant_id", "Task.list.1: assignee = current_user or project.owner = current_user"],
    "e2e-computed": ["Task.list.2: private = false"],
    "e2e-types": [],
    "minimal-open-notes": ["Note.list.1: author = current_user"],
    "security-anonymous": ["Board.list.1: team = current_user.team", "Notice.list.1: published = true"],
    "ir-scope-values": [
      'Job.list.1: state in [open, held] and label not in ["alpha", "it\'s"]',
      "Job.list.2: due_on >= today - 30d or urgent is not true",
      "Job.list.3: org.kind in [public, private] or org.founded > today - 5y",
      "Job.list.4: seen_at < now - 2h and org.active is not false",
    ],
  };
  if (corpusPresent) {
    expected["simple_task"] = ["Task.list.1: assigned_to = current_user or created_by = current_user"];
    expected["acme_billing"] = [
      "Invoice.list.2: project.org = current_user.org",
      "Invoice.list.3: project.org = current_user.org and sensitive != true",
      "InvoiceNote.list.2: invoice.project.org = current_user.org",
      "InvoiceNote.list.3: invoice.project.org = current_user.org and invoice.sensitive != true",
      "LineItem.list.2: invoice.project.org = current_user.org",
      "LineItem.list.3: invoice.project.org = current_user.org and invoice.sensitive != true",
      "Membership.list.2: project.org = current_user.org",
      "Organization.list.2: id = current_user.org",
      "Project.list.2: org = current_user.org",
      "Project.list.3: via Membership(user = current_user, project = id)",
      "User.list.2: org = current_user.org",
    ];
  }
  const actual = Object.fromEntries([...irs].map(([name, ir]) => [name, listQueries(ir).map((q) => `${q.rule}: ${q.source}`)]));
  expect(actual).toEqual(expected);
});

/** Index names used, per test, for the summary printed at the end. */
const used: string[] = [];
afterAll(() => process.stderr.write(`[explain-index-fixtures] indexes scanned per case:\n${used.join("\n")}\n`));

describe.each(PROJECTS.filter((p) => listQueries(irs.get(p.name)!).length > 0).map((p) => [p.name, p] as const))("%s", (_name, project) => {
  const ir = irs.get(project.name)!;
  let db: TestDatabase;
  let client: Client;

  beforeAll(async () => {
    db = await createTestDatabase(`explain_${project.name}`);
    client = new Client({ connectionString: db.url });
    await client.connect();
    await applyMigration(client, ir);
    await client.query("ANALYZE");
  }, 60_000);

  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  test.each(casesOf(project, ir).map((c) => [c.name, c] as const))("%s", async (name, c) => {
    const caller = placeholderCaller(ir, c.roles);
    const tableIndexes = new Set([...(await indexesByLeadingColumn(client, c.q.table)).values()].flat());
    const scans = scanNodes(await explainIndexed(client, caller, c.sql, c.dbRole));
    const seqScan = scans.some((s) => s.node === "Seq Scan" && s.relation === c.q.table);
    const indexes = scans.filter((s) => INDEX_SCANS.has(s.node) && s.index !== undefined && tableIndexes.has(s.index)).map((s) => `${s.node} ${s.index}`);
    used.push(`  ${name}: ${indexes.join(", ") || "none"}`);
    const allowed = SEQ_SCAN_ALLOWED.has(name);
    if (seqScan !== allowed || (!allowed && indexes.length === 0)) {
      process.stderr.write(`${name} as ${c.dbRole}\n${c.sql}\n${await explainIndexedText(client, caller, c.sql, c.dbRole)}\n`);
    }
    if (allowed) expect({ rule: c.q.rule, seqScan }).toEqual({ rule: c.q.rule, seqScan: true });
    else expect({ rule: c.q.rule, seqScan, indexScan: indexes.length > 0 }).toEqual({ rule: c.q.rule, seqScan: false, indexScan: true });
  });
});
