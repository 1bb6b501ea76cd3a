/**
 * Your code. dazzle-gen creates this folder once and never touches it again.
 *
 * `registerRoutes` runs after the generated routers and before the 404 handler, so it can add
 * endpoints next to the generated API:
 *
 *   app.get("/api/stats", async (_req, res) => {
 *     const caller = callerOf(res);                      // null without a bearer token
 *     if (caller === null) throw new HttpError(401, "unauthorized", "sign in first");
 *     const count = await withCaller(database, caller, (trx) =>
 *       trx.selectFrom("task").select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow());
 *     res.json(count);
 *   });
 *
 * Query through `withCaller` (from ../generated/runtime/transaction): it runs as the caller, so
 * row-level security applies to your queries exactly as to the generated ones. A single SELECT can
 * go through `readAsCaller(database, caller, query.compile())` instead: the same transaction in
 * one round trip (statements pipelined). Throw `HttpError`
 * (../generated/runtime/errors) for error responses; any other error becomes a 500.
 */
import type express from "express";
import type { Database } from "../generated/runtime/database";

export function registerRoutes(app: express.Express, database: Database): void {
  // Add your routes here.
}
