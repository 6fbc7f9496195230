/**
 * The model catalog of a server with only DeepSeek registered (as `startServer` builds it), and the core
 * model functions bound to it — what the model tests exercised before the registry fed the catalog.
 */
import {
  anthropicModelList as anthropicIn,
  geminiModelList as geminiIn,
  ModelCatalog,
  modelNotAvailableMessage as notAvailableIn,
  openAiModelList as openAiIn,
  resolveModel as resolveIn,
  type UserAliases,
} from "../../src/core/models/index.ts";
import { DEEPSEEK_MODELS, DEEPSEEK_PROVIDER_ID } from "../../src/upstream/deepseek/models.ts";

export { claudeDisplayName } from "../../src/core/models/index.ts";

export const DEEPSEEK_CATALOG = new ModelCatalog([{ id: DEEPSEEK_PROVIDER_ID, displayName: "DeepSeek web chat", configured: true, models: DEEPSEEK_MODELS }]);
export const NATIVE_MODELS = DEEPSEEK_MODELS;
export const NATIVE_MODEL_IDS: readonly string[] = DEEPSEEK_MODELS.map((m) => m.id);

export const resolveModel = (name: unknown, userAliases?: UserAliases | null) => resolveIn(name, userAliases, DEEPSEEK_CATALOG);
export const modelNotAvailableMessage = (name: string) => notAvailableIn(name, DEEPSEEK_CATALOG);
export const openAiModelList = (userAliases?: UserAliases | null) => openAiIn(DEEPSEEK_CATALOG, userAliases);
export const anthropicModelList = () => anthropicIn(DEEPSEEK_CATALOG);
export const geminiModelList = () => geminiIn(DEEPSEEK_CATALOG);
