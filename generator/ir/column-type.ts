/**
 * The PostgreSQL column type of a field type (DSL.md §4.3). Length, slug, enum and currency-code
 * limits are CHECK constraints, not types, so `str(N)`, `slug` and `enum[…]` are plain `text`.
 */
import type { FieldTypeIR, FieldTypeKind } from "./ir";

/**
 * Works for the checker's resolved types and the IR's field types alike (same kinds, except that
 * the checker's one `money` field is the IR's two columns; `money` answers for `<f>_minor`).
 */
export function columnType(type: { readonly kind: FieldTypeKind | "money" } | FieldTypeIR): string {
  switch (type.kind) {
    case "uuid":
    case "ref":
      return "uuid";
    case "str":
    case "text":
    case "email":
    case "enum":
    case "url":
    case "slug":
    case "timezone":
    case "file":
      return "text";
    case "int":
      return "integer";
    case "bool":
      return "boolean";
    case "date":
      return "date";
    case "datetime":
      return "timestamptz";
    case "decimal":
      return "precision" in type ? `numeric(${type.precision},${type.scale})` : "numeric";
    case "float":
      return "double precision";
    case "json":
      return "jsonb";
    case "money":
    case "moneyMinor":
      return "bigint";
    case "moneyCurrency":
      return "char(3)";
  }
}
