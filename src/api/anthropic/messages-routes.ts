/** Anthropic Messages routes (`/anthropic/v1/messages`, `/v1/messages`, `/messages`, and count_tokens). */
import { Elysia } from "elysia";
import { promptForTurn } from "../../core/turn/execute-turn.ts";
import { startTurn } from "../start-turn.ts";
import { countTokens } from "../../core/usage/tokenizer.ts";
import type { AppContext } from "../../context.ts";
import { businessAuth } from "../business-auth.ts";
import type { Caller } from "../caller.ts";
import { clientAbort, collectTurn } from "../collect-turn.ts";
import { anthropicErrorBody } from "../error-response.ts";
import { DeltaCoalescer } from "../streaming/delta-coalescer.ts";
import { sseResponse } from "../streaming/sse-response.ts";
import { awaitTurnHead, restOfTurn } from "../streaming/turn-head.ts";
import { describeFailure, toHttpError } from "../turn-errors.ts";
import { messagesTurnRequest } from "./messages-request.ts";
import { MessageStreamWriter, messageBody, newMessageId } from "./messages-response.ts";
import { CountTokensBody, MessagesBody } from "./messages-schema.ts";

const PREFIXES = ["/anthropic/v1", "/v1", ""];

type Ctx = { body: Record<string, unknown>; request: Request; caller: Caller };

export function messagesRoutes(ctx: AppContext) {
  const messages = async ({ body, request, caller }: Ctx) => {
    const turn = messagesTurnRequest(ctx, body, request, caller);
    const id = newMessageId();
    const model = turn.model.requested;
    const abort = clientAbort(request);
    const events = startTurn(ctx, turn, caller, abort.signal);
    if (!turn.stream) {
      try {
        const r = await collectTurn(events);
        return messageBody({ id, model, text: r.text, reasoning: r.reasoning, toolCalls: r.toolCalls, finishReason: r.finishReason, usage: r.usage });
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
    let writer: MessageStreamWriter | undefined;
    return sseResponse(
      async (sink, signal) => {
        signal.addEventListener("abort", () => abort.abort(signal.reason), { once: true });
        writer = new MessageStreamWriter(sink, id, model);
        const w = writer;
        const coalescer = new DeltaCoalescer<"thinking" | "text">((kind, text) => (kind === "thinking" ? w.thinking(text) : w.text(text)), ctx.coalescing);
        let started = false;
        try {
          for await (const ev of restOfTurn(events, head)) {
            if (!started && ev.type !== "started") {
              w.start(0);
              started = true;
            }
            switch (ev.type) {
              case "started":
                if (!started) w.start(ev.promptTokens);
                started = true;
                break;
              case "reasoning":
                coalescer.push("thinking", ev.text);
                break;
              case "text":
                coalescer.push("text", ev.text);
                break;
              case "tool_calls":
                coalescer.flush();
                w.toolCalls(ev.calls);
                break;
              case "done":
                coalescer.flush();
                w.finish(ev.finishReason, ev.usage);
            }
          }
        } finally {
          abort.dispose();
        }
      },
      {
        request,
        keepAliveMs: ctx.keepAliveMs,
        keepAlive: (sink) => sink.send({ type: "ping" }, "ping"),
        onError: (sink, e) => {
          const f = describeFailure(e);
          const err = anthropicErrorBody(f.status, f.message, f.code);
          sink.send(err, "error");
        },
      },
    );
  };

  const countTokensHandler = ({ body, request, caller }: Ctx) => {
    const turn = messagesTurnRequest(ctx, { ...body, stream: false }, request, caller);
    return { input_tokens: countTokens(promptForTurn(turn, ctx.turnDeps())) };
  };

  let app = new Elysia({ name: "anthropic-messages" }).use(businessAuth(ctx));
  for (const prefix of PREFIXES) {
    app = app
      .post(`${prefix}/messages`, messages as never, { body: MessagesBody })
      .post(`${prefix}/messages/count_tokens`, countTokensHandler as never, { body: CountTokensBody });
  }
  return app;
}
