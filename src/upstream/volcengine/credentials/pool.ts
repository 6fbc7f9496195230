/**
 * The pool of Volcengine web ids (other-providers.md §A.3, our design): least-used selection among usable
 * entries (ties: fewer in flight, then the longest unused), usage counted when the console accepts a call,
 * caps (global `max_usage`, per-entry override, 0 = unlimited), exhausted / bad / cooling states kept in the
 * store, in-flight counts in memory, a bounded wait when every usable entry is busy, and the optional daily
 * reset. Every answer about an empty pool is honest: what is wrong and when it may pass (Retry-After).
 *
 * Selection reads an in-memory copy of the pool (`CredentialSnapshot`: loaded at start, re-read on
 * `credentials.changed`); the pool's own changes (a use, a failure, a recovery) patch the copy at once and are
 * written to the store fire-and-forget, so a request never waits on the store.
 */
import { TurnError } from "../../../core/turn/turn-error.ts";
import type { CredentialRecord } from "../../../store/credentials-repo.ts";
import type { StoreApi } from "../../../store/store-api.ts";
import { CredentialSnapshot } from "../../credential-snapshot.ts";
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
  store: Pick<StoreApi, "credentials">;
  settings: () => VolcengineSettings;
  /** The stored settings (the day of the last daily reset lives there). */
  stored: { value<T>(key: string): T | undefined; set(key: string, value: unknown): Promise<void> };
  /** A fire-and-forget store write failed (the in-memory copy keeps the change). */
  onWriteError?: (what: string, error: unknown) => void;
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
  private readonly entries: CredentialSnapshot;
  /** The daily reset under way (requests that find it due wait for the same one). */
  private resetting?: Promise<void>;

  constructor(private readonly deps: PoolDeps) {
    this.now = deps.now ?? Date.now;
    this.entries = new CredentialSnapshot(deps.store.credentials, P);
  }

  /** Load the pool's copy (at start), or re-read these entries / all of them (on `credentials.changed`). */
  reload(ids?: readonly string[]): Promise<void> {
    return this.entries.reload(ids);
  }

  /** Every entry as the pool sees it now (its in-memory copy). */
  list(): readonly CredentialRecord[] {
    return this.entries.list();
  }

  /** How many web ids the pool holds. */
  size(): number {
    return this.entries.size;
  }

  /** An entry as the pool sees it now. */
  entry(id: string): CredentialRecord | undefined {
    return this.entries.get(id);
  }

  /** Write to the store without waiting; a failure is reported, the in-memory copy keeps the change. */
  private write(what: string, p: Promise<unknown>): void {
    void p.catch((e: unknown) => this.deps.onWriteError?.(what, e));
  }

  /** The entry works again (a resting / rejected one is back to ok). */
  markOk(id: string): void {
    const cur = this.entries.get(id);
    if (!cur || cur.state === "ok" || cur.state === "exhausted") return;
    this.entries.patch(id, { state: "ok", stateReason: undefined, cooldownUntil: undefined, failures: 0 });
    this.write("marking a web id ok", this.deps.store.credentials.setState(P, id, "ok"));
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
  async dailyResetIfDue(): Promise<void> {
    if (!this.deps.settings().dailyReset) return;
    const today = resetDay(this.now());
    if (this.deps.stored.value<number>(LAST_RESET_KEY) === today) return;
    this.resetting ??= this.dailyReset(today).finally(() => {
      this.resetting = undefined;
    });
    await this.resetting;
  }

  private async dailyReset(today: number): Promise<void> {
    const last = this.deps.stored.value<number>(LAST_RESET_KEY);
    if (last === today) return;
    await this.deps.stored.set(LAST_RESET_KEY, today);
    if (last === undefined) return;
    await this.deps.store.credentials.resetUsage(P);
    this.entries.patchAll((e) => (e.state === "exhausted" ? { usageCount: 0, state: "ok", stateReason: undefined } : { usageCount: 0 }));
  }

  async acquire(opts: AcquireOptions): Promise<EntryLease> {
    await this.dailyResetIfDue();
    if (opts.only !== undefined) {
      const rec = this.entries.get(opts.only) ?? (await this.deps.store.credentials.get(P, opts.only));
      if (!rec) throw new TurnError(404, "no such web id", "not_found");
      return this.lease(rec);
    }
    let deadline: number | undefined;
    for (;;) {
      if (opts.signal.aborted) throw opts.signal.reason ?? new DOMException("aborted", "AbortError");
      const entries = this.entries.list();
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

  private pick(entries: readonly CredentialRecord[], exclude: ReadonlySet<string>, limits: PoolLimits): { entry?: CredentialRecord; busy: boolean } {
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
  private unavailable(entries: readonly CredentialRecord[], exclude: ReadonlySet<string>, busy: boolean): TurnError {
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
    const credentials = this.deps.store.credentials;
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
        this.entries.patch(id, (cur) => ({ usageCount: cur.usageCount + 1, lastUsedAt: this.now() }));
        this.write("counting a web id's use", credentials.recordUse(P, id));
      },
      succeed: () => this.markOk(id),
      fail: (verdict, message) => {
        const at = this.now();
        this.entries.patch(id, { lastError: message.slice(0, 500), lastErrorAt: at });
        this.write("noting a web id's error", credentials.recordError(P, id, message));
        if (verdict === "bad" || verdict === "exhausted") {
          this.entries.patch(id, { state: verdict, stateReason: message, cooldownUntil: undefined });
          this.write("marking a web id", credentials.setState(P, id, verdict, message));
        } else {
          const failures = (this.entries.get(id)?.failures ?? 0) + 1;
          const cooldownUntil = at + this.deps.limits(1).cooldownMs;
          this.entries.patch(id, { state: "cooling", stateReason: message, cooldownUntil, failures });
          this.write("resting a web id", credentials.setState(P, id, "cooling", message, { cooldownUntil, failures }));
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
