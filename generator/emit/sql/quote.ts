/**
 * The one place SQL identifiers and literals are quoted. Every emitter that writes SQL text goes
 * through these helpers; values that come from HTTP requests are never quoted here — they are
 * bound as parameters.
 */
import { createHash } from "node:crypto";

/** `"name"` with embedded double quotes doubled. Always quotes (`user`, `order` are reserved). */
export function quoteIdent(name: string): string {
  if (name.includes("\0")) throw new Error(`identifier contains NUL: ${JSON.stringify(name)}`);
  return `"${name.replace(/"/g, '""')}"`;
}

/** The name inside a `quoteIdent` result (`"a""b"` → `a"b`). */
export function unquoteIdent(quoted: string): string {
  return quoted.slice(1, -1).replace(/""/g, '"');
}

/**
 * A SQL literal for a spec value: strings as standard-conforming `'…'` (quotes doubled; with
 * `standard_conforming_strings` on, backslashes are plain characters), numbers verbatim, booleans
 * as TRUE/FALSE, null as NULL.
 */
export function quoteLiteral(value: string | number | boolean | null): string {
  if (value === null) return "NULL";
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`non-finite number literal: ${value}`);
    return String(value);
  }
  if (value.includes("\0")) throw new Error("string literal contains NUL");
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * PostgreSQL truncates identifiers to 63 bytes. A longer name is cut to 54 bytes plus `_` plus the
 * first 8 hex digits of the SHA-256 of the full name (DSL.md §4.2), so distinct long names stay
 * distinct and stable.
 */
export function limitIdentifier(name: string): string {
  if (Buffer.byteLength(name, "utf8") <= 63) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 8);
  let cut = name;
  while (Buffer.byteLength(cut, "utf8") > 54) cut = cut.slice(0, -1);
  return `${cut}_${hash}`;
}

/**
 * `$$body$$` for a function body, with the first tag of `$$`, `$dz$`, `$dz1$`, `$dz2$`, … whose
 * first occurrence in `body + tag` is the closing tag itself, so nothing inside the body
 * (identifiers, literals, a trailing `$`) can end the quote early.
 */
export function dollarQuote(body: string): string {
  let tag = "$$";
  for (let n = 0; (body + tag).indexOf(tag) !== body.length; n++) tag = n === 0 ? "$dz$" : `$dz${n}$`;
  return `${tag}${body}${tag}`;
}
