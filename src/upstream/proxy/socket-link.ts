/**
 * Raw TCP plumbing for the proxy layer: sockets whose callbacks can be swapped as a connection moves from
 * handshake to tunnel, and a two-way link between two sockets with backpressure (a full destination pauses
 * the source until it drains) and orderly close (pending bytes are flushed before the other side is ended).
 */
import type { Socket, SocketHandler } from "bun";

/** The current owner of a socket's events. */
export interface SocketHooks {
  onData(chunk: Uint8Array): void;
  onDrain(): void;
  /** Called at most once per socket (close, error or connect failure). */
  onClose(error?: Error): void;
}

export type HookedSocket = Socket<SocketHooks>;

export const IGNORE_HOOKS: SocketHooks = { onData() {}, onDrain() {}, onClose() {} };

/** Handlers that forward to `socket.data`, for Bun.listen and Bun.connect alike. */
export function hookedHandlers(): SocketHandler<SocketHooks> {
  const closed = new WeakSet<object>();
  const close = (s: HookedSocket, e?: Error) => {
    if (closed.has(s)) return;
    closed.add(s);
    s.data?.onClose(e);
  };
  return {
    data: (s, d) => s.data?.onData(d),
    drain: (s) => s.data?.onDrain(),
    close: (s, e) => close(s, e ?? undefined),
    error: (s, e) => close(s, e),
  };
}

/** One direction of a link: bytes from `src` written to `dst`, queued while `dst` is full. */
class Flow {
  private readonly pending: Uint8Array[] = [];
  private srcDone = false;
  dead = false;

  constructor(
    private readonly src: HookedSocket,
    private readonly dst: HookedSocket,
    private readonly transform: ((chunk: Uint8Array) => Uint8Array | undefined) | undefined,
    private readonly abort: () => void,
  ) {}

  push(raw: Uint8Array): void {
    if (this.dead) return;
    const chunk = this.transform ? this.transform(raw) : raw;
    if (!chunk || chunk.byteLength === 0) return;
    if (this.pending.length > 0) {
      this.pending.push(chunk.slice());
      return;
    }
    const n = this.dst.write(chunk);
    if (n < 0) return this.abort();
    if (n < chunk.byteLength) {
      this.pending.push(chunk.slice(n));
      this.src.pause();
    }
  }

  /** `dst` can take more. */
  drain(): void {
    while (this.pending.length > 0 && !this.dead) {
      const head = this.pending[0]!;
      const n = this.dst.write(head);
      if (n < 0) return this.abort();
      if (n < head.byteLength) {
        this.pending[0] = head.subarray(n);
        return;
      }
      this.pending.shift();
    }
    if (this.srcDone) this.dst.end();
    else this.src.resume();
  }

  /** `src` is gone: end `dst` once everything queued is written. */
  sourceClosed(): void {
    this.srcDone = true;
    if (this.pending.length === 0) this.dst.end();
  }

  /** `dst` is gone: nothing more can be delivered. */
  destinationClosed(): void {
    this.dead = true;
    this.pending.length = 0;
  }
}

export interface LinkOptions {
  /** Bytes already read from `a` that belong to `b` (sent first). */
  aToBFirst?: Uint8Array;
  /** Bytes already read from `b` that belong to `a`. */
  bToAFirst?: Uint8Array;
  /** Stateful rewrite of the b → a stream (e.g. a response head). */
  transformBToA?: (chunk: Uint8Array) => Uint8Array | undefined;
  /** Once, when both sides are closed. */
  onClosed?: () => void;
}

/** Pipe `a` and `b` both ways until both are closed. */
export function linkSockets(a: HookedSocket, b: HookedSocket, opts: LinkOptions = {}): void {
  let open = 2;
  const abort = () => {
    a.terminate();
    b.terminate();
  };
  const ab = new Flow(a, b, undefined, abort);
  const ba = new Flow(b, a, opts.transformBToA, abort);
  const closedOne = () => {
    if (--open === 0) opts.onClosed?.();
  };
  a.data = {
    onData: (c) => ab.push(c),
    onDrain: () => ba.drain(),
    onClose: () => {
      ba.destinationClosed();
      ab.sourceClosed();
      closedOne();
    },
  };
  b.data = {
    onData: (c) => ba.push(c),
    onDrain: () => ab.drain(),
    onClose: () => {
      ab.destinationClosed();
      ba.sourceClosed();
      closedOne();
    },
  };
  if (opts.aToBFirst?.byteLength) ab.push(opts.aToBFirst);
  if (opts.bToAFirst?.byteLength) ba.push(opts.bToAFirst);
}
