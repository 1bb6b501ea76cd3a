/**
 * The PostgreSQL column type of a field type (DSL.md §4.3). Length and enum limits are CHECK
 * constraints, not types, so `str(N)` and `enum[…]` are plain `text`.
 */
import type { FieldTypeKind } from "./ir";

/** Works for the checker's resolved types and the IR's field types alike (same kinds). */
export function columnType(type: { readonly kind: FieldTypeKind }): string {
  switch (type.kind) {
    case "uuid":
    case "ref":
      return "uuid";
    case "str":
    case "text":
    case "email":
    case "enum":
      return "text";
    case "int":
      return "integer";
    case "bool":
      return "boolean";
    case "date":
      return "date";
    case "datetime":
      return "timestamptz";
  }
}
