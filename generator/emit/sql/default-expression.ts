/** The SQL text of a column default (DSL.md §4.5); the one source for DDL and for probes. */
import type { DefaultIR } from "../../ir/ir";
import { assertNever } from "./predicate";
import { quoteLiteral } from "./quote";

export function defaultExpression(d: DefaultIR): string {
  switch (d.kind) {
    case "literal":
      return quoteLiteral(d.value);
    case "generated":
      switch (d.fn) {
        case "uuid":
          return "gen_random_uuid()";
        case "now":
          return "now()";
        case "today":
          return "CURRENT_DATE";
        default:
          return assertNever(d.fn);
      }
    default:
      return assertNever(d);
  }
}
