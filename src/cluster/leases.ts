/**
 * Cluster-wide account leases over Redis (docs/design/multi-instance.md §4): a lease is a member of
 * `lease:<acct>` whose score is its expiry, granted by acquire.lua only if the account is not cooling, busy, paced,
 * at its daily cap or over the global bound. This instance renews all its live leases in one call every ttl/3 (a
 * kill -9's leases are gone within the TTL; a restarted Redis gets ours back), releases publish `freed`, and a
 * heartbeat every second writes this instance's queue and reads the cluster's (cached for `capacity()`).
 */
import type { ClusterCapacity, ClusterLeases, LeaseLimits, LeaseResult, LeaseRefusal } from "../core/cluster/ports.ts";
import type { Logger } from "../observability/logger.ts";
import type { RedisConnection } from "./redis-connection.ts";
import { ACQUIRE, HEARTBEAT, LEAVE, RELEASE, RENEW } from "./scripts.ts";

export interface ClusterLeasesOptions {
  conn: RedisConnection;
  prefix: string;
  instanceId: string;
  logger: Logger;
  leaseTtlMs: number;
  /** Heartbeat period (default 1 s); instances seen within 3 periods count. */
  heartbeatMs?: number;
}

interface LiveLease {
  account: string;
  global: boolean;
}

const REASONS: ReadonlySet<string> = new Set<LeaseRefusal>(["busy", "paced", "daily_cap", "cooling", "global"]);

export class RedisClusterLeases implements ClusterLeases {
  private readonly live = new Map<string, LiveLease>();
  private readonly freed = new Set<(account: string) => void>();
  private local = { inflight: 0, waiting: 0 };
  private last: { cap: ClusterCapacity; at: number } | undefined;
  private seq = 0;
  private readonly nonce = crypto.randomUUID().slice(0, 8);
  private renewTimer: ReturnType<typeof setInterval> | undefined;
  private beatTimer: ReturnType<typeof setInterval> | undefined;
  private unsubscribe: (() => void) | undefined;
  private stopReconnected: (() => void) | undefined;
  /** Renew failures since start (a metric for ops). */
  renewFailures = 0;

  constructor(private readonly o: ClusterLeasesOptions) {}

  private key(kind: string, rest: string): string {
    return `${this.o.prefix}${kind}:${rest}`;
  }

  private get freedChannel(): string {
    return `${this.o.prefix}freed`;
  }

  /** Subscribes to `freed`, sends the first heartbeat and starts the renew and heartbeat timers. */
  async start(): Promise<void> {
    this.unsubscribe = await this.o.conn.subscribe(this.freedChannel, (account) => {
      for (const fn of this.freed) {
        try {
          fn(account);
        } catch (e) {
          this.o.logger.warn("cluster: a freed listener failed", { error: e instanceof Error ? e.message : String(e) });
        }
      }
    });
    // A restarted Redis forgot our leases and our heartbeat: give them back at once rather than at the next tick.
    this.stopReconnected = this.o.conn.onReconnected(() => {
      void this.renew();
      void this.heartbeat().catch(() => {});
    });
    const beatMs = this.o.heartbeatMs ?? 1000;
    await this.heartbeat().catch(() => {});
    this.renewTimer = setInterval(() => void this.renew(), Math.max(10, Math.floor(this.o.leaseTtlMs / 3)));
    this.beatTimer = setInterval(() => void this.heartbeat().catch(() => {}), beatMs);
    this.renewTimer.unref?.();
    this.beatTimer.unref?.();
  }

  async tryAcquire(account: string, limits: LeaseLimits): Promise<LeaseResult> {
    const leaseId = `${this.o.instanceId}#${this.nonce}#${++this.seq}`;
    const global = limits.globalMax > 0;
    // A reply lost to a dropped connection leaves a lease nobody renews: the TTL ends it.
    const r = await this.o.conn.script<(string | number)[]>(
      ACQUIRE,
      [this.key("lease", account), this.key("acct", account), this.key("lease", "_global"), `${this.o.prefix}accounts`],
      [leaseId, this.o.leaseTtlMs, limits.maxInflight, limits.gapMs, limits.nextGapMs, limits.dailyCap, limits.globalMax, account],
    );
    if (Number(r[0]) === 1) {
      this.live.set(leaseId, { account, global });
      return { ok: true, leaseId, inflight: Number(r[1]) };
    }
    const reason = String(r[1]);
    if (!REASONS.has(reason)) throw new Error(`acquire.lua answered an unknown reason: ${reason}`);
    const wait = Number(r[2]);
    return wait >= 0 ? { ok: false, reason: reason as LeaseRefusal, waitMs: wait } : { ok: false, reason: reason as LeaseRefusal };
  }

