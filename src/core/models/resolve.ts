/**
 * Model name resolution shared by every surface (api-surface §3.2):
 * trim + lower-case, native id, alias map (config aliases overlay the built-ins), then
 * `<alias>-nothinking`. No family heuristics.
 */
import { BUILTIN_ALIASES } from "./aliases.ts";
import { DEEPSEEK_PROVIDER, NATIVE_MODEL_IDS, NOTHINKING_SUFFIX, nativeModel, type ModelSpec } from "./native.ts";

export interface ResolvedModel extends ModelSpec {
  /** The name as the client sent it, trimmed (not lower-cased). */
  requested: string;
}

export type UserAliases = Readonly<Record<string, string>>;

const EMPTY: ReadonlyMap<string, string> = new Map();
const lowered = new WeakMap<object, ReadonlyMap<string, string>>();

/** Config aliases with keys and values trimmed and lower-cased; cached per config object. */
function userAliasMap(userAliases: UserAliases | undefined | null): ReadonlyMap<string, string> {
  if (!userAliases) return EMPTY;
  let map = lowered.get(userAliases);
  if (!map) {
    const m = new Map<string, string>();
    for (const [k, v] of Object.entries(userAliases)) {
      if (typeof v !== "string") continue;
      const key = k.trim().toLowerCase();
      if (key) m.set(key, v.trim().toLowerCase());
    }
    map = m;
    lowered.set(userAliases, map);
  }
  return map;
}

/** Native target of an alias (config first, then built-ins); undefined when unknown or not native. */
function aliasTarget(name: string, user: ReadonlyMap<string, string>): ModelSpec | undefined {
  const target = user.get(name) ?? BUILTIN_ALIASES.get(name);
  return target === undefined ? undefined : nativeModel(target);
}

/** Models of the other providers by `provider/model` and bare id (filled by the composition root; interim until provider routing lands). */
const providerModels = new Map<string, ModelSpec>();
const bareProviderModels = new Map<string, ModelSpec>();

export function registerProviderModels(models: readonly ModelSpec[]): void {
  for (const m of models) {
    providerModels.set(`${m.provider}/${m.id}`, m);
    if (!nativeModel(m.id) && !BUILTIN_ALIASES.has(m.id)) bareProviderModels.set(m.id, m);
  }
}

function withRequested(spec: ModelSpec, requested: string): ResolvedModel {
  return { ...spec, requested };
}

/** Resolve a requested model name; null when it is not available. */
export function resolveModel(name: unknown, userAliases?: UserAliases | null): ResolvedModel | null {
  if (typeof name !== "string") return null;
  const requested = name.trim();
  const key = requested.toLowerCase();
  if (!key) return null;

  const native = nativeModel(key);
  if (native) return withRequested(native, requested);
  const prefixed = providerModels.get(key);
  if (prefixed) return withRequested(prefixed, requested);

  const user = userAliasMap(userAliases);
  const routed = user.get(key);
  if (routed?.includes("/") && !routed.startsWith(`${key}/`)) {
    const inner = resolveModel(routed);
    if (inner) return withRequested(inner, requested);
  }
  const direct = aliasTarget(key, user);
  if (direct) return withRequested(direct, requested);
  const bare = bareProviderModels.get(key);
  if (bare) return withRequested(bare, requested);

  if (key.endsWith(NOTHINKING_SUFFIX)) {
    const base = aliasTarget(key.slice(0, -NOTHINKING_SUFFIX.length), user);
    if (base) {
      const id = base.thinkingForcedOff ? base.id : base.id + NOTHINKING_SUFFIX;
      const spec = nativeModel(id);
      if (spec) return withRequested(spec, requested);
    }
  }
  // Minimal `provider/model` routing (the provider checks the model and answers 400 for one it does not serve).
  const slash = key.indexOf("/");
  if (slash > 0 && slash < key.length - 1) {
    const provider = key.slice(0, slash);
    if (provider === DEEPSEEK_PROVIDER) {
      const inner = resolveModel(requested.slice(slash + 1), userAliases);
      return inner && withRequested(inner, requested);
    }
    if (/^[a-z][a-z0-9_-]*$/.test(provider)) {
      return { id: key.slice(slash + 1), provider, modelType: "default", thinkingDefault: false, thinkingForcedOff: false, search: false, requested };
    }
  }
  return null;
}

/** Error text for an unresolved model; names the valid native ids. */
export function modelNotAvailableMessage(name: string): string {
  return `model "${name}" is not available; available models: ${NATIVE_MODEL_IDS.join(", ")}`;
}
