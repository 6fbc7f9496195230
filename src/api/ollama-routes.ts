/** Ollama discovery (`/api/version`, `/api/tags`, `/api/show`) for IDE plugins that list models there, then chat over /v1. */
import { Elysia, t } from "elysia";
import type { AppContext } from "../context.ts";
import { lookupModel } from "./model-lookup.ts";

const MODIFIED_AT = new Date(1677610602 * 1000).toISOString();

function plain(status: number, text: string): Response {
  return new Response(text, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

export function ollamaRoutes(ctx: AppContext) {
  return new Elysia({ name: "ollama" })
    .get("/api/version", () => ({ version: "0.23.1" }))
    // Every configured provider's models: the primary provider's under bare ids, the others as provider/model.
    .get("/api/tags", () => {
      const catalog = ctx.providers.catalog();
      return {
        models: catalog.listed().map((m) => {
          const id = catalog.listedId(m);
          return { name: id, model: id, size: 0, modified_at: MODIFIED_AT, details: { family: m.provider, format: "remote" } };
        }),
      };
    })
    .post(
      "/api/show",
      ({ body }) => {
        const r = lookupModel(ctx, body.model ?? body.name);
        if (!r.ok) return r.code === "provider_unavailable" ? plain(503, r.message) : plain(404, "Model not found.");
        const model = r.model;
        const capabilities = ["tools", ...(model.thinkingForcedOff ? [] : ["thinking"]), ...(model.vision ? ["vision"] : [])];
        return { id: ctx.providers.catalog().listedId(model), capabilities, details: { family: model.provider, format: "remote" }, model_info: {} };
      },
      { body: t.Object({ model: t.Optional(t.String()), name: t.Optional(t.String()) }, { additionalProperties: true }) },
    );
}
