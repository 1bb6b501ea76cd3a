/**
 * The syntax tree: readonly discriminated unions, one node per construct, every node with a span.
 * The AST stays equal to the source: what the linker learns lives in side tables
 * (`semantic/`), never in these nodes.
 */
import type { Span } from "../diagnostics/span";

export interface Ident {
  readonly kind: "ident";
  readonly name: string;
  readonly span: Span;
}

/** One parsed file. Header declarations (`module`, `use`, `app`) are hoisted out of `statements`. */
export interface FileNode {
  readonly kind: "file";
  readonly path: string;
  readonly module: ModuleDecl | null;
  readonly uses: readonly UseDecl[];
  readonly apps: readonly AppDecl[];
  readonly statements: readonly Statement[];
}

export type Statement =
  | ModuleDecl
  | UseDecl
  | AppDecl
  | EntityDecl
  | PersonaDecl
  | BlockStatement
  | TenancyDecl
  | EventModelDecl
  | AuditOnDecl
  | ArchetypeDecl
  | EnumDecl
  | GrantSchemaDecl
  | LaterStatement;

export interface ModuleDecl {
  readonly kind: "module";
  readonly name: string;
  readonly span: Span;
}

export interface UseDecl {
  readonly kind: "use";
  readonly name: string;
  readonly alias: Ident | null;
  readonly span: Span;
}

export interface AppDecl {
  readonly kind: "app";
  readonly name: Ident;
  readonly title: string | null;
  readonly entries: readonly (KeyValueLine | RawLine)[];
  readonly span: Span;
}

export interface PersonaDecl {
  readonly kind: "persona";
  readonly id: Ident;
  readonly label: string | null;
  readonly entries: readonly (KeyValueLine | RawLine)[];
  readonly span: Span;
}

/** `key: value` with the value kept as written (plus any nested lines). */
export interface KeyValueLine {
  readonly kind: "keyValue";
  readonly key: Ident;
  readonly value: string;
  readonly valueSpan: Span;
  readonly children: readonly RawLine[];
  readonly span: Span;
}

/** A line kept as text (block trees of LATER constructs, skipped content). */
export interface RawLine {
  readonly kind: "rawLine";
  readonly text: string;
  readonly span: Span;
  readonly children: readonly RawLine[];
}

/**
 * Any other top-level statement: its keyword, the name from its header (the raw text up to the
 * first space, `:` or quote) and its block kept as raw lines. What it means (SKIP, LATER or an
 * unknown construct) is decided from the keyword by `report-unsupported-constructs`.
 */
export interface BlockStatement {
  readonly kind: "block";
  readonly keyword: Ident;
  readonly name: string | null;
  readonly header: string;
  readonly children: readonly RawLine[];
  readonly span: Span;
}

// ── Entities ────────────────────────────────────────────────────────────────────────────────

export interface EntityDecl {
  readonly kind: "entity";
  readonly name: Ident;
  readonly title: string | null;
  readonly members: readonly EntityMember[];
  readonly span: Span;
}

export type EntityMember =
  | FieldDecl
  | PolicyBlock
  | ScopeBlock
  | MetadataLine
  | EntityBlock
  | IndexLine
  | InvariantDecl
  | TransitionsBlock
  | EntityAuditLine
  | PublishLine
  | ArchetypeLine
  | ExtendsLine
  | AuthIdentityBlock
  | LaterEntityBlock;

export interface FieldDecl {
  readonly kind: "field";
  readonly name: Ident;
  readonly type: TypeExpr;
  readonly modifiers: readonly Modifier[];
  /** Lines nested under the field (e.g. an enum's `semantic:`), skipped. */
  readonly children: readonly RawLine[];
  readonly span: Span;
}

