/**
 * The models DeepSeek serves and the upstream flags each maps to (upstream-protocol §5.1). The catalog
 * itself still lives in core (src/core/models/native.ts, every entry `provider: "deepseek"`).
 */
import { NATIVE_MODELS, type ModelSpec } from "../../core/models/native.ts";

export const DEEPSEEK_PROVIDER_ID = "deepseek";

export function deepSeekModels(): readonly ModelSpec[] {
  return NATIVE_MODELS.filter((m) => m.provider === DEEPSEEK_PROVIDER_ID);
}

/** `model_type` and `search_enabled` of the completion payload for a model. */
export function deepSeekFlags(model: Pick<ModelSpec, "modelType" | "search">): { modelType: string; searchEnabled: boolean } {
  return { modelType: model.modelType, searchEnabled: model.search };
}
