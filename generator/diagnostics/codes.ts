/**
 * The registry of diagnostic codes (DSL.md §12.2) and one constructor per code in use.
 * Bands: DZ1xxx syntax, DZ2xxx names, DZ3xxx access, DZ4xxx types and schema, DZ5xxx migrations,
 * DZ9xxx internal. Messages never contain absolute paths.
 */
import type { Diagnostic, Note, Severity } from "./diagnostic";
import type { Span } from "./span";

export const CODES = {
  DZ1001: { severity: "error", summary: "unexpected character" },
  DZ1002: { severity: "error", summary: "unterminated string" },
  DZ1003: { severity: "error", summary: "inconsistent indentation" },
  DZ1004: { severity: "error", summary: "unexpected token or unknown construct" },
  DZ1005: { severity: "error", summary: "missing `:`" },
  DZ1006: { severity: "warning", summary: "tab in indentation" },
  DZ1007: { severity: "error", summary: "non-ASCII identifier" },
  DZ1010: { severity: "error", summary: "unknown field type" },
  DZ1011: { severity: "error", summary: "invalid or repeated modifier" },
  DZ1020: { severity: "warning", summary: "header after declarations" },
  DZ1030: { severity: "error", summary: "scope rule without `as:`" },
  DZ1031: { severity: "error", summary: "`write` in permit" },
  DZ1032: { severity: "error", summary: "`false` in forbid" },
  DZ1040: { severity: "error", summary: "expression syntax error" },
  DZ1901: { severity: "warning", summary: "construct skipped" },
  DZ1902: { severity: "warning", summary: "construct not implemented in this version" },
  DZ2001: { severity: "error", summary: "duplicate declaration" },
  DZ2002: { severity: "error", summary: "unknown entity" },
  DZ2003: { severity: "error", summary: "unknown field" },
  DZ2004: { severity: "error", summary: "duplicate field" },
  DZ2005: { severity: "error", summary: "table/column name collision or reserved name" },
  DZ2006: { severity: "error", summary: "module problem" },
  DZ2007: { severity: "warning", summary: "entity from a module that is not used" },
  DZ2008: { severity: "warning", summary: "unknown role" },
  DZ2009: { severity: "error", summary: "unknown event or topic" },
  DZ2010: { severity: "error", summary: "root module not found" },
  DZ2011: { severity: "warning", summary: "missing or extra app" },
  DZ2013: { severity: "error", summary: "unresolvable or ambiguous bare name" },
  DZ2014: { severity: "error", summary: "ambiguous child FK" },
  DZ2015: { severity: "error", summary: "unknown archetype" },
  DZ3001: { severity: "error", summary: "field condition in permit" },
  DZ3002: { severity: "error", summary: "FK path does not resolve" },
  DZ3003: { severity: "error", summary: "role/has_grant in scope" },
  DZ3004: { severity: "error", summary: "via combined with and/or" },
  DZ3005: { severity: "error", summary: "bad via bindings" },
  DZ3006: { severity: "error", summary: "unknown current_user attribute" },
  DZ3007: { severity: "error", summary: "type mismatch in a predicate" },
  DZ3008: { severity: "error", summary: "not a value of the enum" },
  DZ3009: { severity: "error", summary: "path longer than 4 hops" },
  DZ3010: { severity: "warning", summary: "entity default-deny" },
  DZ3011: { severity: "warning", summary: "permitted role without scope rule" },
  DZ3012: { severity: "warning", summary: "dead scope rule" },
  DZ3013: { severity: "warning", summary: "LATER atom compiled to FALSE" },
  DZ3014: { severity: "warning", summary: "current_user vs non-principal ref" },
  DZ3015: { severity: "warning", summary: "bare name is also a field" },
  DZ3016: { severity: "error", summary: "function in scope predicate" },
  DZ3017: { severity: "warning", summary: "update/delete without read/list" },
  DZ3018: { severity: "warning", summary: "path segment resolved via `<name>_id`" },
  DZ4001: { severity: "warning", summary: "`pk` on non-id field" },
  DZ4002: { severity: "error", summary: "`id` is not uuid" },
  DZ4003: { severity: "error", summary: "bad default or enum value" },
  DZ4004: { severity: "error", summary: "auto_add/auto_update on non-date type" },
  DZ4005: { severity: "error", summary: "conflicting modifiers" },
  DZ4006: { severity: "error", summary: "generated column collision" },
  DZ4007: { severity: "error", summary: "transitions do not match an enum field" },
  DZ4008: { severity: "error", summary: "invariant not boolean / not compilable" },
  DZ4009: { severity: "error", summary: "tenancy error" },
  DZ4010: { severity: "warning", summary: "tenancy without tenant root" },
  DZ4012: { severity: "error", summary: "bad field in index/unique/computed use" },
  DZ4013: { severity: "warning", summary: "event field not derivable or unknown type" },
  DZ4014: { severity: "error", summary: "invalid str(N)/decimal(P,S)" },
  DZ4015: { severity: "error", summary: "conflicting or impossible ON DELETE" },
  DZ4016: { severity: "error", summary: "ref to an entity that emits no table" },
  DZ5001: { severity: "error", summary: "destructive change needs --allow-destructive" },
  DZ5002: { severity: "error", summary: "NOT NULL added to a populated table without default" },
  DZ5003: { severity: "error", summary: "type change needs a hand-written step" },
  DZ5004: { severity: "error", summary: "schema snapshot missing or corrupt" },
  DZ5005: { severity: "warning", summary: "drop + add looks like a rename" },
  DZ5006: { severity: "error", summary: "conflicting `was:` rename" },
  DZ9001: { severity: "error", summary: "internal invariant failed" },
  DZ9002: { severity: "error", summary: "emitter produced unparsable output" },
} as const satisfies Record<string, { severity: Severity; summary: string }>;

