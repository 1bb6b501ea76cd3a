/**
 * The schema snapshot kept in `dazzle.lock.json` (`schema` key): a plain JSON model of what the
 * migrations create, read back from the SQL the section emitters produce (so it is, by
 * construction, what a fresh initial migration builds):
 *
 * - tables: columns (type, NOT NULL, default expression) in order, named constraints with their
 *   definition (FOREIGN KEY ones included, from the foreign-key section), column comments;
 * - indexes: name, table and the `CREATE INDEX` statement;
 * - groups: every other section (roles, readers, scope helpers, triggers, policies, …) as one
 *   re-creatable group: a sha256 of its text, plus the triggers, functions and policies it
 *   creates so a later migration can drop the ones that disappear, and the role memberships it
 *   grants (`dazzle_app` in each caller role) so db:verify can check them.
 *
 * Pure: section texts in, snapshot out.
 */
import { createHash } from "node:crypto";

export const SNAPSHOT_VERSION = 1;

export interface ColumnSnapshot {
  readonly name: string;
  readonly type: string;
  readonly notNull: boolean;
  readonly default: string | null;
}

export interface ConstraintSnapshot {
  readonly name: string;
  /** The text after `CONSTRAINT "name" `, e.g. `UNIQUE ("email")`. */
  readonly definition: string;
}

export interface TableSnapshot {
  readonly columns: readonly ColumnSnapshot[];
  readonly constraints: readonly ConstraintSnapshot[];
  /** Column → `COMMENT ON COLUMN` literal (already quoted). */
  readonly comments: Readonly<Record<string, string>>;
}

export interface IndexSnapshot {
  readonly name: string;
  readonly table: string;
  readonly statement: string;
}

export interface GroupSnapshot {
  readonly name: string;
  readonly hash: string;
  /** `"<table>"."<trigger>"` pairs (quoted identifiers) created by the group. */
  readonly triggers: readonly { readonly table: string; readonly name: string }[];
  /** `"name"(args)` of every function the group creates. */
  readonly functions: readonly string[];
  /** Policies (quoted identifiers) the group creates. */
  readonly policies: readonly { readonly table: string; readonly name: string }[];
  /** Role memberships (quoted identifiers) the group grants: `GRANT "<role>" TO "<member>";`. */
  readonly memberships: readonly { readonly role: string; readonly member: string }[];
}

export interface SchemaSnapshot {
  readonly version: typeof SNAPSHOT_VERSION;
  readonly tables: Readonly<Record<string, TableSnapshot>>;
  readonly indexes: readonly IndexSnapshot[];
  readonly groups: readonly GroupSnapshot[];
  /** Tables with row-level security enabled and forced. */
  readonly rls: readonly string[];
}

/** A section of the initial migration: `structural` ones hold tables, FKs and indexes. */
export interface NamedSection {
  readonly name: string;
  readonly sql: string;
}

/** A quoted identifier (`""` inside stands for `"`); group 1 is its text before unescaping. */
const ID = '"((?:[^"]|"")+)"';
const QID = '("(?:[^"]|"")+")';
const CREATE_TABLE = new RegExp(`^CREATE TABLE ${ID} \\(\\n([\\s\\S]*?)\\n\\);$`, "gm");
const ADD_CONSTRAINT = new RegExp(`^ALTER TABLE ${ID} ADD CONSTRAINT ${ID} (.*);$`, "gm");
const CREATE_INDEX = new RegExp(`^CREATE (?:UNIQUE )?INDEX ${ID} ON ${ID} .*;$`, "gm");
const COMMENT_COLUMN = new RegExp(`^COMMENT ON COLUMN ${ID}\\.${ID} IS (.*);$`, "gm");
const CREATE_TRIGGER = new RegExp(`^CREATE TRIGGER ${QID} .*? ON ${QID}\\s`, "gm");
const CREATE_FUNCTION = new RegExp(`^CREATE OR REPLACE FUNCTION (${QID.slice(1, -1)}\\([^)]*\\))`, "gm");
const CREATE_POLICY = new RegExp(`^CREATE POLICY ${QID} ON ${QID}`, "gm");
const GRANT_ROLE = new RegExp(`^\\s*GRANT ${QID} TO ${QID};$`, "gm");
const FORCE_RLS = new RegExp(`^ALTER TABLE ${ID} FORCE ROW LEVEL SECURITY;$`, "gm");
const CONSTRAINT_LINE = new RegExp(`^CONSTRAINT ${ID} (.*)$`);
const COLUMN_LINE = new RegExp(`^${ID} (.*?)(?: (NOT NULL))?(?: DEFAULT (.*))?$`);
const unquote = (s: string) => s.replace(/""/g, '"');