export type TypeExpr =
  /** `text`, `str(200)`, `decimal(10,2)`, `money(GBP)`, `file(200MB)`: a name and raw arguments. */
  | { readonly kind: "namedType"; readonly name: Ident; readonly args: readonly TypeArg[] | null; readonly span: Span }
  | { readonly kind: "enumType"; readonly values: readonly Ident[]; readonly span: Span }
  /** `ref E`, `belongs_to E`, `has_many E via J cascade`, …: relation keyword, target and the rest. */
  | {
      readonly kind: "relationType";
      readonly relation: Ident;
      readonly target: Ident;
      readonly rest: readonly Ident[];
      readonly span: Span;
    }
  /** `computed <expr>`: the expression as written and parsed (§4.8). */
  | { readonly kind: "computedType"; readonly text: string; readonly expr: Expr; readonly span: Span }
  /** `has_many E [via J] [cascade|restrict|nullify] [readonly]`, `has_one E …`, `embeds E` (§4.6). */
  | {
      readonly kind: "collectionType";
      readonly relation: Ident;
      readonly target: Ident;
      readonly via: Ident | null;
      readonly onDelete: Ident | null;
      readonly readonly: boolean;
      readonly span: Span;
    }
  /** `latest_one E via f` (LATER). */
  | { readonly kind: "latestOneType"; readonly relation: Ident; readonly target: Ident; readonly via: Ident; readonly span: Span }
  /** `descendants_of self via f`, `ancestors_of self via f` (LATER). */
  | {
      readonly kind: "hierarchyType";
      /** `descendants_of` or `ancestors_of`. */
      readonly relation: Ident;
      readonly target: Ident;
      readonly via: readonly Ident[];
      readonly span: Span;
    };

export interface TypeArg {
  readonly text: string;
  readonly span: Span;
}

export type Modifier =
  /** `required`, `unique`, `unique?`, `pk`, `pii(category=contact)`, … */
  | { readonly kind: "flag"; readonly name: Ident; readonly optionalMark: boolean; readonly args: string | null; readonly span: Span }
  | { readonly kind: "default"; readonly value: DefaultValue; readonly span: Span };

export type DefaultValue =
  | { readonly kind: "string"; readonly value: string; readonly span: Span }
  /** Kept as text so `12.50` is never routed through a float. */
  | { readonly kind: "number"; readonly text: string; readonly span: Span }
  | { readonly kind: "bool"; readonly value: boolean; readonly span: Span }
  | { readonly kind: "name"; readonly name: string; readonly span: Span }
  | { readonly kind: "relativeDate"; readonly base: "today" | "now"; readonly sign: "+" | "-" | null; readonly duration: Duration | null; readonly span: Span }
  /** `= a + b`, `= if …`: an expression default (LATER). */
  | { readonly kind: "expression"; readonly text: string; readonly expr: Expr; readonly span: Span };

export interface Duration {
  readonly amount: number;
  readonly unit: "min" | "h" | "d" | "w" | "m" | "y";
  readonly text: string;
}

/** `intent:`, `domain:`, `patterns:`, `display_field:` — kept as text. */
export interface MetadataLine {
  readonly kind: "metadata";
  readonly key: Ident;
  readonly value: string;
  readonly valueSpan: Span;
  readonly span: Span;
}

/** A SKIP entity keyword line plus its nested block, kept raw (DSL.md §3.3). */
export interface EntityBlock {
  readonly kind: "entityBlock";
  readonly keyword: Ident;
  readonly header: string;
  readonly children: readonly RawLine[];
  readonly span: Span;
}

// ── Access ──────────────────────────────────────────────────────────────────────────────────

export interface PolicyBlock {
  readonly kind: "policyBlock";
  readonly effect: "permit" | "forbid";
  readonly rules: readonly PolicyRule[];
  readonly span: Span;
}

export interface PolicyRule {
  readonly kind: "policyRule";
  readonly operation: Ident;
  readonly condition: Condition;
  readonly span: Span;
}

export interface ScopeBlock {
  readonly kind: "scopeBlock";
  readonly rules: readonly ScopeRule[];
  readonly span: Span;
}

