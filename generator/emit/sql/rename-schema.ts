/**
 * `was:` renames in a follow-up migration (pure): the rename steps, and the previous schema
 * snapshot rewritten as if they had run, so that diff-schema.ts then diffs like for like.
 *
 * - A table is renamed (`ALTER TABLE … RENAME TO`) when the previous snapshot has the old name and
 *   not the new one, and the new schema has the new name and not the old one; a column likewise
 *   (`ALTER TABLE … RENAME COLUMN`, checked inside the renamed table). Anything else — the old
 *   name is already gone (the rename landed in an earlier migration), or never existed — makes
 *   the hint a no-op, so regenerating after the rename changes nothing.
 * - PostgreSQL keeps constraint and index names, and rewrites constraint and index definitions,
 *   policies and triggers to follow a renamed column or table. The snapshot is rewritten the same
 *   way (quoted identifiers in definitions; string literals left alone). Then every constraint
 *   (index) whose name the new schema no longer has, but whose definition a new constraint (index)
 *   of the same table has under another name, is renamed (`RENAME CONSTRAINT`, `ALTER INDEX …
 *   RENAME TO`) instead of dropped and re-created: `pk_<t>`, `uq_…`, `ck_…`, `fk_…`, `ix_…`
 *   derive from table and column names (this also applies without `was:`, e.g. to an invariant
 *   CHECK renumbered `ck_<t>_inv_2` → `ck_<t>_inv_1`). Policies, triggers and functions live in re-created groups
 *   whose text changes with the names, so the normal diff re-creates them and drops the functions
 *   (`dazzle_auto_update_<old table>`) that disappeared.
 */
import { quoteIdent, unquoteIdent as unquote } from "./quote";
import type { ConstraintSnapshot, GroupSnapshot, IndexSnapshot, SchemaSnapshot, TableSnapshot } from "./schema-snapshot";

export interface Renames {
  /** New table → old table (an entity's `was:`). */
  readonly tables: ReadonlyMap<string, string>;
  /** New table → (new column → old column) (a field's `was:`). */
  readonly columns: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

export const NO_RENAMES: Renames = { tables: new Map(), columns: new Map() };

export interface RenameStep {
  readonly description: string;
  readonly sql: string;
}

export interface RenamedSchema {
  /** The previous snapshot as it is after `steps`. */
  readonly snapshot: SchemaSnapshot;
  readonly steps: readonly RenameStep[];
}

type NameMap = ReadonlyMap<string, string>;

export function applyRenames(previous: SchemaSnapshot, next: SchemaSnapshot, renames: Renames): RenamedSchema {
  const steps: RenameStep[] = [];
  const tables = new Map<string, string>(); // old → new
  for (const [to, from] of [...renames.tables].sort(byKey)) {
    if (from === to || !previous.tables[from] || previous.tables[to] || !next.tables[to] || next.tables[from]) continue;
    tables.set(from, to);
    steps.push({ description: `rename table ${quoteIdent(from)} to ${quoteIdent(to)}`, sql: `ALTER TABLE ${quoteIdent(from)} RENAME TO ${quoteIdent(to)};` });
  }
  const oldTableOf = new Map([...tables].map(([from, to]) => [to, from]));
  const columns = new Map<string, Map<string, string>>(); // new table → old column → new column
  for (const [table, byColumn] of [...renames.columns].sort(byKey)) {
    const before = previous.tables[oldTableOf.get(table) ?? table];
    const after = next.tables[table];
    if (!before || !after) continue;
    for (const [to, from] of [...byColumn].sort(byKey)) {
      if (from === to || !hasColumn(before, from) || hasColumn(before, to) || !hasColumn(after, to) || hasColumn(after, from)) continue;
      if (!columns.has(table)) columns.set(table, new Map());
      columns.get(table)!.set(from, to);
      steps.push({
        description: `rename column ${quoteIdent(table)}.${quoteIdent(from)} to ${quoteIdent(to)}`,
        sql: `ALTER TABLE ${quoteIdent(table)} RENAME COLUMN ${quoteIdent(from)} TO ${quoteIdent(to)};`,
      });
    }
  }
  const renamed = steps.length === 0 ? previous : rewriteSnapshot(previous, tables, columns);
  return renameDerivedObjects(renamed, next, steps);
}

/** The snapshot with tables and columns renamed, and every definition following them. */
function rewriteSnapshot(s: SchemaSnapshot, tables: NameMap, columns: ReadonlyMap<string, NameMap>): SchemaSnapshot {
  const tableName = (t: string) => tables.get(t) ?? t;
  const quotedTable = (q: string) => quoteIdent(tableName(unquote(q)));
  const out: Record<string, TableSnapshot> = {};
  for (const [name, table] of Object.entries(s.tables)) {
    const to = tableName(name);
    const own = columns.get(to);
    const col = (c: string) => own?.get(c) ?? c;
    out[to] = {
      columns: table.columns.map((c) => ({ ...c, name: col(c.name) })),
      constraints: table.constraints.map((c) => ({ name: c.name, definition: rewriteDefinition(c.definition, own, tables, columns) })),
      comments: Object.fromEntries(Object.entries(table.comments).map(([c, text]) => [col(c), text])),
    };
  }
  const indexes = s.indexes.map((i): IndexSnapshot => {
    const table = tableName(i.table);
    return { ...i, table, statement: rewriteIndexStatement(i.statement, table, columns.get(table)) };
  });
  const groups = s.groups.map((g): GroupSnapshot => ({
    ...g,
    triggers: g.triggers.map((t) => ({ ...t, table: quotedTable(t.table) })),
    policies: g.policies.map((p) => ({ ...p, table: quotedTable(p.table) })),
  }));
  return { ...s, tables: out, indexes, groups, rls: s.rls.map(tableName) };
}

const FOREIGN_KEY = /^FOREIGN KEY \((.*?)\) REFERENCES ("(?:[^"]|"")+") \((.*?)\)(.*)$/;
const INDEX_HEAD = /^(CREATE (?:UNIQUE )?INDEX "(?:[^"]|"")+" ON )("(?:[^"]|"")+")(.*)$/s;

/** A constraint definition after the renames: own columns; an FK's target table and its columns. */
function rewriteDefinition(definition: string, own: NameMap | undefined, tables: NameMap, columns: ReadonlyMap<string, NameMap>): string {
  const fk = FOREIGN_KEY.exec(definition);
  if (!fk) return renameIdentifiers(definition, own);
  const target = tables.get(unquote(fk[2]!)) ?? unquote(fk[2]!);
  return `FOREIGN KEY (${renameIdentifiers(fk[1]!, own)}) REFERENCES ${quoteIdent(target)} (${renameIdentifiers(fk[3]!, columns.get(target))})${fk[4]}`;
}

function rewriteIndexStatement(statement: string, table: string, own: NameMap | undefined): string {
  const m = INDEX_HEAD.exec(statement);
  return m ? `${m[1]}${quoteIdent(table)}${renameIdentifiers(m[3]!, own)}` : statement;
}

/** Quoted identifiers found in `map` replaced; string literals and everything else kept. */
export function renameIdentifiers(sql: string, map: NameMap | undefined): string {
  if (map === undefined || map.size === 0) return sql;
  return sql.replace(/'(?:[^']|'')*'|"((?:[^"]|"")+)"/g, (all, id: string | undefined) => {
    if (id === undefined) return all;
    const to = map.get(unquote(`"${id}"`));
    return to === undefined ? all : quoteIdent(to);
  });
}

