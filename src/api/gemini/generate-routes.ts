/** Gemini routes: `POST /v1beta/models/{model}:{generateContent|streamGenerateContent|countTokens}` (and `/v1/models/…`). */
import { Elysia } from "elysia";
import { serveTurn } from "../serve-turn.ts";
import { countPromptTokens } from "../count-prompt.ts";
import type { AppContext } from "../../context.ts";
import { businessAuth } from "../business-auth.ts";
import type { Caller } from "../caller.ts";
import { geminiErrorBody } from "../error-response.ts";
import { HttpError } from "../http-error.ts";
import { describeFailure } from "../turn-errors.ts";
import { generateTurnRequest } from "./generate-request.ts";
import { functionCallPart, generateContentBody, geminiFinishReason, newResponseId, responseChunk } from "./generate-response.ts";
import { GenerateContentBody } from "./generate-schema.ts";

const ACTIONS = new Set(["generateContent", "streamGenerateContent", "countTokens"]);

/**
 * `gemini-2.5-pro:streamGenerateContent` → model and action, split on the last `:`. A `provider/model` id comes
 * either as two path segments (`volcengine/deepseek-r1:generateContent`: `rest` is the provider, `more` the rest) or URL-encoded
 * (`volcengine%2Fdeepseek-r1:generateContent`).
 */
export function splitModelAction(rest: string, more?: string): { model: string; action: string } {
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new HttpError(400, `malformed percent-encoding in the model path ${JSON.stringify(s)}`);
    }
  };
  const decoded = more !== undefined ? `${decode(rest)}/${decode(more)}` : decode(rest);
  const i = decoded.lastIndexOf(":");
  if (i <= 0) throw new HttpError(404, `no route for models/${decoded}; expected models/{model}:generateContent`);
  const action = decoded.slice(i + 1);
  if (!ACTIONS.has(action)) throw new HttpError(404, `unknown Gemini method ${JSON.stringify(action)}; supported: ${[...ACTIONS].join(", ")}`);
  return { model: decoded.slice(0, i), action };
}

function requireContents(body: Record<string, unknown>): void {
  if (!Array.isArray(body.contents) || body.contents.length === 0) throw new HttpError(400, "invalid request: 'contents' must be a non-empty array");
}

type Ctx = { body: Record<string, unknown>; request: Request; caller: Caller; params: { rest: string; more?: string } };

export function generateRoutes(ctx: AppContext) {
  const handler = async ({ body, request, caller, params }: Ctx) => {
    const { model: modelName, action } = splitModelAction(params.rest, params.more);
    if (action === "countTokens") {
      const inner = typeof body.generateContentRequest === "object" && body.generateContentRequest ? (body.generateContentRequest as Record<string, unknown>) : body;
      requireContents(inner);
      const turn = generateTurnRequest(ctx, modelName, inner, false, request, caller);
      return { totalTokens: await countPromptTokens(turn, ctx.turnDeps(), ctx.options.maxPromptChars) };
    }
    requireContents(body);
    const streamAction = action === "streamGenerateContent";
    // Without alt=sse the REST API streams a JSON array of responses; one element then carries everything.
    const sse = streamAction && new URL(request.url).searchParams.get("alt") === "sse";
    const turn = generateTurnRequest(ctx, modelName, body, sse, request, caller);
    const responseId = newResponseId();
    const model = turn.model.requested;
    return serveTurn(ctx, request, caller, turn, {
      json: (r) => {
        const full = generateContentBody({ responseId, model, text: r.text, reasoning: r.reasoning, toolCalls: r.toolCalls, finishReason: r.finishReason, usage: r.usage });
        return streamAction ? [full] : full;
      },
      keepAlive: (sink) => sink.comment("keep-alive"),
      stream: (sink) => {
        const send = (parts: unknown[]) => sink.send(responseChunk({ responseId, model, parts }));
        return {
          start: () => {},
          reasoning: (text) => send([{ text, thought: true }]),
          text: (text) => send([{ text }]),
          toolCalls: (calls) => send(calls.map(functionCallPart)),
          done: (ev) => sink.send(responseChunk({ responseId, model, parts: [{ text: "" }], finishReason: geminiFinishReason(ev.finishReason), usage: ev.usage })),
          error: (e) => {
            const f = describeFailure(e);
            sink.send(geminiErrorBody(f.status, f.message));
          },
        };
      },
    });
  };
  return new Elysia({ name: "gemini-generate" })
    .use(businessAuth(ctx))
    .post("/v1beta/models/:rest", handler, { body: GenerateContentBody })
    .post("/v1beta/models/:rest/:more", handler, { body: GenerateContentBody })
    .post("/v1/models/:rest", handler, { body: GenerateContentBody })
    .post("/v1/models/:rest/:more", handler, { body: GenerateContentBody });
}