export type Code = keyof typeof CODES;

interface Extra {
  readonly notes?: readonly Note[];
  readonly help?: string;
}

/** The one way to build a diagnostic: severity always comes from the registry. */
export function diagnostic(code: Code, message: string, span: Span | undefined, extra: Extra = {}): Diagnostic {
  return {
    code,
    severity: CODES[code].severity,
    message,
    ...(span ? { span } : {}),
    notes: extra.notes ?? [],
    ...(extra.help ? { help: extra.help } : {}),
  };
}

const q = (s: string) => `\`${s}\``;

// ── DZ1xxx syntax ────────────────────────────────────────────────────────────────────────────
export const unexpectedCharacter = (span: Span, ch: string) =>
  diagnostic("DZ1001", `unexpected character ${q(ch)}`, span);
export const unterminatedString = (span: Span) =>
  diagnostic("DZ1002", "unterminated string (strings end on the line they start)", span);
export const inconsistentIndentation = (span: Span, width: number, expected: readonly number[]) =>
  diagnostic("DZ1003", `inconsistent indentation: width ${width} matches no enclosing block`, span, {
    notes: [{ message: `open block widths: ${expected.join(", ")}` }],
  });
export const indentedTopLevel = (span: Span) =>
  diagnostic("DZ1003", "a top-level statement must start at column 1", span);
export const unexpectedToken = (span: Span, found: string, expected: string) =>
  diagnostic("DZ1004", `unexpected ${found}; expected ${expected}`, span);
export const unknownTopLevel = (span: Span, word: string, suggestion?: string) =>
  diagnostic("DZ1004", `unknown top-level construct ${q(word)}`, span, suggestion ? { help: `did you mean ${q(suggestion)}?` } : {});
export const missingColon = (span: Span, after: string) => diagnostic("DZ1005", `missing \`:\` after ${after}`, span);
export const tabIndentation = (span: Span) =>
  diagnostic("DZ1006", "tab in indentation (counted as 4 spaces)", span);
export const nonAsciiIdentifier = (span: Span) =>
  diagnostic("DZ1007", "identifiers are ASCII letters, digits and `_`", span);
