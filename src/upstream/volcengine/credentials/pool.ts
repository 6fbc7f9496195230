/**
 * The pool of Volcengine web ids (other-providers.md §A.3, our design): least-used selection among usable
 * entries (ties: fewer in flight, then the longest unused), usage counted when the console accepts a call,
 * caps (global `max_usage`, per-entry override, 0 = unlimited), exhausted / bad / cooling states kept in the
 * store, in-flight counts in memory, a bounded wait when every usable entry is busy, and the optional daily
 * reset. Every answer about an empty pool is honest: what is wrong and when it may pass (Retry-After).
 */
import { TurnError } from "../../../core/turn/turn-error.ts";
import type { CredentialRecord } from "../../../store/credentials-repo.ts";
import type { Store } from "../../../store/store.ts";
import type { EntryVerdict } from "../failure-map.ts";
import { VOLCENGINE_PROVIDER_ID } from "../models.ts";
import { resetDay, secondsToNextReset, type VolcengineSettings } from "../settings.ts";
import { capOf, effectiveState } from "./entry-state.ts";

const P = VOLCENGINE_PROVIDER_ID;
const LAST_RESET_KEY = "provider.volcengine.last_daily_reset";

export interface PoolLimits {
  maxInflightPerEntry: number;
  /** Waiting requests before an immediate 429. */
  maxQueue: number;
  queueWaitMs: number;
  cooldownMs: number;
}

export interface PoolDeps {
  store: Store;
  settings: () => VolcengineSettings;
  limits: (entries: number) => PoolLimits;
  now?: () => number;
}

/** One entry taken for one call. */
export interface EntryLease {
  readonly id: string;
  readonly webId: string;
  readonly authorization?: string;
  readonly preview: string;
  /** The console accepted the call: count one use. */
  accepted(): void;
  /** The call went through: a resting / cooling entry is fine again. */
  succeed(): void;
  /** The entry failed on its own: mark it. */
  fail(verdict: EntryVerdict, message: string): void;
  release(): void;
}

export interface AcquireOptions {
  signal: AbortSignal;
  /** Entries this request already tried. */
  exclude: ReadonlySet<string>;
  /** After a failed entry: never wait for a busy one, answer at once. */
  noWait: boolean;
  /** Use exactly this entry (admin test), whatever its state. */
  only?: string;
}

export class CredentialPool {
  private readonly inflight = new Map<string, number>();
  private waiters = new Set<() => void>();
  private readonly now: () => number;

  constructor(private readonly deps: PoolDeps) {
    this.now = deps.now ?? Date.now;
  }

  inflightOf(id: string): number {
    return this.inflight.get(id) ?? 0;
  }

  inUse(): number {
    let n = 0;
    for (const v of this.inflight.values()) n += v;
    return n;
  }

  waiting(): number {
    return this.waiters.size;
  }

  /** The daily reset (when enabled): once per Beijing day, persisted so a restart does not repeat or skip it. */
  dailyResetIfDue(): void {
    if (!this.deps.settings().dailyReset) return;
    const today = resetDay(this.now());
    const last = this.deps.store.settings.get<number>(LAST_RESET_KEY);
    if (last === today) return;
    this.deps.store.settings.set(LAST_RESET_KEY, today);
    if (last !== undefined) this.deps.store.credentials.resetUsage(P);
  }

  async acquire(opts: AcquireOptions): Promise<EntryLease> {
    this.dailyResetIfDue();
    if (opts.only !== undefined) {
      const rec = this.deps.store.credentials.get(P, opts.only);
      if (!rec) throw new TurnError(404, "no such web id", "not_found");
      return this.lease(rec);
    }
    let deadline: number | undefined;
    for (;;) {
      if (opts.signal.aborted) throw opts.signal.reason ?? new DOMException("aborted", "AbortError");
      const entries = this.deps.store.credentials.list(P);
      const limits = this.deps.limits(entries.length);
      const picked = this.pick(entries, opts.exclude, limits);
      if (picked.entry) return this.lease(picked.entry);
      if (!picked.busy || opts.noWait) throw this.unavailable(entries, opts.exclude, picked.busy);
      if (this.waiters.size >= limits.maxQueue) {
        throw new TurnError(429, `every Volcengine web id is busy and ${this.waiters.size} requests are already waiting (account_max_queue)`, "rate_limit_exceeded", 5);
      }
      deadline ??= this.now() + limits.queueWaitMs;
      const left = deadline - this.now();
      if (left <= 0) {
        throw new TurnError(429, `no Volcengine web id became free within ${Math.round(limits.queueWaitMs / 1000)} s (queue wait limit, runtime.queue_wait_seconds)`, "rate_limit_exceeded", 5);
      }
      await this.waitForRelease(left, opts.signal);
    }
  }

