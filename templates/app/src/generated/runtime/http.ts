/**
 * Small request parsers shared by the generated routers. Each throws an `HttpError`.
 */
import type { Request } from "express";
import { HttpError } from "./errors";

export interface Pagination {
  readonly page: number;
  readonly pageSize: number;
  readonly offset: number;
}

const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;
/** Up to nine digits keeps `offset` a safe integer. */
const POSITIVE_INT = /^[1-9][0-9]{0,8}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `?page=&page_size=`: defaults 1 and 20, page_size at most 100; anything else → 422. */
export function parsePagination(query: Request["query"]): Pagination {
  const page = positiveInt(query, "page", 1);
  const pageSize = positiveInt(query, "page_size", DEFAULT_PAGE_SIZE);
  if (pageSize > MAX_PAGE_SIZE) throw invalidParameter("page_size", `must be at most ${MAX_PAGE_SIZE}`);
  return { page, pageSize, offset: (page - 1) * pageSize };
}

/** A path id that is not a uuid cannot name a row: 404, like a missing row. */
export function parseId(raw: string): string {
  if (!UUID.test(raw)) throw new HttpError(404, "not_found", "not found");
  return raw.toLowerCase();
}

/** The request body must be a JSON object (not an array, a scalar or absent). */
export function requireObject(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(422, "validation_error", "the request body must be a JSON object (Content-Type: application/json)");
  }
  return body as Record<string, unknown>;
}

function positiveInt(query: Request["query"], name: string, fallback: number): number {
  const raw = query[name];
  if (raw === undefined) return fallback;
  if (typeof raw !== "string" || !POSITIVE_INT.test(raw)) throw invalidParameter(name, "must be a positive integer");
  return Number(raw);
}

function invalidParameter(name: string, message: string): HttpError {
  return new HttpError(422, "validation_error", `invalid query parameter '${name}'`, [{ field: name, message }]);
}
