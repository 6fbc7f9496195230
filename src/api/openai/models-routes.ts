/**
 * Model listings: OpenAI `/v1/models` (public), Anthropic `/anthropic/v1/models`, Gemini `/v1beta/models`, and
 * the single-model lookups. Every configured provider's models are listed (`owned_by` names the provider);
 * a `provider/model` id may come as two path segments or URL-encoded (`volcengine%2Fdeepseek-r1`).
 */
import { Elysia } from "elysia";
import { anthropicModelList, geminiModelList, geminiModelObject, openAiModelList, openAiModelObject } from "../../core/models/index.ts";
import type { AppContext } from "../../context.ts";
import { lookupModel, modelLookupError } from "../model-lookup.ts";

/** `/:id` or `/:id/:model` (the router needs one name per path position: `id` is then the provider). */
type IdParams = { params: { id: string; model?: string } };

/** The requested id from `/:id` or `/:id/:model` (`provider/model`), percent-decoded (`%2F` included). */
export function modelPathId(params: { id: string; model?: string }): string {
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  return params.model !== undefined ? `${decode(params.id)}/${decode(params.model)}` : decode(params.id);
}

export function modelRoutes(ctx: AppContext) {
  const catalog = () => ctx.providers.catalog();
  const openAiList = () => openAiModelList(catalog(), ctx.settings.modelAliases());
  const openAiOne = ({ params }: IdParams) => {
    const asked = modelPathId(params).trim();
    const r = lookupModel(ctx, asked);
    if (!r.ok) throw modelLookupError(r, 404);
    const listed = catalog().listedId(r.model);
    // An alias answers under its own id (clients check it) and names the model it runs on.
    return listed === asked.toLowerCase() ? openAiModelObject(listed, r.model.provider) : { ...openAiModelObject(asked, r.model.provider), ds2api: { maps_to: listed } };
  };
  const geminiOne = ({ params }: IdParams) => {
    const name = modelPathId(params).replace(/^models\//, "");
    const r = lookupModel(ctx, name);
    if (!r.ok) throw modelLookupError(r, 404);
    return geminiModelObject(catalog(), name, r.model);
  };
  return new Elysia({ name: "models" })
    .get("/v1/models", openAiList)
    .get("/models", openAiList)
    .get("/v1/models/:id", openAiOne)
    .get("/v1/models/:id/:model", openAiOne)
    .get("/models/:id", openAiOne)
    .get("/models/:id/:model", openAiOne)
    .get("/anthropic/v1/models", () => anthropicModelList(catalog()))
    .get("/v1beta/models", () => geminiModelList(catalog()))
    .get("/v1beta/models/:id", geminiOne)
    .get("/v1beta/models/:id/:model", geminiOne);
}
