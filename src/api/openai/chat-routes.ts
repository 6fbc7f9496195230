/** OpenAI Chat Completions: `POST /v1/chat/completions` (and `/chat/completions`), stream and non-stream. */
import { Elysia } from "elysia";
import { startTurn } from "../start-turn.ts";
import type { TurnEvent } from "../../core/turn/turn.ts";
import { clientAbort, collectTurn } from "../collect-turn.ts";
import type { AppContext } from "../../context.ts";
import { businessAuth } from "../business-auth.ts";
import { DeltaCoalescer } from "../streaming/delta-coalescer.ts";
import { sseResponse } from "../streaming/sse-response.ts";
import { awaitTurnHead, restOfTurn } from "../streaming/turn-head.ts";
import { describeFailure, toHttpError } from "../turn-errors.ts";
import { chatTurnRequest } from "./chat-request.ts";
import { chatCompletionBody, ChatChunkWriter, newCompletionId, openAiToolCall } from "./chat-response.ts";
import { ChatCompletionBody } from "./chat-schema.ts";

export function chatRoutes(ctx: AppContext) {
  const handler = async ({ body, request, caller }: { body: Record<string, unknown>; request: Request; caller: import("../caller.ts").Caller }) => {
    const turn = chatTurnRequest(ctx, body, request, caller);
    const id = newCompletionId();
    const created = Math.floor(Date.now() / 1000);
    const model = turn.model.requested;
    const abort = clientAbort(request);
    const events = startTurn(ctx, turn, caller, abort.signal);

    if (!turn.stream) {
      try {
        const r = await collectTurn(events);
        return chatCompletionBody({ id, created, model, text: r.text, reasoning: r.reasoning, toolCalls: r.toolCalls, finishReason: r.finishReason, usage: r.usage });
      } finally {
        abort.dispose();
      }
    }

    let head;
    try {
      head = await awaitTurnHead(events, ctx.streamHeadStartMs);
    } catch (e) {
      throw toHttpError(e);
    }
    const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    const writer = new ChatChunkWriter(id, created, model, includeUsage);
    return sseResponse(
      async (sink, signal) => {
        signal.addEventListener("abort", () => abort.abort(signal.reason), { once: true });
        sink.send(writer.chunk({ role: "assistant", content: "" }));
        const coalescer = new DeltaCoalescer<"reasoning_content" | "content">((kind, text) => sink.send(writer.chunk({ [kind]: text })), ctx.coalescing);
        for await (const ev of restOfTurn(events, head) as AsyncGenerator<TurnEvent>) {
          switch (ev.type) {
            case "reasoning":
              coalescer.push("reasoning_content", ev.text);
              break;
            case "text":
              coalescer.push("content", ev.text);
              break;
            case "tool_calls":
              coalescer.flush();
              sink.send(writer.chunk({ tool_calls: ev.calls.map((c) => ({ index: c.index, ...openAiToolCall(c) })) }));
              break;
            case "done":
              coalescer.flush();
              sink.send(writer.finish(ev.finishReason, ev.usage));
              if (includeUsage) sink.send(writer.usage(ev.usage));
              sink.sendRaw("[DONE]");
          }
        }
      },
      {
        request,
        keepAliveMs: ctx.keepAliveMs,
        keepAlive: (sink) => sink.comment("keep-alive"),
        onError: (sink, e) => {
          const f = describeFailure(e);
          const body = chatCompletionErrorChunk(f);
          sink.send(body);
          sink.sendRaw("[DONE]");
        },
      },
    );
  };
  return new Elysia({ name: "openai-chat" })
    .use(businessAuth(ctx))
    .post("/v1/chat/completions", handler as never, { body: ChatCompletionBody })
    .post("/chat/completions", handler as never, { body: ChatCompletionBody });
}

function chatCompletionErrorChunk(f: { status: number; message: string; code: string }) {
  const type = f.status === 429 ? "rate_limit_error" : f.status === 401 ? "authentication_error" : f.status >= 500 ? "api_error" : "invalid_request_error";
  return { status_code: f.status, error: { message: f.message, type, code: f.code, param: null } };
}
