/** `POST /admin/login` (admin key or console password → JWT) and `GET /admin/verify` (JWT only). */
import { Elysia, t } from "elysia";
import { checkAdminCredential, throttledMessage } from "../../security/admin-credential.ts";
import { JWT_EXPIRE_BOUNDS } from "../../security/admin-jwt.ts";
import { HttpError, tooManyRequests } from "../http-error.ts";
import { clientAddress, type AdminAuthDeps } from "./admin-deps.ts";
import { bearerToken } from "./admin-guard.ts";
import { requireObjectBody } from "./object-body.ts";

const LoginBody = t.Object({
  admin_key: t.String({ maxLength: 4096 }),
  expire_hours: t.Optional(t.Integer({ minimum: JWT_EXPIRE_BOUNDS[0], maximum: JWT_EXPIRE_BOUNDS[1] })),
});

export function authRoutes(d: AdminAuthDeps) {
  return (app: Elysia<"/admin">) =>
    app
      .post(
        "/login",
        async ({ body, request }) => {
          const result = await checkAdminCredential(d.limiter, d.ctx.adminKey, clientAddress(d, request), body.admin_key);
          if (!result.ok) {
            if (result.throttled) throw tooManyRequests(throttledMessage(result.retryAfterSeconds), result.retryAfterSeconds);
            throw new HttpError(401, "Invalid admin key");
          }
          const { token, expiresIn } = await d.jwt.sign(body.expire_hours ?? d.jwt.defaultExpireHours());
          return { success: true, token, expires_in: expiresIn };
        },
        { body: LoginBody, transform: ({ request, body }) => requireObjectBody(request, body) },
      )
      .get("/verify", async ({ request }) => {
        const token = bearerToken(request);
        if (!token) throw new HttpError(401, "No credentials provided");
        const check = await d.jwt.verify(token);
        if (!check.ok) throw new HttpError(401, check.reason);
        const now = Math.floor(Date.now() / 1000);
        return { valid: true, expires_at: check.exp, remaining_seconds: Math.max(0, check.exp - now) };
      });
}
