/**
 * Resolves every entity's fields: types (DSL.md §4.3), modifiers (§4.4), defaults (§4.5), `ref`
 * targets (§4.6) and the primary key (§4.2). Guarantees: each returned entity has a uuid `id`
 * field first, field names are unique, every `ref` names an entity of the project, every default
 * fits its field's type, no `money` column (`<f>_minor`, `<f>_currency`) collides with a declared
 * field (DZ4006). Computed fields have no column and are left to check-computed.ts; fields of
 * types not implemented in this version are reported (DZ1902) and left out; `searchable` and `storage` are kept but warned about (DZ1902).
 *
 * `was:` rename hints (field `name: type … was: old_name`, entity line `was: OldName`) are kept
 * on the field/entity for the migration diff; one that cannot be a rename is DZ5006: its old name
 * is still declared in the same entity (or is still an entity), or two fields (entities) claim
 * the same old name. Whether the old name still exists in the database is the diff's business:
 * a hint whose rename already landed is harmless.
 */
import {
  autoOnNonDate,
  badDefault,
  badModifier,
  conflictingModifiers,
  constructLater,
  duplicateField,
  generatedColumnCollision,
  idNotUuid,
  invalidSize,
  nameCollision,
  pkOnNonId,
  unknownEntity,
  unknownFieldType,
  wasConflict,
} from "../diagnostics/codes";
import type { Diagnostic } from "../diagnostics/diagnostic";
import type { Span } from "../diagnostics/span";
import type { DefaultValue, EntityDecl, FieldDecl, Modifier, TypeExpr } from "../syntax/ast";
import { closest, snakeCase } from "../util/names";
import type { EntityInfo, FieldInfo, PassResult, PiiInfo, ResolvedDefault, ResolvedType } from "./program";

const SIMPLE_TYPES = {
  text: "text", int: "int", bool: "bool", uuid: "uuid", date: "date", datetime: "datetime", email: "email",
  float: "float", url: "url", slug: "slug", timezone: "timezone", json: "json",
} as const;
/** Types with arguments, resolved one by one below. */
const ARG_TYPES = ["str", "decimal", "money", "file"];
/** Types of the language whose generation lands in a later version. */
const LATER_TYPES = new Set(["poly_ref"]);
/** `pii(category=C, sensitivity=S)` values (DSL.md §4.4). */
const PII_CATEGORIES = ["contact", "identity", "location", "biometric", "financial", "health", "freeform", "behavioral"];
const PII_SENSITIVITIES = ["standard", "high", "special_category"];
/** Modifiers kept but not acted on in this version (DZ1902). */
const LATER_MODIFIERS = new Set(["searchable", "storage"]);
const TYPE_HINTS: Readonly<Record<string, string>> = {
  string: "str(N)", varchar: "str(N)", char: "str(N)", integer: "int", bigint: "int", boolean: "bool",
  double: "float", real: "float", numeric: "decimal(P,S)", timestamp: "datetime", time: "datetime",
  dict: "json", object: "json", fk: "ref Entity", foreign_key: "ref Entity", currency: "money",
};
const KNOWN_TYPE_NAMES = [...ARG_TYPES, ...Object.keys(SIMPLE_TYPES), ...LATER_TYPES, "enum", "ref", "belongs_to"];
const FLAG_MODIFIERS = new Set([
  "required", "optional", "pk", "unique", "indexed", "auto_add", "auto_update", "sensitive", "pii", "searchable", "storage", "was",
]);
const RESERVED_TABLE_PREFIXES = ["_dazzle", "dazzle_", "dz_"];

