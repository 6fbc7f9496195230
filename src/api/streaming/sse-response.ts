/**
 * A Server-Sent Events response whose producer runs while the client is connected: keep-alive frames on a
 * timer, and an AbortSignal that fires when the client goes away so the upstream request is cancelled and
 * the account lease freed at once.
 */
const encoder = new TextEncoder();

export interface SseSink {
  /** `event: name` (optional) + `data: json`. */
  send(data: unknown, event?: string): void;
  /** A raw `data:` line (e.g. `[DONE]`). */
  sendRaw(data: string): void;
  comment(text: string): void;
  readonly closed: boolean;
}

export interface SseOptions {
  request: Request;
  /** Sent every `keepAliveMs` (default 5000) for the whole stream. */
  keepAlive: (sink: SseSink) => void;
  keepAliveMs?: number;
  /** Called when the producer throws after the stream started; must write the surface's in-stream error. */
  onError: (sink: SseSink, error: unknown) => void;
  /** `ndjson` (Ollama): one JSON object per line, `send` ignores the event name and comments are dropped. */
  format?: "sse" | "ndjson";
}

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};

export const NDJSON_HEADERS = { ...SSE_HEADERS, "content-type": "application/x-ndjson" };

export function sseResponse(produce: (sink: SseSink, signal: AbortSignal) => Promise<void>, opts: SseOptions): Response {
  const abort = new AbortController();
  const onClientGone = () => abort.abort(new DOMException("client disconnected", "AbortError"));
  opts.request.signal.addEventListener("abort", onClientGone, { once: true });
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (text: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          closed = true;
          onClientGone();
        }
      };
      const ndjson = opts.format === "ndjson";
      const sink: SseSink = {
        send: (data, event) => write(ndjson ? `${JSON.stringify(data)}\n` : `${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`),
        sendRaw: (data) => write(ndjson ? `${data}\n` : `data: ${data}\n\n`),
        comment: (text) => {
          if (!ndjson) write(`: ${text}\n\n`);
        },
        get closed() {
          return closed;
        },
      };
      timer = setInterval(() => opts.keepAlive(sink), opts.keepAliveMs ?? 5000);
      produce(sink, abort.signal)
        .catch((e) => {
          if (!abort.signal.aborted) opts.onError(sink, e);
        })
        .finally(() => {
          clearInterval(timer);
          opts.request.signal.removeEventListener("abort", onClientGone);
          if (!closed) {
            closed = true;
            try {
              controller.close();
            } catch {
              // already closed by a cancel
            }
          }
        });
    },
    cancel() {
      closed = true;
      clearInterval(timer);
      onClientGone();
    },
  });
  return new Response(stream, { status: 200, headers: opts.format === "ndjson" ? NDJSON_HEADERS : SSE_HEADERS });
}
