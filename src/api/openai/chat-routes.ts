/** OpenAI Chat Completions: `POST /v1/chat/completions` (and `/chat/completions`), stream and non-stream. */
import { Elysia } from "elysia";
import type { AppContext } from "../../context.ts";
import { businessAuth } from "../business-auth.ts";
import type { Caller } from "../caller.ts";
import { serveTurn } from "../serve-turn.ts";
import { describeFailure } from "../turn-errors.ts";
import { chatTurnRequest } from "./chat-request.ts";
import { chatCompletionBody, ChatChunkWriter, newCompletionId, openAiToolCall } from "./chat-response.ts";
import { ChatCompletionBody } from "./chat-schema.ts";

export function chatRoutes(ctx: AppContext) {
  const handler = ({ body, request, caller }: { body: Record<string, unknown>; request: Request; caller: Caller }) => {
    const turn = chatTurnRequest(ctx, body, request, caller);
    const id = newCompletionId();
    const created = Math.floor(Date.now() / 1000);
    const model = turn.model.requested;
    const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    return serveTurn(ctx, request, caller, turn, {
      json: (r) => chatCompletionBody({ id, created, model, text: r.text, reasoning: r.reasoning, toolCalls: r.toolCalls, finishReason: r.finishReason, usage: r.usage }),
      keepAlive: (sink) => sink.comment("keep-alive"),
      stream: (sink) => {
        const writer = new ChatChunkWriter(id, created, model, includeUsage);
        return {
          start: () => sink.send(writer.chunk({ role: "assistant", content: "" })),
          reasoning: (text) => sink.send(writer.chunk({ reasoning_content: text })),
          text: (text) => sink.send(writer.chunk({ content: text })),
          toolCalls: (calls) => sink.send(writer.chunk({ tool_calls: calls.map((c) => ({ index: c.index, ...openAiToolCall(c) })) })),
          done: (ev) => {
            sink.send(writer.finish(ev.finishReason, ev.usage));
            if (includeUsage) sink.send(writer.usage(ev.usage));
            sink.sendRaw("[DONE]");
          },
          error: (e) => {
            sink.send(chatCompletionErrorChunk(describeFailure(e)));
            sink.sendRaw("[DONE]");
          },
        };
      },
    });
  };
  return new Elysia({ name: "openai-chat" })
    .use(businessAuth(ctx))
    .post("/v1/chat/completions", handler, { body: ChatCompletionBody })
    .post("/chat/completions", handler, { body: ChatCompletionBody });
}

function chatCompletionErrorChunk(f: { status: number; message: string; code: string }) {
  const type = f.status === 429 ? "rate_limit_error" : f.status === 401 ? "authentication_error" : f.status >= 500 ? "api_error" : "invalid_request_error";
  return { status_code: f.status, error: { message: f.message, type, code: f.code, param: null } };
}
