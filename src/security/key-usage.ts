/**
 * Per API key usage and quotas. As a turn observer it adds every finished business turn of a managed key
 * to that key's persisted counters; `admit` is asked by business auth before a request runs and refuses
 * it when the key is over its requests-per-minute or tokens-per-day (UTC) quota. A key is named by its stored
 * hash (what ApiKeyIndex.match answers and callers carry as `caller.key`), never by its value.
 *
 * One instance (no `QuotaCounters`): everything a request consults is in memory: the quotas (loaded by `init()`,
 * reloaded on `keys.changed`), the per-minute windows, and today's token tally per key — seeded from the store once
 * per key per UTC day (at start for keys with a daily quota, else on first need), then kept by adding each finished
 * turn. The store write of a turn is fire-and-forget.
 *
 * Several instances (`QuotaCounters` over Redis, `ctx.cluster.quotas`): the quotas stay in memory, but the per-minute
 * window and today's tally are the cluster's: `admit` asks Redis (exact sliding window; the day's tally, seeded once
 * per day by SET NX from the store's durable count), and a finished turn first makes sure the day's tally exists
 * (seeded before this turn is written, so the seed cannot hold it), then writes the store and adds its tokens to the
 * tally. A Redis outage surfaces as DependencyUnavailableError from `admit` (the surfaces answer 503); the turn's
 * store write happens regardless. The local tally then only mirrors the last cluster value seen, for display.
 */
import type { QuotaCounters } from "../core/cluster/ports.ts";
import type { TurnObserver, TurnOutcomeInfo } from "../core/turn/turn-observer.ts";
import type { KeyQuota } from "../store/key-usage-repo.ts";
import type { StoreApi } from "../store/store-api.ts";

export interface QuotaRefusal {
  message: string;
  retryAfterSeconds: number;
}

const MINUTE = 60_000;
const rpmMessage = (rpm: number) => `this API key is over its quota of ${rpm} requests per minute`;
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
  /** Cluster mode: store reads of a day's seed under way, by `key|day` (shared by concurrent first admissions). */
  private readonly seedReads = new Map<string, Promise<number>>();

  constructor(
    private readonly store: UsageStore,
    private readonly now: () => number = Date.now,
    private readonly onError: (what: string, error: unknown) => void = () => {},
    /** The cluster's counters (several instances); absent: this process's memory is the truth. */
    private readonly shared?: QuotaCounters,
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
    for (const k of this.seedReads.keys()) if (k.startsWith(`${key}|`)) this.seedReads.delete(k);
    if (this.quotas.has(key)) {
      const next = new Map(this.quotas);
      next.delete(key);
      this.quotas = next;
    }
  }

  /**
   * Today's tokens as this server knows them now (0 until the day's seed landed; starts it when missing). In cluster
   * mode: the last cluster value seen plus this instance's turns since, and a refresh from the cluster is started.
   */
  tokensToday(key: string): number {
    const day = utcDay(this.now());
    const entry = this.today.get(key);
    if (entry?.day === day && !this.shared) return entry.tokens;
    void this.dailyTokens(key).catch((e: unknown) => this.onError("reading a key's daily token tally", e));
    return entry?.day === day ? entry.tokens : 0;
  }

  /** Today's tokens: the cluster's tally (cluster mode), else this process's, seeded from the store when missing. */
  dailyTokens(key: string): Promise<number> {
    const day = utcDay(this.now());
    if (this.shared) return this.sharedTokens(this.shared, key, day);
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

  /** The cluster's tally of `key` for `day` (seeded from the store when Redis has none); mirrored locally for display. */
  private async sharedTokens(shared: QuotaCounters, key: string, day: string): Promise<number> {
    const tokens = await shared.tokensToday(key, day, () => this.seedRead(key, day));
    this.today.set(key, { day, tokens });
    return tokens;
  }

  /** One store read of a day's seed at a time per key (a read joined is one that started earlier: still a valid seed). */
  private seedRead(key: string, day: string): Promise<number> {
    const id = `${key}|${day}`;
    let read = this.seedReads.get(id);
    if (!read) {
      read = this.store.keyUsage.tokensOn(key, day).finally(() => {
        if (this.seedReads.get(id) === read) this.seedReads.delete(id);
      });
      this.seedReads.set(id, read);
    }
    return read;
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
    if (quota.requestsPerMinute && this.shared) {
      const r = await this.shared.admitRpm(key, quota.requestsPerMinute);
      if (!r.ok) return { message: rpmMessage(quota.requestsPerMinute), retryAfterSeconds: r.retryAfterSeconds };
    } else if (quota.requestsPerMinute) {
      const t = this.now();
      const window = (this.windows.get(key) ?? []).filter((at) => t - at < MINUTE);
      if (window.length >= quota.requestsPerMinute) {
        this.windows.set(key, window);
        return {
          message: rpmMessage(quota.requestsPerMinute),
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
    if (this.shared) return this.sharedTurnEnded(this.shared, key, prompt, completion, t, day);
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

  /**
   * Cluster mode: make sure the day's tally exists (its seed read before this turn is written, so it cannot count
   * it), then write the store, then add the turn to the tally. Each step's failure is logged; the store write always runs.
   */
  private sharedTurnEnded(shared: QuotaCounters, key: string, prompt: number, completion: number, t: number, day: string): void {
    const n = prompt + completion;
    const entry = this.today.get(key);
    if (entry?.day === day) this.today.set(key, { day, tokens: entry.tokens + n });
    void (async () => {
      // Not seeded (Redis or the store failed): the turn is not added either, else a later seed could count it twice.
      let seeded = true;
      await shared.tokensToday(key, day, () => this.seedRead(key, day)).catch((e: unknown) => {
        seeded = false;
        this.onError("reading a key's daily token tally", e);
      });
      await this.store.keyUsage.record(key, prompt, completion, t, day).catch((e: unknown) => this.onError("recording a key's usage", e));
      if (seeded) await shared.addTokens(key, day, n).catch((e: unknown) => this.onError("adding to a key's daily token tally", e));
    })();
  }
}

const trackers = new WeakMap<object, KeyUsageTracker>();

/**
 * The one tracker of a running server (keyed by its context object); made and registered as a turn observer on first
 * use. With `owner.cluster.quotas` (several instances over Redis) its windows and day tallies are the cluster's.
 */
export function keyUsageTracker(owner: {
  store: StoreApi;
  observers: TurnObserver[];
  cluster?: { quotas?: QuotaCounters };
  logger?: { warn(msg: string, fields?: Record<string, unknown>): void };
}): KeyUsageTracker {
  let t = trackers.get(owner);
  if (!t) {
    const warn = (what: string, e: unknown) => owner.logger?.warn(`key usage: ${what} failed`, { error: e instanceof Error ? e.message : String(e) });
    t = new KeyUsageTracker(owner.store, Date.now, warn, owner.cluster?.quotas);
    trackers.set(owner, t);
    owner.observers.push(t);
  }
  return t;
}
