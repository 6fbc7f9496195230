/**
 * The native model ids this gateway exposes, the provider serving each, and the upstream flags each one
 * maps to (upstream-protocol §5.1, api-surface §3.1).
 */

export type UpstreamModelType = "default" | "expert" | "vision";

/** The provider every current model is served by. */
export const DEEPSEEK_PROVIDER = "deepseek";

export interface ModelSpec {
  /** Native id, lower case, e.g. "deepseek-v4-pro-search-nothinking". */
  id: string;
  /** The id of the upstream provider serving it (`UpstreamProvider.id`). */
  provider: string;
  /** Provider-specific: the model variant the provider sends upstream (DeepSeek: `model_type`; `vision` takes images). */
  modelType: UpstreamModelType;
  /** Thinking state when the request says nothing. */
  thinkingDefault: boolean;
  /** `-nothinking` ids: thinking is off whatever the request says. */
  thinkingForcedOff: boolean;
  /** The model searches the web and its answers carry citations (DeepSeek: `search_enabled`); decided only by the model. */
  search: boolean;
}

export const NOTHINKING_SUFFIX = "-nothinking";

const BASES: ReadonlyArray<{ id: string; modelType: UpstreamModelType; search: boolean }> = [
  { id: "deepseek-v4-flash", modelType: "default", search: false },
  { id: "deepseek-v4-pro", modelType: "expert", search: false },
  { id: "deepseek-v4-flash-search", modelType: "default", search: true },
  { id: "deepseek-v4-pro-search", modelType: "expert", search: true },
  { id: "deepseek-v4-vision", modelType: "vision", search: false },
];

function buildNative(): ModelSpec[] {
  const out: ModelSpec[] = [];
  for (const b of BASES) {
    out.push({ id: b.id, provider: DEEPSEEK_PROVIDER, modelType: b.modelType, thinkingDefault: true, thinkingForcedOff: false, search: b.search });
    out.push({
      id: b.id + NOTHINKING_SUFFIX,
      provider: DEEPSEEK_PROVIDER,
      modelType: b.modelType,
      thinkingDefault: false,
      thinkingForcedOff: true,
      search: b.search,
    });
  }
  return out;
}

/** The ten native models, in the order of the OpenAI model list (api-surface §3.4). */
export const NATIVE_MODELS: readonly ModelSpec[] = Object.freeze(buildNative().map((m) => Object.freeze(m)));

/** Native ids in list order. */
export const NATIVE_MODEL_IDS: readonly string[] = Object.freeze(NATIVE_MODELS.map((m) => m.id));

const NATIVE_BY_ID: ReadonlyMap<string, ModelSpec> = new Map(NATIVE_MODELS.map((m) => [m.id, m]));

/** The spec of a native id (already lower case), or undefined. */
export function nativeModel(id: string): ModelSpec | undefined {
  return NATIVE_BY_ID.get(id);
}

export function isNativeModelId(id: string): boolean {
  return NATIVE_BY_ID.has(id);
}