/** The structural statements of a section (tables, FKs, indexes, comments) removed. */
export function withoutStructure(sql: string): string {
  return sql
    .replace(CREATE_TABLE, "")
    .replace(ADD_CONSTRAINT, "")
    .replace(CREATE_INDEX, "")
    .replace(COMMENT_COLUMN, "")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

export function buildSchemaSnapshot(sections: readonly NamedSection[]): SchemaSnapshot {
  const tables: Record<string, { columns: ColumnSnapshot[]; constraints: ConstraintSnapshot[]; comments: Record<string, string> }> = {};
  const indexes: IndexSnapshot[] = [];
  const groups: GroupSnapshot[] = [];
  const all = sections.map((s) => s.sql).join("\n\n");
  for (const m of all.matchAll(CREATE_TABLE)) {
    const table = { columns: [] as ColumnSnapshot[], constraints: [] as ConstraintSnapshot[], comments: {} as Record<string, string> };
    for (const raw of m[2]!.split("\n")) {
      const line = raw.trim().replace(/,$/, "");
      const constraint = CONSTRAINT_LINE.exec(line);
      if (constraint) {
        table.constraints.push({ name: unquote(constraint[1]!), definition: constraint[2]! });
        continue;
      }
      const column = COLUMN_LINE.exec(line);
      if (!column) throw new Error(`schema snapshot: cannot read table line ${JSON.stringify(line)}`);
      table.columns.push({ name: unquote(column[1]!), type: column[2]!, notNull: column[3] !== undefined, default: column[4] ?? null });
    }
    tables[unquote(m[1]!)] = table;
  }
  for (const m of all.matchAll(ADD_CONSTRAINT)) {
    const table = tables[unquote(m[1]!)];
    if (table === undefined) throw new Error(`schema snapshot: constraint ${m[2]} on unknown table ${m[1]}`);
    table.constraints.push({ name: unquote(m[2]!), definition: m[3]! });
  }
  for (const m of all.matchAll(CREATE_INDEX)) indexes.push({ name: unquote(m[1]!), table: unquote(m[2]!), statement: m[0] });
  for (const m of all.matchAll(COMMENT_COLUMN)) {
    const table = tables[unquote(m[1]!)];
    if (table !== undefined) table.comments[unquote(m[2]!)] = m[3]!;
  }
  for (const section of sections) {
    const rest = withoutStructure(section.sql);
    if (rest === "" || /^(--[^\n]*\n?)*$/.test(rest)) continue;
    const triggers = [...rest.matchAll(CREATE_TRIGGER)].map((m) => ({ name: m[1]!, table: m[2]! }));
    const functions = [...rest.matchAll(CREATE_FUNCTION)].map((m) => m[1]!);
    const policies = [...rest.matchAll(CREATE_POLICY)].map((m) => ({ name: m[1]!, table: m[2]! }));
    const memberships = [...rest.matchAll(GRANT_ROLE)].map((m) => ({ role: m[1]!, member: m[2]! }));
    groups.push({
      name: section.name,
      hash: sha256(rest),
      triggers: uniqueBy(triggers, (t) => `${t.table}.${t.name}`),
      functions: [...new Set(functions)],
      policies: uniqueBy(policies, (p) => `${p.table}.${p.name}`),
      memberships: uniqueBy(memberships, (m) => `${m.role}.${m.member}`),
    });
  }
  const rls = [...new Set([...all.matchAll(FORCE_RLS)].map((m) => unquote(m[1]!)))];
  return { version: SNAPSHOT_VERSION, tables, indexes, groups, rls };
}

/** A section re-runnable on a database that has its previous version: triggers dropped first. */
export function recreatableSql(sql: string): string {
  return withoutStructure(sql).replace(new RegExp(`^CREATE TRIGGER ${QID} (.*?) ON ${QID}(\\s)`, "gm"), (_all, name: string, when: string, table: string, ws: string) =>
    `DROP TRIGGER IF EXISTS ${name} ON ${table};\nCREATE TRIGGER ${name} ${when} ON ${table}${ws}`,
  );
}

/** A snapshot read from the lock, or null when it is not one (missing or corrupt: DZ5004). */
export function parseSnapshot(value: unknown): SchemaSnapshot | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Partial<SchemaSnapshot>;
  if (v.version !== SNAPSHOT_VERSION || typeof v.tables !== "object" || v.tables === null || !Array.isArray(v.indexes) || !Array.isArray(v.groups) || !Array.isArray(v.rls)) return null;
  for (const t of Object.values(v.tables)) {
    if (!t || !Array.isArray(t.columns) || !Array.isArray(t.constraints) || typeof t.comments !== "object") return null;
  }
  return v as SchemaSnapshot;
}

function uniqueBy<T>(items: readonly T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((i) => !seen.has(key(i)) && (seen.add(key(i)), true));
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
