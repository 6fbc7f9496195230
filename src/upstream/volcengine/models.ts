/**
 * The models the Volcengine Ark console serves (other-providers.md §A.1.2) and the upstream model name each
 * client id maps to. Exposed bare here; the routing layer also exposes them as `volcengine/<id>`.
 */
import type { ModelSpec } from "../../core/models/native.ts";

export const VOLCENGINE_PROVIDER_ID = "volcengine";

interface VolcModel {
  id: string;
  /** The `Model` the console expects. */
  upstream: string;
  /** Whether the model streams `reasoning_content` before its answer. */
  reasons: boolean;
}

const MODELS: readonly VolcModel[] = [
  { id: "deepseek-v3-1", upstream: "deepseek-v3-1", reasons: false },
  { id: "deepseek-r1", upstream: "deepseek-r1-1", reasons: true },
];

const SPECS: readonly ModelSpec[] = Object.freeze(
  MODELS.map((m) =>
    Object.freeze({
      id: m.id,
      provider: VOLCENGINE_PROVIDER_ID,
      modelType: "default" as const,
      thinkingDefault: m.reasons,
      // V3.1 on the console answers without reasoning; R1 always reasons (a client may still hide it).
      thinkingForcedOff: !m.reasons,
      search: false,
    }),
  ),
);

export function volcengineModels(): readonly ModelSpec[] {
  return SPECS;
}

/** The console's model name for a client model id (the id itself when unknown). */
export function upstreamModelName(id: string): string {
  return MODELS.find((m) => m.id === id)?.upstream ?? id;
}
