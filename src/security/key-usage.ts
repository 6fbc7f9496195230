/**
 * Per API key usage and quotas. As a turn observer it adds every finished business turn of a managed key
 * to that key's persisted counters; `admit` is asked by business auth before a request runs and refuses
 * it when the key is over its requests-per-minute or tokens-per-day (UTC) quota. A key is named by its stored
 * hash (what ApiKeyIndex.match answers and callers carry as `caller.key`), never by its value.
 *
 * Everything a request consults is in memory: the quotas (loaded by `init()`, reloaded on `keys.changed`), the
 * per-minute windows, and today's token tally per key — seeded from the store once per key per UTC day (at start
 * for keys with a daily quota, else on first need), then kept by adding each finished turn. The store write of a
 * turn is fire-and-forget.
 */
import type { TurnObserver, TurnOutcomeInfo } from "../core/turn/turn-observer.ts";
import type { KeyQuota } from "../store/key-usage-repo.ts";
import type { StoreApi } from "../store/store-api.ts";

export interface QuotaRefusal {
  message: string;
  retryAfterSeconds: number;
}

const MINUTE = 60_000;
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

type UsageStore = Pick<StoreApi, "keyUsage">;

export class KeyUsageTracker implements TurnObserver {
  private quotas = new Map<string, KeyQuota>();
  /** Admission times in the last minute, per key with a per-minute quota. */
  private readonly windows = new Map<string, number[]>();
  /** Today's token tally per key (seeded from the store once per key per day). */
  private readonly today = new Map<string, { day: string; tokens: number }>();
  /** Seeds under way, by key (several requests of a fresh key share one read). */
  private readonly seeding = new Map<string, Promise<number>>();

  constructor(
    private readonly store: UsageStore,
    private readonly now: () => number = Date.now,
    private readonly onError: (what: string, error: unknown) => void = () => {},
  ) {}

  /** Load the quotas and seed today's tally of every key with a daily quota (at start). */
  async init(): Promise<void> {
    await this.reloadQuotas();
    await Promise.all([...this.quotas].filter(([, q]) => q.tokensPerDay).map(([key]) => this.dailyTokens(key)));
  }

  /** Re-read the quotas (on `keys.changed`). The old ones serve until the new ones land. */
  async reloadQuotas(): Promise<void> {
    this.quotas = await this.store.keyUsage.allQuotas();
  }

  /** Call after a key is deleted. */
  forget(key: string): void {
    this.windows.delete(key);
    this.today.delete(key);
    this.seeding.delete(key);
    if (this.quotas.has(key)) {
      const next = new Map(this.quotas);
      next.delete(key);
      this.quotas = next;
    }
  }

  /** Today's tokens as this server knows them now (0 until the day's seed landed; starts it when missing). */
  tokensToday(key: string): number {
    const day = utcDay(this.now());
    const entry = this.today.get(key);
    if (entry?.day === day) return entry.tokens;
    void this.dailyTokens(key).catch((e: unknown) => this.onError("seeding a key's daily token tally", e));
    return 0;
  }

  /** Today's tokens, seeding the tally from the store when this key has none for today yet. */
  dailyTokens(key: string): Promise<number> {
    const day = utcDay(this.now());
    const entry = this.today.get(key);
    if (entry?.day === day) return Promise.resolve(entry.tokens);
    let seed = this.seeding.get(key);
    if (!seed) {
      seed = this.store.keyUsage.tokensOn(key, day).then(
        (tokens) => {
          if (this.seeding.get(key) === seed) this.seeding.delete(key);
          // A turn that ended while the seed was read may have set the tally already: keep the larger one.
          const cur = this.today.get(key);
          const n = cur?.day === day ? Math.max(cur.tokens, tokens) : tokens;
          this.today.set(key, { day, tokens: n });
          return n;
        },
        (e: unknown) => {
          if (this.seeding.get(key) === seed) this.seeding.delete(key);
          throw e;
        },
      );
      this.seeding.set(key, seed);
    }
    return seed;
  }

  /** Undefined when the request may run (and it is counted against the per-minute window), else why not. */
  async admit(key: string): Promise<QuotaRefusal | undefined> {
    let quota = this.quotas.get(key);
    if (!quota) return undefined;
    if (quota.tokensPerDay) {
      const tokens = await this.dailyTokens(key);
      quota = this.quotas.get(key);
      if (!quota) return undefined;
      if (quota.tokensPerDay && tokens >= quota.tokensPerDay) {
        const t = this.now();
        const midnight = Date.parse(`${utcDay(t)}T00:00:00Z`) + 86_400_000;
        return { message: `this API key used its daily token quota (${quota.tokensPerDay} tokens per UTC day); it resets at 00:00 UTC`, retryAfterSeconds: Math.ceil((midnight - t) / 1000) };
      }
    }
    if (quota.requestsPerMinute) {
      const t = this.now();
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

  turnEnded(info: Pick<TurnOutcomeInfo, "caller" | "usage">): void {
    if (info.caller.kind !== "key") return;
    const key = info.caller.key;
    const prompt = info.usage?.promptTokens ?? 0;
    const completion = info.usage?.completionTokens ?? 0;
    const t = this.now();
    const day = utcDay(t);
    const written = this.store.keyUsage.record(key, prompt, completion, t, day);
    const entry = this.today.get(key);
    if (entry?.day === day) {
      this.today.set(key, { day, tokens: entry.tokens + prompt + completion });
      void written.catch((e: unknown) => this.onError("recording a key's usage", e));
    } else {
      // No tally for today yet: seed it once this turn is written, so the seed counts it.
      this.seeding.delete(key);
      void written.then(
        () => this.dailyTokens(key),
        (e: unknown) => this.onError("recording a key's usage", e),
      ).catch((e: unknown) => this.onError("seeding a key's daily token tally", e));
    }
  }
}

const trackers = new WeakMap<object, KeyUsageTracker>();

/** The one tracker of a running server (keyed by its context object); made and registered as a turn observer on first use. */
export function keyUsageTracker(owner: { store: StoreApi; observers: TurnObserver[]; logger?: { warn(msg: string, fields?: Record<string, unknown>): void } }): KeyUsageTracker {
  let t = trackers.get(owner);
  if (!t) {
    t = new KeyUsageTracker(owner.store, Date.now, (what, e) => owner.logger?.warn(`key usage: ${what} failed`, { error: String(e) }));
    trackers.set(owner, t);
    owner.observers.push(t);
  }
  return t;
}
