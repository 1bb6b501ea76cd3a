/**
 * Bearer-token authentication: `Authorization: Bearer <JWT>` signed with HS256.
 * Claims: `sub` = the principal's id (a uuid), `roles` = role names (array of identifiers).
 */
import type { RequestHandler, Response } from "express";
import { errors, jwtVerify, type KeyInput, SignJWT } from "jose";
import { HttpError } from "./errors";

export interface Caller {
  readonly userId: string | null;
  readonly roles: readonly string[];
}

/** The caller of a request without credentials, for operations open to `anonymous`. */
export const ANONYMOUS: Caller = Object.freeze({ userId: null, roles: Object.freeze([]) });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Role names are identifiers; this also keeps commas out of the `dazzle.roles` setting. */
const ROLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const BEARER = /^Bearer +(\S+)$/i;

/**
 * Sets `res.locals.caller`: null without an Authorization header, the verified caller
 * otherwise. A malformed header, a bad signature, an expired token or bad claims → 401.
 */
export function authenticate(secret: Uint8Array): RequestHandler {
  const key = verificationKey(secret);
  return async (req, res, next) => {
    const header = req.get("authorization");
    if (header === undefined) {
      res.locals.caller = null;
      return next();
    }
    const token = BEARER.exec(header.trim())?.[1];
    if (token === undefined) {
      throw new HttpError(401, "unauthorized", "malformed Authorization header, expected 'Bearer <token>'");
    }
    res.locals.caller = await verify(await key, token);
    next();
  };
}

/** The caller set by `authenticate`, or null for an anonymous request. */
export function callerOf(res: Response): Caller | null {
  return (res.locals.caller as Caller | null | undefined) ?? null;
}

/** Signs a token; `expiresIn` uses jose's notation (`"2h"`, `"7d"`); omitted → no expiry. */
export async function mintToken(
  secret: Uint8Array,
  claims: { userId: string; roles: readonly string[]; expiresIn?: string },
): Promise<string> {
  const jwt = new SignJWT({ roles: [...claims.roles] })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.userId)
    .setIssuedAt();
  if (claims.expiresIn !== undefined) jwt.setExpirationTime(claims.expiresIn);
  return jwt.sign(secret);
}

/**
 * The secret as the CryptoKey jose would import from the raw bytes on every verification (HMAC,
 * SHA-256, verify only; jose checks a CryptoKey against the token's `alg` exactly as it checks
 * its own), imported once: importing it per request doubled jose's CPU per verification (about
 * 110 → 55 µs here; `npm run bench` section g). Should the import fail, jose gets the bytes as before.
 */
function verificationKey(secret: Uint8Array): Promise<KeyInput> {
  return globalThis.crypto.subtle
    .importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["verify"])
    .catch(() => secret);
}

async function verify(key: KeyInput, token: string): Promise<Caller> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key, { algorithms: ["HS256"], clockTolerance: 5 }));
  } catch (err) {
    const message = err instanceof errors.JWTExpired ? "token expired" : "invalid token";
    throw new HttpError(401, "unauthorized", message);
  }
  const { sub, roles = [] } = payload;
  if (typeof sub !== "string" || !UUID.test(sub)) {
    throw new HttpError(401, "unauthorized", "token claim 'sub' must be a uuid");
  }
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === "string" && ROLE.test(role))) {
    throw new HttpError(401, "unauthorized", "token claim 'roles' must be an array of role names");
  }
  return Object.freeze({ userId: sub.toLowerCase(), roles: Object.freeze([...(roles as string[])]) });
}