export const unknownFieldType = (span: Span, type: string, suggestion?: string) =>
  diagnostic("DZ1010", `unknown field type ${q(type)}`, span, suggestion ? { help: `use ${q(suggestion)}` } : {});
export const badModifier = (span: Span, message: string) => diagnostic("DZ1011", message, span);
export const expressionSyntaxError = (span: Span, found: string, expected: string) =>
  diagnostic("DZ1040", `expression syntax error: unexpected ${found}; expected ${expected}`, span);
export const headerAfterDeclarations = (span: Span, keyword: string) =>
  diagnostic("DZ1020", `${q(keyword)} after the first declaration is ignored`, span);
export const scopeRuleWithoutAs = (span: Span, hint?: string) =>
  diagnostic("DZ1030", "scope rule without `as:` on the next, deeper-indented line", span, hint ? { help: hint } : {});
export const writeInPermit = (span: Span) =>
  diagnostic("DZ1031", "`write` is not an operation", span, { help: "use `create` and `update`" });
export const falseInForbid = (span: Span) =>
  diagnostic("DZ1032", "`false` in `forbid:` forbids nothing", span, { help: "remove the rule" });
export const constructSkipped = (span: Span, construct: string, name: string | null, more = 0) =>
  diagnostic("DZ1901", `${q(construct)}${name ? ` ${q(name)}` : ""} is skipped (not part of the generated back end)`, span,
    more > 0 ? { notes: [{ message: `and ${more} more in this file` }] } : {});
export const constructLater = (span: Span, construct: string, name: string | null, more = 0) =>
  diagnostic("DZ1902", `${q(construct)}${name ? ` ${q(name)}` : ""} is not implemented in this version and is ignored`, span,
    more > 0 ? { notes: [{ message: `and ${more} more in this file` }] } : {});

/**
 * DZ1902 for an IMPLEMENT construct that is parsed and checked, but that this version of the
 * emitters does not generate yet: the user must know the app will not enforce it.
 */
export const constructNotGenerated = (span: Span, construct: string, more = 0) =>
  diagnostic("DZ1902", `${q(construct)} is checked, but this version does not generate it yet: the app does not enforce it`, span,
    more > 0 ? { notes: [{ message: `and ${more} more in this file` }] } : {});

// ── DZ2xxx names ─────────────────────────────────────────────────────────────────────────────
export const duplicateDeclaration = (span: Span, kind: string, name: string, first: Span) =>
  diagnostic("DZ2001", `${kind} ${q(name)} is declared more than once`, span, {
    notes: [{ message: "first declared here", span: first }],
  });
export const unknownEntity = (span: Span | undefined, name: string, suggestion?: string) =>
  diagnostic("DZ2002", `unknown entity ${q(name)}`, span, suggestion ? { help: `did you mean ${q(suggestion)}?` } : {});
export const unknownField = (span: Span, entity: string, field: string, suggestion?: string) =>
  diagnostic("DZ2003", `${q(field)} is not a field of entity ${entity}`, span,
    suggestion ? { help: `did you mean ${q(suggestion)}?` } : {});
export const duplicateField = (span: Span, entity: string, field: string, first: Span) =>
  diagnostic("DZ2004", `field ${q(field)} is declared twice in entity ${entity}`, span, {
    notes: [{ message: "first declared here", span: first }],
  });
/** An `extends:` archetype field that the entity (or an earlier archetype) also declares. */
export const archetypeFieldConflict = (span: Span, entity: string, field: string, archetype: string, other: Span) =>
  diagnostic("DZ2004", `field ${q(field)} of archetype ${archetype} is also declared in entity ${entity}`, span, {
    notes: [{ message: "also declared here", span: other }],
  });
export const unknownArchetype = (span: Span, name: string, suggestion?: string) =>
  diagnostic("DZ2015", `unknown archetype ${q(name)}`, span, suggestion ? { help: `did you mean ${q(suggestion)}?` } : {});
