/**
 * The admin event stream (`GET /admin/events`), read with fetch so that the JWT goes in the Authorization header:
 * `status` (pool figures and request counts), `errors` and `job` events. Reconnects after a failure; tells the page
 * whether it is live, so that the page can poll meanwhile.
 */
import { ApiError, send } from "./api.ts";
import type { RecentError } from "./types.ts";
import { readSse } from "./sse.ts";

export interface LiveStatus {
  in_use: number;
  waiting: number;
  available: number;
  max_queue_size: number;
  max_inflight_per_account: number;
  global_max_inflight: number;
  global_limit: number;
  global_limit_source: "global_max_inflight" | "accounts_x_per_account";
  usable_accounts: number;
  recommended_concurrency: number;
  accounts: { total: number; enabled: number; usable: number; cooling_down: number; failing: number; disabled: number };
  busy_accounts: { identifier: string; inflight: number }[];
  unhealthy_accounts: { identifier: string; status: string; cooldown_until: number | null }[];
  requests: { started: number; ended: number; failed: number; last_minute: number; errors_last_minute: number };
}

export type JobKind = "accounts.test_all" | "accounts.bulk_import";

/** GET /admin/jobs item (and the `job` event); GET /admin/jobs/:id adds `result`. */
export interface JobView {
  id: string;
  kind: JobKind;
  state: "running" | "succeeded" | "failed";
  finished: boolean;
  total: number;
  done: number;
  ok: number;
  failed: number;
  current: string | null;
  started_at: number;
  finished_at: number | null;
  error: string | null;
  result?: unknown;
}

export interface LiveHandlers {
  status?(s: LiveStatus): void;
  errors?(e: { items: RecentError[] }): void;
  job?(j: JobView): void;
  /** true once events arrive; false when the stream failed or ended (it is retried). */
  connection?(live: boolean): void;
}

/** Waits before reconnecting: quickly at first, then less often. */
const RETRY_MS = [1000, 3000, 10_000];

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });

function dispatch(handlers: LiveHandlers, event: string, data: string): void {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return;
  }
  if (event === "status") handlers.status?.(json as LiveStatus);
  else if (event === "errors") handlers.errors?.(json as { items: RecentError[] });
  else if (event === "job") handlers.job?.(json as JobView);
}

/** Opens the event stream until the returned function is called. */
export function subscribeLive(handlers: LiveHandlers): () => void {
  const ac = new AbortController();
  void (async () => {
    let attempt = 0;
    while (!ac.signal.aborted) {
      let live = false;
      try {
        const res = await send("GET", "/admin/events", undefined, ac.signal);
        if (!(res.headers.get("content-type") ?? "").startsWith("text/event-stream") || !res.body) throw new ApiError(404, "no event stream");
        for await (const ev of readSse(res.body)) {
          if (!live) {
            live = true;
            attempt = 0;
            handlers.connection?.(true);
          }
          dispatch(handlers, ev.event, ev.data);
        }
      } catch (e) {
        // A 401 has ended the session already (send); nothing to retry.
        if (ac.signal.aborted || (e instanceof ApiError && e.status === 401)) return;
      }
      if (ac.signal.aborted) return;
      handlers.connection?.(false);
      await sleep(RETRY_MS[Math.min(attempt++, RETRY_MS.length - 1)]!, ac.signal);
    }
  })();
  return () => ac.abort();
}
