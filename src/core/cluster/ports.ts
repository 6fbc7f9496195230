/**
 * What the server needs from the rest of a cluster, as narrow ports. One instance (the default) fills them in
 * process (`singleCluster`); with DS2API_REDIS_URL, src/cluster/ fills them over Redis so several instances share
 * account leases, logins, quotas, stored responses and change events. Core holds only the contracts.
 */
import type { ChangeBus } from "../changes/change-bus.ts";

export type Dependency = "database" | "redis";

/** A shared service this instance needs is down: every surface answers 503 (code `${dependency}_unavailable`, Retry-After 5). */
export class DependencyUnavailableError extends Error {
  readonly status = 503;
  readonly retryAfterSeconds = 5;
  constructor(
    readonly dependency: Dependency,
    message: string,
  ) {
    super(message);
    this.name = "DependencyUnavailableError";
  }
  get code(): string {
    return `${this.dependency}_unavailable`;
  }
}

export interface DependencyState {
  up: boolean;
  /** Since when (ms) it has been in this state. */
  since: number;
  /** Why it is down (never a URL with a password). */
  error?: string;
}

export interface DependencyHealth {
  up(d: Dependency): boolean;
  /** Throws DependencyUnavailableError at once while `d` is known to be down (no timeout on the request path). */
  assertUp(d: Dependency): void;
  /** A call to `d` failed with this error (a connection error marks it down). */
  report(d: Dependency, error: unknown): void;
  /** A call to `d` worked. */
  ok(d: Dependency): void;
  view(): Partial<Record<Dependency, DependencyState>>;
}

/** What one lease must respect, cluster-wide. */
export interface LeaseLimits {
  /** Streams at once on this account. */
  maxInflight: number;
  /** Minimum ms between two starts on this account (0: none). */
  gapMs: number;
  /** The gap (with its jitter drawn) that the next start must respect after this one. */
  nextGapMs: number;
  /** Starts per UTC day (0: no cap). */
  dailyCap: number;
  /** Streams at once over all accounts (0: no bound). */
  globalMax: number;
}

export type LeaseRefusal = "busy" | "paced" | "daily_cap" | "cooling" | "global";

export type LeaseResult = { ok: true; leaseId: string; inflight: number } | { ok: false; reason: LeaseRefusal; waitMs?: number };

export interface ClusterCapacity {
  /** Instances seen in the last few seconds. */
  instances: number;
  inflight: number;
  waiting: number;
  /** Leases held per account, over all instances. */
  perAccount: Record<string, number>;
}

export interface ClusterLeases {
  tryAcquire(account: string, limits: LeaseLimits): Promise<LeaseResult>;
  /** Never throws; the TTL covers a release that could not be sent. */
  release(account: string, leaseId: string): void;
  /** Cluster-wide cool-down of an account (undefined: lift it). */
  setCooldown(account: string, until?: number): Promise<void>;
  /** Told when a lease on some account was released anywhere in the cluster. */
  onFreed(fn: (account: string) => void): () => void;
  /** This instance's queue, for the heartbeat. */
  reportLocal(s: { inflight: number; waiting: number }): void;
  /** The last heartbeat read (≤ 1 s old); undefined before the first. */
  capacity(): ClusterCapacity | undefined;
}

export interface ClusterTokens {
  get(account: string): Promise<{ token: string; at: number } | undefined>;
  /** Log in once across the cluster: the instance holding the lock runs `login`, the others wait for its token. */
  loginOnce(account: string, login: () => Promise<string>, opts: { stale?: string }): Promise<string>;
  /** Told when another instance stored a new token for an account. */
  onChanged(fn: (account: string) => void): () => void;
}

export interface QuotaCounters {
  admitRpm(key: string, limit: number): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number }>;
  tokensToday(key: string, day: string, seed: () => Promise<number>): Promise<number>;
  addTokens(key: string, day: string, n: number): Promise<void>;
}

type Msg = Record<string, unknown>;

/** Stored Responses API turns, for `previous_response_id`. */
export interface ResponseStorePort {
  put(id: string, callerId: string, response: Msg, conversation: Msg[]): Promise<void>;
  get(id: string, callerId: string): Promise<{ response: Msg; conversation: Msg[] } | undefined>;
}

export type ClusterMode = "single" | "redis";

export interface Cluster {
  readonly mode: ClusterMode;
  readonly instanceId: string;
  bus: ChangeBus;
  health: DependencyHealth;
  responses: ResponseStorePort;
  /** Absent in single mode: the pool's own counters are the truth. */
  leases?: ClusterLeases;
  tokens?: ClusterTokens;
  quotas?: QuotaCounters;
  close(): Promise<void>;
}
