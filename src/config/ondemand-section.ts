/**
 * The `"ondemand"` section of config.json: `{"api_base", "api_keys": [...], "models": {"<client id>":
 * "<endpointId>"}, "response_mode", "session_ttl_seconds", "cooldown_seconds", "bad_key_probe_seconds"}`.
 * The keys go to the sealed credential pool (provider "ondemand"); everything else is stored as the
 * `section.ondemand` setting, which the OnDemand provider reads. Exports never carry a key in clear: they list
 * the masked keys, which an import skips (keys already stored stay).
 */
import type { StoreRepos } from "../store/store-api.ts";

export const ONDEMAND_SECTION = "ondemand";
const PROVIDER = "ondemand";
const NUMBER_FIELDS = ["session_ttl_seconds", "cooldown_seconds", "bad_key_probe_seconds"] as const;

export interface OnDemandSectionParsed {
  /** Stored as-is (no keys). */
  section: Record<string, unknown>;
  keys: string[];
  /** Masked entries (from an export) that were skipped. */
  maskedSkipped: number;
}

/** Split a key list: an array of strings, or one comma / newline separated string; trimmed, empties dropped. */
export function splitKeys(raw: unknown): string[] {
  const parts = Array.isArray(raw) ? raw.flatMap((x) => (typeof x === "string" ? x.split(/[,\n]/) : [])) : typeof raw === "string" ? raw.split(/[,\n]/) : [];
  return [...new Set(parts.map((s) => s.trim()).filter(Boolean))];
}

export function parseOnDemandSection(raw: unknown, problems: string[]): OnDemandSectionParsed | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== "object" || Array.isArray(raw)) {
    problems.push("ondemand must be an object");
    return undefined;
  }
  const src = raw as Record<string, unknown>;
  const section: Record<string, unknown> = {};
  if (src.api_base !== undefined && src.api_base !== "") {
    if (typeof src.api_base !== "string" || !/^https?:\/\/[^\s]+$/.test(src.api_base.trim())) problems.push("ondemand.api_base must be an http(s) URL");
    else section.api_base = src.api_base.trim();
  }
  if (src.api_keys !== undefined && src.api_keys !== null && !Array.isArray(src.api_keys) && typeof src.api_keys !== "string") problems.push("ondemand.api_keys must be an array of strings");
  const all = splitKeys(src.api_keys);
  const keys = all.filter((k) => !k.includes("****"));
  if (src.models !== undefined && src.models !== null) {
    if (typeof src.models !== "object" || Array.isArray(src.models)) problems.push('ondemand.models must be an object of "<client model id>": "<endpointId>"');
    else {
      const models: Record<string, string> = {};
      for (const [k, v] of Object.entries(src.models as Record<string, unknown>)) {
        if (typeof v !== "string") problems.push(`ondemand.models.${k} must be a string (an endpointId; "" removes a built-in model)`);
        else if (k.trim()) models[k.trim().toLowerCase()] = v.trim();
      }
      section.models = models;
    }
  }
  if (src.response_mode !== undefined) {
    if (src.response_mode !== "stream" && src.response_mode !== "sync") problems.push('ondemand.response_mode must be "stream" or "sync"');
    else section.response_mode = src.response_mode;
  }
  for (const f of NUMBER_FIELDS) {
    const v = src[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > 86_400) problems.push(`ondemand.${f} must be a number of seconds between 0 and 86400`);
    else section[f] = v;
  }
  return { section, keys, maskedSkipped: all.length - keys.length };
}

/** Add the keys to the pool (same key = same entry, so importing twice changes nothing). Returns how many were new. */
export async function importOnDemandKeys(tx: Pick<StoreRepos, "credentials">, keys: readonly string[]): Promise<number> {
  let added = 0;
  for (const secret of keys) if ((await tx.credentials.upsert(PROVIDER, { secret })).created) added++;
  return added;
}

/** The section as exported: stored settings plus the masked keys and a note saying why they are masked. */
export async function exportOnDemandSection(store: Pick<StoreRepos, "credentials">, stored: Record<string, unknown> | undefined): Promise<Record<string, unknown> | undefined> {
  const previews = (await store.credentials.list(PROVIDER)).map((c) => c.preview);
  if (!stored && previews.length === 0) return undefined;
  return {
    ...(stored ?? {}),
    api_keys: previews,
    ...(previews.length ? { _note: "OnDemand API keys are exported masked and skipped on import (keys already stored are kept); add real keys with ONDEMAND_APIKEYS or the admin API" } : {}),
  };
}
