/**
 * OnDemand models: client model id → OnDemand `endpointId` (other-providers.md §B.1.2). OnDemand retires and
 * renames endpoints, so the built-in map is only a default: the `ondemand.models` setting (config.json
 * `"ondemand": {"models": {"<client id>": "<endpointId>"}}`) overrides entries and adds new ones.
 */
import type { ModelSpec } from "../../core/models/native.ts";

export const ONDEMAND_PROVIDER_ID = "ondemand";

/** The Go adapter's map (its code, not its README). */
export const BUILTIN_ENDPOINTS: Readonly<Record<string, string>> = Object.freeze({
  "gpt-4o": "predefined-openai-gpt4o",
  "gpt-4o-mini": "predefined-openai-gpt4o-mini",
  "gpt-4.1": "predefined-openai-gpt4.1",
  "gpt-4.1-mini": "predefined-openai-gpt4.1-mini",
  "gpt-4.1-nano": "predefined-openai-gpt4.1-nano",
  "o3-mini": "predefined-openai-gpto3-mini",
  "o4-mini": "predefined-openai-gpto4-mini",
  "deepseek-v3": "predefined-deepseek-v3",
  "deepseek-r1": "predefined-deepseek-r1",
  "claude-4-sonnet": "predefined-claude-4-sonnet",
  "claude-4-opus": "predefined-claude-4-opus",
  "grok-4": "predefined-xai-grok4",
});

/** A client model id as the map keys it: lower case, spaces removed, an `ondemand/` prefix dropped. */
export function modelKey(id: string): string {
  const key = id.trim().toLowerCase().replace(/\s+/g, "");
  return key.startsWith(`${ONDEMAND_PROVIDER_ID}/`) ? key.slice(ONDEMAND_PROVIDER_ID.length + 1) : key;
}

/** The effective map: built-ins, then the setting's entries (an empty endpoint removes a built-in). */
export function endpointMap(overrides: Readonly<Record<string, string>> | undefined): Map<string, string> {
  const map = new Map(Object.entries(BUILTIN_ENDPOINTS));
  for (const [k, v] of Object.entries(overrides ?? {})) {
    const key = modelKey(k);
    if (!key) continue;
    if (typeof v === "string" && v.trim()) map.set(key, v.trim());
    else map.delete(key);
  }
  return map;
}

export function onDemandModels(endpoints: ReadonlyMap<string, string>): ModelSpec[] {
  return [...endpoints.keys()].map((id) => ({
    id,
    provider: ONDEMAND_PROVIDER_ID,
    modelType: "default",
    // OnDemand has no per-request thinking switch we rely on; reasoning frames, when an endpoint sends them, are passed on.
    thinkingDefault: false,
    thinkingForcedOff: false,
    search: false,
  }));
}