export const nameCollision = (span: Span, message: string, other?: Span) =>
  diagnostic("DZ2005", message, span, other ? { notes: [{ message: "collides with this declaration", span: other }] } : {});
export const moduleProblem = (span: Span | undefined, message: string) => diagnostic("DZ2006", message, span);
export const unknownRole = (span: Span, role: string, suggestion?: string) =>
  diagnostic("DZ2008", `unknown role ${q(role)} (no persona declares it)`, span,
    suggestion ? { help: `did you mean ${q(suggestion)}?` } : {});
export const rootModuleNotFound = (root: string) =>
  diagnostic("DZ2010", `root module ${q(root)} (dazzle.toml) is declared by no file`, undefined);
export const missingApp = (span: Span | undefined, message: string) => diagnostic("DZ2011", message, span);

// ── DZ3xxx access ────────────────────────────────────────────────────────────────────────────
export const fieldConditionInPermit = (span: Span) =>
  diagnostic("DZ3001", "`permit:`/`forbid:` conditions may only test roles", span, { help: "move the field condition to `scope:`" });
export const fkPathNotFound = (span: Span, path: string, note: string, suggestion?: string) =>
  diagnostic("DZ3002", `FK path ${q(path)} does not resolve`, span, {
    notes: [{ message: note }],
    ...(suggestion ? { help: `did you mean ${q(suggestion)}?` } : {}),
  });
export const roleInScope = (span: Span) =>
  diagnostic("DZ3003", "`role()` and `has_grant()` belong in `permit:`, not in `scope:`", span);
export const unknownUserAttribute = (span: Span, attr: string, principal: string, suggestion?: string) =>
  diagnostic("DZ3006", `\`current_user.${attr}\`: ${principal} has no field ${q(attr)}`, span,
    suggestion ? { help: `did you mean ${q(suggestion)}?` } : {});
export const predicateTypeMismatch = (span: Span, message: string) => diagnostic("DZ3007", message, span);
export const notAnEnumValue = (span: Span, value: string, field: string, values: readonly string[]) =>
  diagnostic("DZ3008", `${q(value)} is not a value of ${q(field)}`, span, { notes: [{ message: `values: ${values.join(", ")}` }] });
export const entityDefaultDeny = (span: Span, entity: string) =>
  diagnostic("DZ3010", `entity ${entity} has no permit/forbid rules: it is default-deny and gets no routes`, span, {
    help: "add a `permit:` block, or generate with --compat-open",
  });
export const nonPrincipalUserCompare = (span: Span, field: string, target: string, principal: string) =>
  diagnostic("DZ3014", `${q(field)} refers to ${target}, but \`current_user\` is a ${principal}`, span, {
    notes: [{ message: "the rule holds only when the two ids coincide" }],
    help: `generate with --principal=${target} if ${target} rows are the callers`,
  });
export const bareNameIsField = (span: Span, name: string) =>
  diagnostic("DZ3015", `${q(name)} is compared as a string literal, although a field has that name`, span, {
    help: "column-to-column comparisons are not supported; quote the string to silence this warning",
  });

// ── DZ4xxx types and schema ──────────────────────────────────────────────────────────────────
export const pkOnNonId = (span: Span, field: string) =>
  diagnostic("DZ4001", `\`pk\` on ${q(field)} has no effect on the primary key (always \`id\`); treated as \`required unique\``, span);
export const idNotUuid = (span: Span) => diagnostic("DZ4002", "the `id` field must have type `uuid`", span);
export const badDefault = (span: Span, message: string) => diagnostic("DZ4003", message, span);
export const autoOnNonDate = (span: Span, modifier: string) =>
  diagnostic("DZ4004", `${q(modifier)} needs a \`date\` or \`datetime\` field`, span);
export const conflictingModifiers = (span: Span, a: string, b: string) =>
  diagnostic("DZ4005", `${q(a)} and ${q(b)} conflict`, span);