export interface ScopeRule {
  readonly kind: "scopeRule";
  readonly operation: Ident;
  readonly filter: ScopeFilter;
  /** null when the rule has no `as:` line (DZ1030); `forLine` when it used the old `for:`. */
  readonly as: AsLine | null;
  readonly span: Span;
}

export interface AsLine {
  readonly kind: "asLine";
  readonly keyword: "as" | "for";
  readonly roles: readonly Ident[] | "*";
  readonly span: Span;
}

export type ScopeFilter =
  | { readonly kind: "all"; readonly span: Span }
  | ViaFilter
  | Condition;

export interface ViaFilter {
  readonly kind: "via";
  readonly negated: boolean;
  readonly junction: Ident;
  readonly bindings: readonly ViaBinding[];
  readonly span: Span;
}

export interface ViaBinding {
  readonly kind: "viaBinding";
  readonly path: readonly Ident[];
  readonly op: "=" | "!=";
  readonly target: Value;
  readonly span: Span;
}

/** The condition grammar of DSL.md §6.4 (permit, forbid and scope share it). */
export type Condition =
  | { readonly kind: "or"; readonly children: readonly Condition[]; readonly span: Span }
  | { readonly kind: "and"; readonly children: readonly Condition[]; readonly span: Span }
  | { readonly kind: "not"; readonly child: Condition; readonly span: Span }
  | { readonly kind: "roleCall"; readonly roles: readonly Ident[]; readonly span: Span }
  | { readonly kind: "grantCall"; readonly relation: string; readonly scope: Ident; readonly span: Span }
  | { readonly kind: "keywordCondition"; readonly keyword: "authenticated" | "anonymous" | "false"; readonly span: Span }
  | Comparison;

export type ConditionOp = "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in" | "is" | "is not";

export interface Comparison {
  readonly kind: "comparison";
  readonly lhs: Lhs;
  /** null for a bare LHS (`f` means `f = true`). */
  readonly op: ConditionOp | null;
  readonly value: Value | null;
  readonly span: Span;
}

export type Lhs =
  /** `a`, `a.b.c`, or the poly form `a[T].b` (LATER). */
  | { readonly kind: "path"; readonly segments: readonly Ident[]; readonly polyType: Ident | null; readonly span: Span }
  /** `days_since(f)` — a function call (DZ3016 in scope). */
  | { readonly kind: "call"; readonly fn: Ident; readonly arg: Ident; readonly span: Span };

export type Value =
  | { readonly kind: "string"; readonly value: string; readonly span: Span }
  | { readonly kind: "number"; readonly text: string; readonly span: Span }
  | { readonly kind: "bool"; readonly value: boolean; readonly span: Span }
  | { readonly kind: "null"; readonly span: Span }
  | { readonly kind: "name"; readonly name: string; readonly span: Span }
  | { readonly kind: "currentUser"; readonly attr: Ident | null; readonly span: Span }
  | { readonly kind: "currentTenant"; readonly span: Span }
  | { readonly kind: "relativeDate"; readonly base: "today" | "now"; readonly sign: "+" | "-" | null; readonly duration: Duration | null; readonly span: Span }
  | { readonly kind: "list"; readonly items: readonly Value[]; readonly span: Span };

// ── Block trees (LATER constructs, DSL.md §3.3) ─────────────────────────────────────────────

/** One token of a block-tree line. Strings carry their unescaped `value`. */
export interface BlockToken {
  readonly kind: "token";
  readonly type: "ident" | "string" | "number" | "duration" | "symbol";
  readonly text: string;
  readonly value?: string;
  readonly span: Span;
}

/** A line of a LATER construct: its tokens and its nested lines. */
export interface BlockLine {
  readonly kind: "blockLine";
  readonly tokens: readonly BlockToken[];
  readonly span: Span;
  readonly children: readonly BlockLine[];
}

