/**
 * `GET /metrics`: Prometheus text. Needs `Authorization: Bearer <admin key or admin JWT>` unless
 * DS2API_METRICS_PUBLIC=true (for a scraper on a private network that cannot send a header). Wrong guesses
 * pass the same per-address throttle as admin logins (src/security/login-limiter.ts); admin JWTs do not.
 */
import { Elysia } from "elysia";
import type { AppContext } from "../context.ts";
import { Metrics } from "../observability/metrics.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../observability/prometheus.ts";
import { checkAdminCredential, throttledMessage } from "../security/admin-credential.ts";
import { errorResponse } from "./error-response.ts";

function bearer(request: Request): string | undefined {
  // Trimmed after the match: a lazy `(.+?)\s*$` backtracks quadratically on a long header full of spaces.
  const m = /^\s*bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "");
  return m?.[1]!.trimEnd() || undefined;
}

const UNAUTHORIZED = "metrics need Authorization: Bearer <admin key or admin JWT> (or DS2API_METRICS_PUBLIC=true)";

export function metricsRoutes(ctx: AppContext) {
  const isPublic = ctx.options.metricsPublic;
  // The server registers its Metrics as a turn observer; an app built without one still answers (process series only).
  const metrics = ctx.observers.find((o): o is Metrics => o instanceof Metrics) ?? new Metrics();
  const jwt = ctx.adminJwt;
  const limiter = ctx.loginLimiter;

  const allowed = async (request: Request): Promise<Response | undefined> => {
    const token = bearer(request);
    if (token) {
      if (token.split(".").length === 3 && (await jwt.verify(token)).ok) return undefined;
      const result = await checkAdminCredential(limiter, ctx.adminKey, ctx.clientAddress.get(request) ?? "unknown", token);
      if (result.ok) return undefined;
      if (result.throttled) return errorResponse("admin", 429, throttledMessage(result.retryAfterSeconds), undefined, { "retry-after": String(result.retryAfterSeconds) });
    }
    return errorResponse("admin", 401, UNAUTHORIZED, undefined, { "www-authenticate": 'Bearer realm="ds2api metrics"' });
  };

  return new Elysia({ name: "metrics" }).get("/metrics", async ({ request }) => {
    if (!isPublic) {
      const refusal = await allowed(request);
      if (refusal) return refusal;
    }
    return new Response(metrics.render(), { headers: { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" } });
  });
}
