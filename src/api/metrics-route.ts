/**
 * `GET /metrics`: Prometheus text. Needs `Authorization: Bearer <admin key>` unless DS2API_METRICS_PUBLIC=true
 * (for a scraper on a private network that cannot send a header).
 */
import { Elysia } from "elysia";
import type { AppContext } from "../context.ts";
import { Metrics } from "../observability/metrics.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../observability/prometheus.ts";
import { errorResponse } from "./error-response.ts";

export function metricsPublicFrom(env: Record<string, string | undefined>): boolean {
  return /^(1|true|yes|on)$/i.test((env.DS2API_METRICS_PUBLIC ?? "").trim());
}

function bearer(request: Request): string | undefined {
  const m = /^\s*bearer\s+(.+?)\s*$/i.exec(request.headers.get("authorization") ?? "");
  return m?.[1];
}

export function metricsRoutes(ctx: AppContext, env: Record<string, string | undefined> = process.env) {
  const isPublic = metricsPublicFrom(env);
  // The server registers its Metrics as a turn observer; an app built without one still answers (process series only).
  const metrics = ctx.observers.find((o): o is Metrics => o instanceof Metrics) ?? new Metrics();
  return new Elysia({ name: "metrics" }).get("/metrics", ({ request }) => {
    if (!isPublic && !ctx.adminKey.verify(bearer(request))) {
      return errorResponse("admin", 401, "metrics need Authorization: Bearer <admin key> (or DS2API_METRICS_PUBLIC=true)", undefined, {
        "www-authenticate": 'Bearer realm="ds2api metrics"',
      });
    }
    return new Response(metrics.render(), { headers: { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" } });
  });
}
