/**
 * The one error format of the API: `{"error": {"type", "message", "details"?, "rule"?, …}}`, where
 * `…` are type-specific members (`code` of an `invariant_violation`, `field`/`from`/`to`/`guard`
 * of a `transition_error`).
 *
 * Route handlers throw `HttpError` (Express 5 forwards rejected promises to `errorHandler`).
 * Anything else is classified here: body-parser failures become 400/413, known PostgreSQL
 * errors become 4xx, and the rest is a 500 whose cause is logged but never sent — responses
 * never contain SQL text, driver messages or stack traces.
 */
import type { ErrorRequestHandler, RequestHandler, Response } from "express";

export type ErrorType =
  | "unauthorized"
  | "forbidden"
  | "scope_create_denied"
  | "not_found"
  | "validation_error"
  | "invariant_violation"
  | "transition_error"
  | "conflict"
  | "bad_request"
  | "payload_too_large"
  | "internal";

export class HttpError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly details?: unknown;
  readonly rule?: string;
  /** More members of the error object, e.g. an invariant's `code` or a transition's `from`/`to`. */
  readonly extra?: Readonly<Record<string, unknown>>;

  constructor(status: number, type: ErrorType, message: string, details?: unknown, rule?: string, extra?: Readonly<Record<string, unknown>>) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.type = type;
    this.details = details;
    this.rule = rule;
    this.extra = extra;
  }
}

/** Maps any thrown value to the JSON error response. Register it last. */
export function errorHandler(): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    // A streaming response (SSE) that already sent headers cannot carry a JSON body.
    if (res.headersSent) return next(err);
    const error = toHttpError(err);
    if (error.type === "internal") console.error(`${req.method} ${req.originalUrl} failed:`, loggable(err));
    sendError(res, error);
  };
}

/** Unknown route → 404 `not_found`. Register it after every router. */
export function notFoundHandler(): RequestHandler {
  return (req, res) => {
    sendError(res, new HttpError(404, "not_found", `no route for ${req.method} ${req.path}`));
  };
}

/**
 * What the log of a 500 prints. A PostgreSQL error is cut down to its SQLSTATE, message and
 * object names: its `detail`, `where` and `hint` can quote row values ("Failing row contains
 * (…)"), `sensitive` ones included, which never reach a log (DSL.md §4.4).
 */
function loggable(err: unknown): unknown {
  const code = field(err, "code");
  if (typeof code !== "string" || field(err, "severity") === undefined) return err;
  const names = ["table", "column", "constraint"].flatMap((n) => {
    const value = field(err, n);
    return typeof value === "string" ? [`${n} ${value}`] : [];
  });
  return `PostgreSQL error ${code}: ${String(field(err, "message"))}${names.length > 0 ? ` (${names.join(", ")})` : ""}`;
}

function sendError(res: Response, error: HttpError): void {
  res.status(error.status).json({
    error: { type: error.type, message: error.message, ...error.extra, details: error.details, rule: error.rule },
  });
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  return fromBodyParser(err) ?? fromPostgres(err) ?? fromHttpStatus(err) ?? internalError();
}

function internalError(): HttpError {
  return new HttpError(500, "internal", "internal error");
}

function field(err: unknown, name: string): unknown {
  return typeof err === "object" && err !== null ? (err as Record<string, unknown>)[name] : undefined;
}

/** express.json() errors carry a `type` such as `entity.parse.failed`. */
function fromBodyParser(err: unknown): HttpError | null {
  switch (field(err, "type")) {
    case "entity.parse.failed":
      return new HttpError(400, "bad_request", "malformed JSON body");
    case "entity.too.large":
      return new HttpError(413, "payload_too_large", "request body too large");
    case "encoding.unsupported":
    case "charset.unsupported":
      return new HttpError(415, "bad_request", "unsupported body encoding or charset");
    case "request.aborted":
    case "request.size.invalid":
      return new HttpError(400, "bad_request", "incomplete request body");
    default:
      return null;
  }
}

/**
 * node-postgres `DatabaseError`s (recognised by shape: several copies of `pg` may be loaded).
 * Only the SQLSTATE and the constraint/column names are used, never the server's message.
 */
function fromPostgres(err: unknown): HttpError | null {
  const code = field(err, "code");
  if (typeof code !== "string" || !/^[0-9A-Z]{5}$/.test(code) || field(err, "severity") === undefined) {
    return null;
  }
  const constraint = detail(err, "constraint");
  const column = detail(err, "column");
  switch (code) {
    case "23505":
      return new HttpError(409, "conflict", "a row with the same unique value already exists", constraint);
    case "23503":
    // An `ON DELETE RESTRICT` reference: PostgreSQL 18 reports it as restrict_violation.
    case "23001":
      return new HttpError(409, "conflict", "the change conflicts with a reference between rows", constraint);
    case "23514":
      return new HttpError(422, "validation_error", "a value violates a check constraint", constraint);
    case "23502":
      return new HttpError(422, "validation_error", "a required value is missing", column);
    case "22P02":
    case "22007":
    case "22008":
      return new HttpError(422, "validation_error", "a value has an invalid format");
    case "22012":
      return new HttpError(422, "validation_error", "a value leads to a division by zero");
    case "22003":
      return new HttpError(422, "validation_error", "a number is out of range");
    case "22001":
      return new HttpError(422, "validation_error", "a value is too long");
    case "42501":
      return new HttpError(403, "forbidden", "permission denied");
    default:
      return null;
  }
}

/** `{ constraint: "…" }` / `{ column: "…" }` when the driver reported that name. */
function detail(err: unknown, name: "constraint" | "column"): Record<string, string> | undefined {
  const value = field(err, name);
  return typeof value === "string" ? { [name]: value } : undefined;
}

/** Other errors that declare a client status the http-errors way (`status` + `expose`). */
function fromHttpStatus(err: unknown): HttpError | null {
  const status = field(err, "status") ?? field(err, "statusCode");
  if (typeof status !== "number" || status < 400 || status > 499) return null;
  const message = field(err, "expose") === true ? String(field(err, "message")) : "bad request";
  return new HttpError(status, typeForStatus(status), message);
}

function typeForStatus(status: number): ErrorType {
  switch (status) {
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 409:
      return "conflict";
    case 413:
      return "payload_too_large";
    case 422:
      return "validation_error";
    default:
      return "bad_request";
  }
}
