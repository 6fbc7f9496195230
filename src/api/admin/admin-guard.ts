/**
 * Admin authentication for every admin route except login: `Authorization: Bearer <JWT>` or
 * `Bearer <raw admin key / console password>` (constant-time). Raw credentials pass the per-address
 * throttle (src/security/login-limiter.ts); JWTs do not (a valid one proves an earlier login). Runs
 * before body validation, so an unauthenticated bad body gets 401.
 */
import { checkAdminCredential, throttledMessage } from "../../security/admin-credential.ts";
import { HttpError, tooManyRequests } from "../http-error.ts";
import { clientAddress, type AdminActorKind, type AdminAuthDeps } from "./admin-deps.ts";

export function bearerToken(request: Request): string | undefined {
  const m = /^\s*bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "");
  return m?.[1]?.trim() || undefined;
}

export async function authenticateAdmin(d: AdminAuthDeps, request: Request): Promise<AdminActorKind> {
  const token = bearerToken(request);
  if (!token) throw new HttpError(401, "authentication required: send Authorization: Bearer <admin JWT or admin key>");
  let jwtReason: string | undefined;
  if (token.split(".").length === 3) {
    const check = await d.jwt.verify(token);
    if (check.ok) return "admin-jwt";
    // A genuine but expired or revoked token is not a guess.
    if (/expired|revoked/.test(check.reason)) throw new HttpError(401, check.reason);
    jwtReason = check.reason;
  }
  const result = await checkAdminCredential(d.limiter, d.ctx.adminKey, clientAddress(d, request), token);
  if (result.ok) return "admin-key";
  if (result.throttled) throw tooManyRequests(throttledMessage(result.retryAfterSeconds), result.retryAfterSeconds);
  throw new HttpError(401, jwtReason ?? "invalid credentials");
}
