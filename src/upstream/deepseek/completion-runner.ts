/**
 * One assistant turn against DeepSeek: session (if none) → PoW → completion stream → parser events, then
 * continue rounds (fresh PoW each, up to 8) while the message is INCOMPLETE / auto_continue, with the snapshot
 * replay of each continue removed (§4.14). Yields DeepSeekEvents as they arrive; `run.state` holds the outcome.
 */
import type { DeepSeekEvent } from "./events.ts";
import { ContinueDedupe } from "./continue-dedupe.ts";
import { DeepSeekStreamParser } from "./sse/parser.ts";
import { IdleWatch } from "../../core/upstream/idle-watch.ts";
import { SseActivityScanner } from "./sse/activity.ts";
import { DS_PATHS, type DeepSeekClient } from "./client.ts";
import { classifyEnvelope, DeepSeekError } from "./errors.ts";
import type { RawStreamTap } from "../../core/upstream/provider.ts";

export const MAX_CONTINUE_ROUNDS = 8;
export const EMPTY_OUTPUT_RETRY_SUFFIX = "\n\nPrevious reply had no visible output. Please regenerate the visible final answer or tool call now.";

export interface CompletionPayload {
  prompt: string;
  modelType: string;
  thinkingEnabled: boolean;
  searchEnabled: boolean;
  refFileIds?: string[];
  parentMessageId?: number | null;
  /** Extra body fields (copied sampling parameters). */
  extra?: Record<string, unknown>;
}

export interface RunCompletionOptions {
  client: DeepSeekClient;
  token: string;
  sessionId?: string;
  payload: CompletionPayload;
  signal?: AbortSignal;
  /** Default 8 (§8). */
  maxContinueRounds?: number;
  /** Longest silence (no SSE data line) of a body after its headers; default: the client's setting. */
  idleTimeoutMs?: number;
  /** Dev capture: each exchange (no token) and the raw bytes of its response body. */
  tap?: RawStreamTap;
  /** The account the token belongs to (for the capture). */
  account?: string;
}

export interface CompletionRunState {
  sessionId?: string;
  requestMessageId?: number;
  responseMessageId?: number;
  modelType?: string;
  /** FINISHED or CONTENT_FILTER was reached. */
  finished: boolean;
  contentFiltered: boolean;
  /** Last status of the last round (INCOMPLETE when the continue cap was hit). */
  lastStatus?: string;
  /** DeepSeek's accumulated_token_usage (output tokens). */
  outputTokens?: number;
  /** Continue calls made. */
  continueRounds: number;
  /** An in-stream error message, if one ended the turn. */
  error?: string;
  title?: string;
  /** Visible text collected so far (after dedupe). */
  readonly text: string;
  readonly reasoning: string;
}

export class CompletionRun implements AsyncIterable<DeepSeekEvent> {
  private readonly dedupe = new ContinueDedupe();
  readonly state: CompletionRunState;
  private started = false;

  constructor(private readonly opts: RunCompletionOptions) {
    const dedupe = this.dedupe;
    this.state = {
      sessionId: opts.sessionId, finished: false, contentFiltered: false, continueRounds: 0,
      get text() { return dedupe.collected("text"); },
      get reasoning() { return dedupe.collected("reasoning"); },
    };
  }

  [Symbol.asyncIterator](): AsyncIterator<DeepSeekEvent> {
    if (this.started) throw new Error("CompletionRun can be iterated once");
    this.started = true;
    return this.run()[Symbol.asyncIterator]();
  }

  /** Runs to the end and returns every event (for non-streaming callers and tests). */
  async collect(): Promise<DeepSeekEvent[]> {
    const out: DeepSeekEvent[] = [];
    for await (const e of this) out.push(e);
    return out;
  }

