/**
 * `GET /metrics`: Prometheus text. Needs `Authorization: Bearer <admin key or admin JWT>` unless
 * DS2API_METRICS_PUBLIC=true (for a scraper on a private network that cannot send a header). Wrong guesses
 * count per client address like failed admin logins: 5 inside 5 minutes lock the address out (429).
 */
import { Elysia } from "elysia";
import type { AppContext } from "../context.ts";
import { Metrics } from "../observability/metrics.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../observability/prometheus.ts";
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
    const address = ctx.clientAddress.get(request) ?? "unknown";
    const wait = limiter.retryAfterSeconds(address);
    if (wait > 0) return errorResponse("admin", 429, `too many failed attempts from this address; try again in ${wait} s`, undefined, { "retry-after": String(wait) });
    const token = bearer(request);
    if (token && (ctx.adminKey.verify(token) || (token.split(".").length === 3 && (await jwt.verify(token)).ok))) return undefined;
    if (token) limiter.fail(address);
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
