/**
 * Usage history (GET /admin/usage): requests, tokens and errors of business turns over the last hour, day or
 * week, grouped by API key, account, model or provider. The recorder is registered here as a turn observer.
 */
import { Elysia, t } from "elysia";
import { usageRecorder } from "../../observability/usage-recorder.ts";
import { badRequest } from "../http-error.ts";
import type { AdminDeps } from "./admin-deps.ts";
import { USAGE_GROUPINGS, USAGE_RANGES, usageReport } from "./usage-view.ts";

/** One of `allowed` (the default when absent), else a 400 naming the parameter and the choices. */
function choice<T extends string>(raw: string | undefined, name: string, allowed: readonly T[], fallback: T): T {
  if (raw === undefined || raw.trim() === "") return fallback;
  const v = raw.trim().toLowerCase();
  const hit = allowed.find((a) => a === v);
  if (!hit) throw badRequest(`${name} must be one of ${allowed.join(", ")} (got ${JSON.stringify(raw.slice(0, 40))})`);
  return hit;
}

export function usageRoutes(d: AdminDeps) {
  const { ctx } = d;
  usageRecorder(ctx);
  return (app: Elysia<"/admin">) =>
    app.get(
      "/usage",
      ({ query }) => usageReport(ctx.store, choice(query.range, "range", USAGE_RANGES, "day"), choice(query.by, "by", USAGE_GROUPINGS, "model"), ctx.providers.primary()?.id),
      { query: t.Object({ range: t.Optional(t.String({ maxLength: 40 })), by: t.Optional(t.String({ maxLength: 40 })) }) },
    );
}