export const invalidSize = (span: Span, message: string) => diagnostic("DZ4014", message, span);
export const generatedColumnCollision = (span: Span, message: string, other?: Span) =>
  diagnostic("DZ4006", message, span, other ? { notes: [{ message: "declared here", span: other }] } : {});

// ── DZ9xxx internal ──────────────────────────────────────────────────────────────────────────
export const internalError = (message: string) =>
  diagnostic("DZ9001", `internal error: ${message} (a bug: please report it with --emit ir output)`, undefined);

// ── DZ3xxx FK paths and `via` junctions (DSL.md §6.6, §6.7) ──────────────────────────────────
export const pathTooLong = (span: Span, path: string, hops: number) =>
  diagnostic("DZ3009", `FK path ${q(path)} has ${hops} hops; at most 4 are allowed`, span, {
    help: "shorten the path, e.g. with a `via` junction or a denormalised ref",
  });
export const pathSegmentViaId = (span: Span, segment: string, entity: string) =>
  diagnostic("DZ3018", `${q(segment)} is not a field of entity ${entity}; resolved to the ref ${q(`${segment}_id`)}`, span, {
    help: `write ${q(`${segment}_id`)}`,
  });
export const badViaBinding = (span: Span, message: string, help?: string) =>
  diagnostic("DZ3005", message, span, help ? { help } : {});

// ── Entity rules, tenancy, events, audit, personas (DSL.md §4.7–4.10, §5, §7–§9) ──────────────
export const unresolvedName = (span: Span, name: string, suggestion?: string) =>
  diagnostic("DZ2013", `${q(name)} is neither a field of this entity nor a value of the enum it is compared with`, span,
    suggestion ? { help: `did you mean ${q(suggestion)}?` } : {});
export const unknownFunction = (span: Span, fn: string, suggestion?: string) =>
  diagnostic("DZ2013", `unknown function ${q(fn)}`, span, suggestion ? { help: `did you mean ${q(suggestion)}?` } : {});
export const enumLiteralShadowsField = (span: Span, name: string, field: string) =>
  diagnostic("DZ3015", `${q(name)} is read as a value of the enum ${q(field)}, although a field has that name`, span, {
    help: "quote it to compare with the text, or rename the field",
  });
export const badInvariant = (span: Span, message: string) => diagnostic("DZ4008", message, span);
export const noStateField = (span: Span, message: string, values?: readonly string[]) =>
  diagnostic("DZ4007", message, span, values ? { notes: [{ message: `values: ${values.join(", ")}` }] } : {});
export const badIndexField = (span: Span, message: string) => diagnostic("DZ4012", message, span);
/** DSL.md §4.1 makes an unknown `display_field` a warning, unlike every other DZ2003. */
/**
 * `display_field` naming no field. DSL.md §4.1 calls this a warning while §12.2 registers DZ2003
 * as an error; severity always comes from the registry, so it is an error (no corpus spec trips it).
 */
export const unknownDisplayField = (span: Span, entity: string, field: string, suggestion?: string): Diagnostic =>
  unknownField(span, entity, field, suggestion);
export const badAuditOperation = (span: Span, op: string) =>
  diagnostic("DZ1011", `${q(op)} is not an operation (audit lists name create, read, update, delete, list)`, span);
export const tenancyError = (span: Span, message: string, other?: Span) =>
  diagnostic("DZ4009", message, span, other ? { notes: [{ message: "the other one is here", span: other }] } : {});
export const tenancyWithoutRoot = (span: Span) =>
  diagnostic("DZ4010", "`tenancy:` has no effect: no entity declares `archetype: tenant`", span, {
    help: "add `archetype: tenant` to the entity whose rows are the tenants",
  });
export const unknownEventOrTopic = (span: Span, kind: "event" | "topic", name: string, suggestion?: string) =>
  diagnostic("DZ2009", `unknown ${kind} ${q(name)}`, span, suggestion ? { help: `did you mean ${q(suggestion)}?` } : {});
export const eventFieldProblem = (span: Span, message: string) => diagnostic("DZ4013", message, span);

