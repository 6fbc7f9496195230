/**
 * After a burst of requests, once the server has been idle for a moment, run one full garbage collection so the
 * heap (and RSS) comes back down instead of staying at the burst's high-water mark. JavaScriptCore collects the
 * burst's garbage eventually, but without allocation pressure that can take minutes and the freed pages are
 * returned late; one synchronous collection while nothing is in flight, then `Bun.shrink()` (which hands the freed
 * heap pages back to the system), costs a few milliseconds that no request waits for. It runs at most once per burst: an idle server is never collected over and over.
 */

export interface IdleGcOptions {
  /** Requests in flight right now (the probe asking counts as one when called from a request). */
  inFlight(): number;
  /** Requests served so far (monotonic). */
  served(): number;
  /** How long the server must stay idle before collecting (default 1500 ms). */
  quietMs?: number;
  /** Collect only after at least this many requests since the last collection (default 8). */
  minRequests?: number;
  collect?: () => void;
}

export function startIdleGc(options: IdleGcOptions): { stop(): void } {
  const quietMs = options.quietMs ?? 1500;
  const minRequests = options.minRequests ?? 8;
  const collect = options.collect ?? (() => {
    Bun.gc(true);
    Bun.shrink();
  });
  let servedAtLastGc = options.served();
  let quietSince: number | undefined;
  const timer = setInterval(() => {
    if (options.inFlight() > 0) {
      quietSince = undefined;
      return;
    }
    const now = performance.now();
    quietSince ??= now;
    if (now - quietSince < quietMs || options.served() - servedAtLastGc < minRequests) return;
    servedAtLastGc = options.served();
    quietSince = undefined;
    collect();
  }, Math.max(10, Math.floor(quietMs / 3)));
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
