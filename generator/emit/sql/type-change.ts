/**
 * How a column changes from one PostgreSQL type to another in a follow-up migration (pure):
 * the `USING` expression of `ALTER COLUMN … TYPE`, and, for a cast that can lose or reject data,
 * what it loses (the step is then destructive, DZ5003, and applied only with
 * `--allow-destructive`).
 *
 * Widenings (every value survives exactly): anything → `text`; `integer` → `bigint`,
 * `double precision`, `numeric` and `numeric(P,S)` with P−S ≥ 10; `numeric(P,S)` →
 * `numeric(P2,S2)` with S2 ≥ S and P2−S2 ≥ P−S; `date` → `timestamptz` (midnight UTC).
 *
 * Narrowings, with an explicit cast that never fails on a value: numbers that do not fit the new
 * precision become NULL, decimals are rounded to the new scale (`round`), `float`/`decimal` →
 * `int` rounds, `timestamptz` → `date` keeps the UTC date, `decimal` → `float` rounds to double
 * precision. Every other change (`text` → `int`, `bool` ↔ `int`, `uuid` → `date`, …) is a plain
 * `::type` cast: a value it cannot convert fails the migration, which graphile-migrate runs in one
 * transaction, so nothing changes.
 *
 * `str(N)`, `enum[…]` and `slug` are `text` with a CHECK; their narrowings are CHECK changes,
 * handled in diff-schema.ts (`checkNarrowing`).
 */

export interface TypeChange {
  /** The expression after `USING`, over the quoted column. */
  readonly using: string;
  /** What the cast can lose or reject; null for a widening. */
  readonly loss: string | null;
}

interface ParsedType {
  readonly base: string;
  /** `numeric(P,S)`: precision and scale; null for other types and unconstrained `numeric`. */
  readonly numeric: { readonly precision: number; readonly scale: number } | null;
}

/** Digits before the decimal point an `integer` can have (2147483647). */
const INTEGER_DIGITS = 10;

export function typeChange(column: string, from: string, to: string): TypeChange {
  const f = parseType(from);
  const t = parseType(to);
  const plain = `${column}::${to}`;
  const widening = (using = plain): TypeChange => ({ using, loss: null });
  if (t.base === "text") return widening();
  if (f.base === "integer" && (t.base === "bigint" || t.base === "double precision")) return widening();
  if (f.base === "date" && t.base === "timestamptz") return widening(`${column}::timestamp AT TIME ZONE 'UTC'`);
  if (t.base === "numeric" && (f.base === "integer" || f.base === "numeric" || f.base === "double precision")) return toNumeric(column, f, t, to);
  if (t.base === "integer" && (f.base === "numeric" || f.base === "double precision")) {
    return {
      using: `CASE WHEN abs(round(${column})) <= 2147483647 THEN round(${column}) END::integer`,
      loss: "rounded to whole numbers; values outside 32 bits become NULL",
    };
  }
  if (f.base === "numeric" && t.base === "double precision") return { using: plain, loss: "values are rounded to double precision (about 15 significant digits)" };
  if (f.base === "timestamptz" && t.base === "date") return { using: `(${column} AT TIME ZONE 'UTC')::date`, loss: "the time of day is dropped (the date in UTC is kept)" };
  return { using: plain, loss: `cast with \`${plain}\`; a value it cannot convert fails the migration` };
}

/** integer, numeric or double precision → numeric(P,S) (or unconstrained numeric). */
function toNumeric(column: string, f: ParsedType, t: ParsedType, to: string): TypeChange {
  if (t.numeric === null) {
    return f.base === "double precision" ? { using: `${column}::numeric`, loss: "NaN and infinite values are kept as numeric NaN/Infinity" } : { using: `${column}::numeric`, loss: null };
  }
  const { precision, scale } = t.numeric;
  const digits = precision - scale;
  const fromDigits = f.base === "integer" ? INTEGER_DIGITS : f.numeric === null ? null : f.numeric.precision - f.numeric.scale;
  const fromScale = f.base === "integer" ? 0 : f.numeric === null ? null : f.numeric.scale;
  if (f.base !== "double precision" && fromDigits !== null && fromScale !== null && digits >= fromDigits && scale >= fromScale) {
    return { using: `${column}::${to}`, loss: null };
  }
  const value = f.base === "double precision" ? `${column}::numeric` : column;
  const rounded = scale < (fromScale ?? Infinity) ? `round(${value}, ${scale})` : value;
  const losses = [
    ...(scale < (fromScale ?? Infinity) ? [`rounded to ${scale} decimal place${scale === 1 ? "" : "s"}`] : []),
    `values of ${digits === 0 ? "1" : String(digits + 1)} or more integer digits${f.base === "double precision" ? ", NaN and infinities" : ""} become NULL`,
  ];
  return { using: `CASE WHEN abs(${rounded}) < 1e${digits} THEN ${rounded} END::${to}`, loss: losses.join("; ") };
}

function parseType(type: string): ParsedType {
  const m = /^numeric\((\d+),(\d+)\)$/.exec(type);
  if (m) return { base: "numeric", numeric: { precision: Number(m[1]), scale: Number(m[2]) } };
  return { base: type.replace(/\(.*$/, "").trim(), numeric: null };
}