// ── Access lints (DSL.md §6.12) ──────────────────────────────────────────────────────────────
const roleList = (roles: readonly string[]) => `${roles.length === 1 ? "role" : "roles"} ${roles.map(q).join(", ")}`;
export const permittedRoleWithoutScope = (span: Span, entity: string, op: string, roles: readonly string[]) =>
  diagnostic("DZ3011", `${roleList(roles)} may ${q(op)} ${entity}, but no ${q(op)} scope rule covers ${roles.length === 1 ? "it" : "them"}: always denied`, span, {
    help: `add a \`${op}:\` scope rule with \`as: ${roles.join(", ")}\` (or \`as: *\`), or drop ${roles.length === 1 ? "the role" : "the roles"} from this permit rule`,
  });
export const deadScopeRule = (span: Span, entity: string, op: string, role: string) =>
  diagnostic("DZ3012", `no \`${op}\` permit rule of ${entity} allows role ${q(role)}: this part of the scope rule never applies`, span, {
    help: `add \`role(${role})\` to the \`${op}:\` permit rule, or remove ${q(role)} from \`as:\``,
  });
export const updateWithoutRead = (span: Span, entity: string, op: string, role: string | null) =>
  diagnostic("DZ3017", `${role === null ? "`as: *`" : `role ${q(role)}`} has ${op === "update" ? "an" : "a"} \`${op}\` scope rule on ${entity} but no \`read\` or \`list\` rule: the ${op} affects no rows`, span, {
    notes: [{ message: `PostgreSQL applies the SELECT policy to the rows an ${op === "update" ? "UPDATE" : "DELETE"} reads` }],
    help: `add a \`read:\` or \`list:\` scope rule for ${role === null ? "every role" : q(role)}`,
  });

// ── Modules and relations (DSL.md §2.3, §4.6, §4.8) ─────────────────────────────────────────
export const entityFromUnusedModule = (span: Span, entity: string, module: string, from: string) =>
  diagnostic("DZ2007", `entity ${entity} belongs to module ${q(module)}, which module ${q(from)} does not \`use\``, span, {
    help: `add \`use ${module}\` to the header of this file`,
  });
export const noChildFk = (span: Span, relation: string, holder: string, parent: string, suggestedField: string) =>
  diagnostic("DZ2002", `${q(relation)}: ${holder} has no \`ref ${parent}\` to be the child FK`, span, {
    help: `add a field such as \`${suggestedField}: ref ${parent}\` to ${holder}`,
  });
export const ambiguousChildFk = (span: Span, child: string, parent: string, refs: readonly string[], help: string) =>
  diagnostic("DZ2014", `${child} has ${refs.length} refs to ${parent} (${refs.map(q).join(", ")}): the child FK is ambiguous`, span, { help });
export const impossibleOnDelete = (span: Span, message: string, note: { readonly message: string; readonly span: Span }) =>
  diagnostic("DZ4015", message, span, { notes: [note] });
export const refToTablelessEntity = (span: Span, entity: string, declared: Span) =>
  diagnostic("DZ4016", `${entity} emits no table (it declares \`subtype_of\`), so it cannot be referenced`, span, {
    notes: [{ message: "declared here", span: declared }],
    help: "reference the parent entity instead",
  });

// ── DZ9002 ───────────────────────────────────────────────────────────────────────────────────
export const unparsableOutput = (file: string, message: string, line: number, column: number) =>
  diagnostic("DZ9002", `internal error: the emitter produced unparsable ${file} (${line}:${column}: ${message}); a bug: please report it with --emit ir output`, undefined);

// ── DZ5xxx migrations (the others are built where the lock is read, in cli.ts) ───────────────
/** A `was:` rename hint that cannot be applied: its old name is still declared, or claimed twice. */
export const wasConflict = (span: Span, message: string, other?: Span) =>
  diagnostic("DZ5006", message, span, other ? { notes: [{ message: "see here", span: other }] } : {});
