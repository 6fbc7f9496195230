/**
 * What the cluster last refused (several instances, docs/design/multi-instance.md §4 "Pool"): an account the cluster
 * refused is skipped by the pool's selection until its hint ends, and the outlook, Retry-After and the timed wake
 * read how long that is. A `busy` or `global` refusal says no wait: it is skipped for ~100 ms (±25 %), or until a
 * `freed` event from any instance clears it, whichever comes first; `paced`, `cooling` and `daily_cap` carry their wait.
 */
import type { LeaseRefusal } from "../core/cluster/ports.ts";

export interface ClusterHint {
  reason: LeaseRefusal;
  /** Instance ms until which the account is skipped. */
  until: number;
}

/** How long a refusal without a wait (`busy`, `global`) keeps its account(s) skipped when no `freed` event comes. */
export const BUSY_RETRY_MS = 100;

export class ClusterHints {
  private readonly byAccount = new Map<string, ClusterHint>();
  private globalUntil = 0;
  /** `freed` events seen, and the count when the last one for each account came. */
  private freedSeq = 0;
  private readonly lastFreed = new Map<string, number>();

  constructor(private readonly busyRetryMs = BUSY_RETRY_MS) {}

  /** ±25 %: instances that were refused together do not all come back at the same moment. */
  private busyWait(): number {
    return Math.round(this.busyRetryMs * (0.75 + Math.random() * 0.5));
  }

  /** Taken before asking the cluster: a `freed` that comes while the answer is on its way makes a `busy` moot. */
  mark(): number {
    return this.freedSeq;
  }

  /**
   * The cluster refused a lease on `account` at `t`; `waitMs` is the wait it named, if any; `askedAt` is `mark()`
   * from before the ask (a slot freed since then: no hint, the account may be asked again at once).
   */
  refused(account: string, reason: LeaseRefusal, t: number, waitMs: number | undefined, askedAt: number): void {
    if (reason === "busy" && (this.lastFreed.get(account) ?? 0) > askedAt) return;
    if (reason === "global" && this.freedSeq > askedAt) return;
    const until = t + Math.max(1, waitMs ?? this.busyWait());
    if (reason === "global") this.globalUntil = Math.max(this.globalUntil, until);
    else this.byAccount.set(account, { reason, until });
  }

  /** The hint on `account` still in force at `t`. */
  of(account: string, t: number): ClusterHint | undefined {
    const h = this.byAccount.get(account);
    if (!h) return undefined;
    if (h.until > t) return h;
    this.byAccount.delete(account);
    return undefined;
  }

  /** Until when the cluster-wide bound refuses every account (undefined: it does not). */
  global(t: number): number | undefined {
    return this.globalUntil > t ? this.globalUntil : undefined;
  }

  /** A lease on `account` was released somewhere: a slot there (and under the global bound) may be free now. */
  freed(account: string): void {
    this.lastFreed.set(account, ++this.freedSeq);
    if (this.byAccount.get(account)?.reason === "busy") this.byAccount.delete(account);
    this.globalUntil = 0;
  }

}
