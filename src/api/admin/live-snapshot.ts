/**
 * What the dashboard shows live, as the `status` and `errors` events of `GET /admin/events`: the pool's
 * figures (those of `GET /admin/queue/status` without its full per-account lists), the accounts that are busy or
 * not usable (bounded lists), business-turn traffic, and the latest errors.
 */
import type { AccountPoolStatus } from "../../core/upstream/provider.ts";
import type { RecentError } from "./recent-errors.ts";
import type { TrafficFigures } from "./live-traffic.ts";

/** At most this many accounts are listed as busy, and as many as not usable (the counts are always complete). */
export const LIVE_ACCOUNT_LIST_CAP = 200;
/** Errors per `errors` event. */
export const LIVE_ERRORS = 20;

/** The limit that holds: the set global cap, else (0 = no cap of its own) enabled accounts × per-account (README). */
export function globalLimit(s: Pick<AccountPoolStatus, "globalMaxInflight" | "enabled" | "maxInflightPerAccount">) {
  const own = s.globalMaxInflight > 0;
  return {
    global_limit: own ? s.globalMaxInflight : s.enabled * s.maxInflightPerAccount,
    global_limit_source: own ? ("global_max_inflight" as const) : ("accounts_x_per_account" as const),
  };
}

export function liveStatus(s: AccountPoolStatus, traffic: TrafficFigures) {
  const busy = s.accounts.filter((a) => a.inflight > 0);
  const unhealthy = s.accounts.filter((a) => a.status !== "ok");
  return {
    in_use: s.inUse,
    waiting: s.waiting,
    available: s.available,
    max_queue_size: s.maxQueue,
    max_inflight_per_account: s.maxInflightPerAccount,
    global_max_inflight: s.globalMaxInflight,
    ...globalLimit(s),
    usable_accounts: s.usableNow,
    recommended_concurrency: s.recommendedConcurrency,
    accounts: { total: s.total, enabled: s.enabled, usable: s.usableNow, cooling_down: s.coolingDown, failing: s.failing, disabled: s.disabled },
    busy_accounts: busy.slice(0, LIVE_ACCOUNT_LIST_CAP).map((a) => ({ identifier: a.identifier, inflight: a.inflight })),
    unhealthy_accounts: unhealthy.slice(0, LIVE_ACCOUNT_LIST_CAP).map((a) => ({ identifier: a.identifier, status: a.status, cooldown_until: a.cooldownUntil ?? null })),
    requests: traffic,
  };
}

export type LiveStatus = ReturnType<typeof liveStatus>;

/** Turn and upstream errors (in memory) merged with each account's last stored error, newest first. */
export function liveErrors(recent: RecentError[], accountErrors: RecentError[], limit = LIVE_ERRORS): { items: RecentError[] } {
  return { items: [...recent, ...accountErrors].sort((a, b) => b.at - a.at).slice(0, limit) };
}
