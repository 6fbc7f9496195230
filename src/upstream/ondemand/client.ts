/**
 * The OnDemand Chat API client (other-providers.md §B.1): `POST /sessions` and `POST /sessions/{id}/query`
 * in `sync` or `stream` mode, authenticated by the `apikey` header. Bounded: response headers within the
 * header limit, then no silence (heartbeats count as silence) longer than the idle limit. Every failure is an
 * `OnDemandError`; none carries the key.
 */
import { randomUUID } from "node:crypto";
import { errorFromResponse, OnDemandError } from "./errors.ts";
import { OnDemandStreamParser, type OnDemandFrame } from "./stream-parser.ts";
import { IdleWatch } from "../../core/upstream/idle-watch.ts";

export const DEFAULT_ONDEMAND_API_BASE = "https://api.on-demand.io/chat/v1";

export interface OnDemandClientOptions {
  apiBase: () => string;
  headerTimeoutMs: () => number;
  idleTimeoutMs: () => number;
  fetch?: typeof fetch;
}

export interface QueryBody {
  query: string;
  endpointId: string;
  responseMode: "stream" | "sync";
  pluginIds: string[];
  modelConfigs?: Record<string, unknown>;
  reasoningMode?: string;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

export class OnDemandClient {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly opts: OnDemandClientOptions) {
    this.fetchImpl = opts.fetch ?? fetch;
  }

  /** A POST whose headers must arrive within the header limit; the returned response's body is still unread. */
  private async post(path: string, apiKey: string, body: unknown, signal: AbortSignal, accept?: string): Promise<Response> {
    const headerMs = this.opts.headerTimeoutMs();
    const timer = new AbortController();
    const t = setTimeout(() => timer.abort(new DOMException("header timeout", "TimeoutError")), headerMs);
    const combined = AbortSignal.any([signal, timer.signal]);
    try {
      return await this.fetchImpl(`${this.opts.apiBase().replace(/\/+$/, "")}${path}`, {
        method: "POST",
        headers: { apikey: apiKey, "content-type": "application/json", ...(accept ? { accept } : {}) },
        body: JSON.stringify(body),
        signal: combined,
      });
    } catch (e) {
      if (signal.aborted) throw e;
      if (timer.signal.aborted) throw new OnDemandError("timeout", `no response headers from OnDemand within ${formatMs(headerMs)} (upstream header timeout)`);
      throw new OnDemandError("network", (e as Error)?.message ?? String(e));
    } finally {
      clearTimeout(t);
    }
  }

  private async readText(res: Response, signal: AbortSignal): Promise<string> {
    try {
      return await withIdle(res.text(), this.opts.idleTimeoutMs(), signal);
    } catch (e) {
      if (e instanceof OnDemandError || signal.aborted) throw e;
      throw new OnDemandError("network", `reading the answer failed: ${(e as Error)?.message ?? e}`);
    }
  }

  /** `POST /sessions` → the new session id (201 live, 200 accepted). */
  async createSession(apiKey: string, signal: AbortSignal): Promise<string> {
    const res = await this.post("/sessions", apiKey, { externalUserId: randomUUID() }, signal);
    const text = await this.readText(res, signal);
    if (res.status !== 200 && res.status !== 201) throw errorFromResponse(res.status, res.headers, text, "session create");
    let id: unknown;
    try {
      id = (JSON.parse(text) as { data?: { id?: unknown } }).data?.id;
    } catch {
      throw new OnDemandError("protocol", "session create answered with a body that is not JSON", res.status, undefined, undefined, "protocol");
    }
    if (typeof id !== "string" || !id) throw new OnDemandError("protocol", "session create answered without data.id", res.status, undefined, undefined, "protocol");
    return id;
  }

