/** Anthropic Messages routes (`/anthropic/v1/messages`, `/v1/messages`, `/messages`, and count_tokens). */
import { Elysia } from "elysia";
import { serveTurn } from "../serve-turn.ts";
import { countPromptTokens } from "../count-prompt.ts";
import type { AppContext } from "../../context.ts";
import { businessAuth } from "../business-auth.ts";
import type { Caller } from "../caller.ts";
import { anthropicErrorBody } from "../error-response.ts";
import { describeFailure } from "../turn-errors.ts";
import { messagesTurnRequest } from "./messages-request.ts";
import { MessageStreamWriter, messageBody, newMessageId } from "./messages-response.ts";
import { CountTokensBody, MessagesBody } from "./messages-schema.ts";

const PREFIXES = ["/anthropic/v1", "/v1", ""];

type Ctx = { body: Record<string, unknown>; request: Request; caller: Caller };

export function messagesRoutes(ctx: AppContext) {
  const messages = ({ body, request, caller }: Ctx) => {
    const turn = messagesTurnRequest(ctx, body, request, caller);
    const id = newMessageId();
    const model = turn.model.requested;
    return serveTurn(ctx, request, caller, turn, {
      json: (r) => messageBody({ id, model, text: r.text, reasoning: r.reasoning, toolCalls: r.toolCalls, finishReason: r.finishReason, usage: r.usage }),
      keepAlive: (sink) => sink.send({ type: "ping" }, "ping"),
      stream: (sink) => {
        const w = new MessageStreamWriter(sink, id, model);
        return {
          start: (promptTokens) => w.start(promptTokens),
          reasoning: (text) => w.thinking(text),
          text: (text) => w.text(text),
          toolCalls: (calls) => w.toolCalls(calls),
          done: (ev) => w.finish(ev.finishReason, ev.usage),
          error: (e) => {
            const f = describeFailure(e);
            sink.send(anthropicErrorBody(f.status, f.message, f.code), "error");
          },
        };
      },
    });
  };

  const countTokensHandler = async ({ body, request, caller }: Ctx) => {
    const turn = messagesTurnRequest(ctx, { ...body, stream: false }, request, caller);
    return { input_tokens: await countPromptTokens(turn, ctx.turnDeps(), ctx.options.maxPromptChars) };
  };

  let app = new Elysia({ name: "anthropic-messages" }).use(businessAuth(ctx));
  for (const prefix of PREFIXES) {
    app = app
      .post(`${prefix}/messages`, messages, { body: MessagesBody })
      .post(`${prefix}/messages/count_tokens`, countTokensHandler, { body: CountTokensBody });
  }
  return app;
}