/** A LATER top-level construct (`subscribe`, `projection`, `job`, …) kept as a block tree. */
export interface LaterStatement {
  readonly kind: "laterBlock";
  readonly keyword: Ident;
  /** The raw header text up to the first space, `:` or quote (as for skipped blocks). */
  readonly name: string | null;
  /** Header tokens after the keyword. */
  readonly tokens: readonly BlockToken[];
  readonly children: readonly BlockLine[];
  readonly span: Span;
}

/** A LATER entity keyword (`temporal:`, `seed:`, legacy `access:`, …) kept as a block tree. */
export interface LaterEntityBlock {
  readonly kind: "laterEntityBlock";
  readonly keyword: Ident;
  /** Header tokens after the keyword (usually starting with `:`). */
  readonly tokens: readonly BlockToken[];
  readonly children: readonly BlockLine[];
  readonly span: Span;
}

// ── Entity keyword lines ────────────────────────────────────────────────────────────────────

/** `index a, b` / `unique a, b` (§4.7). */
export interface IndexLine {
  readonly kind: "indexLine";
  readonly keyword: "index" | "unique";
  readonly fields: readonly Ident[];
  readonly span: Span;
}

export interface StringLit {
  readonly kind: "stringLit";
  readonly value: string;
  readonly span: Span;
}

/** `invariant: expr` with optional `message:` and `code:` (§4.10). */
export interface InvariantDecl {
  readonly kind: "invariant";
  readonly expr: Expr;
  readonly message: StringLit | null;
  readonly code: Ident | null;
  readonly span: Span;
}

/** `transitions:` (§4.9). */
export interface TransitionsBlock {
  readonly kind: "transitions";
  readonly transitions: readonly TransitionDecl[];
  readonly span: Span;
}

export interface TransitionDecl {
  readonly kind: "transition";
  readonly from: Ident | { readonly kind: "anyState"; readonly span: Span };
  readonly to: Ident;
  /** Constraints of the header line followed by those of nested lines, in source order. */
  readonly constraints: readonly TransitionConstraint[];
  readonly guards: readonly TransitionGuard[];
  readonly span: Span;
}

export type TransitionConstraint =
  | { readonly kind: "requires"; readonly field: Ident; readonly span: Span }
  | { readonly kind: "roleConstraint"; readonly roles: readonly Ident[]; readonly span: Span }
  | { readonly kind: "manual"; readonly span: Span }
  /** `auto after N [days|hours|minutes] [or manual]` (LATER). */
  | {
      readonly kind: "autoAfter";
      readonly amount: number;
      readonly unit: "days" | "hours" | "minutes" | null;
      readonly orManual: boolean;
      readonly span: Span;
    }
  /** `or` between constraints: role constraints of an edge are ORed whether or not it is written. */
  | { readonly kind: "connective"; readonly span: Span };

/** `guard: expr` with an optional nested `message:` (LATER). */
export interface TransitionGuard {
  readonly kind: "guard";
  readonly expr: Expr;
  readonly message: StringLit | null;
  readonly span: Span;
}

/** `audit: all | true | false | [ops]` (§9.1). */
export interface EntityAuditLine {
  readonly kind: "entityAudit";
  readonly value:
    | { readonly kind: "auditWord"; readonly word: "all" | "true" | "false"; readonly span: Span }
    | { readonly kind: "auditList"; readonly operations: readonly Ident[]; readonly span: Span };
  readonly span: Span;
}

/** `publish Event [when …]` (§8.1); `when: null` means `when created`. */
export interface PublishLine {
  readonly kind: "publish";
  readonly event: Ident;
  readonly when:
    | { readonly kind: "lifecycle"; readonly event: "created" | "updated" | "deleted"; readonly span: Span }
    | { readonly kind: "fieldChanged"; readonly field: Ident; readonly span: Span }
    | null;
  readonly span: Span;
}

/** `archetype: tenant` (§4.1). */
export interface ArchetypeLine {
  readonly kind: "archetypeLine";
  readonly name: Ident;
  readonly span: Span;
}

