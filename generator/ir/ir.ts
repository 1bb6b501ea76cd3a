/**
 * The intermediate representation: the only input emitters see.
 *
 * Plain, serialisable, frozen data (no classes, no AST references, no spans). Every list is
 * sorted deterministically by `lower` (entities by name, fields in declaration order), so
 * emitters can iterate without sorting again. `dazzle-gen --emit ir` prints this as JSON.
 */

export const OPERATIONS = ["list", "read", "create", "update", "delete"] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface AppIR {
  readonly name: string;
  readonly title: string;
  /** Entities that get a table, sorted by name (code-unit order). */
  readonly entities: readonly EntityIR[];
  /** Role catalogue: every role named by a persona, a rule or an `as:` list; sorted, unique. */
  readonly roles: readonly string[];
  readonly personas: readonly PersonaIR[];
  readonly principal: PrincipalIR;
  /** Source files of the spec, project-relative, sorted. Used for headers and the lock file. */
  readonly sources: readonly string[];
  /** Tenancy, event model and field history (absent in hand-built IR). */
  readonly rules?: AppRulesIR;
}

export interface PersonaIR {
  readonly id: string;
  readonly label: string;
  readonly role: string;
}

/**
 * Who `current_user` is. `entity` is null when the spec declares no principal entity; the
 * generator then emits a table `app_user` (id, email) and `table` names it.
 */
export interface PrincipalIR {
  readonly entity: string | null;
  readonly table: string;
  /**
   * Principal attributes used by scope rules (`current_user.<attr>`), sorted by name.
   * Each is loaded once per request into the setting `dazzle.user_<attr>`.
   */
  readonly attributes: readonly PrincipalAttributeIR[];
  /**
   * Present under active tenancy (DSL.md §7): `column` is the principal table's partition-key
   * column, whose value is the caller's tenant (`dazzle.tenant_id`); null when the principal
   * entity is not tenant-scoped (no caller has a tenant: every fenced table reads empty).
   */
  readonly tenant?: { readonly column: string | null; readonly root: { readonly entity: string; readonly table: string } };
}

export interface PrincipalAttributeIR {
  readonly name: string;
  readonly column: string;
  /** PostgreSQL type of the attribute, used to cast the setting back. */
  readonly sqlType: string;
  /** `current_user.<partition_key>` under active tenancy: read from `dazzle.tenant_id` (§7). */
  readonly tenantKey?: boolean;
}

export interface EntityIR {
  readonly name: string;
  readonly title: string;
  /** snake_case table name (DSL.md §4.2). */
  readonly table: string;
  /** URL segment: kebab-case plural, e.g. `line-items`. */
  readonly route: string;
  /** Stored fields in declaration order, `id` first. */
  readonly fields: readonly FieldIR[];
  readonly access: AccessIR;
  /** Indexes, invariants, transitions, audit, publish (absent in hand-built IR). */
  readonly rules?: EntityRulesIR;
  /** Computed fields (DSL.md §4.8) in declaration order; no column (absent in hand-built IR). */
  readonly computed?: readonly ComputedFieldIR[];
  /** Set on tenant-scoped entities (DSL.md §7, ir/lower-tenancy.ts); absent otherwise. */
  readonly tenant?: TenantScopeIR;
  /**
   * `was: OldName`: the table the entity had before a rename; a follow-up migration renames it
   * when the schema snapshot still has it (diff-schema.ts). Absent without `was:`.
   */
  readonly wasTable?: string;
}

/** A tenant-scoped entity: `column` (the partition key) is a `ref` to the tenant root's `rootTable`. */
export interface TenantScopeIR {
  readonly column: string;
  readonly rootTable: string;
}

export interface FieldIR {
  readonly name: string;
  readonly column: string;
  readonly type: FieldTypeIR;
  /** NOT NULL. */
  readonly required: boolean;
  readonly unique: boolean;
  readonly default: DefaultIR | null;
  /** Set by the server, never taken from a client (`id`, `auto_add`, `auto_update`). */
  readonly serverManaged: boolean;
  /** `auto_update`: a BEFORE UPDATE trigger refreshes the column. */
  readonly autoUpdate: boolean;
  /** True when the column needs an index (FK column, `indexed`, or filtered on by a scope rule). */
  readonly indexed: boolean;
  /** `sensitive` (METADATA): redacted in logs, event payloads and field history (DSL.md §4.4). */
  readonly sensitive?: boolean;
  /** `pii(…)` (METADATA → `COMMENT ON COLUMN`); absent or null without `pii`. */
  readonly pii?: { readonly category: string | null; readonly sensitivity: string | null } | null;
  /**
   * The FK's ON DELETE action, set by a `has_many`/`has_one` of the referenced entity (DSL.md
   * §4.6); absent for NO ACTION (deleting a referenced row fails, 409).
   */
  readonly onDelete?: OnDeleteAction;
  /**
   * `was: old_name`: the column's name before a rename (`<old>_minor`/`<old>_currency` for
   * money); a follow-up migration renames it when the snapshot still has it. Absent without `was:`.
   */
  readonly wasColumn?: string;
}

