/**
 * Names of constraints, indexes and per-table helpers (DSL.md §4.2): `<prefix>_<table>_<parts…>`,
 * cut to 63 bytes by `limitIdentifier`. Returns the bare name; callers quote it.
 */
import { limitIdentifier } from "./quote";

export type ObjectPrefix = "pk" | "fk" | "uq" | "ix" | "ck" | "dazzle_auto_update";

export function objectName(prefix: ObjectPrefix, table: string, ...parts: readonly string[]): string {
  return limitIdentifier([prefix, table, ...parts].join("_"));
}
