/**
 * The one way every surface serves a turn: run it for the caller with the client's connection as abort
 * signal, then either render the finished result as JSON, or stream it — early failures as HTTP errors,
 * keep-alives while waiting, coalesced deltas, the surface's own in-stream error frame on a late failure.
 * A surface supplies only its wire format.
 */
import type { Usage } from "../core/usage/usage.ts";
import type { FinishReason, ToolCallOut, TurnEvent, TurnRequest } from "../core/turn/turn.ts";
import type { AppContext } from "../context.ts";
import type { Caller } from "./caller.ts";
import { clientAbort, collectTurn, type TurnResult } from "./collect-turn.ts";
import { resolveTurnAttachments } from "./files/resolve-attachments.ts";
import { startTurn } from "./start-turn.ts";
import { DeltaCoalescer } from "./streaming/delta-coalescer.ts";
import { sseResponse, type SseSink } from "./streaming/sse-response.ts";
import { awaitTurnHead, restOfTurn } from "./streaming/turn-head.ts";
import { toHttpError } from "./turn-errors.ts";
import { checkPromptSize } from "./prompt-limit.ts";

export type DoneEvent = Extract<TurnEvent, { type: "done" }>;

/** Writes one surface's stream. Text deltas arrive already coalesced. */
export interface TurnStreamWriter {
  /** Before any delta; `promptTokens` is the prompt's token count. */
  start(promptTokens: number): void;
  reasoning(text: string): void;
  text(text: string): void;
  toolCalls(calls: ToolCallOut[]): void;
  /** The last event; a returned promise (e.g. storing the response) is awaited before the stream ends. */
  done(ev: DoneEvent): void | Promise<void>;
  /** The turn failed after the stream started. */
  error(e: unknown): void;
}

export interface TurnRendering {
  /** The whole non-stream response body. */
  json(result: TurnResult): unknown;
  /** A stream writer over the open SSE sink. */
  stream(sink: SseSink): TurnStreamWriter;
  keepAlive(sink: SseSink): void;
  /** Stream framing: SSE (default) or NDJSON (Ollama). */
  format?: "sse" | "ndjson";
}

export async function serveTurn(ctx: AppContext, request: Request, caller: Caller, turn: TurnRequest, rendering: TurnRendering): Promise<unknown> {
  // Every surface's conversation is measured here, before anything is uploaded, built or tokenized (413).
  checkPromptSize(turn, ctx.options.maxPromptChars);
  const abort = clientAbort(request);
  try {
    turn = await resolveTurnAttachments(ctx, turn, caller, abort.signal);
  } catch (e) {
    abort.dispose();
    throw e;
  }
  const events = startTurn(ctx, turn, caller, abort.signal, { route: new URL(request.url).pathname, captureTag: request.headers.get("x-ds2-capture-tag") ?? undefined });
  if (!turn.stream) {
    try {
      return rendering.json(await collectTurn(events));
    } finally {
      abort.dispose();
    }
  }
  let head;
  try {
    head = await awaitTurnHead(events, ctx.streamHeadStartMs);
  } catch (e) {
    abort.dispose();
    throw toHttpError(e);
  }
  let writer: TurnStreamWriter | undefined;
  return sseResponse(
    async (sink, signal) => {
      signal.addEventListener("abort", () => abort.abort(signal.reason), { once: true });
      const w = rendering.stream(sink);
      writer = w;
      const coalescer = new DeltaCoalescer<"reasoning" | "text">((kind, text) => (kind === "reasoning" ? w.reasoning(text) : w.text(text)), ctx.coalescing);
      let started = false;
      try {
        for await (const ev of restOfTurn(events, head)) {
          if (!started) {
            started = true;
            w.start(ev.type === "started" ? ev.promptTokens : 0);
          }
          switch (ev.type) {
            case "reasoning":
            case "text":
              coalescer.push(ev.type, ev.text);
              break;
            case "tool_calls":
              coalescer.flush();
              w.toolCalls(ev.calls);
              break;
            case "done":
              coalescer.flush();
              await w.done(ev);
          }
        }
      } finally {
        coalescer.flush();
        abort.dispose();
      }
    },
    {
      request,
      keepAliveMs: ctx.keepAliveMs,
      keepAlive: (sink) => rendering.keepAlive(sink),
      onError: (_sink, e) => writer?.error(e),
      format: rendering.format,
    },
  );
}

export type { FinishReason, Usage };
