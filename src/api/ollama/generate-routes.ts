/** Ollama `POST /api/generate`: one prompt (plus `system`), NDJSON stream by default, `stream:false`, `think`. */
import { Elysia } from "elysia";
import type { AppContext } from "../../context.ts";
import type { Caller } from "../caller.ts";
import { serveTurn } from "../serve-turn.ts";
import { ollamaAuth } from "./ollama-auth.ts";
import { loadedResponse, ollamaRendering } from "./ollama-rendering.ts";
import { ollamaGenerateTurn, resolveOllamaModel, streams } from "./ollama-request.ts";
import { OllamaClock } from "./ollama-response.ts";
import { OllamaGenerateBody, type OllamaGenerateRequest } from "./ollama-schema.ts";

export function ollamaGenerateRoutes(ctx: AppContext) {
  const handler = ({ body, request, caller }: { body: OllamaGenerateRequest; request: Request; caller: Caller }) => {
    const clock = new OllamaClock();
    if (!body.prompt && !body.images?.length) return loadedResponse("generate", resolveOllamaModel(ctx, body.model).requested, streams(body.stream));
    const turn = ollamaGenerateTurn(ctx, body, request, caller);
    return serveTurn(ctx, request, caller, turn, ollamaRendering("generate", turn, clock));
  };
  return new Elysia({ name: "ollama-generate" }).use(ollamaAuth(ctx)).post("/api/generate", handler, { body: OllamaGenerateBody });
}