export function resolveEntities(decls: readonly EntityDecl[]): PassResult<EntityInfo[]> {
  const diagnostics: Diagnostic[] = [];
  const names = new Set(decls.map((d) => d.name.name));
  const tables = new Map<string, EntityDecl>();
  const entities: EntityInfo[] = [];
  const renames = entityRenames(decls, diagnostics);

  for (const decl of [...decls].sort((a, b) => (a.name.name < b.name.name ? -1 : 1))) {
    const table = snakeCase(decl.name.name);
    const clash = tables.get(table);
    if (clash) diagnostics.push(nameCollision(decl.name.span, `entities ${clash.name.name} and ${decl.name.name} both map to table \`${table}\``, clash.name.span));
    else tables.set(table, decl);
    if (RESERVED_TABLE_PREFIXES.some((p) => table.startsWith(p))) {
      diagnostics.push(nameCollision(decl.name.span, `table name \`${table}\` is reserved for dazzle-gen (prefixes _dazzle, dazzle_, dz_)`));
    }
    const entity = resolveEntity(decl, table, names, diagnostics);
    const was = renames.get(decl);
    entities.push(was === undefined ? entity : { ...entity, was });
  }
  return { value: entities, diagnostics };
}

function resolveEntity(decl: EntityDecl, table: string, entityNames: ReadonlySet<string>, diagnostics: Diagnostic[]): EntityInfo {
  const fields: FieldInfo[] = [];
  const byName = new Map<string, FieldInfo>();
  const declared = new Map<string, FieldDecl>();
  for (const m of decl.members) {
    if (m.kind !== "field") continue;
    const first = declared.get(m.name.name);
    if (first) {
      diagnostics.push(duplicateField(m.name.span, decl.name.name, m.name.name, first.name.span));
      continue;
    }
    declared.set(m.name.name, m);
    const info = resolveField(m, entityNames, diagnostics);
    if (info) {
      fields.push(info);
      byName.set(info.name, info);
    }
  }
  let id = byName.get("id");
  if (!id) {
    id = { ...ID_FIELD, span: decl.name.span };
    byName.set("id", id);
  } else {
    fields.splice(fields.indexOf(id), 1);
  }
  checkMoneyColumns(fields, diagnostics);
  checkFieldRenames(decl.name.name, fields, declared, diagnostics);
  return { name: decl.name.name, decl, table, fields: [id, ...fields], fieldsByName: byName };
}

const ID_FIELD: Omit<FieldInfo, "span"> = {
  name: "id", decl: null, type: { kind: "uuid" }, required: true, unique: false, default: { kind: "generated", fn: "uuid" },
  autoAdd: false, autoUpdate: false, indexed: false, sensitive: false, pii: null,
};

/** A `money` field's `<f>_minor`/`<f>_currency` must not be the name of another field (DZ4006). */
function checkMoneyColumns(fields: readonly FieldInfo[], diagnostics: Diagnostic[]): void {
  const byName = new Map(fields.map((f) => [f.name, f]));
  const generated = new Map<string, FieldInfo>();
  for (const f of fields) {
    if (f.type.kind !== "money") continue;
    for (const column of [`${f.name}_minor`, `${f.name}_currency`]) {
      const clash = byName.get(column) ?? generated.get(column);
      if (clash) {
        diagnostics.push(
          generatedColumnCollision(f.span, `money field \`${f.name}\` generates column \`${column}\`, which is also the field \`${clash.name}\``, clash.span),
        );
      }
      generated.set(column, f);
    }
  }
}

