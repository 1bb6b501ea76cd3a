/**
 * `src/generated/validation.ts`: the field checks and the body reader every entity's
 * `validate.ts` uses. Static text (it depends on no spec), emitted once per app so the
 * per-entity validators stay a list of field declarations.
 */
export const VALIDATION_PATH = "src/generated/validation.ts";

export const VALIDATION_SOURCE = `/**
 * Request-body validation shared by the entities' validate.ts: JSON type checks that mirror the
 * column types and CHECK constraints of the migration, so bad input is a 422 with every problem
 * listed instead of a database error.
 */
import { HttpError } from "./runtime/errors";
import { requireObject } from "./runtime/http";

/** One problem with one body field; the \`details\` of a 422 validation_error. */
export interface FieldIssue {
  readonly field: string;
  readonly message: string;
}

/** A rejected value and the reason. */
export class Invalid {
  constructor(readonly message: string) {}
}

/** Accepts a (non-null) JSON value as a T, or says why not. */
export type Check<T> = (value: unknown) => T | Invalid;

/**
 * The values of a validated body: every Invalid has been reported, and fields that may be
 * absent are optional properties (left out of the object, never set to undefined).
 */
export type Accepted<R> = {
  [K in keyof R as undefined extends R[K] ? never : K]: Exclude<R[K], Invalid>;
} & {
  [K in keyof R as undefined extends R[K] ? K : never]?: Exclude<R[K], Invalid | undefined>;
};

/**
 * Reads one JSON request body. Keys the server manages (\`id\`, \`auto_add\`/\`auto_update\` columns)
 * are ignored (DSL.md §6.9); keys that are not fields of the entity are rejected.
 */
export class BodyReader {
  private readonly input: Readonly<Record<string, unknown>>;
  private readonly issues: FieldIssue[] = [];

  /** \`computed\`: the entity's computed fields (DSL.md §4.8), read-only: sending one is a 422 like an unknown key. */
  constructor(body: unknown, fields: readonly string[], serverManaged: readonly string[], computed: readonly string[] = []) {
    this.input = requireObject(body);
    for (const key of Object.keys(this.input)) {
      if (!fields.includes(key) && !serverManaged.includes(key)) {
        this.issues.push({ field: key, message: computed.includes(key) ? "is computed (read-only)" : "unknown field" });
      }
    }
  }

  /**
   * Must be present and not null (a required field without a default, on create). \`absent\`, when
   * not null, stands in for a missing key (the caller's id for a reference to the principal).
   */
  required<T>(key: string, check: Check<T>, absent: T | null = null): T | Invalid {
    const value = this.value(key);
    if (value === undefined) return absent ?? new Invalid("is required");
    if (value === null) return new Invalid("must not be null");
    return check(value);
  }

  /** May be absent, must not be null (a required field with a default, or any required field on update). */
  notNull<T>(key: string, check: Check<T>): T | undefined | Invalid {
    const value = this.value(key);
    if (value === undefined) return undefined;
    if (value === null) return new Invalid("must not be null");
    return check(value);
  }

  /** May be absent or null (a nullable field). */
  optional<T>(key: string, check: Check<T>): T | null | undefined | Invalid {
    const value = this.value(key);
    if (value === undefined || value === null) return value;
    return check(value);
  }

  /**
   * The accepted values, absent fields left out; throws 422 validation_error listing every
   * unknown key and every rejected field when there is any.
   */
  finish<R extends Record<string, unknown>>(row: R): Accepted<R> {
    const accepted: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(row)) {
      if (value instanceof Invalid) this.issues.push({ field: key, message: value.message });
      else if (value !== undefined) accepted[key] = value;
    }
    if (this.issues.length > 0) {
      const fields = this.issues.map((issue) => issue.field).join(", ");
      throw new HttpError(422, "validation_error", \`invalid request body: \${fields}\`, this.issues);
    }
    // Every Invalid was reported above, so what is left has the accepted types.
    return accepted as Accepted<R>;
  }

  private value(key: string): unknown {
    return Object.prototype.hasOwnProperty.call(this.input, key) ? this.input[key] : undefined;
  }
}

// Checks -------------------------------------------------------------------------------------

/** PostgreSQL TEXT cannot hold NUL; reject it here rather than fail in the database. */
function plainString(value: unknown): string | Invalid {
  if (typeof value !== "string") return new Invalid("must be a string");
  if (value.includes("\\u0000")) return new Invalid("must not contain NUL characters");
  return value;
}

/** \`str(N)\`: at most N characters, counted as PostgreSQL's char_length counts them (code points). */
export function str(max: number): Check<string> {
  return (value) => {
    const s = plainString(value);
    if (s instanceof Invalid) return s;
    return [...s].length <= max ? s : new Invalid(\`must be at most \${max} characters\`);
  };
}

/** \`text\`. */
export const text: Check<string> = plainString;

/** \`email\`: local@domain, no spaces. */
export const email: Check<string> = (value) => {
  const s = plainString(value);
  if (s instanceof Invalid) return s;
  return /^[^\\s@]+@[^\\s@]+$/.test(s) ? s : new Invalid("must be an email address (local@domain)");
};

/** \`int\`: a 32-bit integer (PostgreSQL INTEGER). */
export const int: Check<number> = (value) =>
  typeof value === "number" && Number.isInteger(value) && value >= -2147483648 && value <= 2147483647
    ? value
    : new Invalid("must be an integer between -2147483648 and 2147483647");

/** \`bool\`. */
export const bool: Check<boolean> = (value) =>
  typeof value === "boolean" ? value : new Invalid("must be true or false");

/** \`uuid\` and \`ref\`: the canonical 8-4-4-4-12 hex form. */
export const uuid: Check<string> = (value) =>
  typeof value === "string" && /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(value)
    ? value
    : new Invalid("must be a UUID");

function isCalendarDate(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return day <= days;
}

/** \`date\`: YYYY-MM-DD, a real calendar day. */
export const date: Check<string> = (value) => {
  const m = typeof value === "string" ? /^(\\d{4})-(\\d{2})-(\\d{2})$/.exec(value) : null;
  if (m === null || !isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]))) {
    return new Invalid("must be a date (YYYY-MM-DD)");
  }
  return m[0];
};

/** \`datetime\`: ISO-8601 with a time zone, e.g. 2024-05-01T09:30:00Z or 2024-05-01T11:30:00.5+02:00. */
export const datetime: Check<string> = (value) => {
  const m =
    typeof value === "string"
      ? /^(\\d{4})-(\\d{2})-(\\d{2})T(\\d{2}):(\\d{2})(?::(\\d{2})(?:\\.\\d{1,9})?)?(?:Z|[+-](\\d{2}):?(\\d{2}))$/.exec(value)
      : null;
  if (
    m === null ||
    !isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3])) ||
    Number(m[4]) > 23 ||
    Number(m[5]) > 59 ||
    Number(m[6] ?? 0) > 59 ||
    Number(m[7] ?? 0) > 15 ||
    Number(m[8] ?? 0) > 59
  ) {
    return new Invalid("must be an ISO-8601 date-time with a time zone (e.g. 2024-05-01T09:30:00Z)");
  }
  return m[0];
};

/**
 * \`decimal(P,S)\`: a decimal number as a JSON string (\`"12.10"\`), or a JSON integer, with at most
 * P − S digits before the point and S after it. Kept as text, never a float; PostgreSQL would
 * round extra decimals silently, so they are rejected here.
 */
export function decimal(precision: number, scale: number): Check<string> {
  return (value) => {
    const s = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
    const m = typeof s === "string" ? /^-?(\\d+)(?:\\.(\\d+))?$/.exec(s) : null;
    if (typeof s !== "string" || m === null) return new Invalid('must be a decimal number as a string, e.g. "12.10"');
    const whole = m[1]!.replace(/^0+/, "").length;
    const fraction = (m[2] ?? "").length;
    if (fraction > scale) return new Invalid(\`must have at most \${scale} decimal places\`);
    if (whole > precision - scale) return new Invalid(\`must have at most \${precision - scale} digits before the decimal point\`);
    return s;
  };
}

/** \`float\`: a finite JSON number (PostgreSQL DOUBLE PRECISION). */
export const float: Check<number> = (value) =>
  typeof value === "number" && Number.isFinite(value) ? value : new Invalid("must be a number");

/** \`url\`: an absolute http(s) URL. */
export const url: Check<string> = (value) => {
  const s = plainString(value);
  if (s instanceof Invalid) return s;
  let parsed: URL | null = null;
  try {
    parsed = /^https?:\\/\\/\\S+$/i.test(s) ? new URL(s) : null;
  } catch {
    parsed = null;
  }
  return parsed !== null && (parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.hostname !== ""
    ? s
    : new Invalid("must be an absolute http(s) URL");
};

/** \`slug\`: lower-case letters and digits in dash-separated words, 3 to 40 characters (the ck_…_slug CHECK). */
export const slug: Check<string> = (value) => {
  const s = plainString(value);
  if (s instanceof Invalid) return s;
  return /^[a-z0-9]+(-[a-z0-9]+)*$/.test(s) && s.length >= 3 && s.length <= 40
    ? s
    : new Invalid("must be a slug: 3 to 40 lower-case letters, digits and single dashes (e.g. my-page-2)");
};

let zones: ReadonlySet<string> | null = null;

/** \`timezone\`: an IANA time-zone name (e.g. Europe/London, UTC), as the runtime's ICU knows them. */
export const timezone: Check<string> = (value) => {
  const s = plainString(value);
  if (s instanceof Invalid) return s;
  zones ??= new Set([...Intl.supportedValuesOf("timeZone"), "UTC"]);
  if (zones.has(s)) return s;
  // Links such as Asia/Calcutta or Etc/GMT+5 are valid IANA names that the list leaves out.
  if (/^[A-Za-z][A-Za-z0-9_+-]*(\\/[A-Za-z0-9_+-]+)+$/.test(s)) {
    try {
      new Intl.DateTimeFormat("en", { timeZone: s });
      return s;
    } catch {
      // fall through
    }
  }
  return new Invalid("must be an IANA time-zone name (e.g. Europe/London)");
};

/**
 * \`json\`: any JSON value, passed on as its JSON text: node-postgres would turn a JS array
 * into a PostgreSQL array literal and a bare string into unquoted text. A top-level JSON null is
 * SQL NULL (the body reader handles it before this check), so a row never holds a JSON \`null\`.
 */
export const json: Check<string> = (value) => {
  const text = JSON.stringify(value);
  if (text.includes("\\\\u0000")) return new Invalid("must not contain NUL characters");
  return text;
};

/** A money field's \`<f>_minor\`: whole minor units as a JSON string ("1250" for 12.50), or a safe JSON integer; 64-bit. */
export const minorUnits: Check<string> = (value) => {
  const s = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof s !== "string" || !/^-?\\d{1,19}$/.test(s)) return new Invalid('must be a whole number of minor units as a string, e.g. "1250"');
  const n = BigInt(s);
  return n >= -9223372036854775808n && n <= 9223372036854775807n ? s : new Invalid("is out of range for 64-bit minor units");
};

/** A money field's \`<f>_currency\`: an ISO 4217 code, three upper-case letters. */
export const currency: Check<string> = (value) =>
  typeof value === "string" && /^[A-Z]{3}$/.test(value) ? value : new Invalid("must be a three-letter currency code (e.g. EUR)");

/** \`enum[...]\`: one of the values. */
export function oneOf<const V extends string>(values: readonly V[]): Check<V> {
  return (value) => {
    const found = values.find((v) => v === value);
    return found !== undefined ? found : new Invalid(\`must be one of: \${values.join(", ")}\`);
  };
}
`;
