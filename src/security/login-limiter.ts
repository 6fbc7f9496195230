/** Failed admin logins per client address: after `maxFailures` inside `windowMs`, further attempts get 429 until the window clears. */
export interface LoginLimiterOptions {
  maxFailures: number;
  windowMs: number;
  now?: () => number;
}

export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly now: () => number;

  constructor(private readonly opts: LoginLimiterOptions = { maxFailures: 5, windowMs: 5 * 60_000 }) {
    this.now = opts.now ?? Date.now;
  }

  private recent(address: string): number[] {
    const t = this.now();
    const list = (this.failures.get(address) ?? []).filter((at) => t - at < this.opts.windowMs);
    if (list.length) this.failures.set(address, list);
    else this.failures.delete(address);
    return list;
  }

  /** Seconds to wait when the address is locked out, else 0. */
  retryAfterSeconds(address: string): number {
    const list = this.recent(address);
    if (list.length < this.opts.maxFailures) return 0;
    return Math.max(1, Math.ceil((list[list.length - this.opts.maxFailures]! + this.opts.windowMs - this.now()) / 1000));
  }

  fail(address: string): void {
    const list = this.recent(address);
    list.push(this.now());
    this.failures.set(address, list);
    if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value!);
  }

  succeed(address: string): void {
    this.failures.delete(address);
  }
}