/**
 * Constraints and indexes the new schema has under another name with the same definition on the
 * same table (their name derives from a renamed table or column): renamed, not re-created.
 */
function renameDerivedObjects(previous: SchemaSnapshot, next: SchemaSnapshot, steps: RenameStep[]): RenamedSchema {
  const tables: Record<string, TableSnapshot> = {};
  for (const [name, table] of Object.entries(previous.tables)) {
    const after = next.tables[name];
    if (!after) {
      tables[name] = table;
      continue;
    }
    const constraints = matchByDefinition(table.constraints, after.constraints, (c) => c.definition).map(({ item, to }): ConstraintSnapshot => {
      if (to === null) return item;
      steps.push({
        description: `rename constraint ${quoteIdent(item.name)} on ${quoteIdent(name)} to ${quoteIdent(to)}`,
        sql: `ALTER TABLE ${quoteIdent(name)} RENAME CONSTRAINT ${quoteIdent(item.name)} TO ${quoteIdent(to)};`,
      });
      return { ...item, name: to };
    });
    tables[name] = { ...table, constraints };
  }
  const indexes: IndexSnapshot[] = [];
  for (const table of [...new Set(previous.indexes.map((i) => i.table))]) {
    const mine = previous.indexes.filter((i) => i.table === table);
    const theirs = next.indexes.filter((i) => i.table === table);
    for (const { item, to } of matchByDefinition(mine, theirs, (i) => withoutIndexName(i.statement))) {
      if (to === null) {
        indexes.push(item);
        continue;
      }
      steps.push({ description: `rename index ${quoteIdent(item.name)} to ${quoteIdent(to)}`, sql: `ALTER INDEX ${quoteIdent(item.name)} RENAME TO ${quoteIdent(to)};` });
      indexes.push({ ...item, name: to, statement: theirs.find((i) => i.name === to)!.statement });
    }
  }
  return { snapshot: { ...previous, tables, indexes }, steps };
}

/**
 * Pairs each old object whose name the new list lacks with the first new object of the same
 * definition whose name the old list lacks; `to` is null for the others.
 */
function matchByDefinition<T extends { readonly name: string }>(before: readonly T[], after: readonly T[], definition: (t: T) => string): { item: T; to: string | null }[] {
  const oldNames = new Set(before.map((b) => b.name));
  const newNames = new Set(after.map((a) => a.name));
  const taken = new Set<string>();
  return before.map((item) => {
    if (newNames.has(item.name)) return { item, to: null };
    const match = after.find((a) => !oldNames.has(a.name) && !taken.has(a.name) && definition(a) === definition(item));
    if (match === undefined) return { item, to: null };
    taken.add(match.name);
    return { item, to: match.name };
  });
}

function withoutIndexName(statement: string): string {
  return statement.replace(/^(CREATE (?:UNIQUE )?INDEX )"(?:[^"]|"")+"/, "$1");
}

function hasColumn(table: TableSnapshot, name: string): boolean {
  return table.columns.some((c) => c.name === name);
}

function byKey<V>(a: readonly [string, V], b: readonly [string, V]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}