  private async *run(): AsyncGenerator<DeepSeekEvent> {
    const { client, token, payload, signal } = this.opts;
    const st = this.state;
    const maxRounds = this.opts.maxContinueRounds ?? MAX_CONTINUE_ROUNDS;
    st.sessionId ??= await client.createSession(token, signal);
    const parser = new DeepSeekStreamParser({ thinkingEnabled: payload.thinkingEnabled, searchEnabled: payload.searchEnabled });

    let res = await client.completion(token, {
      chatSessionId: st.sessionId, parentMessageId: payload.parentMessageId ?? null, prompt: payload.prompt,
      refFileIds: payload.refFileIds ?? [], thinkingEnabled: payload.thinkingEnabled, searchEnabled: payload.searchEnabled,
      modelType: payload.modelType, extra: payload.extra,
    }, { signal });
    let path: string = DS_PATHS.completion;
    this.tapExchange(res, path, {
      chat_session_id: st.sessionId, parent_message_id: payload.parentMessageId ?? null, model_type: payload.modelType, prompt: payload.prompt,
      ref_file_ids: payload.refFileIds ?? [], thinking_enabled: payload.thinkingEnabled, search_enabled: payload.searchEnabled, ...payload.extra,
    });

    for (;;) {
      const seen = yield* this.readRound(res, parser, path);
      const ps = parser.state;
      st.requestMessageId = ps.requestMessageId ?? st.requestMessageId;
      st.responseMessageId = ps.responseMessageId ?? st.responseMessageId;
      st.modelType = ps.modelType ?? st.modelType;
      st.finished = ps.finished;
      st.contentFiltered = ps.contentFiltered;
      st.lastStatus = ps.lastStatus;
      st.outputTokens = ps.outputTokens ?? st.outputTokens;
      st.title = ps.title ?? st.title;
      if (ps.envelopeError) {
        const env = ps.envelopeError;
        const err = classifyEnvelope(
          { code: typeof env.code === "number" ? env.code : -1, msg: env.msg, data: env.bizCode !== undefined ? { biz_code: env.bizCode, biz_msg: env.bizMsg ?? "" } : null },
          { path, httpStatus: 200, version: client.identity.version, secrets: [token] },
        ) ?? new DeepSeekError("protocol", `${path}: JSON envelope instead of an event stream`, { path });
        throw err;
      }
      if (ps.error !== undefined) {
        st.error = ps.error;
        return;
      }
      if (!seen.events) {
        throw seen.bytes === 0
          ? new DeepSeekError("protocol", `${path}: HTTP 200 with an empty body instead of an event stream`, { path, reason: "empty_stream" })
          : new DeepSeekError("protocol", `${path}: ${seen.bytes} bytes that are not a DeepSeek event stream (malformed SSE)`, { path, reason: "malformed_stream" });
      }
      if (!ps.finished && ps.lastStatus !== "INCOMPLETE" && ps.lastStatus !== "AUTO_CONTINUE") {
        throw new DeepSeekError("protocol", `${path}: the event stream ended before the message finished (truncated; last status ${ps.lastStatus ?? "none"})`, { path, reason: "truncated_stream" });
      }
      const wantsContinue = !ps.finished && (ps.lastStatus === "INCOMPLETE" || ps.lastStatus === "AUTO_CONTINUE") && (st.responseMessageId ?? 0) > 0;
      if (!wantsContinue || st.continueRounds >= maxRounds) return;
      st.continueRounds++;
      parser.beginContinueRound();
      this.dedupe.beginRound();
      res = await client.continue(token, { chatSessionId: st.sessionId, messageId: st.responseMessageId! }, { signal });
      path = DS_PATHS.continue;
      this.tapExchange(res, path, { chat_session_id: st.sessionId, message_id: st.responseMessageId, fallback_to_resume: true });
    }
  }

  private tapExchange(res: Response, path: string, requestBody: Record<string, unknown>): void {
    const tap = this.opts.tap;
    if (!tap) return;
    tap.exchange({
      label: path === DS_PATHS.continue ? "deepseek_continue" : "deepseek_completion",
      url: this.opts.client.baseUrl + path,
      statusCode: res.status,
      requestBody,
      account: this.opts.account,
      sessionId: this.state.sessionId,
    });
  }

