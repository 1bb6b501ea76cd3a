/**
 * The steps that take a database from the previous schema snapshot to the new one (pure).
 *
 * Safe steps: `was:` renames of tables and columns with the constraints and indexes named after
 * them (rename-schema.ts), new table, new column (nullable, or NOT NULL with a default), type
 * widening (type-change.ts), default change, NOT NULL dropped, NOT NULL added on a column with a
 * default (NULLs filled first), CHECK replaced when it only widens (enum value added, longer
 * `str(N)`) or is another named CHECK, constraint/index added or removed, column comment, and
 * every re-creatable group (functions, policies, triggers) re-run when its hash changed, with
 * triggers, policies and functions that disappeared dropped afterwards (a group re-run drops
 * only the policies it still names: a caller role's `select_as_<role>` goes when the role loses
 * its list scope predicate, caller-roles.ts).
 *
 * Destructive steps carry their DZ5xxx code and are refused by the caller unless
 * `--allow-destructive`: DZ5001 drop table/column, DZ5002 NOT NULL without a default on
 * existing rows, DZ5003 a narrowing: a type change that is not a widening (applied with the
 * explicit `USING` cast of type-change.ts), or a column CHECK that existing values may fail (enum
 * values removed or a new enum, shorter or new `str(N)`, a new `slug`), applied after an `UPDATE`
 * that makes the values fit (cut to N characters; NULL, or the column default for an enum).
 *
 * Order in the migration: renames → new tables → new columns → dropped constraints and indexes
 * (before column changes: a CHECK on the old type would block `ALTER … TYPE`) → column changes →
 * added constraints (foreign keys last) and indexes → comments → dropped columns and tables →
 * re-created groups (in section order) → dropped triggers, policies and functions.
 */
import { quoteIdent, unquoteIdent } from "./quote";
import { applyRenames, NO_RENAMES, type Renames } from "./rename-schema";
import { recreatableSql, type ColumnSnapshot, type ConstraintSnapshot, type NamedSection, type SchemaSnapshot, type TableSnapshot } from "./schema-snapshot";
import { typeChange } from "./type-change";

export type RefusalCode = "DZ5001" | "DZ5002" | "DZ5003";

export interface MigrationStep {
  /** One line, e.g. `add column "task"."due"`. */
  readonly description: string;
  readonly sql: string;
  /** Set on destructive steps. */
  readonly refusal?: RefusalCode;
}

export interface SchemaDiff {
  readonly steps: readonly MigrationStep[];
  /** DZ5005 hints: a drop + add of the same type that looks like a rename. */
  readonly warnings: readonly string[];
}

