/**
 * The account pool: hands out leases on DeepSeek accounts with a per-account in-flight limit, an optional
 * global limit, pacing, a FIFO wait queue, and cool-downs for accounts that misbehave. Selection takes the
 * account with the fewest requests in flight, then the least recently used. A lease is released exactly
 * once whatever happens; reloading the account list keeps in-flight counts.
 *
 * The accounts come from an `AccountView` (in memory, reloaded on change events): selecting, granting and marking
 * never wait on the store; their writes go through the view fire-and-forget.
 *
 * Several instances (`ClusterLeases` given, docs/design/multi-instance.md §4): the limits hold cluster-wide. A grant
 * reserves the slot here, then asks the cluster for the lease with the same limits; a refusal undoes the reservation,
 * leaves a hint (the account is skipped until it ends) and the next candidate is tried; with none left the request
 * waits in this instance's FIFO queue, served by an async single-flight pump that a local release, a `freed` event
 * from any instance or the end of a hint wakes. Without cluster leases every path is the local one, with no await.
 */
import type { ClusterLeases, LeaseResult } from "../core/cluster/ports.ts";
import type { AccountPoolStatus } from "../core/upstream/provider.ts";
import type { AccountRecord } from "../store/accounts-repo.ts";
import type { AccountView } from "./account-view.ts";
import { ClusterHints } from "./cluster-hints.ts";
import { AccountsCoolingError, AccountUnavailableError, NoAccountsError, PoolBusyError, TARGET_UNAVAILABLE } from "./pool-errors.ts";
import type { PoolSettings } from "./pool-settings.ts";
import type { TokenManager } from "./token-manager.ts";

/** `risk_device` and `muted` are account states the provider reported (DeepSeek refused the device, muted the user). */
export type FailureKind = "rate_limited" | "auth" | "upstream" | "login" | "proxy" | "risk_device" | "muted";

const LOGIN_FAILED = /^(?:account )?login failed:\s*/i;

/**
 * The status reason stored for a failing account. It starts with the kind (the pool reads "rate_limited:" back to
 * tell capacity limits apart); a failed login reads "login failed: …" once, however the message was already prefixed
 * ("account login failed: …" from a turn, "login failed: …" from an account test).
 */
export function failureReason(kind: FailureKind, message: string): string {
  if (kind === "login") return `login failed: ${message.replace(LOGIN_FAILED, "")}`;
  return `${kind}: ${message}`;
}

export interface Lease {
  readonly identifier: string;
  /** The account's token (logging in when there is none or it is older than the refresh interval). */
  token(): Promise<string>;
  /** Log in again because `staleToken` was rejected; concurrent callers share one login. */
  relogin(staleToken: string): Promise<string>;
  /** Mark the account as failing (cool-down and last error) — the caller usually moves on to another account. */
  fail(kind: FailureKind, message: string): void;
  /** Mark the request as served well (clears a previous failing state). */
  succeed(): void;
  release(): void;
}

export interface AcquireOptions {
  signal?: AbortSignal;
  /** Only this account (X-Ds2-Target-Account). */
  pinned?: string;
  /** Accounts already tried by this request. */
  exclude?: ReadonlySet<string>;
  /** Longest wait for an account (default: the `queueWaitMs` setting). */
  maxWaitMs?: number;
  /** Fail at once rather than wait for a cool-down to end (a request moving on after a failed account). */
  noCooldownWait?: boolean;
}

interface SlotState {
  inflight: number;
  lastStartAt: number;
  /** Random 0…1 drawn at each start: the next gap is minIntervalMs × (1 + jitter × minIntervalJitter). */
  jitter: number;
  lastAcquiredSeq: number;
  day: string;
  dayCount: number;
}

interface Waiter {
  opts: AcquireOptions;
  /** When it queued, and the latest it may be served (instance ms). */
  since: number;
  deadline: number;
  resolve(lease: Lease): void;
  reject(err: Error): void;
  onAbort?: () => void;
  timer?: ReturnType<typeof setTimeout>;
}