function resolveField(field: FieldDecl, entityNames: ReadonlySet<string>, diagnostics: Diagnostic[]): FieldInfo | null {
  const type = resolveType(field.type, entityNames, diagnostics);
  const flags = collectFlags(field.modifiers, diagnostics);
  if (type === null) return null;

  const isId = field.name.name === "id";
  if (isId) {
    if (type.kind !== "uuid") diagnostics.push(idNotUuid(field.type.span));
    return { ...ID_FIELD, decl: field, span: field.name.span };
  }
  const pk = flags.get("pk");
  if (pk) diagnostics.push(pkOnNonId(pk.span, field.name.name));
  if (flags.has("required") && flags.has("optional")) diagnostics.push(conflictingModifiers(flags.get("optional")!.span, "required", "optional"));

  const autoAdd = flags.get("auto_add");
  const autoUpdate = flags.get("auto_update");
  for (const auto of [autoAdd, autoUpdate]) {
    if (auto && type.kind !== "date" && type.kind !== "datetime") diagnostics.push(autoOnNonDate(auto.span, auto.name.name));
  }
  const isAuto = (autoAdd || autoUpdate) !== undefined && (type.kind === "date" || type.kind === "datetime");
  const defaultModifier = field.modifiers.find((m) => m.kind === "default");
  let dflt: ResolvedDefault | null = null;
  if (isAuto) dflt = { kind: "generated", fn: type.kind === "date" ? "today" : "now" };
  else if (defaultModifier && defaultModifier.kind === "default") dflt = resolveDefault(defaultModifier.value, type, diagnostics);

  for (const [name, m] of flags) if (LATER_MODIFIERS.has(name)) diagnostics.push(constructLater(m.name.span, name, null));
  const piiFlag = flags.get("pii");
  const pii = piiFlag ? resolvePii(piiFlag, diagnostics) : null;

  return {
    name: field.name.name,
    decl: field,
    span: field.name.span,
    type,
    required: flags.has("required") || pk !== undefined || isAuto,
    unique: flags.has("unique") || pk !== undefined,
    default: dflt,
    autoAdd: isAuto && autoAdd !== undefined,
    autoUpdate: isAuto && autoUpdate !== undefined,
    indexed: flags.has("indexed"),
    sensitive: flags.has("sensitive"),
    pii,
    ...(flags.has("was") ? { was: flags.get("was")!.args! } : {}),
  };
}

/**
 * `was: old_name` on a field: the old name must not still be a field of the entity (a rename
 * removes it), and one old name is claimed by at most one field (DZ5006).
 */
function checkFieldRenames(entity: string, fields: readonly FieldInfo[], declared: ReadonlyMap<string, FieldDecl>, diagnostics: Diagnostic[]): void {
  const claimed = new Map<string, Span>();
  for (const f of fields) {
    const hint = f.decl?.modifiers.find((m) => m.kind === "flag" && m.name.name === "was");
    if (f.was === undefined || hint === undefined) continue;
    const still = declared.get(f.was);
    const first = claimed.get(f.was);
    if (still !== undefined && f.was !== f.name) {
      diagnostics.push(wasConflict(hint.span, `\`was: ${f.was}\` on field \`${f.name}\`: entity ${entity} still declares \`${f.was}\`; a renamed field must not keep its old name`, still.name.span));
    } else if (first !== undefined) {
      diagnostics.push(wasConflict(hint.span, `\`was: ${f.was}\` on field \`${f.name}\`: another field of entity ${entity} is already renamed from \`${f.was}\``, first));
    }
    if (first === undefined) claimed.set(f.was, hint.span);
  }
}

/**
 * The entity line `was: OldName` of every entity that has a valid one (DZ5006 otherwise: not a
 * single name, the old name is still an entity, or two entities claim it).
 */
function entityRenames(decls: readonly EntityDecl[], diagnostics: Diagnostic[]): Map<EntityDecl, string> {
  const byName = new Map(decls.map((d) => [d.name.name, d]));
  const claimed = new Map<string, Span>();
  const out = new Map<EntityDecl, string>();
  for (const decl of decls) {
    for (const m of decl.members) {
      if (m.kind !== "laterEntityBlock" || m.keyword.name !== "was") continue;
      const [colon, name, ...rest] = m.tokens;
      if (colon?.text !== ":" || name?.type !== "ident" || rest.length > 0 || m.children.length > 0) {
        const last = m.tokens[m.tokens.length - 1];
        diagnostics.push(wasConflict(last ? { ...m.keyword.span, end: last.span.end } : m.keyword.span, "`was:` on an entity takes one name: `was: OldName`"));
        continue;
      }
      const still = byName.get(name.text);
      const first = claimed.get(name.text);
      if (still !== undefined && still !== decl) {
        diagnostics.push(wasConflict(name.span, `\`was: ${name.text}\` on entity ${decl.name.name}: ${name.text} is still an entity; a renamed entity must not keep its old name`, still.name.span));
      } else if (first !== undefined) {
        diagnostics.push(wasConflict(name.span, `\`was: ${name.text}\` on entity ${decl.name.name}: another entity is already renamed from ${name.text}`, first));
      } else out.set(decl, name.text);
      if (first === undefined) claimed.set(name.text, name.span);
    }
  }
  return out;
}