  /**
   * Streams one response body through the parser; text pieces go through the continue dedupe. Ends the
   * round with an `idle_timeout` error when no SSE data line arrives for the idle limit (comment lines do
   * not count). Returns how much was seen, for the protocol checks.
   */
  private async *readRound(res: Response, parser: DeepSeekStreamParser, path: string): AsyncGenerator<DeepSeekEvent, { bytes: number; events: number }> {
    const signal = this.opts.signal;
    const reader = res.body!.getReader();
    const idleMs = this.opts.idleTimeoutMs ?? this.opts.client.streamIdleTimeoutMs();
    const activity = new SseActivityScanner();
    const idle = new IdleWatch(idleMs, () => void reader.cancel().catch(() => {}));
    const idleError = () =>
      new DeepSeekError("timeout", `${path}: no data from DeepSeek for ${formatMs(idleMs)} after the response started (upstream idle timeout)`, { path, reason: "idle_timeout" });
    let done = false;
    let bytes = 0;
    let events = 0;
    try {
      for (;;) {
        let r: Awaited<ReturnType<typeof reader.read>>;
        try {
          r = await reader.read();
        } catch (e) {
          if (signal?.aborted) throw new DeepSeekError("aborted", `${path}: aborted`, { path, cause: signal.reason });
          if (idle.fired) throw idleError();
          throw new DeepSeekError("network", `${path}: stream interrupted (${e instanceof Error ? e.message : String(e)})`, { path, cause: e });
        }
        if (idle.fired) throw idleError();
        if (r.done) break;
        bytes += r.value.length;
        this.opts.tap?.chunk(r.value);
        if (activity.push(r.value)) idle.touch();
        const evs = parser.push(r.value);
        events += evs.length;
        yield* this.deliver(evs);
        if (signal?.aborted) throw new DeepSeekError("aborted", `${path}: aborted`, { path, cause: signal.reason });
      }
      done = true;
      const tail = parser.end();
      events += tail.length;
      yield* this.deliver(tail);
      return { bytes, events: events + (parser.state.envelopeError ? 1 : 0) };
    } finally {
      idle.stop();
      if (!done) await reader.cancel().catch(() => {});
      reader.releaseLock();
    }
  }

  private *deliver(events: DeepSeekEvent[]): Generator<DeepSeekEvent> {
    for (const ev of events) {
      if (ev.type === "reasoning" || ev.type === "text") {
        const kept = this.dedupe.accept(ev.type, ev.text, ev.snapshot === true);
        if (kept.length === 0) continue;
        yield kept === ev.text && !ev.snapshot ? ev : { type: ev.type, text: kept };
      } else {
        yield ev;
      }
    }
  }
}

function formatMs(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

export function runCompletion(opts: RunCompletionOptions): CompletionRun {
  return new CompletionRun(opts);
}

/** True when a finished turn showed nothing (§4.15): no answer text and no content filter. Tool calls live in the text. */
export function hadNoVisibleOutput(run: CompletionRun): boolean {
  return !run.state.contentFiltered && run.state.error === undefined && run.state.text.trim().length === 0;
}

/**
 * The one empty-output retry (§4.15): same session and token, parent_message_id = the first attempt's
 * response_message_id, the prompt (trailing whitespace removed) plus the fixed suffix, a fresh PoW.
 */
export function runEmptyOutputRetry(first: CompletionRun, opts: Omit<RunCompletionOptions, "sessionId">): CompletionRun {
  const sessionId = first.state.sessionId;
  if (!sessionId) throw new Error("empty-output retry needs the first attempt's session");
  return runCompletion({
    ...opts,
    sessionId,
    payload: {
      ...opts.payload,
      prompt: opts.payload.prompt.replace(/\s+$/u, "") + EMPTY_OUTPUT_RETRY_SUFFIX,
      parentMessageId: first.state.responseMessageId ?? null,
    },
  });
}