/** `extends: A, B` (LATER). */
export interface ExtendsLine {
  readonly kind: "extendsLine";
  readonly names: readonly Ident[];
  readonly span: Span;
}

/** `auth_identity:` — marks the principal entity; keys kept as METADATA (§5.3). */
export interface AuthIdentityBlock {
  readonly kind: "authIdentity";
  readonly entries: readonly (KeyValueLine | RawLine)[];
  readonly span: Span;
}

// ── Expressions (§4.11) ─────────────────────────────────────────────────────────────────────

export type CompareOp = "==" | "=" | "!=" | "<" | "<=" | ">" | ">=";
export type ArithOp = "+" | "-" | "*" | "/" | "%";

export type Expr =
  | {
      readonly kind: "ifExpr";
      readonly branches: readonly { readonly kind: "branch"; readonly cond: Expr; readonly then: Expr; readonly span: Span }[];
      readonly otherwise: Expr;
      readonly span: Span;
    }
  | { readonly kind: "logical"; readonly op: "and" | "or"; readonly operands: readonly Expr[]; readonly span: Span }
  | { readonly kind: "notExpr"; readonly operand: Expr; readonly span: Span }
  | { readonly kind: "compare"; readonly op: CompareOp; readonly left: Expr; readonly right: Expr; readonly span: Span }
  | { readonly kind: "inList"; readonly negated: boolean; readonly operand: Expr; readonly list: ListExpr; readonly span: Span }
  | { readonly kind: "isNull"; readonly negated: boolean; readonly operand: Expr; readonly span: Span }
  | { readonly kind: "arith"; readonly op: ArithOp; readonly left: Expr; readonly right: Expr; readonly span: Span }
  | { readonly kind: "negate"; readonly operand: Expr; readonly span: Span }
  | { readonly kind: "numberLit"; readonly text: string; readonly span: Span }
  | StringLit
  | { readonly kind: "boolLit"; readonly value: boolean; readonly span: Span }
  | { readonly kind: "nullLit"; readonly span: Span }
  | { readonly kind: "durationLit"; readonly duration: Duration; readonly span: Span }
  | { readonly kind: "callExpr"; readonly fn: Ident; readonly args: readonly Expr[]; readonly span: Span }
  /** `a`, `a.b`, `a->b`: `separators[i]` sits between `segments[i]` and `segments[i + 1]`. */
  | { readonly kind: "refExpr"; readonly segments: readonly Ident[]; readonly separators: readonly ("." | "->")[]; readonly span: Span }
  | ListExpr;

export interface ListExpr {
  readonly kind: "listExpr";
  readonly items: readonly Expr[];
  readonly span: Span;
}

export type ExprKind = Expr["kind"];

// ── Top-level constructs ────────────────────────────────────────────────────────────────────

/** A number of days or a duration (`retention:`). */
export type RetentionValue =
  | { readonly kind: "numberLit"; readonly text: string; readonly span: Span }
  | { readonly kind: "durationLit"; readonly duration: Duration; readonly span: Span };

/** `tenancy:` (§7). Unknown and LATER keys are kept as block lines. */
export interface TenancyDecl {
  readonly kind: "tenancy";
  readonly keyword: Ident;
  readonly entries: readonly TenancyEntry[];
  readonly span: Span;
}

export type TenancyEntry =
  | { readonly kind: "tenancyMode"; readonly key: Ident; readonly value: Ident; readonly span: Span }
  | { readonly kind: "tenancyPartitionKey"; readonly key: Ident; readonly value: Ident; readonly span: Span }
  /** `entities_excluded:` or its alias `exclude:`. */
  | { readonly kind: "tenancyExcluded"; readonly key: Ident; readonly entities: readonly Ident[]; readonly span: Span }
  | BlockLine;

/** `event_model:` (§8.1). */
export interface EventModelDecl {
  readonly kind: "eventModel";
  readonly keyword: Ident;
  readonly items: readonly (TopicDecl | EventDecl | BlockLine)[];
  readonly span: Span;
}