/** `pii`, `pii()`, `pii(category=C, sensitivity=S)` (DSL.md §4.4); anything else is DZ1011. */
function resolvePii(m: FlagModifier, diagnostics: Diagnostic[]): PiiInfo {
  const out = { category: null as string | null, sensitivity: null as string | null };
  const args = (m.args ?? "").trim();
  if (args === "") return out;
  for (const part of args.split(",")) {
    const match = /^\s*(category|sensitivity)\s*=\s*([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(part);
    if (!match) {
      diagnostics.push(badModifier(m.span, `\`pii(${args})\`: expected \`category=…\` and/or \`sensitivity=…\``));
      continue;
    }
    const key = match[1] as "category" | "sensitivity";
    const value = match[2]!;
    const allowed = key === "category" ? PII_CATEGORIES : PII_SENSITIVITIES;
    if (out[key] !== null) diagnostics.push(badModifier(m.span, `\`pii\`: \`${key}\` is given twice`));
    else if (!allowed.includes(value)) {
      const hint = closest(value, allowed);
      diagnostics.push(badModifier(m.span, `\`pii\`: \`${value}\` is not a ${key} (${allowed.join(", ")})${hint ? ` — did you mean \`${hint}\`?` : ""}`));
    } else out[key] = value;
  }
  return out;
}

type FlagModifier = Extract<Modifier, { kind: "flag" }>;

function collectFlags(modifiers: readonly Modifier[], diagnostics: Diagnostic[]): Map<string, FlagModifier> {
  const flags = new Map<string, FlagModifier>();
  let defaults = 0;
  for (const m of modifiers) {
    if (m.kind === "default") {
      if (++defaults > 1) diagnostics.push(badModifier(m.span, "a field has at most one default"));
      continue;
    }
    const name = m.name.name;
    if (!FLAG_MODIFIERS.has(name)) {
      const suggestion = closest(name, FLAG_MODIFIERS);
      diagnostics.push(badModifier(m.name.span, `unknown modifier \`${name}\`${suggestion ? ` (did you mean \`${suggestion}\`?)` : ""}`));
    } else if (flags.has(name)) diagnostics.push(badModifier(m.name.span, `modifier \`${name}\` is repeated`));
    else flags.set(name, m);
  }
  return flags;
}

function resolveType(type: TypeExpr, entityNames: ReadonlySet<string>, diagnostics: Diagnostic[]): ResolvedType | null {
  switch (type.kind) {
    case "enumType": {
      const values: string[] = [];
      for (const v of type.values) {
        if (values.includes(v.name)) diagnostics.push(badDefault(v.span, `enum value \`${v.name}\` is repeated`));
        else values.push(v.name);
      }
      return { kind: "enum", values };
    }
    case "relationType": {
      const relation = type.relation.name;
      if (relation !== "ref" && relation !== "belongs_to") {
        diagnostics.push(constructLater(type.relation.span, relation, type.target.name));
        return null;
      }
      if (!entityNames.has(type.target.name)) {
        diagnostics.push(unknownEntity(type.target.span, type.target.name, closest(type.target.name, entityNames)));
        return null;
      }
      return { kind: "ref", entity: type.target.name };
    }
    case "collectionType":
    case "latestOneType":
    case "hierarchyType":
      diagnostics.push(constructLater(type.relation.span, type.relation.name, type.target.name));
      return null;
    case "computedType":
      return null; // no column: check-computed.ts checks the expression (DSL.md §4.8)
    case "namedType":
      return resolveNamedType(type, diagnostics);
  }
}

function resolveNamedType(type: Extract<TypeExpr, { kind: "namedType" }>, diagnostics: Diagnostic[]): ResolvedType | null {
  const name = type.name.name;
  if (name === "str") {
    const arg = type.args?.[0];
    if (!arg || type.args!.length !== 1) {
      diagnostics.push(unknownFieldType(type.span, name, "str(N)"));
      return null;
    }
    const n = /^[0-9]+$/.test(arg.text) ? Number(arg.text) : NaN;
    if (!(n >= 1) || !Number.isSafeInteger(n)) {
      diagnostics.push(invalidSize(arg.span, `\`str(${arg.text})\`: the length must be a whole number of at least 1`));
      return null;
    }
    return { kind: "str", maxLength: n };
  }
  if (name === "decimal") return resolveDecimal(type, diagnostics);
  if (name === "money") {
    const args = type.args ?? [];
    if (args.length > 1) {
      diagnostics.push(invalidSize(type.span, "`money` takes at most one argument, a currency code: `money(EUR)`"));
      return null;
    }
    const ccy = args[0]?.text ?? "GBP";
    if (!/^[A-Za-z]{3}$/.test(ccy)) {
      diagnostics.push(invalidSize(args[0]!.span, `\`money(${ccy})\`: the currency must be a three-letter ISO 4217 code`));
      return null;
    }
    return { kind: "money", currency: ccy.toUpperCase() };
  }
  // `file(200MB)`, `file(ui: drag_drop)`: upload limits and UI hints are LATER; the column is a storage key.
  if (name === "file") return { kind: "file" };
  if (name in SIMPLE_TYPES) {
    if (type.args !== null) {
      diagnostics.push(invalidSize(type.span, `\`${name}\` takes no arguments`));
      return null;
    }
    return { kind: SIMPLE_TYPES[name as keyof typeof SIMPLE_TYPES] } as ResolvedType;
  }
  if (LATER_TYPES.has(name)) {
    diagnostics.push(constructLater(type.name.span, `${name} field`, null));
    return null;
  }
  diagnostics.push(unknownFieldType(type.name.span, name, TYPE_HINTS[name] ?? closest(name, KNOWN_TYPE_NAMES)));
  return null;
}

/** `decimal(P,S)`: both mandatory, 1 ≤ P ≤ 1000, 0 ≤ S ≤ P (DZ4014). */
function resolveDecimal(type: Extract<TypeExpr, { kind: "namedType" }>, diagnostics: Diagnostic[]): ResolvedType | null {
  const args = type.args ?? [];
  const whole = (text: string) => (/^[0-9]+$/.test(text) ? Number(text) : NaN);
  const p = args.length === 2 ? whole(args[0]!.text) : NaN;
  const s = args.length === 2 ? whole(args[1]!.text) : NaN;
  if (!(p >= 1 && p <= 1000) || !(s >= 0 && s <= p)) {
    const written = args.length === 0 ? "decimal" : `decimal(${args.map((a) => a.text).join(",")})`;
    diagnostics.push(invalidSize(args.length === 0 ? type.span : args[0]!.span, `\`${written}\`: write \`decimal(P,S)\` with 1 ≤ P ≤ 1000 and 0 ≤ S ≤ P`));
    return null;
  }
  return { kind: "decimal", precision: p, scale: s };
}

const TEXT_LIKE = new Set(["str", "text", "email", "url", "slug", "timezone"]);
const NUMERIC = new Set(["float", "decimal", "money"]);

function resolveDefault(value: DefaultValue, type: ResolvedType, diagnostics: Diagnostic[]): ResolvedDefault | null {
  const bad = (message: string) => {
    diagnostics.push(badDefault(value.span, message));
    return null;
  };
  switch (value.kind) {
    case "string":
    case "name": {
      const text = value.kind === "string" ? value.value : value.name;
      if (type.kind === "enum") {
        return type.values.includes(text) ? { kind: "literal", value: text } : bad(`default \`${text}\` is not a value of the enum (${type.values.join(", ")})`);
      }
      if (!TEXT_LIKE.has(type.kind)) return bad(`a text default does not fit a \`${type.kind}\` field`);
      if (type.kind === "str" && [...text].length > type.maxLength) return bad(`default is longer than str(${type.maxLength})`);
      if (type.kind === "slug" && !(/^[a-z0-9]+(-[a-z0-9]+)*$/.test(text) && text.length >= 3 && text.length <= 40)) {
        return bad(`default \`${text}\` is not a slug (3 to 40 of a-z, 0-9 and single dashes)`);
      }
      if (type.kind === "url" && !/^https?:\/\/[^\s/]+\S*$/i.test(text)) return bad(`default \`${text}\` is not an absolute http(s) URL`);
      if (type.kind === "timezone" && !isTimeZone(text)) return bad(`default \`${text}\` is not an IANA time-zone name`);
      return { kind: "literal", value: text };
    }
    case "number":
      if (type.kind === "int") {
        if (!/^-?[0-9]+$/.test(value.text) || Math.abs(Number(value.text)) > 2147483647) return bad(`\`${value.text}\` is not a 32-bit integer`);
        return { kind: "literal", value: Number(value.text) };
      }
      if (!NUMERIC.has(type.kind)) return bad(`a number default does not fit a \`${type.kind}\` field`);
      return numberDefault(value.text, type, bad);
    case "bool":
      return type.kind === "bool" ? { kind: "literal", value: value.value } : bad(`a boolean default does not fit a \`${type.kind}\` field`);
    case "relativeDate":
      if (type.kind !== "date" && type.kind !== "datetime") return bad(`\`${value.base}\` needs a date or datetime field`);
      if (value.base === "now" && type.kind === "date") return bad("`now` needs a datetime field (use `today` for dates)");
      if (value.duration === null || value.sign === null) return { kind: "generated", fn: value.base === "today" ? "today" : "now" };
      if (value.base === "today" && type.kind === "date" && (value.duration.unit === "min" || value.duration.unit === "h")) {
        return bad(`\`today ${value.sign} ${value.duration.text}\` on a date field: use days, weeks, months or years`);
      }
      return {
        kind: "relative",
        base: value.base,
        sign: value.sign,
        amount: value.duration.amount,
        unit: value.duration.unit,
        cast: type.kind === "date" ? "date" : null,
      };
    case "expression":
      diagnostics.push(constructLater(value.span, "expression default", null));
      return null;
  }
}

/**
 * A number default of a `float`, `decimal(P,S)` or `money` field, kept as written (`12.50`). It
 * must be a plain decimal number; a decimal's must fit P and S, money's (minor units) a whole
 * BIGINT number.
 */
function numberDefault(text: string, type: ResolvedType, bad: (message: string) => null): ResolvedDefault | null {
  const m = /^-?([0-9]+)(?:\.([0-9]+))?$/.exec(text);
  if (!m) return bad(`\`${text}\` is not a plain decimal number`);
  if (type.kind === "money") {
    if (m[2] !== undefined) return bad(`a money default is in minor units (a whole number), not \`${text}\``);
    if (BigInt(text) > 9223372036854775807n || BigInt(text) < -9223372036854775808n) return bad(`\`${text}\` does not fit a BIGINT`);
  }
  if (type.kind === "decimal") {
    const intDigits = m[1]!.replace(/^0+(?=.)/, "").replace(/^0$/, "").length;
    const fracDigits = (m[2] ?? "").length;
    if (fracDigits > type.scale) return bad(`\`${text}\` has more than ${type.scale} decimal places for decimal(${type.precision},${type.scale})`);
    if (intDigits > type.precision - type.scale) return bad(`\`${text}\` does not fit decimal(${type.precision},${type.scale})`);
  }
  return { kind: "number", text };
}

function isTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
