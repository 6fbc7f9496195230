/**
 * The models DeepSeek serves and the upstream flags each maps to (upstream-protocol §5.1, api-surface §3.1):
 * five bases, each with a `-nothinking` twin. The built-in aliases (api-surface §3.3, core/models/aliases.ts)
 * point at these ids.
 */
import { NOTHINKING_SUFFIX, type ModelSpec, type UpstreamModelType } from "../../core/models/native.ts";

export const DEEPSEEK_PROVIDER_ID = "deepseek";

const BASES: ReadonlyArray<{ id: string; modelType: UpstreamModelType; search: boolean }> = [
  { id: "deepseek-v4-flash", modelType: "default", search: false },
  { id: "deepseek-v4-pro", modelType: "expert", search: false },
  { id: "deepseek-v4-flash-search", modelType: "default", search: true },
  { id: "deepseek-v4-pro-search", modelType: "expert", search: true },
  { id: "deepseek-v4-vision", modelType: "vision", search: false },
];

function buildModels(): ModelSpec[] {
  const out: ModelSpec[] = [];
  for (const b of BASES) {
    const common = { provider: DEEPSEEK_PROVIDER_ID, modelType: b.modelType, search: b.search, ...(b.modelType === "vision" ? { vision: true } : {}) };
    out.push({ id: b.id, ...common, thinkingDefault: true, thinkingForcedOff: false });
    out.push({ id: b.id + NOTHINKING_SUFFIX, ...common, thinkingDefault: false, thinkingForcedOff: true });
  }
  return out;
}

/** The ten DeepSeek models, in the order of the OpenAI model list (api-surface §3.4). */
export const DEEPSEEK_MODELS: readonly ModelSpec[] = Object.freeze(buildModels().map((m) => Object.freeze(m)));

export function deepSeekModels(): readonly ModelSpec[] {
  return DEEPSEEK_MODELS;
}

/** `model_type` and `search_enabled` of the completion payload for a model. */
export function deepSeekFlags(model: Pick<ModelSpec, "modelType" | "search">): { modelType: string; searchEnabled: boolean } {
  return { modelType: model.modelType ?? "default", searchEnabled: model.search };
}
