/**
 * Throttle for admin-credential guesses (login, raw admin key on the admin API, /metrics), per client
 * address (IPv6 grouped by /64).
 *
 * Policy: the first `freeFailures` wrong guesses are answered at once. After that the address gets one
 * check per slot, slots spaced progressively (1 s, 2 s, 4 s … capped at `maxDelayMs`). An attempt whose
 * slot is at most `maxHoldMs` away is held until then and checked, so a correct credential still gets in
 * from a throttled address (only later); one whose slot is further away is refused with 429 +
 * Retry-After without its guess being checked. A success resets the address; failures are forgotten
 * `forgetMs` after the last one. Brute force from one address is so held to one guess per `maxDelayMs`.
 * At most 8 checks per address run at once (more get 429 at once). Admin JWTs are not guesses and never
 * pass through here.
 */
import { parseIp } from "./trusted-proxies.ts";

export interface LoginLimiterOptions {
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxHoldMs: number;
  forgetMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_LIMITER: LoginLimiterOptions = { freeFailures: 5, baseDelayMs: 1000, maxDelayMs: 30_000, maxHoldMs: 4000, forgetMs: 15 * 60_000 };

/** A granted check: report its outcome exactly once. */
export type Admission = { ok: true; done(success: boolean): void } | { ok: false; retryAfterSeconds: number };

interface AddressState {
  failures: number;
  pending: number;
  nextSlotAt: number;
  lastFailureAt: number;
}

const MAX_ADDRESSES = 10_000;
const MAX_PENDING = 8;

/** The throttle key of an address: IPv6 by its /64 (one host usually owns a whole /64). */
export function throttleKey(address: string): string {
  const ip = parseIp(address);
  if (!ip || !ip.v6) return address;
  return `${(ip.value >> 64n).toString(16)}::/64`;
}

export class LoginLimiter {
  private readonly state = new Map<string, AddressState>();
  private readonly opts: LoginLimiterOptions;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(opts: Partial<LoginLimiterOptions> = {}) {
    this.opts = { ...DEFAULT_LIMITER, ...opts };
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => Bun.sleep(ms));
  }

  private current(key: string): AddressState | undefined {
    const st = this.state.get(key);
    if (st && st.pending === 0 && this.now() - st.lastFailureAt > this.opts.forgetMs) {
      this.state.delete(key);
      return undefined;
    }
    return st;
  }

  private interval(failures: number): number {
    const over = Math.max(0, failures - this.opts.freeFailures);
    return Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** Math.min(over, 30));
  }

  /** Wait for the address's turn (or be refused); the caller then checks the credential and calls done(). */
  async admit(address: string): Promise<Admission> {
    const key = throttleKey(address);
    let st = this.current(key);
    if (!st) {
      st = { failures: 0, pending: 0, nextSlotAt: 0, lastFailureAt: this.now() };
      this.state.set(key, st);
      if (this.state.size > MAX_ADDRESSES) this.state.delete(this.state.keys().next().value!);
    }
    const entry = st;
    // Checks still running for this address (argon2 takes a while): a burst cannot all slip into the free budget.
    if (entry.pending >= MAX_PENDING) return { ok: false, retryAfterSeconds: 1 };
    if (entry.failures >= this.opts.freeFailures) {
      const t = this.now();
      const slotAt = Math.max(t, entry.nextSlotAt);
      const wait = slotAt - t;
      if (wait > this.opts.maxHoldMs) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)) };
      entry.nextSlotAt = slotAt + this.interval(entry.failures + 1);
      entry.pending++;
      if (wait > 0) await this.sleep(wait);
    } else entry.pending++;
    let reported = false;
    return {
      ok: true,
      done: (success: boolean) => {
        if (reported) return;
        reported = true;
        entry.pending--;
        if (success) {
          entry.failures = 0;
          entry.nextSlotAt = 0;
          if (entry.pending === 0 && this.state.get(key) === entry) this.state.delete(key);
          return;
        }
        entry.failures++;
        entry.lastFailureAt = this.now();
        if (entry.failures >= this.opts.freeFailures && entry.nextSlotAt < this.now()) entry.nextSlotAt = this.now() + this.interval(entry.failures);
      },
    };
  }
}