export function diffSchema(before: SchemaSnapshot, next: SchemaSnapshot, nextSections: readonly NamedSection[], renames: Renames = NO_RENAMES): SchemaDiff {
  const renamed = applyRenames(before, next, renames);
  const previous = renamed.snapshot;
  const created: MigrationStep[] = [];
  const addedColumns: MigrationStep[] = [];
  const changedColumns: MigrationStep[] = [];
  const droppedConstraints: MigrationStep[] = [];
  const addedConstraints: MigrationStep[] = [];
  const addedForeignKeys: MigrationStep[] = [];
  const comments: MigrationStep[] = [];
  const droppedColumns: MigrationStep[] = [];
  const droppedTables: MigrationStep[] = [];
  const warnings: string[] = [];

  const prevTables = previous.tables;
  const nextTables = next.tables;

  for (const [name, table] of Object.entries(nextTables)) {
    if (prevTables[name] !== undefined) continue;
    created.push({ description: `create table ${quoteIdent(name)}`, sql: createTable(name, table) });
    for (const c of table.constraints.filter(isForeignKey)) addedForeignKeys.push(addConstraint(name, c));
    for (const [column, text] of Object.entries(table.comments)) comments.push(comment(name, column, text));
  }
  const droppedTableNames: string[] = [];
  for (const name of Object.keys(prevTables)) {
    if (nextTables[name] !== undefined) continue;
    droppedTableNames.push(name);
    droppedTables.push({ description: `drop table ${quoteIdent(name)}`, sql: `DROP TABLE ${quoteIdent(name)} CASCADE;`, refusal: "DZ5001" });
  }
  for (const dropped of droppedTableNames) {
    const like = Object.keys(nextTables).find((n) => prevTables[n] === undefined && sameColumns(prevTables[dropped]!, nextTables[n]!));
    if (like !== undefined) warnings.push(`table ${quoteIdent(dropped)} dropped and ${quoteIdent(like)} added with the same columns: if this is a rename, mark the entity \`was: <old entity name>\``);
  }

  for (const [name, nextTable] of Object.entries(nextTables)) {
    const prevTable = prevTables[name];
    if (prevTable === undefined) continue;
    const t = quoteIdent(name);
    const prevColumns = new Map(prevTable.columns.map((c) => [c.name, c]));
    const nextColumns = new Map(nextTable.columns.map((c) => [c.name, c]));
    const added: ColumnSnapshot[] = [];
    const dropped: ColumnSnapshot[] = [];
    for (const column of nextTable.columns) {
      const before = prevColumns.get(column.name);
      if (before === undefined) {
        added.push(column);
        const refusal = column.notNull && !fillsExistingRows(column.default) ? ("DZ5002" as const) : undefined;
        addedColumns.push({
          description: `add column ${t}.${quoteIdent(column.name)}${refusal ? " (NOT NULL without a default: existing rows have no value)" : ""}`,
          sql: `ALTER TABLE ${t} ADD COLUMN ${columnDefinition(column)};`,
          ...(refusal ? { refusal } : {}),
        });
        continue;
      }
      changedColumns.push(...columnChanges(name, before, column));
    }
    for (const column of prevTable.columns) {
      if (nextColumns.has(column.name)) continue;
      dropped.push(column);
      droppedColumns.push({ description: `drop column ${t}.${quoteIdent(column.name)}`, sql: `ALTER TABLE ${t} DROP COLUMN ${quoteIdent(column.name)} CASCADE;`, refusal: "DZ5001" });
    }
    for (const d of dropped) {
      const like = added.find((a) => a.type === d.type);
      if (like !== undefined) {
        warnings.push(`column ${t}.${quoteIdent(d.name)} dropped and ${t}.${quoteIdent(like.name)} added with the same type ${d.type}: if this is a rename, mark the field \`was: ${d.name}\``);
      }
    }

    const prevConstraints = new Map(prevTable.constraints.map((c) => [c.name, c]));
    const nextConstraints = new Map(nextTable.constraints.map((c) => [c.name, c]));
    for (const c of prevTable.constraints) {
      const after = nextConstraints.get(c.name);
      if (after !== undefined && after.definition === c.definition) continue;
      droppedConstraints.push({ description: `drop constraint ${quoteIdent(c.name)} on ${t}`, sql: `ALTER TABLE ${t} DROP CONSTRAINT ${quoteIdent(c.name)};` });
    }
    for (const c of nextTable.constraints) {
      const before = prevConstraints.get(c.name);
      if (before !== undefined && before.definition === c.definition) continue;
      const checked = columnOfCheck(c);
      const existing = checked !== null && prevColumns.has(checked) ? nextColumns.get(checked) : undefined;
      const step = addConstraint(name, c, before, existing);
      (isForeignKey(c) ? addedForeignKeys : addedConstraints).push(step);
    }
    for (const [column, text] of Object.entries(nextTable.comments)) {
      if (prevTable.comments[column] !== text) comments.push(comment(name, column, text));
    }
    for (const column of Object.keys(prevTable.comments)) {
      if (nextTable.comments[column] === undefined && nextColumns.has(column)) comments.push(comment(name, column, "NULL"));
    }
  }

  const indexSteps = diffIndexes(previous, next, new Set(droppedTableNames));
  const groupSteps = diffGroups(previous, next, nextSections, new Set(droppedTableNames));

  const steps = [
    ...renamed.steps,
    ...created,
    ...addedColumns,
    ...droppedConstraints,
    ...indexSteps.dropped,
    ...changedColumns,
    ...addedConstraints,
    ...addedForeignKeys,
    ...indexSteps.added,
    ...comments,
    ...droppedColumns,
    ...droppedTables,
    ...groupSteps,
  ];
  return { steps, warnings };
}

function createTable(name: string, table: TableSnapshot): string {
  const lines = [
    ...table.columns.map(columnDefinition),
    ...table.constraints.filter((c) => !isForeignKey(c)).map((c) => `CONSTRAINT ${quoteIdent(c.name)} ${c.definition}`),
  ];
  return `CREATE TABLE ${quoteIdent(name)} (\n${lines.map((l) => `  ${l}`).join(",\n")}\n);`;
}

function columnDefinition(c: ColumnSnapshot): string {
  return [quoteIdent(c.name), c.type, ...(c.notNull ? ["NOT NULL"] : []), ...(c.default !== null ? [`DEFAULT ${c.default}`] : [])].join(" ");
}

