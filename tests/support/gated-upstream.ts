/**
 * A pass-through HTTP proxy in front of the simulator that can hold one completion stream half-way until the test
 * releases it, so "a stream is in flight" is a fact the test controls rather than a race against token delays.
 * The stream is forwarded one SSE event at a time; after the first event that matches `holdAfter`, nothing more is
 * forwarded until `release()`. Cancellation passes through (the simulator sees the client go away).
 */
import { trackStop } from "./processes.ts";

export interface Hold {
  /** Resolves once the matching event has been forwarded and the rest is being held. */
  reached: Promise<void>;
  release(): void;
}

export interface GatedUpstream {
  url: string;
  /** Holds the next response whose path ends with `path`, after the first event for which `holdAfter` is true. */
  holdNext(path: string, holdAfter: (event: string) => boolean): Hold;
  /** Disarms holds not yet used and lets every held stream go. */
  releaseAll(): void;
  stop(): Promise<void>;
}

interface Armed {
  path: string;
  holdAfter: (event: string) => boolean;
  reached: () => void;
  released: Promise<void>;
}

export function startGatedUpstream(target: string): GatedUpstream {
  const armed: Armed[] = [];
  const releases: (() => void)[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const headers = new Headers(req.headers);
      headers.delete("host");
      const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
      const res = await fetch(`${target}${url.pathname}${url.search}`, { method: req.method, headers, body, signal: req.signal, redirect: "manual" });
      const out = new Headers(res.headers);
      out.delete("content-length");
      out.delete("content-encoding");
      const i = armed.findIndex((a) => url.pathname.endsWith(a.path));
      if (i < 0 || !res.body) return new Response(res.body, { status: res.status, headers: out });
      const hold = armed.splice(i, 1)[0]!;
      return new Response(heldStream(res.body, hold), { status: res.status, headers: out });
    },
  });
  const stop = trackStop(`gated upstream :${server.port}`, () => server.stop(true));
  return {
    url: `http://127.0.0.1:${server.port}`,
    holdNext(path, holdAfter) {
      let reached!: () => void;
      let release!: () => void;
      const reachedP = new Promise<void>((r) => (reached = r));
      const released = new Promise<void>((r) => (release = r));
      armed.push({ path, holdAfter, reached, released });
      releases.push(release);
      return { reached: reachedP, release };
    },
    releaseAll() {
      armed.length = 0;
      for (const r of releases.splice(0)) r();
    },
    stop,
  };
}

/** Re-chunks an SSE body into whole events and stops forwarding after the matching one until released. */
function heldStream(body: ReadableStream<Uint8Array>, hold: Armed): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let buf = "";
  let holding = false;
  let done = false;
  const queue: string[] = [];
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (!queue.length && !done) {
        const r = await reader.read();
        if (r.done) {
          done = true;
          buf += decoder.decode();
          if (buf) queue.push(buf);
          buf = "";
        } else {
          buf += decoder.decode(r.value, { stream: true });
          let cut: number;
          while ((cut = buf.indexOf("\n\n")) >= 0) {
            queue.push(buf.slice(0, cut + 2));
            buf = buf.slice(cut + 2);
          }
        }
      }
      if (holding) await hold.released;
      const event = queue.shift();
      if (event === undefined) return controller.close();
      controller.enqueue(encoder.encode(event));
      if (!holding && hold.holdAfter(event)) {
        holding = true;
        hold.reached();
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
