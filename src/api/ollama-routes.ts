/** Ollama discovery (`/api/version`, `/api/tags`, `/api/show`) for IDE plugins that list models there, then chat over /v1. */
import { Elysia, t } from "elysia";
import { NATIVE_MODELS, resolveModel } from "../core/models/index.ts";
import type { AppContext } from "../context.ts";

const MODIFIED_AT = new Date(1677610602 * 1000).toISOString();

function plain(status: number, text: string): Response {
  return new Response(text, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

export function ollamaRoutes(ctx: AppContext) {
  return new Elysia({ name: "ollama" })
    .get("/api/version", () => ({ version: "0.23.1" }))
    .get("/api/tags", () => ({ models: NATIVE_MODELS.map((m) => ({ name: m.id, model: m.id, size: 0, modified_at: MODIFIED_AT })) }))
    .post(
      "/api/show",
      ({ body }) => {
        const model = resolveModel(body.model ?? body.name, ctx.settings.modelAliases());
        if (!model) return plain(404, "Model not found.");
        const capabilities = ["tools", ...(model.thinkingForcedOff ? [] : ["thinking"]), ...(model.modelType === "vision" ? ["vision"] : [])];
        return { id: model.id, capabilities, details: { family: "deepseek", format: "remote" }, model_info: {} };
      },
      { body: t.Object({ model: t.Optional(t.String()), name: t.Optional(t.String()) }, { additionalProperties: true }) },
    );
}
