/**
 * Whether the shared services this instance needs (the database, Redis) answer. A connection error reported by a
 * caller marks a dependency down; while it is down `assertUp` throws DependencyUnavailableError at once (the request
 * path never waits on a timeout), a registered probe retries it every second, and the first success flips it back up.
 * Reasons are kept short and never carry a URL's credentials or a password.
 */
import { DependencyUnavailableError, type Dependency, type DependencyHealth, type DependencyState } from "./ports.ts";

export type DependencyChange = (dependency: Dependency, state: DependencyState) => void;

/** Read by /readyz and error messages: "redis unreachable: connection refused". */
const LABEL: Record<Dependency, string> = { database: "database", redis: "redis" };

/** How often a down dependency's probe runs. */
const PROBE_INTERVAL_MS = 1000;
const MAX_REASON_CHARS = 200;

/** Node / Bun socket errno codes of a connection that failed or broke. */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "EAI_AGAIN",
  "ConnectionRefused",
  "ConnectionClosed",
  "ConnectionReset",
  "FailedToOpenSocket",
]);

/**
 * A connection-level failure (the service is unreachable), as opposed to an error the service answered (a
 * constraint violation, a bad script): only the former marks a dependency down.
 */
export function isConnectionError(e: unknown): boolean {
  if (e instanceof DependencyUnavailableError) return true;
  if (!e || typeof e !== "object") return false;
  const { code, errno, message } = e as { code?: unknown; errno?: unknown; message?: unknown };
  for (const c of [code, errno]) {
    if (typeof c !== "string") continue;
    if (SOCKET_CODES.has(c)) return true;
    // Bun's clients: ERR_POSTGRES_CONNECTION_CLOSED, ERR_POSTGRES_CONNECTION_TIMEOUT, ERR_REDIS_CONNECTION_CLOSED, …
    if (/^ERR_(POSTGRES|REDIS)_(CONNECTION|SOCKET|TLS)/.test(c)) return true;
    // Postgres SQLSTATE class 08 (connection exception), 57P01–57P03 (server shutting down / not accepting).
    if (/^08[0-9A-Z]{3}$/.test(c) || /^57P0[123]$/.test(c)) return true;
  }
  return typeof message === "string" && /connection (?:refused|reset|closed|lost|terminated)|ECONNREFUSED|ECONNRESET|socket (?:closed|hang up)|not connected/i.test(message);
}