export type OnDeleteAction = "cascade" | "restrict" | "set null";

export type FieldTypeIR =
  | { readonly kind: "uuid" }
  | { readonly kind: "str"; readonly maxLength: number }
  | { readonly kind: "text" }
  | { readonly kind: "email" }
  | { readonly kind: "int" }
  | { readonly kind: "bool" }
  | { readonly kind: "date" }
  | { readonly kind: "datetime" }
  | { readonly kind: "enum"; readonly values: readonly string[] }
  | { readonly kind: "ref"; readonly entity: string; readonly table: string }
  /** NUMERIC(P,S); values travel as strings, never floats. */
  | { readonly kind: "decimal"; readonly precision: number; readonly scale: number }
  | { readonly kind: "float" }
  | { readonly kind: "url" }
  | { readonly kind: "slug" }
  | { readonly kind: "timezone" }
  | { readonly kind: "json" }
  | { readonly kind: "file" }
  /**
   * A `money` field is two FieldIRs with the field's `name`: `<f>_minor` (BIGINT minor units, a
   * string in TS/JSON) and `<f>_currency` (CHAR(3), default `currency`).
   */
  | { readonly kind: "moneyMinor"; readonly currency: string }
  | { readonly kind: "moneyCurrency"; readonly currency: string };

export type FieldTypeKind = FieldTypeIR["kind"];

export type DefaultIR =
  /** The partition key's default: the caller's tenant, `NULLIF(current_setting('dazzle.tenant_id', true), '')::uuid` (§7). */
  | { readonly kind: "tenant" }
  /** A literal default, already typed for its column (`'a'`, 12, true). */
  | { readonly kind: "literal"; readonly value: LiteralValue }
  /** `gen_random_uuid()`, `now()`, `CURRENT_DATE`. */
  | { readonly kind: "generated"; readonly fn: "uuid" | "now" | "today" }
  /** A decimal/float/money number default as written (`-12.50`), never routed through a float. */
  | { readonly kind: "number"; readonly text: string }
  /** `today ± d` / `now ± d`; `cast` is `date` on a date column (`CURRENT_DATE + INTERVAL` is a timestamp). */
  | {
      readonly kind: "relative";
      readonly base: "today" | "now";
      readonly sign: "+" | "-";
      readonly amount: number;
      readonly unit: "min" | "h" | "d" | "w" | "m" | "y";
      readonly cast: "date" | null;
    };

export type LiteralValue = string | number | boolean | null;

/** permit/forbid and scope of one entity (DSL.md §6). */
export interface AccessIR {
  /** False when the entity declares no permit/forbid rule: default-deny, no routes. */
  readonly exposed: boolean;
  readonly permit: Readonly<Record<Operation, PermitExpr>>;
  readonly forbid: Readonly<Record<Operation, PermitExpr>>;
  /** null when the entity has no `scope:` block (permit is the only gate). */
  readonly scope: readonly ScopeRuleIR[] | null;
}

/** The role algebra of permit/forbid (DSL.md §6.5, second paragraph). */
export type PermitExpr =
  | { readonly kind: "role"; readonly role: string }
  | { readonly kind: "authenticated" }
  | { readonly kind: "anyone" }
  | { readonly kind: "never" }
  | { readonly kind: "and"; readonly children: readonly PermitExpr[] }
  | { readonly kind: "or"; readonly children: readonly PermitExpr[] }
  | { readonly kind: "not"; readonly child: PermitExpr };

export interface ScopeRuleIR {
  /** Stable id, e.g. `Task.list.2` (entity, op, 1-based position among the op's rules). */
  readonly id: string;
  readonly operation: Operation;
  /** Roles of the `as:` line; `"*"` matches every caller that passed permit. */
  readonly roles: readonly string[] | "*";
  readonly predicate: Predicate;
  /** The rule as written, for comments and `explain`. */
  readonly source: string;
}

export type ComparisonOp = "=" | "!=" | "<" | "<=" | ">" | ">=";
/** `f in [..]` / `f not in [..]` (SQL three-valued: a NULL `f` matches neither). */
export type ListOp = "in" | "not in";
/** `f is [not] true|false`: SQL `IS [NOT] TRUE|FALSE`, two-valued (a NULL `f` is not TRUE). */
export type IsOp = "is" | "is not";