/** Why the candidates of a request cannot take it right now. */
interface Outlook {
  /** Some candidate is only busy (in flight, global cap, pacing): a slot frees up by itself soon. */
  capacity: boolean;
  /** ms until the first resting candidate (cool-down, failed login, daily cap) may serve again. */
  soonestMs?: number;
  /** Every resting candidate rests after an upstream rate limit. */
  allRateLimited: boolean;
  resting: number;
}

/** The pool as admin, health and metrics see it: the provider-neutral account-pool status of the contract. */
export type PoolStatus = AccountPoolStatus;

/** The cluster side of the pool (several instances); absent: the pool's own counters are the truth. */
export interface PoolCluster {
  leases: ClusterLeases;
  /** Told about a cluster write that failed in the background (a cool-down not shared). */
  warn?: (message: string, fields: Record<string, string>) => void;
  /** How long a `busy` refusal skips its account when no `freed` event comes (default 100 ms ±25 %; tests set it long). */
  busyRetryMs?: number;
}

/** A slot taken locally, not yet (or no longer) backed by a cluster lease: what undoing it restores. */
interface Reservation {
  t: number;
  slot: SlotState;
  seq: number;
  /** The slot's pacing and day counters before the reservation. */
  before: Pick<SlotState, "lastStartAt" | "jitter" | "lastAcquiredSeq" | "day" | "dayCount">;
}

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export class AccountPool {
  private readonly slots = new Map<string, SlotState>();
  private readonly waiters: Waiter[] = [];
  private seq = 0;
  private totalInflight = 0;
  /** Smoothed lease duration, used for Retry-After. */
  private avgLeaseMs = 5000;
  private wakeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Cluster mode: what the cluster last refused, a pass of the async pump running, and one more asked for. */
  private readonly hints: ClusterHints;
  private pumping = false;
  private pumpAgain = false;
  private readonly stopFreed: (() => void) | undefined;

  constructor(
    private readonly view: AccountView,
    private readonly tokens: TokenManager,
    private readonly settings: () => PoolSettings,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
    private readonly cluster?: PoolCluster,
  ) {
    this.hints = new ClusterHints(cluster?.busyRetryMs);
    this.stopFreed = cluster?.leases.onFreed((account) => {
      this.hints.freed(account);
      if (this.waiters.length > 0) this.pump();
    });
  }

  /** The accounts now (the view's snapshot: replaced by loads, never emptied while one runs). */
  private get accounts(): readonly AccountRecord[] {
    return this.view.list();
  }

  /**
   * Re-read accounts from the store (at start, after admin changes). In-flight counts are kept; requests that
   * arrive meanwhile are served from the accounts as they were.
   */
  async reload(): Promise<void> {
    await this.view.reload();
    this.pump();
  }

  /** Re-read only these accounts (after an admin change named them); see `AccountView.refresh`. */
  async refresh(identifiers: Iterable<string>): Promise<void> {
    await this.view.refresh(identifiers);
    this.pump();
  }

  get size(): number {
    return this.accounts.length;
  }

  /** The account as the pool sees it (in memory). */
  account(id: string): AccountRecord | undefined {
    return this.view.get(id);
  }

  /** An account's slot, created on first sight (a new account from a reload, or a deleted one's last lease). */
  private slot(id: string): SlotState {
    let s = this.slots.get(id);
    if (!s) this.slots.set(id, (s = { inflight: 0, lastStartAt: 0, jitter: 0, lastAcquiredSeq: 0, day: "", dayCount: 0 }));
    return s;
  }

  /** Why an account cannot take a request right now, or undefined when it can. `wait` is ms until it might. */
  private blocker(a: AccountRecord, s: PoolSettings, t: number): { reason: string; wait?: number } | undefined {
    if (!a.enabled) return { reason: "disabled" };
    // Only the operator ends it (a new device id, or a passing re-test): never waited for, never logged in.
    if (a.status === "risk_device") return { reason: "risk_device" };
    if (a.cooldownUntil && a.cooldownUntil > t) return { reason: a.status, wait: a.cooldownUntil - t };
    const slot = this.slot(a.identifier);
    if (slot.inflight >= s.maxInflightPerAccount) return { reason: "busy" };
    const gap = pacedGap(s, slot.jitter);
    if (gap > 0 && t - slot.lastStartAt < gap) return { reason: "paced", wait: gap - (t - slot.lastStartAt) };
    if (s.dailyCap > 0 && slot.day === utcDay(t) && slot.dayCount >= s.dailyCap) return { reason: "daily_cap", wait: Date.parse(`${slot.day}T00:00:00Z`) + 86_400_000 - t };
    if (this.cluster) {
      // What the cluster refused: busy and paced elsewhere are capacity, a cluster cool-down or daily cap is rest.
      const hint = this.hints.of(a.identifier, t);
      if (hint) return { reason: hint.reason, wait: hint.until - t };
    }
    return undefined;
  }

  /** The global bound is reached: here, or (cluster) as the cluster last said. */
  private globalFull(s: PoolSettings, t: number): boolean {
    if (s.globalMaxInflight > 0 && this.totalInflight >= s.globalMaxInflight) return true;
    return this.cluster !== undefined && this.hints.global(t) !== undefined;
  }

  private select(opts: AcquireOptions): AccountRecord | undefined {
    const s = this.settings();
    const t = this.now();
    if (this.globalFull(s, t)) return undefined;
    let best: AccountRecord | undefined;
    for (const a of this.accounts) {
      if (opts.pinned && a.identifier !== opts.pinned) continue;
      if (opts.exclude?.has(a.identifier)) continue;
      if (this.blocker(a, s, t)) continue;
      if (!best) {
        best = a;
        continue;
      }
      const sa = this.slot(a.identifier);
      const sb = this.slot(best.identifier);
      if (sa.inflight < sb.inflight || (sa.inflight === sb.inflight && sa.lastAcquiredSeq < sb.lastAcquiredSeq)) best = a;
    }
    return best;
  }

  private outlook(opts: AcquireOptions): Outlook {
    const s = this.settings();
    const t = this.now();
    const globalFull = this.globalFull(s, t);
    const out: Outlook = { capacity: false, allRateLimited: true, resting: 0 };
    for (const a of this.accounts) {
      if (!a.enabled || a.status === "risk_device" || (opts.pinned && a.identifier !== opts.pinned) || opts.exclude?.has(a.identifier)) continue;
      const b = this.blocker(a, s, t);
      if (!b || b.reason === "busy" || b.reason === "paced") {
        out.capacity = true;
        continue;
      }
      if (globalFull && b.wait === undefined) out.capacity = true;
      if (b.wait === undefined) continue;
      out.resting++;
      out.soonestMs = Math.min(out.soonestMs ?? Infinity, b.wait);
      // Rest after an upstream rate limit, or the operator's daily cap: both are capacity limits (429).
      if (b.reason !== "daily_cap" && !(a.statusReason ?? "").startsWith("rate_limited:")) out.allRateLimited = false;
    }
    if (out.resting === 0) out.allRateLimited = false;
    return out;
  }

  private coolingError(o: Outlook, waitedMs?: number): AccountsCoolingError {
    const after = Math.max(1, Math.ceil((o.soonestMs ?? 30_000) / 1000));
    const waited = waitedMs !== undefined ? ` (waited ${Math.round(waitedMs / 100) / 10} s)` : "";
    const what = o.allRateLimited ? "rate limited by DeepSeek or at the daily request cap" : "cooling down after failures, failing login or at the daily cap";
    return new AccountsCoolingError(`no account can take the request: ${o.resting} account(s) ${what}; the first is back in about ${after} s${waited}`, after, o.allRateLimited);
  }

  /** A pinned account that rests (cool-down, failed login, daily cap) answers like an unknown one and is never waited for. */
  private restingError(o: Outlook, opts: AcquireOptions, waitedMs?: number): AccountsCoolingError | AccountUnavailableError {
    if (opts.pinned) return new AccountUnavailableError(TARGET_UNAVAILABLE, true, `account ${opts.pinned} is resting (${this.coolingError(o, waitedMs).message})`);
    return this.coolingError(o, waitedMs);
  }

  /** Could this request ever be served (ignoring momentary business)? An account whose device DeepSeek refused cannot. */
  private servable(opts: AcquireOptions): boolean {
    return this.accounts.some((a) => a.enabled && a.status !== "risk_device" && (!opts.pinned || a.identifier === opts.pinned) && !opts.exclude?.has(a.identifier));
  }

  async acquire(opts: AcquireOptions = {}): Promise<Lease> {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    if (this.accounts.length === 0) throw new NoAccountsError("no DeepSeek accounts are configured; add one in the admin console or config.json");
    if (opts.pinned && !this.accounts.some((a) => a.identifier === opts.pinned)) throw new AccountUnavailableError(TARGET_UNAVAILABLE, true, `account ${opts.pinned} does not exist`);
    if (!this.servable(opts)) {
      throw opts.pinned
        ? new AccountUnavailableError(TARGET_UNAVAILABLE, true, `account ${opts.pinned} is disabled or its device was refused by DeepSeek (risk_device)`)
        : new AccountUnavailableError(`every account is disabled, waiting for a new device id (risk_device: ${this.riskDeviceCount()} account(s); see the admin console) or was already tried`);
    }
    if (this.waiters.length === 0) {
      if (!this.cluster) {
        const a = this.select(opts);
        if (a) return this.grant(a);
      } else {
        const lease = await this.grantClustered(opts, this.cluster.leases);
        if (lease && opts.signal?.aborted) {
          lease.release();
          throw abortError(opts.signal);
        }
        if (lease) return lease;
      }
    }
    const s = this.settings();
    const maxWaitMs = opts.maxWaitMs ?? s.queueWaitMs;
    // Nobody waits out a cool-down that lasts longer than the request may wait (or at all, when moving on).
    const outlook = this.outlook(opts);
    if (!outlook.capacity && (opts.pinned || opts.noCooldownWait || outlook.soonestMs === undefined || outlook.soonestMs > maxWaitMs)) throw this.restingError(outlook, opts);
    if (this.waiters.length >= s.maxQueue) {
      throw new PoolBusyError(`all ${this.accounts.length} account(s) are busy and the wait queue is full (${s.maxQueue})`, this.retryAfterSeconds());
    }
    const since = this.now();
    return new Promise<Lease>((resolve, reject) => {
      const waiter: Waiter = { opts, since, deadline: since + maxWaitMs, resolve, reject };
      const leave = () => void this.dequeue(waiter);
      if (opts.signal) {
        waiter.onAbort = () => {
          leave();
          reject(abortError(opts.signal!));
        };
        opts.signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      if (Number.isFinite(maxWaitMs)) {
        waiter.timer = setTimeout(() => {
          leave();
          const o = this.outlook(opts);
          const waited = this.now() - since;
          reject(
            o.capacity
              ? new PoolBusyError(`no account became free within ${Math.round(waited / 100) / 10} s (queue wait limit; all ${this.accounts.length} account(s) busy)`, this.retryAfterSeconds())
              : this.restingError(o, opts, waited),
          );
        }, maxWaitMs);
      }
      this.waiters.push(waiter);
      this.reportLocal();
      this.pump();
    });
  }

  /** Take a waiter out of the queue (served, aborted, timed out); false when it had already left. */
  private dequeue(w: Waiter): boolean {
    if (w.timer) clearTimeout(w.timer);
    if (w.onAbort) w.opts.signal?.removeEventListener("abort", w.onAbort);
    const i = this.waiters.indexOf(w);
    if (i < 0) return false;
    this.waiters.splice(i, 1);
    this.reportLocal();
    return true;
  }

  /** Serve waiters in FIFO order; a waiter that cannot be served (e.g. pinned to a busy account) does not block later ones. */
  private pump(): void {
    if (this.cluster) return this.pumpClustered(this.cluster.leases);
    for (let i = 0; i < this.waiters.length; ) {
      const w = this.waiters[i]!;
      const a = this.select(w.opts);
      if (!a) {
        i++;
        continue;
      }
      this.dequeue(w);
      w.resolve(this.grant(a));
    }
    this.scheduleTimedWake();
  }

  /**
   * The cluster pump: one pass at a time (a wake during a pass asks for one more), head waiter first. A waiter with
   * no pin and no exclusions that cannot be served ends the pass: any later waiter asks for a subset of its
   * candidates, so serving one would only break the FIFO order.
   */
  private pumpClustered(leases: ClusterLeases): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void (async () => {
      try {
        do {
          this.pumpAgain = false;
          await this.pumpPass(leases);
        } while (this.pumpAgain && this.waiters.length > 0);
      } catch (e) {
        this.cluster?.warn?.("account pool: serving the queue failed", { error: e instanceof Error ? e.message : String(e) });
      } finally {
        this.pumping = false;
        this.scheduleTimedWake();
      }
    })();
  }

  private async pumpPass(leases: ClusterLeases): Promise<void> {
    const skipped = new Set<Waiter>();
    for (;;) {
      const w = this.waiters.find((x) => !skipped.has(x));
      if (!w) return;
      let lease: Lease | undefined;
      try {
        lease = await this.grantClustered(w.opts, leases);
      } catch (e) {
        // The cluster cannot be asked (Redis unreachable): this waiter gets that answer, the next one asks again.
        if (this.dequeue(w)) w.reject(e instanceof Error ? e : new Error(String(e)));
        continue;
      }
      if (!lease) {
        // The cluster may only now have said that its candidates rest longer than it may wait: not waited out.
        const t = this.now();
        const o = this.outlook(w.opts);
        if (!o.capacity && (w.opts.pinned || w.opts.noCooldownWait || o.soonestMs === undefined || t + o.soonestMs > w.deadline)) {
          if (this.dequeue(w)) w.reject(this.restingError(o, w.opts, t - w.since));
          continue;
        }
        if (!w.opts.pinned && !w.opts.exclude?.size) return;
        skipped.add(w);
        continue;
      }
      // It left while the lease was asked for (aborted, timed out): the lease goes back.
      if (this.dequeue(w)) w.resolve(lease);
      else lease.release();
    }
  }

  /** Cool-downs and pacing end by time, not by a release: wake the queue when the earliest of them ends. */
  private scheduleTimedWake(): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    if (this.waiters.length === 0) return;
    const s = this.settings();
    const t = this.now();
    let soonest = Infinity;
    for (const a of this.accounts) {
      const b = this.blocker(a, s, t);
      if (b?.wait !== undefined) soonest = Math.min(soonest, b.wait);
    }
    const globalUntil = this.cluster ? this.hints.global(t) : undefined;
    if (globalUntil !== undefined) soonest = Math.min(soonest, globalUntil - t);
    if (soonest < Infinity) {
      this.wakeTimer = setTimeout(() => this.pump(), Math.max(5, soonest + 1));
      (this.wakeTimer as { unref?: () => void }).unref?.();
    }
  }

  private retryAfterSeconds(): number {
    const s = this.settings();
    const t = this.now();
    const capacity = Math.max(1, this.accounts.filter((a) => a.enabled).length * s.maxInflightPerAccount);
    if (this.cluster) return this.clusterRetryAfterSeconds(s, t, capacity, this.cluster.leases);
    const queueWait = ((this.waiters.length + 1) / capacity) * this.avgLeaseMs;
    let earliestCooldown = Infinity;
    if (this.accounts.every((a) => this.blocker(a, s, t))) {
      for (const a of this.accounts) {
        const b = this.blocker(a, s, t);
        if (b?.wait !== undefined) earliestCooldown = Math.min(earliestCooldown, b.wait);
      }
    }
    const ms = Math.max(1000, Math.min(queueWait, earliestCooldown === Infinity ? queueWait : Math.max(queueWait, earliestCooldown)));
    return Math.ceil(ms / 1000);
  }

  /**
   * Retry-After with several instances: the cluster's queue over the cluster's capacity (enabled accounts × the
   * per-account limit) times the average lease, or, when every account rests, the earliest end of a rest.
   */
  private clusterRetryAfterSeconds(s: PoolSettings, t: number, capacity: number, leases: ClusterLeases): number {
    const waiting = leases.capacity()?.waiting ?? this.waiters.length;
    let ms = ((waiting + 1) / capacity) * this.avgLeaseMs;
    let earliest = Infinity;
    let everyResting = this.accounts.length > 0;
    for (const a of this.accounts) {
      const b = this.blocker(a, s, t);
      if (!b || b.reason === "busy" || b.reason === "paced" || b.reason === "global") everyResting = false;
      else if (b.wait !== undefined) earliest = Math.min(earliest, b.wait);
    }
    if (everyResting && earliest < Infinity) ms = earliest;
    return Math.ceil(Math.max(1000, ms) / 1000);
  }

  /** Take a slot on `account` (no cluster: the slot is the lease). */
  private grant(account: AccountRecord): Lease {
    return this.leaseOn(account, this.reserve(account));
  }

  /** Count a start on `account` here: in flight, pacing (a new jitter drawn), LRU order, the day's count. */
  private reserve(account: AccountRecord): Reservation {
    const t = this.now();
    const slot = this.slot(account.identifier);
    const before = { lastStartAt: slot.lastStartAt, jitter: slot.jitter, lastAcquiredSeq: slot.lastAcquiredSeq, day: slot.day, dayCount: slot.dayCount };
    slot.inflight++;
    slot.lastStartAt = t;
    slot.jitter = this.random();
    slot.lastAcquiredSeq = ++this.seq;
    const day = utcDay(t);
    if (slot.day !== day) {
      slot.day = day;
      slot.dayCount = 0;
    }
    slot.dayCount++;
    this.totalInflight++;
    return { t, slot, seq: slot.lastAcquiredSeq, before };
  }

  /** The cluster refused (or could not be asked): the start never happened. */
  private unreserve(r: Reservation): void {
    r.slot.inflight--;
    this.totalInflight--;
    // No later start on this account since: as it was; else only this start's count goes.
    if (r.slot.lastAcquiredSeq === r.seq) Object.assign(r.slot, r.before);
    else if (r.slot.day === utcDay(r.t)) r.slot.dayCount = Math.max(0, r.slot.dayCount - 1);
    this.reportLocal();
  }

  /**
   * Cluster mode: the first candidate the cluster grants a lease on, with the limits this pool enforces (per-account
   * in flight, pacing gap and the next gap drawn now, daily cap, global bound); undefined when every candidate was
   * refused (each refusal leaves a hint, so `select` moves on). A Redis failure undoes the reservation and is thrown.
   */
  private async grantClustered(opts: AcquireOptions, leases: ClusterLeases): Promise<Lease | undefined> {
    for (;;) {
      const a = this.select(opts);
      if (!a) return undefined;
      const s = this.settings();
      const r = this.reserve(a);
      const askedAt = this.hints.mark();
      let result: LeaseResult;
      try {
        result = await leases.tryAcquire(a.identifier, {
          maxInflight: s.maxInflightPerAccount,
          gapMs: s.minIntervalMs,
          nextGapMs: pacedGap(s, r.slot.jitter),
          dailyCap: s.dailyCap,
          globalMax: s.globalMaxInflight,
        });
      } catch (e) {
        this.unreserve(r);
        throw e;
      }
      if (result.ok) return this.leaseOn(a, r, result.leaseId);
      this.unreserve(r);
      this.hints.refused(a.identifier, result.reason, this.now(), result.waitMs, askedAt);
    }
  }

  /** This instance's in-flight and waiting counts, for the cluster heartbeat (a field write, no I/O). */
  private reportLocal(): void {
    this.cluster?.leases.reportLocal({ inflight: this.totalInflight, waiting: this.waiters.length });
  }

  /** The lease on a reserved slot (`leaseId`: the cluster's lease backing it, released with it). */
  private leaseOn(account: AccountRecord, r: Reservation, leaseId?: string): Lease {
    const { t, slot } = r;
    const id = account.identifier;
    void this.view.update(id, {}, (accounts) => accounts.recordUse(id), "record use");
    this.reportLocal();
    let released = false;
    return {
      identifier: id,
      token: () => this.tokens.token(id),
      relogin: (stale) => this.tokens.relogin(id, stale),
      fail: (kind, message) => void this.markFailing(id, kind, message),
      succeed: () => void this.markHealthy(id),
      release: () => {
        if (released) return;
        released = true;
        slot.inflight--;
        this.totalInflight--;
        this.avgLeaseMs = this.avgLeaseMs * 0.8 + (this.now() - t) * 0.2;
        if (leaseId !== undefined) this.cluster?.leases.release(id, leaseId);
        this.reportLocal();
        this.pump();
      },
    };
  }

  private riskDeviceCount(): number {
    return this.accounts.filter((a) => a.enabled && a.status === "risk_device").length;
  }

  /**
   * Put an account into a failing state: at once in memory, written through without waiting. The promise (never
   * rejected) settles with the write: hot paths ignore it, admin paths await it before they answer.
   */
  markFailing(id: string, kind: FailureKind, message: string): Promise<void> {
    if (kind === "risk_device" || kind === "muted") return this.markState(id, kind, message);
    const s = this.settings();
    const until = this.now() + (kind === "login" ? s.loginFailureCooldownMs : s.cooldownMs);
    const status = kind === "login" ? "login_failed" : "cooling_down";
    const reason = failureReason(kind, message);
    // A failed login is its own last error too, so the console shows it once with one "login failed" prefix.
    const lastError = kind === "login" ? reason : message;
    const written = this.view.update(
      id,
      { status, statusReason: reason, cooldownUntil: until, lastError },
      (accounts) => Promise.all([accounts.setStatus(id, status, reason, until), accounts.recordError(id, lastError)]),
      "mark failing",
    );
    this.shareCooldown(id, until);
    this.scheduleTimedWake();
    return written;
  }

  /**
   * An account state the upstream reported. `risk_device` lasts until the operator acts (no cool-down: the pool
   * skips it and nobody waits for it); `muted` rests for the recheck interval, then one request tries it again.
   */
  private markState(id: string, kind: "risk_device" | "muted", message: string): Promise<void> {
    const s = this.settings();
    const until = kind === "muted" ? this.now() + s.mutedRecheckMs : undefined;
    const reason =
      kind === "muted"
        ? `muted: ${message}; wait: the account is skipped and tried again after ${new Date(until!).toISOString().slice(0, 16).replace("T", " ")} UTC (runtime.muted_recheck_minutes = ${Math.round(s.mutedRecheckMs / 60_000)}), or re-test it`
        : failureReason(kind, message);
    const written = this.view.update(
      id,
      { status: kind, statusReason: reason, cooldownUntil: until, lastError: message },
      (accounts) => Promise.all([accounts.setStatus(id, kind, reason, until), accounts.recordError(id, message)]),
      `mark ${kind}`,
    );
    // A muted account rests cluster-wide; a refused device is a state every instance reads from the store.
    if (until !== undefined) this.shareCooldown(id, until);
    this.scheduleTimedWake();
    return written;
  }

  /** End a failing state (a served request, a passing re-test); the promise settles with the write, as `markFailing`'s. */
  markHealthy(id: string): Promise<void> {
    const a = this.view.get(id);
    if (!a || (a.status === "ok" && !a.cooldownUntil)) return Promise.resolve();
    if (a.cooldownUntil) this.shareCooldown(id, undefined);
    return this.view.update(id, { status: "ok", statusReason: undefined, cooldownUntil: undefined }, (accounts) => accounts.setStatus(id, "ok"), "mark healthy");
  }

  /** Cluster mode: the cool-down (undefined: lifted) holds on every instance; sent without waiting, a failure only logged. */
  private shareCooldown(id: string, until: number | undefined): void {
    const c = this.cluster;
    if (!c) return;
    void c.leases.setCooldown(id, until).catch((e: unknown) => c.warn?.("account cool-down not shared with the cluster", { account: id, error: e instanceof Error ? e.message : String(e) }));
  }

  status(): PoolStatus {
    const s = this.settings();
    const t = this.now();
    let usableNow = 0;
    let coolingDown = 0;
    let failing = 0;
    let disabled = 0;
    let available = 0;
    for (const a of this.accounts) {
      if (!a.enabled) disabled++;
      else if (a.status === "risk_device") failing++;
      else if (a.cooldownUntil && a.cooldownUntil > t) a.status === "login_failed" ? failing++ : coolingDown++;
      else {
        usableNow++;
        if (this.slot(a.identifier).inflight < s.maxInflightPerAccount) available++;
      }
    }
    return {
      total: this.accounts.length,
      enabled: this.accounts.length - disabled,
      usableNow,
      coolingDown,
      failing,
      disabled,
      inUse: this.totalInflight,
      available,
      waiting: this.waiters.length,
      maxQueue: s.maxQueue,
      maxInflightPerAccount: s.maxInflightPerAccount,
      globalMaxInflight: s.globalMaxInflight,
      // What clients can usefully run at once now: accounts that can take a request (not disabled, cooling or failing) × the per-account limit, within the global cap.
      recommendedConcurrency: s.globalMaxInflight > 0 ? Math.min(s.globalMaxInflight, usableNow * s.maxInflightPerAccount) : usableNow * s.maxInflightPerAccount,
      accounts: this.accounts.map((a) => ({
        identifier: a.identifier,
        inflight: this.slot(a.identifier).inflight,
        status: accountStatusAt(a, t),
        cooldownUntil: a.cooldownUntil && a.cooldownUntil > t ? a.cooldownUntil : undefined,
      })),
    };
  }

  inflightOf(id: string): number {
    return this.slots.get(id)?.inflight ?? 0;
  }

  /** Reject every waiter (shutdown). */
  close(reason = "server is shutting down"): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.stopFreed?.();
    for (const w of this.waiters.splice(0)) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(new PoolBusyError(reason, 1));
    }
  }
}

/** The status an account shows now: disabled, its lasting state (risk_device), its resting state while it rests, else ok. */
export function accountStatusAt(a: AccountRecord, t: number): string {
  if (!a.enabled) return "disabled";
  if (a.status === "risk_device") return a.status;
  return a.cooldownUntil && a.cooldownUntil > t ? a.status : "ok";
}

/** The gap an account keeps after its last start: the minimum plus its random share (whole ms, never below the minimum). */
export function pacedGap(s: Pick<PoolSettings, "minIntervalMs" | "minIntervalJitter">, jitter: number): number {
  if (s.minIntervalMs <= 0) return 0;
  return s.minIntervalMs + Math.ceil(s.minIntervalMs * s.minIntervalJitter * Math.min(1, Math.max(0, jitter)));
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  if (reason instanceof Error) return reason;
  const e = new Error("the request was aborted");
  e.name = "AbortError";
  return e;
}
