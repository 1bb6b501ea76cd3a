/**
 * Resolves every entity's fields: types (DSL.md §4.3), modifiers (§4.4), defaults (§4.5), `ref`
 * targets (§4.6) and the primary key (§4.2). Guarantees: each returned entity has a uuid `id`
 * field first, field names are unique, every `ref` names an entity of the project, every default
 * fits its field's type. Fields of types not implemented in this version are reported (DZ1902)
 * and left out.
 */
import {
  autoOnNonDate,
  badDefault,
  badModifier,
  conflictingModifiers,
  constructLater,
  duplicateField,
  idNotUuid,
  invalidSize,
  nameCollision,
  pkOnNonId,
  unknownEntity,
  unknownFieldType,
} from "../diagnostics/codes";
import type { Diagnostic } from "../diagnostics/diagnostic";
import type { DefaultValue, EntityDecl, FieldDecl, Modifier, TypeExpr } from "../syntax/ast";
import { closest, snakeCase } from "../util/names";
import type { EntityInfo, FieldInfo, PassResult, ResolvedDefault, ResolvedType } from "./program";

const SIMPLE_TYPES = { text: "text", int: "int", bool: "bool", uuid: "uuid", date: "date", datetime: "datetime", email: "email" } as const;
/** Types of the language whose generation lands in a later version. */
const LATER_TYPES = new Set(["decimal", "float", "url", "slug", "timezone", "json", "money", "file", "poly_ref"]);
const TYPE_HINTS: Readonly<Record<string, string>> = {
  string: "str(N)", varchar: "str(N)", char: "str(N)", integer: "int", bigint: "int", boolean: "bool",
  double: "float", real: "float", numeric: "decimal(P,S)", timestamp: "datetime", time: "datetime",
  dict: "json", object: "json", fk: "ref Entity", foreign_key: "ref Entity", currency: "money",
};
const KNOWN_TYPE_NAMES = ["str", ...Object.keys(SIMPLE_TYPES), ...LATER_TYPES, "enum", "ref", "belongs_to"];
const FLAG_MODIFIERS = new Set([
  "required", "optional", "pk", "unique", "indexed", "auto_add", "auto_update", "sensitive", "pii", "searchable", "storage", "was",
]);
const RESERVED_TABLE_PREFIXES = ["_dazzle", "dazzle_", "dz_"];

export function resolveEntities(decls: readonly EntityDecl[]): PassResult<EntityInfo[]> {
  const diagnostics: Diagnostic[] = [];
  const names = new Set(decls.map((d) => d.name.name));
  const tables = new Map<string, EntityDecl>();
  const entities: EntityInfo[] = [];

  for (const decl of [...decls].sort((a, b) => (a.name.name < b.name.name ? -1 : 1))) {
    const table = snakeCase(decl.name.name);
    const clash = tables.get(table);
    if (clash) diagnostics.push(nameCollision(decl.name.span, `entities ${clash.name.name} and ${decl.name.name} both map to table \`${table}\``, clash.name.span));
    else tables.set(table, decl);
    if (RESERVED_TABLE_PREFIXES.some((p) => table.startsWith(p))) {
      diagnostics.push(nameCollision(decl.name.span, `table name \`${table}\` is reserved for dazzle-gen (prefixes _dazzle, dazzle_, dz_)`));
    }
    entities.push(resolveEntity(decl, table, names, diagnostics));
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
    id = { name: "id", decl: null, span: decl.name.span, type: { kind: "uuid" }, required: true, unique: false, default: { kind: "generated", fn: "uuid" }, autoAdd: false, autoUpdate: false };
    byName.set("id", id);
  } else {
    fields.splice(fields.indexOf(id), 1);
  }
  return { name: decl.name.name, decl, table, fields: [id, ...fields], fieldsByName: byName };
}

function resolveField(field: FieldDecl, entityNames: ReadonlySet<string>, diagnostics: Diagnostic[]): FieldInfo | null {
  const type = resolveType(field.type, entityNames, diagnostics);
  const flags = collectFlags(field.modifiers, diagnostics);
  if (type === null) return null;

  const isId = field.name.name === "id";
  if (isId) {
    if (type.kind !== "uuid") diagnostics.push(idNotUuid(field.type.span));
    return { name: "id", decl: field, span: field.name.span, type: { kind: "uuid" }, required: true, unique: false, default: { kind: "generated", fn: "uuid" }, autoAdd: false, autoUpdate: false };
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
  };
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
      diagnostics.push(constructLater(type.span, "computed", null));
      return null;
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
  if (name in SIMPLE_TYPES) return { kind: SIMPLE_TYPES[name as keyof typeof SIMPLE_TYPES] } as ResolvedType;
  if (LATER_TYPES.has(name)) {
    diagnostics.push(constructLater(type.name.span, `${name} field`, null));
    return null;
  }
  diagnostics.push(unknownFieldType(type.name.span, name, TYPE_HINTS[name] ?? closest(name, KNOWN_TYPE_NAMES)));
  return null;
}

const TEXT_LIKE = new Set(["str", "text", "email"]);

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
      return { kind: "literal", value: text };
    }
    case "number":
      if (type.kind !== "int") return bad(`a number default does not fit a \`${type.kind}\` field`);
      if (!/^-?[0-9]+$/.test(value.text) || Math.abs(Number(value.text)) > 2147483647) return bad(`\`${value.text}\` is not a 32-bit integer`);
      return { kind: "literal", value: Number(value.text) };
    case "bool":
      return type.kind === "bool" ? { kind: "literal", value: value.value } : bad(`a boolean default does not fit a \`${type.kind}\` field`);
    case "relativeDate":
      if (type.kind !== "date" && type.kind !== "datetime") return bad(`\`${value.base}\` needs a date or datetime field`);
      if (value.base === "now" && type.kind === "date") return bad("`now` needs a datetime field (use `today` for dates)");
      if (value.duration !== null) {
        diagnostics.push(constructLater(value.span, "relative date default", null));
        return null;
      }
      return { kind: "generated", fn: value.base === "today" ? "today" : "now" };
    case "expression":
      diagnostics.push(constructLater(value.span, "expression default", null));
      return null;
  }
}
