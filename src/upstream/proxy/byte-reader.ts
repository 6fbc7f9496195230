/** Collects socket bytes during a handshake and hands them out in exact-size reads. */
export class ByteReader {
  private buf = new Uint8Array(0);
  private waiter?: { n: number; resolve(b: Uint8Array): void; reject(e: Error): void };
  private failure?: Error;

  push(chunk: Uint8Array): void {
    const next = new Uint8Array(this.buf.byteLength + chunk.byteLength);
    next.set(this.buf);
    next.set(chunk, this.buf.byteLength);
    this.buf = next;
    this.settle();
  }

  /** Every later (and the pending) read rejects with `e`. */
  fail(e: Error): void {
    this.failure ??= e;
    this.settle();
  }

  read(n: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.waiter = { n, resolve, reject };
      this.settle();
    });
  }

  /** Whatever arrived beyond the reads (handed to the next owner of the socket). */
  rest(): Uint8Array {
    const r = this.buf;
    this.buf = new Uint8Array(0);
    return r;
  }

  private settle(): void {
    const w = this.waiter;
    if (!w) return;
    if (this.buf.byteLength >= w.n) {
      this.waiter = undefined;
      const out = this.buf.slice(0, w.n);
      this.buf = this.buf.slice(w.n);
      w.resolve(out);
    } else if (this.failure) {
      this.waiter = undefined;
      w.reject(this.failure);
    }
  }
}
