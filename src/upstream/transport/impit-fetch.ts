/**
 * A `typeof fetch` over one impit client (one TLS profile, one proxy, one keep-alive pool). Request headers
 * keep the order they are given in (pass an array of pairs: a `Headers` object sorts them); the answer is a
 * standard Response whose body streams chunk by chunk as impit reads it, and an abort ends it.
 */
import type { Impit } from "impit";

export type FetchFn = typeof fetch;

let collecting: ReturnType<typeof setTimeout> | undefined;
/**
 * impit ends an aborted body stream, but its native half (which owns the HTTP/1.1 connection) is only dropped
 * when the JS object is collected: until then the server sees no disconnect. A garbage collection scheduled
 * shortly after a cancel (at most one pending at a time) closes the connection promptly.
 */
function collectSoon(): void {
  collecting ??= setTimeout(() => {
    collecting = undefined;
    Bun.gc(false);
  }, 20);
}

/** Statuses whose Response must not carry a body. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

type ImpitHeaders = [string, string][];
type ImpitBody = string | ArrayBuffer | Uint8Array | Blob | FormData | URLSearchParams | ReadableStream;

function headerPairs(h: HeadersInit | undefined): ImpitHeaders {
  if (!h) return [];
  if (Array.isArray(h)) return h.map(([k, v]) => [String(k), String(v)]);
  if (h instanceof Headers) return [...h.entries()];
  return Object.entries(h).map(([k, v]) => [k, String(v)]);
}

function urlOf(input: string | URL | Request): string {
  return typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
}

/**
 * `pick(url)` chooses the client per request (a test-only client that trusts a loopback certificate, else the
 * normal one); `scrub` removes secrets (proxy credentials) from error text.
 */
export function impitFetch(pick: (url: URL) => Impit, scrub: (text: string) => string = (t) => t): FetchFn {
  const fn = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = urlOf(input);
    const callerSignal = init?.signal ?? undefined;
    if (callerSignal?.aborted) throw abortReason(callerSignal);
    // Cancelling the body must drop the upstream response (and its connection), as Bun's fetch does.
    const own = new AbortController();
    const signal = callerSignal ? AbortSignal.any([callerSignal, own.signal]) : own.signal;
    const client = pick(new URL(url));
    let res: Awaited<ReturnType<Impit["fetch"]>>;
    try {
      res = await client.fetch(url, {
        method: (init?.method ?? "GET").toUpperCase() as "GET",
        headers: headerPairs(init?.headers),
        body: (init?.body ?? undefined) as ImpitBody | undefined,
        signal,
      });
    } catch (e) {
      if (callerSignal?.aborted) throw abortReason(callerSignal);
      const raw = e instanceof Error ? e.message : String(e);
      const err = new Error(scrub(raw.replace(/\s+/g, " ").trim()));
      err.name = e instanceof Error ? e.name : "Error";
      throw err;
    }
    const headers = new Headers(res.headers);
    // impit already decoded the body: the encoding and length headers no longer describe it.
    headers.delete("content-encoding");
    headers.delete("content-length");
    if (NULL_BODY.has(res.status)) {
      own.abort();
      return new Response(null, { status: res.status, statusText: res.statusText, headers });
    }
    const reader = res.body.getReader();
    // impit's own abort takes about a second to drop the connection; cancelling its reader drops it at once.
    const onAbort = () => {
      collectSoon();
      void reader.cancel(abortReason(callerSignal!)).catch(() => {});
    };
    callerSignal?.addEventListener("abort", onAbort, { once: true });
    const done = () => callerSignal?.removeEventListener("abort", onAbort);
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          try {
            const r = await reader.read();
            if (r.done) {
              done();
              // Cut by the caller's abort: an error, as Bun's fetch reports it, not a clean end.
              if (callerSignal?.aborted) controller.error(abortReason(callerSignal));
              else controller.close();
            } else controller.enqueue(r.value);
          } catch (e) {
            done();
            controller.error(callerSignal?.aborted ? abortReason(callerSignal) : e);
          }
        },
        cancel(reason) {
          done();
          own.abort(reason);
          collectSoon();
          return reader.cancel(reason).catch(() => {});
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(body, { status: res.status, statusText: res.statusText, headers });
  };
  return Object.assign(fn, { preconnect: () => {} }) as unknown as FetchFn;
}
