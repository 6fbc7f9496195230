/**
 * The upstream idle timeout of a streamed answer, shared by every provider: `touch()` on each sign of life (what
 * counts is the provider's call — comments and heartbeats usually do not), and `onIdle` runs once when none came
 * for `ms`. Touching only stores a time; the one timer re-arms itself for the remainder when it wakes early, so a
 * busy stream costs no timer work per chunk or per line.
 */
export class IdleWatch {
  private last = Date.now();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The limit ran out (and `onIdle` ran). */
  fired = false;

  constructor(
    readonly ms: number,
    private readonly onIdle: () => void,
  ) {
    this.arm(ms);
  }

  touch(): void {
    this.last = Date.now();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => {
      const left = this.last + this.ms - Date.now();
      if (left > 0) return this.arm(left);
      this.fired = true;
      this.onIdle();
    }, ms);
  }
}
