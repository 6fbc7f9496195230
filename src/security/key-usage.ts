/**
 * Per API key usage and quotas. As a turn observer it adds every finished business turn of a managed key
 * to that key's persisted counters; `admit` is asked by business auth before a request runs and refuses
 * it when the key is over its requests-per-minute or tokens-per-day (UTC) quota. A key is named by its stored
 * hash (what ApiKeyIndex.match answers and callers carry as `caller.key`), never by its value.
 */
import type { TurnObserver, TurnOutcomeInfo } from "../core/turn/turn-observer.ts";
import type { KeyQuota } from "../store/key-usage-repo.ts";
import type { Store } from "../store/store.ts";

export interface QuotaRefusal {
  message: string;
  retryAfterSeconds: number;
}

const MINUTE = 60_000;
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export class KeyUsageTracker implements TurnObserver {
  private quotas: Map<string, KeyQuota> | undefined;
  /** Admission times in the last minute, per key with a per-minute quota. */
  private readonly windows = new Map<string, number[]>();
  /** Today's token tally per key (loaded from the store on first need). */
  private readonly today = new Map<string, { day: string; tokens: number }>();

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  /** Call after quotas change. */
  quotasChanged(): void {
    this.quotas = undefined;
  }

  /** Call after a key is deleted. */
  forget(key: string): void {
    this.windows.delete(key);
    this.today.delete(key);
    this.quotas = undefined;
  }

  private quotaOf(key: string): KeyQuota | undefined {
    this.quotas ??= this.store.keyUsage.allQuotas();
    return this.quotas.get(key);
  }

  tokensToday(key: string): number {
    const day = utcDay(this.now());
    let entry = this.today.get(key);
    if (!entry || entry.day !== day) {
      entry = { day, tokens: this.store.keyUsage.tokensOn(key, day) };
      this.today.set(key, entry);
    }
    return entry.tokens;
  }

  /** Undefined when the request may run (and it is counted against the per-minute window), else why not. */
  admit(key: string): QuotaRefusal | undefined {
    const quota = this.quotaOf(key);
    if (!quota) return undefined;
    const t = this.now();
    if (quota.tokensPerDay && this.tokensToday(key) >= quota.tokensPerDay) {
      const midnight = Date.parse(`${utcDay(t)}T00:00:00Z`) + 86_400_000;
      return { message: `this API key used its daily token quota (${quota.tokensPerDay} tokens per UTC day); it resets at 00:00 UTC`, retryAfterSeconds: Math.ceil((midnight - t) / 1000) };
    }
    if (quota.requestsPerMinute) {
      const window = (this.windows.get(key) ?? []).filter((at) => t - at < MINUTE);
      if (window.length >= quota.requestsPerMinute) {
        this.windows.set(key, window);
        return {
          message: `this API key is over its quota of ${quota.requestsPerMinute} requests per minute`,
          retryAfterSeconds: Math.ceil((window[window.length - quota.requestsPerMinute]! + MINUTE - t) / 1000),
        };
      }
      window.push(t);
      this.windows.set(key, window);
    }
    return undefined;
  }

  turnEnded(info: TurnOutcomeInfo): void {
    if (info.caller.kind !== "key") return;
    const key = info.caller.key;
    const prompt = info.usage?.promptTokens ?? 0;
    const completion = info.usage?.completionTokens ?? 0;
    const t = this.now();
    const day = utcDay(t);
    const tokensBefore = this.tokensToday(key);
    this.store.keyUsage.record(key, prompt, completion, t, day);
    this.today.set(key, { day, tokens: tokensBefore + prompt + completion });
  }
}

const trackers = new WeakMap<object, KeyUsageTracker>();

/** The one tracker of a running server (keyed by its context object); made and registered as a turn observer on first use. */
export function keyUsageTracker(owner: { syncStore: Store; observers: TurnObserver[] }): KeyUsageTracker {
  let t = trackers.get(owner);
  if (!t) {
    t = new KeyUsageTracker(owner.syncStore);
    trackers.set(owner, t);
    owner.observers.push(t);
  }
  return t;
}
