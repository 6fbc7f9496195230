/**
 * Elysia plugin: authenticates business routes before body validation, applies per-key quotas, and exposes `caller`.
 * Quotas are cluster-wide when `ctx.cluster.quotas` is set (Redis); Redis down → DependencyUnavailableError → 503.
 */
import { Elysia } from "elysia";
import type { AppContext } from "../context.ts";
import { keyUsageTracker } from "../security/key-usage.ts";
import { authenticateCaller, enforceQuota } from "./caller.ts";

export function businessAuth(ctx: AppContext) {
  const usage = keyUsageTracker(ctx);
  return new Elysia({ name: "business-auth" }).derive({ as: "scoped" }, async ({ request }) => ({
    caller: await enforceQuota(authenticateCaller(request, new URL(request.url), ctx.apiKeys, ctx.options.allowDirectToken), usage),
  }));
}
