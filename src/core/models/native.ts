/**
 * What a model is to the gateway: the `ModelSpec` every provider's `models()` returns. The catalogs themselves
 * live in the provider folders (DeepSeek: src/upstream/deepseek/models.ts); core keeps only the types and the
 * resolution logic (catalog.ts, resolve.ts).
 */

/** DeepSeek's model variants (`model_type`); other providers leave `ModelSpec.modelType` unset. */
export type UpstreamModelType = "default" | "expert" | "vision";

export interface ModelSpec {
  /** The model id within its provider, lower case, e.g. "deepseek-v4-pro-search-nothinking" or "deepseek-r1". */
  id: string;
  /** The id of the upstream provider serving it (`UpstreamProvider.id`). */
  provider: string;
  /** Thinking state when the request says nothing. */
  thinkingDefault: boolean;
  /** `-nothinking` ids: thinking is off whatever the request says. */
  thinkingForcedOff: boolean;
  /** The model searches the web and its answers carry citations (DeepSeek: `search_enabled`); decided only by the model. */
  search: boolean;
  /** The model takes images. */
  vision?: boolean;
  /** Provider-specific: the model name the provider sends upstream, when it differs from `id` (e.g. Volcengine `deepseek-r1-1`). */
  upstreamModel?: string;
  /** Shown in model lists (Gemini `displayName`, Anthropic `display_name`); absent = the id. */
  displayName?: string;
  /** DeepSeek only: the `model_type` it sends (`vision` takes images). Other providers may leave it unset. */
  modelType?: UpstreamModelType;
}

export const NOTHINKING_SUFFIX = "-nothinking";
