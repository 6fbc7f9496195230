/** Model listings: OpenAI `/v1/models` (public), Anthropic `/anthropic/v1/models`, Gemini `/v1beta/models`. */
import { Elysia } from "elysia";
import { anthropicModelList, geminiModelList, geminiModelObject, modelNotAvailableMessage, openAiModelList, openAiModelObject, resolveModel } from "../../core/models/index.ts";
import type { AppContext } from "../../context.ts";
import { HttpError } from "../http-error.ts";

export function modelRoutes(ctx: AppContext) {
  const openAiList = () => openAiModelList(ctx.settings.modelAliases());
  const openAiOne = ({ params }: { params: { id: string } }) => {
    const asked = decodeURIComponent(params.id).trim();
    const model = resolveModel(asked, ctx.settings.modelAliases());
    if (!model) throw new HttpError(404, modelNotAvailableMessage(asked), "model_not_found");
    // An alias answers under its own id (clients check it) and names the native model it runs on.
    return model.id === asked.toLowerCase() ? openAiModelObject(model.id) : { ...openAiModelObject(asked), ds2api: { maps_to: model.id } };
  };
  const geminiOne = ({ params }: { params: { id: string } }) => {
    const name = decodeURIComponent(params.id).replace(/^models\//, "");
    const model = resolveModel(name, ctx.settings.modelAliases());
    if (!model) throw new HttpError(404, modelNotAvailableMessage(name));
    return geminiModelObject(name, model.id);
  };
  return new Elysia({ name: "models" })
    .get("/v1/models", openAiList)
    .get("/models", openAiList)
    .get("/v1/models/:id", openAiOne)
    .get("/models/:id", openAiOne)
    .get("/anthropic/v1/models", () => anthropicModelList())
    .get("/v1beta/models", () => geminiModelList())
    .get("/v1beta/models/:id", geminiOne);
}
