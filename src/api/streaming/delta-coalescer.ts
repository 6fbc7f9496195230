/**
 * Merges consecutive text deltas of one kind so clients are not flooded with one-character events.
 * The first delta of a response goes out at once; later ones wait until `minChars` are buffered or
 * `maxWaitMs` passed since the oldest buffered piece. Any other event flushes first, keeping order.
 */
export interface CoalescerOptions {
  minChars: number;
  maxWaitMs: number;
}

export class DeltaCoalescer<K extends string> {
  private kind: K | undefined;
  private buffer = "";
  private timer: ReturnType<typeof setTimeout> | undefined;
  private sentFirst = false;

  constructor(
    private readonly emit: (kind: K, text: string) => void,
    private readonly opts: CoalescerOptions = { minChars: 16, maxWaitMs: 10 },
  ) {}

  push(kind: K, text: string): void {
    if (!text) return;
    if (this.kind !== undefined && this.kind !== kind) this.flush();
    if (!this.sentFirst) {
      this.sentFirst = true;
      this.emit(kind, text);
      return;
    }
    this.kind = kind;
    this.buffer += text;
    if (this.buffer.length >= this.opts.minChars) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.opts.maxWaitMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.kind !== undefined && this.buffer) this.emit(this.kind, this.buffer);
    this.buffer = "";
    this.kind = undefined;
  }
}