/**
 * `today ± d` / `now ± d` in a scope (DSL.md §6.4), evaluated by PostgreSQL when the statement
 * runs: `(CURRENT_DATE - INTERVAL '30 days')`. `amount` 0 with sign `+` is bare `today`/`now`.
 */
export interface RelativeDate {
  readonly kind: "relativeDate";
  readonly base: "today" | "now";
  readonly sign: "+" | "-";
  readonly amount: number;
  readonly unit: "min" | "h" | "d" | "w" | "m" | "y";
}

/**
 * The value side of a ColumnCheck, discriminated by `op`: a comparison takes a literal (`null`
 * with `=`/`!=` means IS [NOT] NULL) or a relative date; `in`/`not in` a non-empty list of
 * distinct non-null literals; `is`/`is not` a boolean.
 */
export type ColumnTest =
  | { readonly op: ComparisonOp; readonly value: LiteralValue | RelativeDate }
  | { readonly op: ListOp; readonly value: readonly (string | number | boolean)[] }
  | { readonly op: IsOp; readonly value: boolean };

/** `f op value` on a column of the scoped row (DSL.md §6.5 ColumnCheck). */
export type ColumnCheck = { readonly kind: "column"; readonly column: string; readonly sqlType: string } & ColumnTest;

/** The row-predicate algebra of scope rules (DSL.md §6.5). */
export type Predicate =
  | { readonly kind: "true" }
  | { readonly kind: "false" }
  | ColumnCheck
  /** column op current_user (attr `id`) or current_user.attr. */
  | {
      readonly kind: "userAttr";
      readonly column: string;
      readonly op: ComparisonOp;
      readonly attr: string;
    }
  | PathCheck
  | ExistsCheck
  | { readonly kind: "and"; readonly children: readonly Predicate[] }
  | { readonly kind: "or"; readonly children: readonly Predicate[] }
  | { readonly kind: "not"; readonly child: Predicate };

export type PredicateKind = Predicate["kind"];

/** One FK hop: the `ref` column read on the current table and the table it references. */
export interface PathHop {
  readonly column: string;
  readonly table: string;
}

/**
 * A stored column reached from a start table by following FK hops (DSL.md §6.6): `column` is a
 * column of the last hop's table, or of the start table when `hops` is empty. `sqlType` is its
 * PostgreSQL type.
 */
export interface ColumnPath {
  readonly hops: readonly PathHop[];
  readonly column: string;
  readonly sqlType: string;
}

/** What a path's terminal column is compared with. `null` with `=`/`!=` means IS [NOT] NULL. */
export type PathValue =
  | { readonly kind: "literal"; readonly value: LiteralValue }
  | { readonly kind: "userAttr"; readonly attr: string }
  | RelativeDate;

/** The comparison at the end of a path, discriminated by `op` like ColumnTest. */
export type PathTest =
  | { readonly op: ComparisonOp; readonly value: PathValue }
  | { readonly op: ListOp; readonly value: { readonly kind: "list"; readonly values: readonly (string | number | boolean)[] } }
  | { readonly op: IsOp; readonly value: { readonly kind: "literal"; readonly value: boolean } };

/**
 * `a.b.c op v` (DSL.md §6.6): follow at least one `ref` hop from the scoped row, starting with the
 * scoped table's column `hops[0].column`, and compare the terminal column. A trailing `.id` never
 * appears here: it was normalised to the FK column itself.
 */
export type PathCheck = ColumnPath & { readonly kind: "path" } & PathTest;

/**
 * `[not] via J(bindings)` (DSL.md §6.7): a row of the junction table exists whose bindings hold.
 * Paths start at the junction table. Entity bindings correlate the junction row with a column of
 * the scoped row (always `=`); principal bindings compare with `current_user[.attr]`; null
 * bindings test IS [NOT] NULL. Bindings keep their written order within each list.
 */
export interface ExistsCheck {
  readonly kind: "exists";
  readonly junction: { readonly entity: string; readonly table: string };
  readonly entityBindings: readonly { readonly path: ColumnPath; readonly column: string }[];
  readonly principalBindings: readonly { readonly path: ColumnPath; readonly op: ComparisonOp; readonly attr: string }[];
  readonly nullBindings: readonly { readonly path: ColumnPath; readonly op: "=" | "!=" }[];
  readonly negated: boolean;
}

// ── Entity rules, tenancy, events, audit (DSL.md §4.7–4.10, §5, §7–§9) ───────────────────────
// Lowered by ir/lower-rules.ts. Emitters may ignore them until they generate these constructs.