  release(account: string, leaseId: string): void {
    this.live.delete(leaseId);
    void this.o.conn
      .script(RELEASE, [this.key("lease", account), this.key("lease", "_global")], [leaseId, this.freedChannel, account])
      .catch((e: unknown) => this.o.logger.debug("cluster: lease release not sent (the TTL ends it)", { account, error: e instanceof Error ? e.message : String(e) }));
  }

  async setCooldown(account: string, until?: number): Promise<void> {
    const key = this.key("acct", account);
    if (until === undefined) await this.o.conn.call("HDEL", [key, "cooldownUntil"]);
    else {
      await this.o.conn.call("HSET", [key, "cooldownUntil", String(Math.round(until))]);
      await this.o.conn.call("PEXPIRE", [key, "172800000"]);
    }
  }

  onFreed(fn: (account: string) => void): () => void {
    this.freed.add(fn);
    return () => this.freed.delete(fn);
  }

  reportLocal(s: { inflight: number; waiting: number }): void {
    this.local = { inflight: s.inflight, waiting: s.waiting };
  }

  /** The last heartbeat read; undefined before the first and once it is older than 3 heartbeats (Redis away). */
  capacity(): ClusterCapacity | undefined {
    if (!this.last || Date.now() - this.last.at > 3 * (this.o.heartbeatMs ?? 1000)) return undefined;
    return this.last.cap;
  }

  /** Leases this instance holds and has not released. */
  get liveCount(): number {
    return this.live.size;
  }

  /** Extends every live lease of this instance (re-adding any that Redis lost). Never throws. */
  async renew(): Promise<void> {
    if (this.live.size === 0) return;
    const keys = [this.key("lease", "_global")];
    const args: (string | number)[] = [this.o.leaseTtlMs];
    for (const [id, l] of this.live) {
      keys.push(this.key("lease", l.account));
      args.push(id, l.account, l.global ? "1" : "0");
    }
    try {
      await this.o.conn.script(RENEW, keys, args);
    } catch (e) {
      this.renewFailures++;
      this.o.logger.warn("cluster: lease renew failed", { leases: this.live.size, error: e instanceof Error ? e.message : String(e) });
    }
  }

  /** Writes this instance's queue and reads the cluster's. */
  async heartbeat(): Promise<ClusterCapacity> {
    const window = 3 * (this.o.heartbeatMs ?? 1000);
    const r = await this.o.conn.script<(string | number)[]>(
      HEARTBEAT,
      [this.key("inst", this.o.instanceId), `${this.o.prefix}instances`, `${this.o.prefix}accounts`],
      [this.o.instanceId, this.local.inflight, this.local.waiting, window, `${this.o.prefix}inst:`, `${this.o.prefix}lease:`],
    );
    const perAccount: Record<string, number> = {};
    for (let i = 3; i + 1 < r.length; i += 2) perAccount[String(r[i])] = Number(r[i + 1]);
    const cap: ClusterCapacity = { instances: Number(r[0]), inflight: Number(r[1]), waiting: Number(r[2]), perAccount };
    this.last = { cap, at: Date.now() };
    return cap;
  }

  /** Stops the timers, releases this instance's leases and leaves the instance list (best effort). */
  async stop(): Promise<void> {
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (this.beatTimer) clearInterval(this.beatTimer);
    this.unsubscribe?.();
    this.stopReconnected?.();
    const held = [...this.live];
    this.live.clear();
    await Promise.all(
      held.map(([id, l]) =>
        this.o.conn.script(RELEASE, [this.key("lease", l.account), this.key("lease", "_global")], [id, this.freedChannel, l.account]).catch(() => {}),
      ),
    );
    await this.o.conn.script(LEAVE, [this.key("inst", this.o.instanceId), `${this.o.prefix}instances`], [this.o.instanceId]).catch(() => {});
  }
}
