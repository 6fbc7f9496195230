/** Ollama `POST /api/chat`: NDJSON stream by default, `stream:false`, `think`, `tools`, in Ollama's wire format. */
import { Elysia } from "elysia";
import type { AppContext } from "../../context.ts";
import type { Caller } from "../caller.ts";
import { serveTurn } from "../serve-turn.ts";
import { ollamaAuth } from "./ollama-auth.ts";
import { loadedResponse, ollamaRendering } from "./ollama-rendering.ts";
import { ollamaChatTurn, resolveOllamaModel, streams } from "./ollama-request.ts";
import { OllamaClock } from "./ollama-response.ts";
import { OllamaChatBody, type OllamaChatRequest } from "./ollama-schema.ts";

export function ollamaChatRoutes(ctx: AppContext) {
  const handler = ({ body, request, caller }: { body: OllamaChatRequest; request: Request; caller: Caller }) => {
    const clock = new OllamaClock();
    if (!body.messages?.length) return loadedResponse("chat", resolveOllamaModel(ctx, body.model).requested, streams(body.stream));
    const turn = ollamaChatTurn(ctx, body, request, caller);
    return serveTurn(ctx, request, caller, turn, ollamaRendering("chat", turn, clock));
  };
  return new Elysia({ name: "ollama-chat" }).use(ollamaAuth(ctx)).post("/api/chat", handler, { body: OllamaChatBody });
}