  private pick(entries: CredentialRecord[], exclude: ReadonlySet<string>, limits: PoolLimits): { entry?: CredentialRecord; busy: boolean } {
    const now = this.now();
    const globalMax = this.deps.settings().maxUsage;
    let best: CredentialRecord | undefined;
    let bestKey: [number, number, number] | undefined;
    let busy = false;
    for (const e of entries) {
      if (exclude.has(e.id) || effectiveState(e, globalMax, now) !== "ok") continue;
      const inflight = this.inflightOf(e.id);
      const cap = capOf(e, globalMax);
      // An entry whose in-flight calls would reach its cap is busy, not exhausted: they may fail uncounted.
      if (inflight >= limits.maxInflightPerEntry || (cap > 0 && e.usageCount + inflight >= cap)) {
        busy = true;
        continue;
      }
      const key: [number, number, number] = [e.usageCount + inflight, inflight, e.lastUsedAt ?? 0];
      if (!bestKey || key[0] < bestKey[0] || (key[0] === bestKey[0] && (key[1] < bestKey[1] || (key[1] === bestKey[1] && key[2] < bestKey[2])))) {
        best = e;
        bestKey = key;
      }
    }
    return { entry: best, busy };
  }

  /** Why nothing can be taken right now, as the error a client sees. */
  private unavailable(entries: CredentialRecord[], exclude: ReadonlySet<string>, busy: boolean): TurnError {
    if (entries.length === 0) {
      return new TurnError(503, "Volcengine is not configured: no web id in the pool (set VOLCENGINE_X_WEB_ID, the config.json volcengine.web_ids, or add one in the admin console)", "no_credentials", 60);
    }
    if (busy) return new TurnError(429, "every Volcengine web id this request may use is busy", "rate_limit_exceeded", 5);
    const now = this.now();
    const s = this.deps.settings();
    const states = entries.filter((e) => !exclude.has(e.id)).map((e) => ({ e, st: effectiveState(e, s.maxUsage, now) }));
    const exhausted = states.filter((x) => x.st === "exhausted").length;
    const cooling = states.filter((x) => x.st === "cooling");
    if (cooling.length) {
      const soonest = Math.min(...cooling.map((x) => x.e.cooldownUntil ?? now));
      const wait = Math.max(1, Math.ceil((soonest - now) / 1000));
      return new TurnError(503, `no Volcengine web id can take the request: ${cooling.length} resting after failures (back in about ${wait} s)${exhausted ? `, ${exhausted} at their max usage` : ""}`, "accounts_unavailable", wait, "account");
    }
    if (exhausted) {
      if (s.dailyReset) {
        const wait = secondsToNextReset(now);
        return new TurnError(429, `every usable Volcengine web id has reached its max usage; usage resets daily (in about ${Math.ceil(wait / 60)} min)`, "credentials_exhausted", wait, "account");
      }
      return new TurnError(503, "every usable Volcengine web id has reached its max usage; reset usage in the admin console, raise max_usage, add web ids, or enable volcengine.daily_reset", "credentials_exhausted", 3600, "account");
    }
    const bad = states.filter((x) => x.st === "bad").length;
    const disabled = states.filter((x) => x.st === "disabled").length;
    return new TurnError(503, `no usable Volcengine web id: ${bad} rejected by the console, ${disabled} disabled (test or reset them in the admin console)`, "no_credentials", 60, "account");
  }

  private waitForRelease(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      this.waiters.add(done);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private lease(rec: CredentialRecord): EntryLease {
    const store = this.deps.store;
    const id = rec.id;
    this.inflight.set(id, this.inflightOf(id) + 1);
    let released = false;
    const authorization = rec.auth ?? this.deps.settings().authorization;
    return {
      id,
      webId: rec.secret,
      authorization,
      preview: rec.preview,
      accepted: () => {
        store.credentials.recordUse(P, id);
      },
      succeed: () => {
        const cur = store.credentials.get(P, id);
        if (cur && cur.state !== "ok" && cur.state !== "exhausted") store.credentials.setState(P, id, "ok");
      },
      fail: (verdict, message) => {
        store.credentials.recordError(P, id, message);
        if (verdict === "bad") store.credentials.setState(P, id, "bad", message);
        else if (verdict === "exhausted") store.credentials.setState(P, id, "exhausted", message);
        else {
          const cur = store.credentials.get(P, id);
          const failures = (cur?.failures ?? 0) + 1;
          store.credentials.setState(P, id, "cooling", message, { cooldownUntil: this.now() + this.deps.limits(1).cooldownMs, failures });
        }
      },
      release: () => {
        if (released) return;
        released = true;
        const n = this.inflightOf(id) - 1;
        if (n > 0) this.inflight.set(id, n);
        else this.inflight.delete(id);
        this.wake();
      },
    };
  }
}
