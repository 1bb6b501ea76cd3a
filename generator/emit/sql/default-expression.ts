/** The SQL text of a column default (DSL.md §4.5); the one source for DDL and for probes. */
import type { DefaultIR } from "../../ir/ir";
import { assertNever } from "./predicate";
import { quoteLiteral } from "./quote";

const UNITS = { min: "minute", h: "hour", d: "day", w: "week", m: "month", y: "year" } as const;

export function defaultExpression(d: DefaultIR): string {
  switch (d.kind) {
    case "literal":
      return quoteLiteral(d.value);
    case "tenant":
      // Unset or '' (a pooled connection's leftover) is NULL: the NOT NULL column fails closed (DSL.md §7).
      return `NULLIF(current_setting(${quoteLiteral("dazzle.tenant_id")}, true), '')::uuid`;
    case "number":
      // Exact text as written (`12.50`, `-3`); checked to be a plain decimal number.
      if (!/^-?[0-9]+(\.[0-9]+)?$/.test(d.text)) throw new Error(`DZ9001: number default ${JSON.stringify(d.text)}`);
      return d.text;
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
    case "relative": {
      // `CURRENT_DATE + INTERVAL …` is a timestamp: a date column needs the `::date` (§11 pitfall 11).
      const interval = `INTERVAL '${d.amount} ${UNITS[d.unit]}${d.amount === 1 ? "" : "s"}'`;
      const sum = `(${d.base === "today" ? "CURRENT_DATE" : "now()"} ${d.sign} ${interval})`;
      return d.cast === "date" ? `${sum}::date` : sum;
    }
    default:
      return assertNever(d);
  }
}
