/**
 * One `Chat` call to the Volcengine console: browser-like headers, the body template, bounded waits
 * (response headers within the header timeout, no silence longer than the idle timeout — SSE comments and
 * blank lines do not count as activity) and the answer classified (stream, envelope, WAF page, 5xx).
 */
import { chatHeaders, VOLCENGINE_TLS_PROFILE } from "./headers.ts";
import { UpstreamTransport, type TransportState } from "../transport/upstream-transport.ts";
import { errorFromResponse, redact, VolcengineError } from "./errors.ts";
import { ChatStreamParser, type StreamPiece } from "./stream-parser.ts";
import { IdleWatch } from "../../core/upstream/idle-watch.ts";

export interface VolcengineClientOptions {
  /** The `Chat` action URL. */
  url: () => string;
  headerTimeoutMs: () => number;
  idleTimeoutMs: () => number;
  /** Attempts for a 5xx / dropped connection before any answer (same web id). */
  retry?: { attempts: number; delayMs: number };
  /** Default: the Chrome-profile transport shared by every console client. */
  fetch?: typeof fetch;
}

let sharedTransport: UpstreamTransport | undefined;

/** The console's transport (a browser API: Chrome's TLS fingerprint), shared so its keep-alive pool is too. */
export function volcengineTransport(): UpstreamTransport {
  return (sharedTransport ??= new UpstreamTransport());
}

/** The console transport's TLS profile asked for and in use (/readyz, console Providers page). */
export function volcengineTransportState(): TransportState {
  return volcengineTransport().state(VOLCENGINE_TLS_PROFILE);
}

export interface ChatCall {
  webId: string;
  authorization?: string;
  body: Record<string, unknown>;
  signal: AbortSignal;
}

/** An accepted stream (HTTP 2xx event stream): read its pieces. */
export interface ChatStream {
  pieces(): AsyncGenerator<StreamPiece, void>;
}

const MAX_ERROR_BODY = 64 * 1024;

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

export class VolcengineClient {
  constructor(private readonly opts: VolcengineClientOptions) {}

  /** Send the call; resolves once an event stream was accepted, throws a VolcengineError otherwise. */
  async open(call: ChatCall): Promise<ChatStream> {
    const attempts = Math.max(1, this.opts.retry?.attempts ?? 2);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.openOnce(call);
      } catch (e) {
        if (!(e instanceof VolcengineError) || !e.retryable || attempt >= attempts || call.signal.aborted) throw e;
        await Bun.sleep((this.opts.retry?.delayMs ?? 300) * attempt);
      }
    }
  }

  private async openOnce(call: ChatCall): Promise<ChatStream> {
    const secrets = [call.webId, call.authorization ?? ""];
    const headerMs = this.opts.headerTimeoutMs();
    const head = new AbortController();
    const headTimer = setTimeout(() => head.abort(new DOMException("header timeout", "TimeoutError")), headerMs);
    const body = new AbortController();
    const signal = AbortSignal.any([call.signal, head.signal, body.signal]);
    let res: Response;
    try {
      res = await (this.opts.fetch ?? volcengineTransport().fetchFor(VOLCENGINE_TLS_PROFILE))(this.opts.url(), { method: "POST", headers: chatHeaders(call.webId, call.authorization), body: JSON.stringify(call.body), signal });
    } catch (e) {
      if (call.signal.aborted) throw new VolcengineError("aborted", "the request was cancelled", { cause: e });
      if (head.signal.aborted) throw new VolcengineError("timeout", `no response headers from the Volcengine console within ${formatMs(headerMs)} (upstream header timeout)`, { reason: "header_timeout" });
      throw new VolcengineError("network", `the Volcengine console cannot be reached: ${redact((e as Error)?.message ?? String(e), secrets)}`, { cause: e });
    } finally {
      clearTimeout(headTimer);
    }
    const contentType = (res.headers.get("content-type") ?? "").toLowerCase();
    const realRaw = res.headers.get("x-real-status");
    const realStatus = realRaw && /^\d{3}$/.test(realRaw.trim()) ? Number(realRaw.trim()) : undefined;
    const streamed = contentType.includes("event-stream");
    if (!res.ok || !streamed || (realStatus !== undefined && realStatus >= 400)) {
      const text = await this.readBounded(res, call.signal, secrets);
      throw errorFromResponse(res.status, realStatus, contentType, text, secrets);
    }
    if (!res.body) throw new VolcengineError("protocol", "the Volcengine console accepted the request but sent no body", { reason: "empty_stream" });
    return { pieces: () => this.read(res.body!, call.signal, body, secrets) };
  }

  private async readBounded(res: Response, signal: AbortSignal, secrets: string[]): Promise<string> {
    try {
      const buf = await res.arrayBuffer();
      return new TextDecoder().decode(buf.slice(0, MAX_ERROR_BODY));
    } catch (e) {
      if (signal.aborted) throw new VolcengineError("aborted", "the request was cancelled", { cause: e });
      throw new VolcengineError("network", `the Volcengine console connection broke: ${redact((e as Error)?.message ?? String(e), secrets)}`, { cause: e });
    }
  }

  private async *read(stream: ReadableStream<Uint8Array>, signal: AbortSignal, cancel: AbortController, secrets: string[]): AsyncGenerator<StreamPiece, void> {
    const parser = new ChatStreamParser(secrets);
    const idleMs = this.opts.idleTimeoutMs();
    const reader = stream.getReader();
    const idle = new IdleWatch(idleMs, () => {
      cancel.abort(new DOMException("idle timeout", "TimeoutError"));
      void reader.cancel().catch(() => {});
    });
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (e) {
          if (idle.fired) throw this.idleError(idleMs);
          if (signal.aborted) throw new VolcengineError("aborted", "the request was cancelled", { cause: e });
          throw new VolcengineError("network", `the Volcengine console connection broke mid-stream: ${redact((e as Error)?.message ?? String(e), secrets)}`, { cause: e, inStream: true });
        }
        if (idle.fired) throw this.idleError(idleMs);
        if (chunk.done) break;
        buf += decoder.decode(chunk.value, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const trimmed = line.trim();
          if (trimmed !== "" && !trimmed.startsWith(":")) idle.touch();
          for (const piece of parser.line(line)) yield piece;
          if (parser.done) return;
        }
      }
      buf += decoder.decode();
      if (buf.trim() !== "") for (const piece of parser.line(buf)) yield piece;
      parser.end();
    } finally {
      idle.stop();
      try {
        reader.releaseLock();
      } catch {
        // a read was still pending (idle timeout): the cancel above settles it
      }
      if (!parser.done) cancel.abort();
    }
  }

  private idleError(ms: number): VolcengineError {
    return new VolcengineError("timeout", `no data from the Volcengine console for ${formatMs(ms)} after the response started (upstream idle timeout)`, { reason: "idle_timeout", inStream: true });
  }
}