/** An error's text fit for logs, /readyz and client messages: credentials in URLs and `password=` pairs masked, one short line. */
export function describeDependencyError(e: unknown): string {
  const raw = e instanceof Error ? e.message || e.name : typeof e === "string" ? e : String(e);
  const text = raw
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s@/]*@/gi, "$1***@")
    .replace(/(password|passwd|pwd|auth|token|secret)(\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi, "$1$2***")
    .replace(/\s+/g, " ")
    .trim();
  const short = text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS - 1)}…` : text;
  return short || "connection failed";
}

/**
 * The message of the 503 and of /readyz's `reason`: "redis unreachable: connection refused". A reason that already
 * says so (a DependencyUnavailableError's message, e.g. "database unreachable (db:5432): …") is kept as it is.
 */
export function unreachableMessage(d: Dependency, error: string | undefined): string {
  if (error && error.toLowerCase().startsWith(`${LABEL[d]} unreachable`)) return error;
  return `${LABEL[d]} unreachable${error ? `: ${error}` : ""}`;
}

/**
 * One call to `d` through its health: refused at once (DependencyUnavailableError) while `d` is down, a connection
 * error reported (marking it down), a success reported (flipping it back up). Wrap the request-path calls with it;
 * the probe given to `setProbe` must call the service directly (it runs while `d` is down).
 */
export async function throughHealth<T>(health: DependencyHealth, d: Dependency, call: () => Promise<T>): Promise<T> {
  health.assertUp(d);
  let value: T;
  try {
    value = await call();
  } catch (e) {
    health.report(d, e);
    throw e;
  }
  health.ok(d);
  return value;
}

export class DependencyHealthMonitor implements DependencyHealth {
  private readonly states = new Map<Dependency, DependencyState>();
  private readonly probes = new Map<Dependency, () => Promise<unknown>>();
  private readonly timers = new Map<Dependency, ReturnType<typeof setTimeout>>();
  private listeners: DependencyChange[] = [];
  private closed = false;

  constructor(
    /** The dependencies this instance uses: shown (up) in view() from the start. */
    watched: readonly Dependency[] = [],
    private readonly now: () => number = Date.now,
  ) {
    for (const d of watched) this.watch(d);
  }

  /** Show `d` in view() (up until a connection error says otherwise). */
  watch(d: Dependency): void {
    if (!this.states.has(d)) this.states.set(d, { up: true, since: this.now() });
  }

  /**
   * While `d` is down, run `probe` every second (e.g. `SELECT 1`, `PING`); the first one that resolves flips it
   * back up. Replaces an earlier probe.
   */
  setProbe(d: Dependency, probe: () => Promise<unknown>): void {
    this.watch(d);
    this.probes.set(d, probe);
    if (!this.up(d)) this.scheduleProbe(d);
  }

  /** Told every flip (down or up), e.g. for logs and metrics; returns the unsubscribe function. */
  onChange(fn: DependencyChange): () => void {
    this.listeners = [...this.listeners, fn];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== fn);
    };
  }

  up(d: Dependency): boolean {
    return this.states.get(d)?.up ?? true;
  }

  assertUp(d: Dependency): void {
    const s = this.states.get(d);
    if (s && !s.up) throw new DependencyUnavailableError(d, unreachableMessage(d, s.error));
  }

  report(d: Dependency, error: unknown): void {
    if (!isConnectionError(error)) return;
    this.markDown(d, describeDependencyError(error));
  }

  /** `d` is down for this reason (e.g. the Redis client's `onclose`); the reason is sanitised here as well. */
  markDown(d: Dependency, reason: string): void {
    const error = describeDependencyError(reason);
    const s = this.states.get(d);
    if (s && !s.up) {
      // Still down: keep `since`, refresh the reason.
      s.error = error;
      return;
    }
    this.set(d, { up: false, since: this.now(), error });
    this.scheduleProbe(d);
  }

  ok(d: Dependency): void {
    const s = this.states.get(d);
    if (s?.up) return;
    this.clearProbe(d);
    this.set(d, { up: true, since: this.now() });
  }

  view(): Partial<Record<Dependency, DependencyState>> {
    const out: Partial<Record<Dependency, DependencyState>> = {};
    for (const [d, s] of this.states) out[d] = { ...s };
    return out;
  }

  /** The first dependency that is down, for /readyz and the request guard. */
  firstDown(): { dependency: Dependency; state: DependencyState } | undefined {
    for (const [dependency, state] of this.states) if (!state.up) return { dependency, state: { ...state } };
    return undefined;
  }

  /** Stop probing (server stop). */
  close(): void {
    this.closed = true;
    for (const d of [...this.timers.keys()]) this.clearProbe(d);
  }

  private set(d: Dependency, state: DependencyState): void {
    this.states.set(d, state);
    for (const l of this.listeners) {
      try {
        l(d, { ...state });
      } catch {
        // A failing listener (a log sink) must not change the health state.
      }
    }
  }

  private scheduleProbe(d: Dependency): void {
    const probe = this.probes.get(d);
    if (!probe || this.closed || this.timers.has(d) || this.up(d)) return;
    const timer = setTimeout(() => {
      this.timers.delete(d);
      if (this.closed || this.up(d)) return;
      probe().then(
        () => this.ok(d),
        (e) => {
          // Still down: refresh the reason (a non-connection answer means it is reachable again).
          if (isConnectionError(e)) this.markDown(d, describeDependencyError(e));
          else this.ok(d);
          this.scheduleProbe(d);
        },
      );
    }, PROBE_INTERVAL_MS);
    timer.unref?.();
    this.timers.set(d, timer);
  }

  private clearProbe(d: Dependency): void {
    const t = this.timers.get(d);
    if (t) clearTimeout(t);
    this.timers.delete(d);
  }
}