function columnChanges(table: string, before: ColumnSnapshot, after: ColumnSnapshot): MigrationStep[] {
  const t = quoteIdent(table);
  const col = `${t}.${quoteIdent(after.name)}`;
  const alter = `ALTER TABLE ${t} ALTER COLUMN ${quoteIdent(after.name)}`;
  const steps: MigrationStep[] = [];
  const retyped = before.type !== after.type;
  if (retyped) {
    const change = typeChange(quoteIdent(after.name), before.type, after.type);
    // The old default may not cast to the new type: dropped first, set again below.
    const dropDefault = before.default !== null ? `${alter} DROP DEFAULT;\n` : "";
    steps.push({
      description: `change the type of ${col} from ${before.type} to ${after.type}${change.loss === null ? "" : ` (lossy: ${change.loss})`}`,
      sql: `${dropDefault}${alter} TYPE ${after.type} USING ${change.using};`,
      ...(change.loss === null ? {} : { refusal: "DZ5003" as const }),
    });
  }
  const defaultDropped = retyped && before.default !== null;
  if (defaultDropped ? after.default !== null : before.default !== after.default) {
    steps.push({
      description: `${after.default === null ? "drop the default of" : "set the default of"} ${col}`,
      sql: after.default === null ? `${alter} DROP DEFAULT;` : `${alter} SET DEFAULT ${after.default};`,
    });
  }
  if (before.notNull && !after.notNull) steps.push({ description: `drop NOT NULL on ${col}`, sql: `${alter} DROP NOT NULL;` });
  if (!before.notNull && after.notNull) {
    if (fillsExistingRows(after.default)) {
      steps.push({
        description: `set NOT NULL on ${col} (existing NULLs take the default)`,
        sql: `UPDATE ${t} SET ${quoteIdent(after.name)} = DEFAULT WHERE ${quoteIdent(after.name)} IS NULL;\n${alter} SET NOT NULL;`,
      });
    } else {
      steps.push({ description: `set NOT NULL on ${col} without a default (existing rows may hold NULL)`, sql: `${alter} SET NOT NULL;`, refusal: "DZ5002" });
    }
  }
  return steps;
}

/**
 * `ADD CONSTRAINT`, a replacement when `before` (same name) exists. `existing` is the column of a
 * column CHECK (`str(N)` length, enum, slug) when that column was already there: existing values
 * may then fail it (DZ5003), and the step first makes them fit.
 */
function addConstraint(table: string, c: ConstraintSnapshot, before?: ConstraintSnapshot, existing?: ColumnSnapshot): MigrationStep {
  const t = quoteIdent(table);
  const sql = `ALTER TABLE ${t} ADD CONSTRAINT ${quoteIdent(c.name)} ${c.definition};`;
  const what = `${before === undefined ? "add" : "replace"} constraint ${quoteIdent(c.name)} on ${t}`;
  const narrowing = existing === undefined ? null : checkNarrowing(t, existing, before?.definition ?? null, c.definition);
  if (narrowing === null) return { description: what, sql };
  return { description: `${what} (${narrowing.why})`, sql: `${narrowing.fix}\n${sql}`, refusal: "DZ5003" };
}

