/**
 * Admin authentication for every admin route except login: `Authorization: Bearer <JWT>` or
 * `Bearer <raw admin key>` (constant-time). Failed raw-key guesses count against the same per-address
 * limit as failed logins. Runs before body validation, so an unauthenticated bad body gets 401.
 */
import { HttpError, tooManyRequests } from "../http-error.ts";
import { clientAddress, type AdminActor, type AdminDeps } from "./admin-deps.ts";

export function bearerToken(request: Request): string | undefined {
  const m = /^\s*bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "");
  return m?.[1]?.trim() || undefined;
}

export function lockedOut(d: AdminDeps, address: string): HttpError | undefined {
  const wait = d.limiter.retryAfterSeconds(address);
  return wait > 0 ? tooManyRequests(`too many failed admin logins from this address; try again in ${wait} s`, wait) : undefined;
}

export async function authenticateAdmin(d: AdminDeps, request: Request): Promise<AdminActor> {
  const token = bearerToken(request);
  if (!token) throw new HttpError(401, "authentication required: send Authorization: Bearer <admin JWT or admin key>");
  const address = clientAddress(d, request);
  const locked = lockedOut(d, address);
  if (locked) throw locked;
  if (d.ctx.adminKey.verify(token)) return "admin-key";
  if (token.split(".").length === 3) {
    const check = await d.jwt.verify(token);
    if (check.ok) return "admin-jwt";
    // A genuine but expired or revoked token is not a guess.
    if (!/expired|revoked/.test(check.reason)) d.limiter.fail(address);
    throw new HttpError(401, check.reason);
  }
  d.limiter.fail(address);
  throw new HttpError(401, "invalid credentials");
}
