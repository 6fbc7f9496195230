/**
 * The admin event stream's fan-out (`GET /admin/events`). Topics are read on a fixed tick (at most one push per
 * topic per tick: changes are coalesced) and only pushed when their JSON changed; a comment line is sent as a
 * heartbeat when a stream was quiet. Each stream holds at most one unsent frame per topic: a console that reads
 * slowly gets the newest state when it catches up, never a growing backlog. The tick runs only while a stream is
 * open, and closes every stream once the server drains, so that a shutdown never waits on them.
 */
import { HttpError, tooManyRequests } from "../http-error.ts";

export interface HubTopic {
  /** Unique per topic (e.g. `status`, `job:<id>`). */
  key: string;
  /** The SSE `event:` name. */
  event: string;
  data(): unknown;
}

export interface EventHubOptions {
  /** Coalescing interval: topics are read, and changes pushed, at most this often. */
  intervalMs: number;
  /** A stream with nothing written for this long gets a `: ping` comment. */
  heartbeatMs: number;
  /** Concurrent event streams; one more is answered 429. */
  maxStreams: number;
  /** The topics to publish; read on every tick (keep each cheap). */
  topics(): HubTopic[];
  /** True once the server drains: every stream is closed and new ones are refused. */
  draining(): boolean;
}

const encoder = new TextEncoder();
/** Frames the transport may hold beyond the one pending per topic (ReadableStream's queue). */
const STREAM_QUEUE_FRAMES = 4;

class EventStreamClient {
  private readonly pending = new Map<string, string>();
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private closed = false;
  lastWrite = Date.now();
  readonly stream: ReadableStream<Uint8Array>;

  constructor(private readonly gone: (c: EventStreamClient) => void) {
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.controller = c;
        },
        pull: () => this.pump(),
        cancel: () => this.close(),
      },
      new CountQueuingStrategy({ highWaterMark: STREAM_QUEUE_FRAMES }),
    );
  }

  /** Replaces whatever was still unsent for `key` with `frame`, then writes what the reader has room for. */
  offer(key: string, frame: string): void {
    if (this.closed) return;
    this.pending.delete(key);
    this.pending.set(key, frame);
    this.pump();
  }

  /** Unsent frames (at most one per topic). */
  get backlog(): number {
    return this.pending.size;
  }

  private pump(): void {
    const c = this.controller;
    if (!c || this.closed) return;
    while (this.pending.size && (c.desiredSize ?? 0) > 0) {
      const [key, frame] = this.pending.entries().next().value!;
      this.pending.delete(key);
      try {
        c.enqueue(encoder.encode(frame));
      } catch {
        this.close();
        return;
      }
      this.lastWrite = Date.now();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending.clear();
    try {
      this.controller?.close();
    } catch {
      // already closed or cancelled by the reader
    }
    this.gone(this);
  }
}

export class EventHub {
  private readonly clients = new Set<EventStreamClient>();
  /** The last frame pushed per topic key: a new stream starts with all of them. */
  private readonly last = new Map<string, string>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly opts: EventHubOptions) {}

  get streams(): number {
    return this.clients.size;
  }

  /** Opens one event stream; it ends when the reader goes away (`signal` or cancel) or the server drains. */
  open(signal?: AbortSignal): { stream: ReadableStream<Uint8Array>; client: { readonly backlog: number } } {
    if (this.opts.draining()) throw new HttpError(503, "server is shutting down");
    if (this.clients.size >= this.opts.maxStreams) {
      throw tooManyRequests(`too many admin event streams open (at most ${this.opts.maxStreams}); close another console tab or poll /admin/queue/status`, 5);
    }
    if (!this.timer) {
      this.refresh();
      this.timer = setInterval(() => this.tick(), this.opts.intervalMs);
      this.timer.unref?.();
    }
    const client = new EventStreamClient((c) => this.drop(c));
    this.clients.add(client);
    client.offer("retry", "retry: 3000\n\n");
    for (const [key, frame] of this.last) client.offer(key, frame);
    signal?.addEventListener("abort", () => client.close(), { once: true });
    return { stream: client.stream, client };
  }

  /** Ends every stream (shutdown). */
  closeAll(): void {
    for (const c of [...this.clients]) c.close();
  }

  private drop(c: EventStreamClient): void {
    this.clients.delete(c);
    if (this.clients.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      // Stale on the next open otherwise: it reads everything afresh.
      this.last.clear();
    }
  }

  private tick(): void {
    if (this.opts.draining()) return this.closeAll();
    this.refresh();
    const now = Date.now();
    for (const c of this.clients) if (now - c.lastWrite >= this.opts.heartbeatMs) c.offer("ping", ": ping\n\n");
  }

  /** Reads every topic and pushes those that changed. A topic that throws is skipped this tick. */
  private refresh(): void {
    const seen = new Set<string>();
    for (const topic of this.opts.topics()) {
      seen.add(topic.key);
      let frame: string;
      try {
        frame = `event: ${topic.event}\ndata: ${JSON.stringify(topic.data())}\n\n`;
      } catch {
        continue;
      }
      if (this.last.get(topic.key) === frame) continue;
      this.last.set(topic.key, frame);
      for (const c of this.clients) c.offer(topic.key, frame);
    }
    for (const key of this.last.keys()) if (!seen.has(key)) this.last.delete(key);
  }
}