/** Entity-level rules beyond fields and access. */
export interface EntityRulesIR {
  /** `index`/`unique` lines, identical lines merged, in declaration order. */
  readonly indexes: readonly IndexIR[];
  readonly invariants: readonly InvariantIR[];
  /**
   * One machine per state field (DSL.md §4.9: each `transitions:` block finds its own), in the
   * order of each field's first block; blocks over the same field merge. Empty without blocks.
   */
  readonly stateMachines: readonly StateMachineIR[];
  /** Operations whose access decisions are logged (`audit:`, DSL.md §9.1); empty when off. */
  readonly auditOperations: readonly Operation[];
  readonly publishes: readonly PublishIR[];
  /** `archetype:` value, if any (`tenant` is the tenant root, §7). */
  readonly archetype: string | null;
  /** Entity-level LATER blocks (`temporal:`, `seed:`, …) as written; absent when there are none. */
  readonly later?: readonly LaterBlockIR[];
}

export interface IndexIR {
  readonly unique: boolean;
  /** Columns in order (a money field contributes `<f>_currency, <f>_minor`). */
  readonly columns: readonly string[];
}

/** `transitions:` (DSL.md §4.9): the edges over the state field. */
export interface StateMachineIR {
  readonly field: string;
  /** Exact edges first, then `*` edges, each group in declaration order. */
  readonly transitions: readonly TransitionIR[];
}

export interface TransitionIR {
  /** null for `*`. */
  readonly from: string | null;
  readonly to: string;
  /** Roles of the edge's `role(…)` constraints (ORed); empty means any caller. */
  readonly roles: readonly string[];
  /** Fields that must be non-null and non-empty on the destination row. */
  readonly requires: readonly string[];
  /** False for `auto after …` without `or manual`, and for edges with a `guard:` (fail-closed in v1). */
  readonly availableToApi: boolean;
  /** `auto after` delay (LATER: no scheduler), e.g. `7 days`. */
  readonly autoAfter: string | null;
}

export interface InvariantIR {
  /** `ck_<t>_<code>` / `ck_<t>_inv_<n>` suffix: the `code:` or `inv_<n>`. */
  readonly name: string;
  readonly code: string | null;
  /** The `message:`, else the expression as written. */
  readonly message: string;
  /** The expression as written (the COMMENT of its definer helper, if any). */
  readonly source: string;
  readonly expr: ExprIR;
  /** True when it can be a CHECK constraint (own columns, literals, time-independent functions). */
  readonly rowLocal: boolean;
}

/** The expression language (DSL.md §4.11) after name resolution; SQL three-valued semantics. */
export type ExprIR =
  | { readonly kind: "literal"; readonly value: LiteralValue }
  | { readonly kind: "enumLiteral"; readonly value: string }
  | { readonly kind: "duration"; readonly amount: number; readonly unit: "min" | "h" | "d" | "w" | "m" | "y" }
  | { readonly kind: "column"; readonly column: string }
  /** A dotted reference: follow the `ref` columns of `refs`, read `column` at the end. */
  | { readonly kind: "refPath"; readonly refs: readonly string[]; readonly column: string }
  | { readonly kind: "compare"; readonly op: ComparisonOp; readonly left: ExprIR; readonly right: ExprIR }
  | { readonly kind: "isNull"; readonly negated: boolean; readonly operand: ExprIR }
  | { readonly kind: "in"; readonly negated: boolean; readonly operand: ExprIR; readonly items: readonly ExprIR[] }
  | { readonly kind: "and"; readonly operands: readonly ExprIR[] }
  | { readonly kind: "or"; readonly operands: readonly ExprIR[] }
  | { readonly kind: "not"; readonly operand: ExprIR }
  | { readonly kind: "arith"; readonly op: "+" | "-" | "*" | "/" | "%"; readonly left: ExprIR; readonly right: ExprIR }
  | { readonly kind: "negate"; readonly operand: ExprIR }
  /** `today()`, `now()`, `days_since(x)`, `concat(…)`, … (names as written, bare `today`/`now` included). */
  | { readonly kind: "call"; readonly fn: string; readonly args: readonly ExprIR[] }
  | { readonly kind: "case"; readonly branches: readonly { readonly when: ExprIR; readonly then: ExprIR }[]; readonly otherwise: ExprIR }
  /** `count(C)`, `sum(C.f)`, …: computed fields only (DSL.md §4.8); see AggregateIR. */
  | AggregateIR;

export type ExprKind = ExprIR["kind"];

