/** OpenAI Responses: `POST /v1/responses` (stream and non-stream) and `GET /v1/responses/{id}`. */
import { Elysia, t } from "elysia";
import type { AppContext } from "../../context.ts";
import { businessAuth } from "../business-auth.ts";
import type { Caller } from "../caller.ts";
import { HttpError } from "../http-error.ts";
import { describeFailure } from "../turn-errors.ts";
import { serveTurn } from "../serve-turn.ts";
import { conversationAfter } from "./response-store.ts";
import { responsesTurnRequest } from "./responses-request.ts";
import { incompleteReason, newResponseId, outputItems, responseObject, ResponsesStreamWriter, type ResponseFrame } from "./responses-output.ts";

const ResponsesBody = t.Object(
  {
    model: t.String({ minLength: 1 }),
    input: t.Optional(t.Union([t.String(), t.Array(t.Any()), t.Object({}, { additionalProperties: true })])),
    messages: t.Optional(t.Array(t.Any())),
    instructions: t.Optional(t.Union([t.String(), t.Null()])),
    stream: t.Optional(t.Boolean()),
    tools: t.Optional(t.Array(t.Any())),
    tool_choice: t.Optional(t.Any()),
    previous_response_id: t.Optional(t.Union([t.String(), t.Null()])),
    max_output_tokens: t.Optional(t.Union([t.Integer(), t.Null()])),
  },
  { additionalProperties: true },
);

type Ctx = { body: Record<string, unknown>; request: Request; caller: Caller };

export function responsesRoutes(ctx: AppContext) {
  // Memory on one instance, Redis on several: a `previous_response_id` made on one instance continues on another.
  const store = ctx.cluster.responses;
  const keep = (id: string, callerId: string, response: Record<string, unknown>, conversation: Record<string, unknown>[]) =>
    store.put(id, callerId, response, conversationAfter(conversation, response));
  /** A failed turn's response is kept on a best-effort basis (the client already has the error). */
  const keepFailed = (id: string, callerId: string, response: Record<string, unknown>, conversation: Record<string, unknown>[]) =>
    void keep(id, callerId, response, conversation).catch((e) => ctx.logger.warn("could not keep a failed response", { id, error: String(e) }));

  const create = async ({ body, request, caller }: Ctx) => {
    let history: Record<string, unknown>[] = [];
    if (typeof body.previous_response_id === "string" && body.previous_response_id) {
      const prev = await store.get(body.previous_response_id, caller.id);
      if (!prev) throw new HttpError(404, `previous response ${body.previous_response_id} not found (responses are kept in memory for a limited time)`, "previous_response_not_found");
      history = prev.conversation;
    }
    const { turn, conversation } = responsesTurnRequest(ctx, body, history, request, caller);
    const frame: ResponseFrame = {
      id: newResponseId(),
      createdAt: Math.floor(Date.now() / 1000),
      model: turn.model.requested,
      echo: { instructions: body.instructions, tools: body.tools, tool_choice: body.tool_choice, previous_response_id: body.previous_response_id, metadata: body.metadata },
    };
    return serveTurn(ctx, request, caller, turn, {
      json: async (r) => {
        const incomplete = incompleteReason(r.finishReason);
        const response = responseObject(frame, { status: incomplete ? "incomplete" : "completed", output: outputItems(r), usage: r.usage, incomplete });
        await keep(frame.id, caller.id, response, conversation);
        return response;
      },
      keepAlive: (sink) => sink.comment("keep-alive"),
      stream: (sink) => {
        const w = new ResponsesStreamWriter(sink, frame);
        return {
          start: () => w.start(),
          reasoning: (text) => w.reasoning(text),
          text: (text) => w.text(text),
          toolCalls: (calls) => w.toolCalls(calls),
          // Kept before the stream ends, so a follow-up sent after it (to any instance) finds it.
          done: (ev) => keep(frame.id, caller.id, w.finish(ev.finishReason, ev.usage), conversation),
          error: (e) => {
            const f = describeFailure(e);
            keepFailed(frame.id, caller.id, w.fail(f.code, f.message), conversation);
          },
        };
      },
    });
  };

  const get = async ({ params, caller }: { params: { id: string }; caller: Caller }) => {
    const e = await store.get(params.id, caller.id);
    if (!e) throw new HttpError(404, "Response not found.", "not_found");
    return e.response;
  };

  return new Elysia({ name: "openai-responses" })
    .use(businessAuth(ctx))
    .post("/v1/responses", create, { body: ResponsesBody })
    .post("/responses", create, { body: ResponsesBody })
    .get("/v1/responses/:id", get)
    .get("/responses/:id", get);
}
