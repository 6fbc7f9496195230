/**
 * `GET /admin/events`: the dashboard's live numbers and the jobs' progress as server-sent events (admin guard as
 * every admin route: `Authorization: Bearer <JWT or admin key>`; the console reads it with fetch). Events:
 * `status` (pool figures, busy and unusable accounts, request counts), `errors` (latest errors), `job` (one per job,
 * as `GET /admin/jobs` lists them); a `: ping` comment when nothing else was sent for a while.
 *
 * `liveRoutes` wires the whole "live" feature: traffic observer, job registry, event hub, and both route groups.
 */
import type { Elysia } from "elysia";
import type { AppContext } from "../../context.ts";
import type { AdminDeps } from "./admin-deps.ts";
import { EventHub, type HubTopic } from "./event-hub.ts";
import { jobsRoutes } from "./jobs-routes.ts";
import { JobRegistry } from "./jobs.ts";
import { liveErrors, liveStatus, LIVE_ERRORS } from "./live-snapshot.ts";
import { LiveTraffic } from "./live-traffic.ts";
import type { RecentError } from "./recent-errors.ts";

/** Changes are pushed at most this often. */
export const EVENTS_INTERVAL_MS = 500;
/** Concurrent event streams (console tabs) per server. */
export const MAX_EVENT_STREAMS = 8;
/** Accounts' stored last errors are read from the store at most this often (the in-memory errors every tick). */
const ACCOUNT_ERRORS_EVERY_MS = 10_000;

const hubs = new WeakMap<AppContext, EventHub>();

/** Admin event streams open on this server: long-lived and mostly idle, they are no "request in flight" for the idle collector. */
export function openEventStreams(ctx: AppContext): number {
  return hubs.get(ctx)?.streams ?? 0;
}

export function liveRoutes(d: AdminDeps) {
  const { ctx } = d;
  const traffic = new LiveTraffic();
  ctx.observers.push(traffic);
  const jobs = new JobRegistry((job, e) => ctx.logger.warn("admin job failed", { job: job.id, kind: job.kind, error: (e as Error)?.message ?? String(e) }));

  // The hub reads its topics synchronously: the stored errors are a cache, refreshed in the background when stale
  // (one read at a time) and shown from the next tick on.
  let accountErrors: RecentError[] = [];
  let accountErrorsAt = 0;
  let refreshing = false;
  const refreshAccountErrors = async () => {
    const accounts = await ctx.store.accounts.list();
    accountErrors = accounts
      .filter((a) => a.lastError && a.lastErrorAt)
      .map((a) => ({ at: a.lastErrorAt!, kind: "account", account: a.identifier, message: a.lastError! }))
      .sort((a, b) => b.at - a.at)
      .slice(0, LIVE_ERRORS);
  };
  const storedAccountErrors = (): RecentError[] => {
    const now = Date.now();
    if (refreshing || now - accountErrorsAt < ACCOUNT_ERRORS_EVERY_MS) return accountErrors;
    accountErrorsAt = now;
    refreshing = true;
    void refreshAccountErrors()
      .catch((e: unknown) => ctx.logger.warn("reading the accounts' last errors failed", { error: (e as Error)?.message ?? String(e) }))
      .finally(() => (refreshing = false));
    return accountErrors;
  };

  const topics = (): HubTopic[] => [
    { key: "status", event: "status", data: () => liveStatus(ctx.providers.accountStatus(), traffic.figures()) },
    { key: "errors", event: "errors", data: () => liveErrors(d.errors.list(LIVE_ERRORS), storedAccountErrors()) },
    ...jobs.list().map((j) => ({ key: `job:${j.id}`, event: "job", data: () => j.view() })),
  ];

  const hub = new EventHub({
    intervalMs: EVENTS_INTERVAL_MS,
    heartbeatMs: ctx.keepAliveMs,
    maxStreams: MAX_EVENT_STREAMS,
    topics,
    draining: () => ctx.state.draining,
  });
  hubs.set(ctx, hub);

  return (app: Elysia<"/admin">) =>
    app
      .get("/events", ({ request }) => {
        const { stream } = hub.open(request.signal);
        return new Response(stream, {
          headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache, no-transform", "x-accel-buffering": "no" },
        });
      })
      .use(jobsRoutes(d, jobs));
}
