/** Checks for admin settings writes that a schema cannot express; failures are 400 {detail}. */
import { ConfigError, parseDs2ApiConfig } from "../config/ds2api-config.ts";
import { RUNTIME_BOUNDS, TURN_LIMIT_KEYS, type TurnLimits } from "../config/runtime-settings.ts";
import type { ModelCatalog } from "../core/models/index.ts";
import { invalid as badRequest } from "./admin-error.ts";

/**
 * Aliases map a lower-case name to a model id: one of the primary provider's ids (DeepSeek) or `provider/model`
 * of any registered provider (configured or not yet). Returns the normalised map.
 */
export function validateAliases(raw: Record<string, string>, catalog: ModelCatalog): Record<string, string> {
  const out: Record<string, string> = {};
  const ids = () => catalog.listed().map((m) => catalog.listedId(m)).join(", ");
  for (const [alias, target] of Object.entries(raw)) {
    const a = alias.trim().toLowerCase();
    const tgt = String(target).trim().toLowerCase();
    if (!a) throw badRequest("model_aliases: an alias name is empty");
    if (a.length > 200) throw badRequest(`model_aliases: alias ${JSON.stringify(alias.slice(0, 40))}… is too long`);
    if (catalog.isPrimaryId(a)) throw badRequest(`model_aliases: ${JSON.stringify(a)} is a native model id and cannot be an alias`);
    const r = catalog.lookupTarget(tgt);
    if (!r.ok && r.code !== "provider_unavailable") throw badRequest(`model_aliases.${a}: ${JSON.stringify(tgt)} is not a native model id or provider/model (one of ${ids()})`);
    out[a] = tgt;
  }
  return out;
}

/** Validate one policy section (responses, embeddings, auto_delete, current_input_file) with the config rules. */
export function validateSection(name: string, value: Record<string, unknown>): void {
  try {
    parseDs2ApiConfig({ [name]: value });
  } catch (e) {
    if (e instanceof ConfigError) throw badRequest(e.message.replace(/^invalid config: /, "invalid settings: "));
    throw e;
  }
}

/** Schema fields of the turn limits in the runtime section (0 clears an override, as for the other keys). */
export function turnLimitFields<S>(int: (min: number, max: number) => S): Record<(typeof TURN_LIMIT_KEYS)[number], S> {
  const out = {} as Record<(typeof TURN_LIMIT_KEYS)[number], S>;
  for (const key of TURN_LIMIT_KEYS) out[key] = int(0, RUNTIME_BOUNDS[key][1]);
  return out;
}

/** The effective turn limits as the settings page shows them (seconds, like the setting names). */
export function turnLimitView(l: TurnLimits): Record<(typeof TURN_LIMIT_KEYS)[number], number> {
  return {
    upstream_idle_timeout_seconds: l.upstreamIdleTimeoutMs / 1000,
    turn_timeout_seconds: l.turnTimeoutMs / 1000,
    upstream_header_timeout_seconds: l.upstreamHeaderTimeoutMs / 1000,
    max_account_attempts: l.maxAccountAttempts,
    queue_wait_seconds: l.queueWaitMs / 1000,
  };
}