  /** A sync query → the answer text. */
  async querySync(apiKey: string, sessionId: string, body: QueryBody, signal: AbortSignal): Promise<{ answer: string; outputTokens?: number }> {
    const res = await this.post(`/sessions/${encodeURIComponent(sessionId)}/query`, apiKey, body, signal);
    const text = await this.readText(res, signal);
    if (res.status !== 200) throw errorFromResponse(res.status, res.headers, text, "query");
    let data: { answer?: unknown; metrics?: { outputTokens?: unknown } } | undefined;
    try {
      data = (JSON.parse(text) as { data?: typeof data }).data;
    } catch {
      throw new OnDemandError("protocol", "the sync query answered with a body that is not JSON", 200, undefined, undefined, "protocol");
    }
    if (!data || typeof data.answer !== "string") throw new OnDemandError("protocol", "the sync query answered without data.answer", 200, undefined, undefined, "protocol");
    const out = data.metrics?.outputTokens;
    return { answer: data.answer, outputTokens: typeof out === "number" ? out : undefined };
  }

  /** A stream query: checks the status and content type, then yields frames under the idle limit. */
  async openStream(apiKey: string, sessionId: string, body: QueryBody, signal: AbortSignal): Promise<AsyncGenerator<OnDemandFrame>> {
    const res = await this.post(`/sessions/${encodeURIComponent(sessionId)}/query`, apiKey, body, signal, "text/event-stream");
    if (res.status !== 200) throw errorFromResponse(res.status, res.headers, await this.readText(res, signal), "query");
    const type = res.headers.get("content-type") ?? "";
    if (!type.includes("text/event-stream")) {
      const text = await this.readText(res, signal);
      if (/^\s*</.test(text)) throw new OnDemandError("server", "query answered HTTP 200 with an HTML page instead of a stream", 200);
      throw new OnDemandError("protocol", `query answered ${type || "no content type"} instead of an event stream: ${text.slice(0, 200)}`, 200, undefined, undefined, "protocol");
    }
    if (!res.body) throw new OnDemandError("protocol", "query answered without a body", 200, undefined, undefined, "empty_stream");
    return this.frames(res.body, signal);
  }

  private async *frames(body: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncGenerator<OnDemandFrame> {
    const reader = body.getReader();
    const parser = new OnDemandStreamParser();
    const idleMs = this.opts.idleTimeoutMs();
    const idle = new IdleWatch(idleMs, () => void reader.cancel().catch(() => {}));
    const idleError = () => new OnDemandError("timeout", `no data from OnDemand for ${formatMs(Math.round(idleMs))} (upstream idle timeout; heartbeats do not count)`);
    try {
      for (;;) {
        let step: Awaited<ReturnType<typeof reader.read>>;
        try {
          step = await reader.read();
        } catch (e) {
          if (signal.aborted) throw signal.reason ?? e;
          if (idle.fired) throw idleError();
          throw new OnDemandError("network", `the stream broke: ${(e as Error)?.message ?? e}`);
        }
        if (signal.aborted) throw signal.reason ?? new DOMException("aborted", "AbortError");
        if (idle.fired) throw idleError();
        const frames = step.done ? parser.end() : parser.push(step.value!);
        if (parser.garbage > 0) throw new OnDemandError("protocol", "OnDemand sent lines that are not an event stream", 200, undefined, undefined, "malformed_stream");
        for (const f of frames) {
          if (f.type !== "heartbeat") idle.touch();
          yield f;
        }
        if (step.done) return;
      }
    } finally {
      idle.stop();
      reader.cancel().catch(() => {});
    }
  }
}


/** Race one whole-body read (an error body) against the idle limit (the timer error names the limit). */
async function withIdle<T>(p: Promise<T>, ms: number, signal: AbortSignal, limitMs = ms): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new OnDemandError("timeout", `no data from OnDemand for ${formatMs(Math.round(limitMs))} (upstream idle timeout; heartbeats do not count)`)), ms);
        onAbort = () => reject(signal.reason ?? new DOMException("aborted", "AbortError"));
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}
