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

export type Statement = ModuleDecl | UseDecl | AppDecl | EntityDecl | PersonaDecl | BlockStatement;

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

export type EntityMember = FieldDecl | PolicyBlock | ScopeBlock | MetadataLine | EntityBlock;

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
  /** `computed <expr>`: the expression is kept as text until the expression language lands. */
  | { readonly kind: "computedType"; readonly text: string; readonly span: Span };

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
  | { readonly kind: "expression"; readonly text: string; readonly span: Span };

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

/** Any other entity keyword line plus its nested block (LATER/SKIP until implemented). */
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