/** `publish E when …` (DSL.md §8). */
export interface PublishIR {
  readonly event: string;
  readonly when:
    | { readonly kind: "created" }
    | { readonly kind: "updated" }
    | { readonly kind: "deleted" }
    | { readonly kind: "changed"; readonly field: string };
}

/** `tenancy:` (DSL.md §7); `active` only with mode shared_schema and exactly one tenant root. */
export interface TenancyIR {
  readonly mode: "single" | "shared_schema" | "schema_per_tenant" | "database_per_tenant";
  readonly partitionKey: string;
  readonly excluded: readonly string[];
  /** The entity with `archetype: tenant`, or null. */
  readonly root: string | null;
  readonly active: boolean;
}

/** `event_model:` (DSL.md §8.1), topics and events sorted by name. */
export interface EventModelIR {
  readonly topics: readonly TopicIR[];
  readonly events: readonly EventIR[];
}

export interface TopicIR {
  readonly name: string;
  /** Retention in days (`m` = 30, `y` = 365 here); default 7. 0 keeps forever. */
  readonly retentionDays: number;
  readonly partitionKey: string;
}

export interface EventIR {
  readonly name: string;
  /** `default` when omitted. */
  readonly topic: string;
  readonly version: string;
  /** The entity whose row is the payload (`payload: E`), or null. */
  readonly payloadEntity: string | null;
  /**
   * `type` is the type as written with its arguments: `str(200)`, `decimal(10,2)`, `ref Order`
   * (DSL.md §8.1 types are one word; the arguments are kept, not checked).
   */
  readonly fields: readonly { readonly name: string; readonly type: string; readonly required: boolean }[];
}

/** `audit on E:` (DSL.md §9.2). */
export interface FieldHistoryIR {
  readonly entity: string;
  /** Tracked fields; empty means all stored fields. */
  readonly fields: readonly string[];
  /** Roles that may read the history; empty means not exposed over HTTP. */
  readonly showTo: readonly string[];
  /** Days; 0 keeps forever. */
  readonly retentionDays: number;
}

/** The app-level constructs of issue 3, next to the entities. */
export interface AppRulesIR {
  readonly tenancy: TenancyIR | null;
  readonly eventModel: EventModelIR;
  /** Sorted by entity name. */
  readonly fieldHistory: readonly FieldHistoryIR[];
  /** Top-level LATER statements (`subscribe`, `job`, `grant_schema`, …) as written; absent when there are none. */
  readonly later?: readonly LaterBlockIR[];
}

// ── Computed fields (DSL.md §4.8) ─────────────────────────────────────────────────────────────
// Lowered by ir/lower-computed.ts; compiled by emit/sql/compile-expression.ts (`compileComputed`).

/**
 * The value type of a computed field, which fixes its SQL cast and its JSON form: `int` is a
 * JSON number (SQL bigint), `decimal` a JSON string (numeric, never a float), `float` a number,
 * `date` "YYYY-MM-DD", `datetime` an ISO-8601 string.
 */
export type ComputedTypeIR = "int" | "decimal" | "float" | "text" | "bool" | "date" | "datetime" | "uuid";

export interface ComputedFieldIR {
  readonly name: string;
  readonly type: ComputedTypeIR;
  /** Over the entity's own row; may contain `aggregate` nodes. */
  readonly expr: ExprIR;
}

/**
 * An aggregate over the child entity `entity` (table `table`), whose FK column `fk` is its one
 * `ref` to the computed field's entity. `column` is the aggregated column (null for `count`). The
 * SQL only reads child rows the caller may list (the child's list permit and scope).
 */
export interface AggregateIR {
  readonly kind: "aggregate";
  readonly fn: "count" | "sum" | "avg" | "min" | "max";
  readonly entity: string;
  readonly table: string;
  readonly fk: string;
  readonly column: string | null;
}

/**
 * A LATER construct kept in the IR (DSL.md §3.1) as its block tree: not generated in v1 (DZ1902),
 * carried so later versions and `--emit ir` consumers need not re-parse the spec.
 */
export interface LaterBlockIR {
  /** The keyword: `subscribe`, `job`, `temporal`, … */
  readonly construct: string;
  /** The header's name for top-level statements (`subscribe orders as billing` → `orders`); null otherwise. */
  readonly name: string | null;
  /** The header after the keyword, as written. */
  readonly header: string;
  /** `file:line` of the keyword (the IR carries no spans; this is for messages). */
  readonly location: string;
  readonly lines: readonly LaterLineIR[];
}

export interface LaterLineIR {
  /** The line as written, without indentation. */
  readonly text: string;
  readonly children: readonly LaterLineIR[];
}