export interface TopicDecl {
  readonly kind: "topic";
  readonly name: Ident;
  readonly entries: readonly (
    | { readonly kind: "topicRetention"; readonly key: Ident; readonly value: RetentionValue; readonly span: Span }
    | { readonly kind: "topicPartitionKey"; readonly key: Ident; readonly value: Ident; readonly span: Span }
    | BlockLine
  )[];
  readonly span: Span;
}

export interface EventDecl {
  readonly kind: "event";
  readonly name: Ident;
  readonly entries: readonly (
    | { readonly kind: "eventTopic"; readonly key: Ident; readonly value: Ident; readonly span: Span }
    | { readonly kind: "eventPayload"; readonly key: Ident; readonly value: Ident; readonly span: Span }
    | { readonly kind: "eventVersion"; readonly key: Ident; readonly value: StringLit; readonly span: Span }
    | { readonly kind: "eventFields"; readonly key: Ident; readonly fields: readonly EventField[]; readonly span: Span }
    | BlockLine
  )[];
  readonly span: Span;
}

/** `name: type [required]` under an event's `fields:`. */
export interface EventField {
  readonly kind: "eventField";
  readonly name: Ident;
  readonly type: Ident;
  /** Raw text between parentheses after the type, if any (`str(200)`). */
  readonly args: string | null;
  readonly modifiers: readonly Ident[];
  readonly span: Span;
}

/** `audit on Entity:` (§9.2). */
export interface AuditOnDecl {
  readonly kind: "auditOn";
  readonly keyword: Ident;
  readonly entity: Ident;
  readonly entries: readonly (
    | { readonly kind: "auditTrack"; readonly key: Ident; readonly fields: readonly Ident[]; readonly span: Span }
    | { readonly kind: "auditShowTo"; readonly key: Ident; readonly roles: readonly Ident[]; readonly span: Span }
    | { readonly kind: "auditRetention"; readonly key: Ident; readonly value: RetentionValue; readonly span: Span }
    | BlockLine
  )[];
  readonly span: Span;
}

/** `archetype Name:` with field lines (LATER: field mixins for `extends:`). */
export interface ArchetypeDecl {
  readonly kind: "archetype";
  readonly keyword: Ident;
  readonly name: Ident;
  readonly members: readonly EntityMember[];
  readonly span: Span;
}

/** `enum Name "T":` with one value per line (LATER). */
export interface EnumDecl {
  readonly kind: "enum";
  readonly keyword: Ident;
  readonly name: Ident;
  readonly title: string | null;
  readonly values: readonly (
    | { readonly kind: "enumValue"; readonly name: Ident; readonly label: string | null; readonly span: Span }
    | BlockLine
  )[];
  readonly span: Span;
}

/** `grant_schema name "T":` (§10, LATER). */
export interface GrantSchemaDecl {
  readonly kind: "grantSchema";
  readonly keyword: Ident;
  readonly name: Ident;
  readonly title: string | null;
  readonly entries: readonly (
    | GrantRelationDecl
    | { readonly kind: "grantScope"; readonly key: Ident; readonly entity: Ident; readonly span: Span }
    | BlockLine
  )[];
  readonly span: Span;
}

export interface GrantRelationDecl {
  readonly kind: "grantRelation";
  readonly name: Ident;
  readonly title: string | null;
  readonly entries: readonly (
    /** `granted_by: role(a)`, `approved_by: role(b)`. */
    | { readonly kind: "grantRoles"; readonly key: Ident; readonly roles: readonly Ident[]; readonly span: Span }
    | { readonly kind: "grantMaxDuration"; readonly key: Ident; readonly value: Duration; readonly span: Span }
    /** `approval: required|immediate|none`, `expiry: required|optional|none`. */
    | { readonly kind: "grantChoice"; readonly key: Ident; readonly value: Ident; readonly span: Span }
    | BlockLine
  )[];
  readonly span: Span;
}
