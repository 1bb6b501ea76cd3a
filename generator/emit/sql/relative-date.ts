/**
 * `today ± d` / `now ± d` of a scope leaf (DSL.md §6.4, §6.10) as SQL, evaluated by PostgreSQL
 * when the statement runs (never at generation time, so a policy stays correct tomorrow).
 * `CURRENT_DATE ± INTERVAL …` is a `timestamp` and `now() ± INTERVAL …` a `timestamptz`; a date
 * column compares with either after PostgreSQL's implicit date → timestamp promotion, so
 * `d >= today - 30d` keeps its day-exact meaning. Bare `today`/`now` are `CURRENT_DATE`/`now()`.
 */
import type { RelativeDate } from "../../ir/ir";
import { quoteLiteral } from "./quote";

const UNITS = { min: "minute", h: "hour", d: "day", w: "week", m: "month", y: "year" } as const;

/** `(CURRENT_DATE - INTERVAL '30 days')`, `now()`. */
export function relativeDateSql(d: RelativeDate): string {
  const base = d.base === "today" ? "CURRENT_DATE" : "now()";
  if (d.amount === 0) return base;
  const interval = `INTERVAL ${quoteLiteral(`${d.amount} ${UNITS[d.unit]}${d.amount === 1 ? "" : "s"}`)}`;
  return `(${base} ${d.sign} ${interval})`;
}

/** The SQL type of `relativeDateSql(d)`: the parameter type of a path helper taking it. */
export function relativeDateType(d: RelativeDate): string {
  if (d.base === "now") return "timestamptz";
  return d.amount === 0 ? "date" : "timestamp";
}

/** The DSL spelling: `today - 30d`, `now`. */
export function relativeDateText(d: RelativeDate): string {
  return d.amount === 0 ? d.base : `${d.base} ${d.sign} ${d.amount}${d.unit}`;
}