const LENGTH_CHECK = /^CHECK \(char_length\(("(?:[^"]|"")+")\) <= (\d+)\)$/;
const ENUM_CHECK = /^CHECK \(("(?:[^"]|"")+") IN \((.*)\)\)$/;
const PATTERN_CHECK = /^CHECK \((("(?:[^"]|"")+") ~ .*)\)$/;

/** The column a length, enum or pattern (slug) CHECK constrains; null for other constraints. */
function columnOfCheck(c: ConstraintSnapshot): string | null {
  const m = LENGTH_CHECK.exec(c.definition) ?? ENUM_CHECK.exec(c.definition);
  const quoted = m?.[1] ?? PATTERN_CHECK.exec(c.definition)?.[2];
  return quoted === undefined ? null : unquoteIdent(quoted);
}

/**
 * Why a new or replaced column CHECK may reject existing values, with the `UPDATE` that makes
 * them fit; null when every value that passed `before` passes `after`.
 */
function checkNarrowing(table: string, column: ColumnSnapshot, before: string | null, after: string): { why: string; fix: string } | null {
  const c = quoteIdent(column.name);
  const length = LENGTH_CHECK.exec(after);
  if (length) {
    const old = before === null ? null : LENGTH_CHECK.exec(before);
    if (old && Number(old[2]) <= Number(length[2])) return null;
    const n = length[2]!;
    return {
      why: `${old ? `maximum length lowered from ${old[2]} to ${n}` : `maximum length ${n} on an existing column`}: longer values are cut to ${n} characters`,
      fix: `UPDATE ${table} SET ${c} = left(${c}, ${n}) WHERE char_length(${c}) > ${n};`,
    };
  }
  const list = ENUM_CHECK.exec(after);
  if (list) {
    const values = (s: string) => s.match(/'(?:[^']|'')*'/g) ?? [];
    const old = before === null ? null : ENUM_CHECK.exec(before);
    const kept = new Set(values(list[2]!));
    const removed = old ? values(old[2]!).filter((v) => !kept.has(v)) : null;
    if (removed !== null && removed.length === 0) return null;
    const fill = column.default ?? "NULL";
    const rows = removed === null ? "values outside the enum" : `rows holding ${removed.length > 1 ? "them" : "it"}`;
    return {
      why: `${removed === null ? "enum on an existing column" : `enum value${removed.length > 1 ? "s" : ""} ${removed.join(", ")} removed`}: ${rows} get ${column.default === null ? "NULL" : `the default ${column.default}`}`,
      fix: `UPDATE ${table} SET ${c} = ${fill} WHERE ${c} NOT IN (${list[2]});`,
    };
  }
  const pattern = PATTERN_CHECK.exec(after);
  if (pattern && before !== after) {
    return { why: "pattern check on an existing column: values that fail it become NULL", fix: `UPDATE ${table} SET ${c} = NULL WHERE NOT (${pattern[1]});` };
  }
  return null;
}

function isForeignKey(c: ConstraintSnapshot): boolean {
  return c.definition.startsWith("FOREIGN KEY");
}

function comment(table: string, column: string, text: string): MigrationStep {
  return { description: `comment on ${quoteIdent(table)}.${quoteIdent(column)}`, sql: `COMMENT ON COLUMN ${quoteIdent(table)}.${quoteIdent(column)} IS ${text};` };
}

function sameColumns(a: TableSnapshot, b: TableSnapshot): boolean {
  const key = (t: TableSnapshot) => t.columns.map((c) => `${c.name}:${c.type}`).sort().join();
  return key(a) === key(b);
}

function diffIndexes(previous: SchemaSnapshot, next: SchemaSnapshot, droppedTables: ReadonlySet<string>): { dropped: MigrationStep[]; added: MigrationStep[] } {
  const prev = new Map(previous.indexes.map((i) => [i.name, i]));
  const nextByName = new Map(next.indexes.map((i) => [i.name, i]));
  const dropped: MigrationStep[] = [];
  const added: MigrationStep[] = [];
  for (const index of previous.indexes) {
    const after = nextByName.get(index.name);
    if (after?.statement === index.statement || droppedTables.has(index.table)) continue;
    dropped.push({ description: `drop index ${quoteIdent(index.name)}`, sql: `DROP INDEX IF EXISTS ${quoteIdent(index.name)};` });
  }
  for (const index of next.indexes) {
    if (prev.get(index.name)?.statement === index.statement) continue;
    added.push({ description: `create index ${quoteIdent(index.name)}`, sql: index.statement });
  }
  return { dropped, added };
}

function diffGroups(previous: SchemaSnapshot, next: SchemaSnapshot, sections: readonly NamedSection[], droppedTables: ReadonlySet<string>): MigrationStep[] {
  const prev = new Map(previous.groups.map((g) => [g.name, g]));
  const steps: MigrationStep[] = [];
  for (const group of next.groups) {
    if (prev.get(group.name)?.hash === group.hash) continue;
    const section = sections.find((s) => s.name === group.name);
    if (section === undefined) throw new Error(`diff: no section for group ${group.name}`);
    steps.push({ description: `re-create ${group.name}`, sql: recreatableSql(section.sql) });
  }
  const nextTriggers = new Set(next.groups.flatMap((g) => g.triggers.map((t) => `${t.table}.${t.name}`)));
  const nextFunctions = new Set(next.groups.flatMap((g) => g.functions));
  const nextPolicies = new Set(next.groups.flatMap((g) => g.policies.map((p) => `${p.table}.${p.name}`)));
  for (const group of previous.groups) {
    for (const t of group.triggers) {
      if (nextTriggers.has(`${t.table}.${t.name}`) || droppedTables.has(unquoteIdent(t.table))) continue;
      steps.push({ description: `drop trigger ${t.name} on ${t.table}`, sql: `DROP TRIGGER IF EXISTS ${t.name} ON ${t.table};` });
    }
  }
  // Before the functions: a policy may call a scope helper that disappears with it.
  for (const group of previous.groups) {
    for (const p of group.policies) {
      if (nextPolicies.has(`${p.table}.${p.name}`) || droppedTables.has(unquoteIdent(p.table))) continue;
      steps.push({ description: `drop policy ${p.name} on ${p.table}`, sql: `DROP POLICY IF EXISTS ${p.name} ON ${p.table};` });
    }
  }
  for (const group of previous.groups) {
    for (const f of group.functions) {
      if (nextFunctions.has(f)) continue;
      steps.push({ description: `drop function ${f}`, sql: `DROP FUNCTION IF EXISTS ${f};` });
    }
  }
  return steps;
}

/**
 * Whether a column default gives existing rows a value in a migration. A default that reads a
 * session setting (the tenant partition key's `current_setting('dazzle.tenant_id', true)`, DSL.md
 * §7) is NULL there: adding such a NOT NULL column to a table with rows needs a hand-written step.
 */
function fillsExistingRows(defaultSql: string | null): boolean {
  return defaultSql !== null && !defaultSql.includes("current_setting(");
}
