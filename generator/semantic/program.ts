/**
 * What the linker and checkers learn, kept beside the AST (never written into it). Lowering reads
 * the AST through these tables to build the IR.
 */
import type { Diagnostic } from "../diagnostics/diagnostic";
import type { SourceFile, Span } from "../diagnostics/span";
import type { DefaultIR, FieldTypeIR, Predicate } from "../ir/ir";
import type { AppDecl, AuditOnDecl, Comparison, EntityDecl, FieldDecl, FileNode, PersonaDecl, TransitionsBlock, ViaFilter } from "../syntax/ast";
import type { CheckedComputed } from "./check-computed";
import type { CheckedEvents } from "./check-events";
import type { CheckedInvariants } from "./check-invariants";
import type { OnDeleteActions } from "./check-relations";
import type { CheckedTenancy } from "./check-tenancy";
import type { TenancyLink } from "./link-tenancy";

/** The parsed project: files in project-relative path order, plus project settings. */
export interface ParsedProject {
  readonly files: readonly FileNode[];
  readonly sources: ReadonlyMap<string, SourceFile>;
  /** `dazzle.toml` `[project] root`; null in single-file mode (the one file is the root). */
  readonly rootModule: string | null;
  /** `[project] name`, else the file stem. */
  readonly fallbackName: string;
}

export interface GeneratorOptions {
  /** `--principal=<Entity>`. */
  readonly principal?: string;
}

/**
 * Field types the checker understands (anything else was reported and dropped): the IR's field
 * types, except that a `ref` does not know its table yet and `money` is still one field (lowering
 * splits it into `<f>_minor` and `<f>_currency`).
 */
export type ResolvedType =
  | Exclude<FieldTypeIR, { readonly kind: "ref" | "moneyMinor" | "moneyCurrency" }>
  | { readonly kind: "ref"; readonly entity: string }
  /** Two columns `<f>_minor` and `<f>_currency` (DSL.md §4.3); `currency` is the upper-cased default. */
  | { readonly kind: "money"; readonly currency: string };

export type ResolvedDefault = DefaultIR;

export interface FieldInfo {
  readonly name: string;
  readonly decl: FieldDecl | null;
  readonly span: Span;
  readonly type: ResolvedType;
  readonly required: boolean;
  readonly unique: boolean;
  readonly default: ResolvedDefault | null;
  readonly autoAdd: boolean;
  readonly autoUpdate: boolean;
  /** `indexed` (DSL.md §4.4). */
  readonly indexed: boolean;
  /** `sensitive` (METADATA: redacted in logs, event payloads and field history). */
  readonly sensitive: boolean;
  /** `pii(…)`: null when absent; category/sensitivity null when not given. */
  readonly pii: PiiInfo | null;
  /** `was: old_name`: the field's name before a rename (resolve-entities checked it). */
  readonly was?: string;
  /** The partition key injected by active tenancy (link-tenancy.ts, DSL.md §7); relation lookups ignore it. */
  readonly injected?: true;
}

export interface PiiInfo {
  readonly category: string | null;
  readonly sensitivity: string | null;
}

export interface EntityInfo {
  readonly name: string;
  readonly decl: EntityDecl;
  readonly table: string;
  /** Stored fields in declaration order; `id` first (declared or added). */
  readonly fields: readonly FieldInfo[];
  readonly fieldsByName: ReadonlyMap<string, FieldInfo>;
  /** `was: OldName`: the entity's name before a rename (resolve-entities checked it). */
  readonly was?: string;
}

export interface PersonaInfo {
  readonly decl: PersonaDecl;
  readonly id: string;
  readonly role: string;
}

export interface Principal {
  /** null: no principal entity, a table `app_user` is generated. */
  readonly entity: EntityInfo | null;
  readonly table: string;
  /**
   * Without a principal entity: the generated `app_user`'s fields that `current_user.<attr>` may
   * read besides `id` (the partition key under active tenancy, link-tenancy.ts); absent otherwise.
   */
  readonly appUserFields?: ReadonlyMap<string, FieldInfo>;
}

/** A scope leaf the checker resolved: the IR predicate it stands for. */
export type ResolvedLeaves = Map<Comparison | ViaFilter, Predicate>;

export interface LinkedProgram {
  readonly project: ParsedProject;
  readonly app: { readonly name: string; readonly title: string; readonly decl: AppDecl | null };
  /** Sorted by name. */
  readonly entities: readonly EntityInfo[];
  readonly entitiesByName: ReadonlyMap<string, EntityInfo>;
  readonly personas: readonly PersonaInfo[];
  readonly principal: Principal;
  /** Roles declared by personas. */
  readonly declaredRoles: ReadonlySet<string>;
  /** Active tenancy and the tenant-scoped entities (link-tenancy.ts); null when inactive, absent in hand-built programs. */
  readonly tenancy?: TenancyLink | null;
}

/** What the checks of entity rules, tenancy, events and audit learned (DSL.md §4.7–4.10, §7–§9). */
export interface RuleTables {
  readonly stateFields: ReadonlyMap<TransitionsBlock, string>;
  readonly invariants: CheckedInvariants;
  readonly tenancy: CheckedTenancy;
  readonly events: CheckedEvents;
  readonly fieldHistory: readonly AuditOnDecl[];
  /** Computed fields (check-computed.ts); absent in hand-built programs. */
  readonly computed?: CheckedComputed;
}

export interface CheckedProgram extends LinkedProgram {
  readonly leaves: ResolvedLeaves;
  readonly rules: RuleTables;
  /** Every role named anywhere (personas, role(), as:), sorted. */
  readonly roles: readonly string[];
  /** ON DELETE actions of child FKs from `has_many`/`has_one` (check-relations); absent in hand-built programs. */
  readonly onDelete?: OnDeleteActions;
}

export interface PassResult<T> {
  readonly value: T;
  readonly diagnostics: readonly Diagnostic[];
}
