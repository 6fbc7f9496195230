/** Read-only status: queue, version, audit log, recent errors; and the Vercel routes this build does not have (501). */
import { Elysia, t } from "elysia";
import { VERSION } from "../../version.ts";
import { HttpError } from "../http-error.ts";
import type { AppContext } from "../../context.ts";
import type { RecentErrors } from "./recent-errors.ts";

/** What the status routes read: the providers, the stored accounts' last errors, the recent-errors list. */
export type StatusRouteDeps = { ctx: Pick<AppContext, "providers" | "store">; errors: Pick<RecentErrors, "list"> };
import { intParam } from "./query-params.ts";
import { globalLimit } from "./live-snapshot.ts";

const VERCEL_501 = "Vercel sync is not part of this build: ds2api runs as one binary or container; use /admin/config/export";

export function statusRoutes(d: StatusRouteDeps) {
  const { providers, store } = d.ctx;
  const vercel = () => {
    throw new HttpError(501, VERCEL_501);
  };
  return (app: Elysia<"/admin">) =>
    app
      .get("/queue/status", () => {
        const s = providers.accountStatus();
        return {
          available: s.available,
          in_use: s.inUse,
          total: s.total,
          available_accounts: s.accounts.filter((a) => a.status === "ok" && a.inflight < s.maxInflightPerAccount).map((a) => a.identifier),
          in_use_accounts: s.accounts.filter((a) => a.inflight > 0).map((a) => a.identifier).sort(),
          max_inflight_per_account: s.maxInflightPerAccount,
          global_max_inflight: s.globalMaxInflight,
          ...globalLimit(s),
          usable_accounts: s.usableNow,
          recommended_concurrency: s.recommendedConcurrency,
          waiting: s.waiting,
          max_queue_size: s.maxQueue,
          cooling_down: s.coolingDown,
          failing: s.failing,
          disabled: s.disabled,
          accounts: s.accounts,
        };
      })
      // No latest-release lookup: the server assumes no network egress beyond DeepSeek, so it says so instead of calling GitHub.
      .get("/version", () => ({ success: true, current_version: VERSION, current_tag: `v${VERSION}`, source: "build", checked_at: new Date().toISOString(), latest_version: null, check_error: "not checked: this server makes no outbound calls except to its upstream providers" }))
      .get(
        "/audit",
        async ({ query }) => ({
          items: await store.audit.list({ limit: intParam(query.limit, "limit", 1, 1000, 100), action: query.action?.trim() || undefined, actor: query.actor?.trim() || undefined, target: query.target?.trim() || undefined }),
        }),
        {
          query: t.Object({
            limit: t.Optional(t.String({ maxLength: 20 })),
            action: t.Optional(t.String({ maxLength: 100 })),
            actor: t.Optional(t.String({ maxLength: 40 })),
            target: t.Optional(t.String({ maxLength: 200 })),
          }),
        },
      )
      .get(
        "/errors/recent",
        async ({ query }) => {
          const limit = intParam(query.limit, "limit", 1, 200, 50);
          const accountErrors = (await store.accounts.list())
            .filter((a) => a.lastError && a.lastErrorAt)
            .map((a) => ({ at: a.lastErrorAt!, kind: "account", account: a.identifier, message: a.lastError! }));
          const items = [...d.errors.list(limit), ...accountErrors].sort((a, b) => b.at - a.at).slice(0, limit);
          return { items };
        },
        { query: t.Object({ limit: t.Optional(t.String({ maxLength: 20 })) }) },
      )
      // Explicit paths first: the console's GET /admin/* fallback would otherwise answer them with the SPA.
      .get("/vercel/config", vercel)
      .get("/vercel/status", vercel)
      .post("/vercel/status", vercel)
      .post("/vercel/sync", vercel)
      .all("/vercel", vercel)
      .all("/vercel/*", vercel);
}
