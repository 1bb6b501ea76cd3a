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
}

export interface PrincipalAttributeIR {
  readonly name: string;
  readonly column: string;
  /** PostgreSQL type of the attribute, used to cast the setting back. */
  readonly sqlType: string;
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
  /** True when the column needs an index (FK column, or filtered on by a scope rule). */
  readonly indexed: boolean;
}

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
  | { readonly kind: "ref"; readonly entity: string; readonly table: string };

export type FieldTypeKind = FieldTypeIR["kind"];

export type DefaultIR =
  /** A literal default, already typed for its column (`'a'`, 12, true). */
  | { readonly kind: "literal"; readonly value: LiteralValue }
  /** `gen_random_uuid()`, `now()`, `CURRENT_DATE`. */
  | { readonly kind: "generated"; readonly fn: "uuid" | "now" | "today" };

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

/** The row-predicate algebra of scope rules (DSL.md §6.5). */
export type Predicate =
  | { readonly kind: "true" }
  | { readonly kind: "false" }
  /** column op literal; `value: null` with `=`/`!=` means IS [NOT] NULL. */
  | {
      readonly kind: "column";
      readonly column: string;
      readonly op: ComparisonOp;
      readonly value: LiteralValue;
      readonly sqlType: string;
    }
  /** column op current_user (attr `id`) or current_user.attr. */
  | {
      readonly kind: "userAttr";
      readonly column: string;
      readonly op: ComparisonOp;
      readonly attr: string;
    }
  | { readonly kind: "and"; readonly children: readonly Predicate[] }
  | { readonly kind: "or"; readonly children: readonly Predicate[] }
  | { readonly kind: "not"; readonly child: Predicate };

export type PredicateKind = Predicate["kind"];
