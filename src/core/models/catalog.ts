/**
 * The models a running server can serve, as the provider registry sees them (issue 12 §4), and how a
 * requested name reaches one of them:
 *
 * - `provider/model` (`volcengine/deepseek-r1`, `deepseek/deepseek-v4-pro`) always means that provider: an
 *   unknown model of a known provider is `model_not_found` naming its models; a provider that is registered
 *   but not configured is `provider_unavailable` saying how to configure it.
 * - An unprefixed name keeps its meaning: the primary provider's ids (the first registered, DeepSeek), then the
 *   config aliases (`model_aliases`, which may point at `provider/model`), then the built-in aliases
 *   (api-surface §3.3), then an id that exactly one other provider serves, then `<alias>-nothinking`.
 *
 * Lists show the primary provider's models under their bare ids and every other provider's as `provider/model`.
 */
import { BUILTIN_ALIASES } from "./aliases.ts";
import { NOTHINKING_SUFFIX, type ModelSpec } from "./native.ts";

/** What the catalog needs to know of a registered provider. */
export interface CatalogProvider {
  id: string;
  displayName: string;
  /** Has what it needs to serve; an unconfigured provider's models are not listed and do not resolve. */
  configured: boolean;
  /** How to configure it (said in the 503 for its models). */
  setupHint?: string;
  models: readonly ModelSpec[];
}

export interface ResolvedModel extends ModelSpec {
  /** The name as the client sent it, trimmed (not lower-cased). */
  requested: string;
}

export type UserAliases = Readonly<Record<string, string>>;

export type ModelLookupFailure = {
  ok: false;
  /** model_not_found: 400 (404 on a model lookup route); provider_unavailable: 503. */
  code: "model_not_found" | "provider_unavailable";
  message: string;
  /** The provider the name was routed to, when there was one. */
  provider?: string;
  /** A bare id several providers serve: the `provider/model` ids to choose from. */
  candidates?: string[];
};

export type ModelLookup = { ok: true; model: ResolvedModel } | ModelLookupFailure;

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

export function defaultSetupHint(p: Pick<CatalogProvider, "id">): string {
  return `add its credentials (environment variables, the "${p.id}" section of config.json, or the admin console) and retry`;
}

export class ModelCatalog {
  /** The provider whose ids (and the built-in aliases) own the unprefixed names. */
  readonly primary: string | undefined;
  private readonly providers = new Map<string, CatalogProvider>();
  /** provider → model id → spec (configured or not). */
  private readonly byProvider = new Map<string, Map<string, ModelSpec>>();
  /** Bare id → the providers serving it, primary first, then registration order. */
  private readonly bare = new Map<string, ModelSpec[]>();
  private readonly listedSpecs: ModelSpec[] = [];

  constructor(providers: readonly CatalogProvider[]) {
    this.primary = providers[0]?.id;
    for (const p of providers) {
      this.providers.set(p.id, p);
      const models = new Map<string, ModelSpec>();
      for (const m of p.models) {
        const id = m.id.toLowerCase();
        if (models.has(id)) continue;
        models.set(id, m);
        let specs = this.bare.get(id);
        if (!specs) this.bare.set(id, (specs = []));
        specs.push(m);
        if (p.configured) this.listedSpecs.push(m);
      }
      this.byProvider.set(p.id, models);
    }
  }

  /** Every model of every configured provider, primary first. */
  listed(): readonly ModelSpec[] {
    return this.listedSpecs;
  }

  /** The primary provider's listed models (bare ids in lists). */
  primaryModels(): ModelSpec[] {
    return this.listedSpecs.filter((m) => m.provider === this.primary);
  }

  /** The other providers' listed models (`provider/model` in lists). */
  otherModels(): ModelSpec[] {
    return this.listedSpecs.filter((m) => m.provider !== this.primary);
  }

  /** The id a list shows for a model: bare for the primary provider, `provider/model` for the others. */
  listedId(m: Pick<ModelSpec, "id" | "provider">): string {
    return m.provider === this.primary ? m.id : `${m.provider}/${m.id}`;
  }

  provider(id: string): CatalogProvider | undefined {
    return this.providers.get(id);
  }

  displayName(providerId: string): string {
    return this.providers.get(providerId)?.displayName ?? providerId;
  }

  /** Route a requested name to a model (see the file comment for the order). */
  lookup(name: unknown, userAliases?: UserAliases | null): ModelLookup {
    if (typeof name !== "string" || !name.trim()) return this.unknown(typeof name === "string" ? name : String(name));
    const requested = name.trim();
    const key = requested.toLowerCase();
    const user = userAliasMap(userAliases);
    const found = this.find(key, user);
    if (found === undefined) return this.unknown(requested);
    if (!found.ok) return found;
    return { ok: true, model: { ...found.model, requested } };
  }

  /** The resolved model, or null when the name does not reach a servable model. */
  resolve(name: unknown, userAliases?: UserAliases | null): ResolvedModel | null {
    const r = this.lookup(name, userAliases);
    return r.ok ? r.model : null;
  }

  /** The error text for a name that reaches no model: the listed ids. */
  notAvailableMessage(name: string): string {
    return `model "${name}" is not available; available models: ${this.listedSpecs.map((m) => this.listedId(m)).join(", ")}`;
  }

  /** Whether `id` is one of the primary provider's model ids (which no alias may shadow). */
  isPrimaryId(id: string): boolean {
    return this.primary !== undefined && (this.byProvider.get(this.primary)?.has(id.trim().toLowerCase()) ?? false);
  }

  /** What an alias target reaches: a model id or `provider/model`, without further aliasing. */
  lookupTarget(target: string): ModelLookup {
    const key = target.trim().toLowerCase();
    const found = key ? this.target(key) : undefined;
    if (found === undefined) return this.unknown(target);
    if (!found.ok) return found;
    return { ok: true, model: { ...found.model, requested: target.trim() } };
  }

  // ---- resolution steps ---------------------------------------------------------------------

  /** undefined: nothing matched (the caller reports the name as requested). */
  private find(key: string, user: ReadonlyMap<string, string>): { ok: true; model: ModelSpec } | ModelLookupFailure | undefined {
    const qualified = this.qualified(key);
    if (qualified) return qualified;
    const primary = this.primary ? this.byProvider.get(this.primary)?.get(key) : undefined;
    if (primary) return this.servable(primary, key);
    const alias = user.get(key) ?? BUILTIN_ALIASES.get(key);
    if (alias !== undefined) {
      const viaAlias = this.target(alias);
      if (viaAlias) return viaAlias;
    }
    const other = this.otherBare(key);
    if (other) return other;
    if (key.endsWith(NOTHINKING_SUFFIX)) {
      const baseKey = key.slice(0, -NOTHINKING_SUFFIX.length);
      const baseAlias = user.get(baseKey) ?? BUILTIN_ALIASES.get(baseKey);
      const base = baseAlias === undefined ? undefined : this.target(baseAlias);
      if (base?.ok) {
        const spec = base.model;
        const twin = spec.thinkingForcedOff ? spec : this.byProvider.get(spec.provider)?.get(spec.id + NOTHINKING_SUFFIX);
        if (twin) return this.servable(twin, key);
      } else if (base) {
        return base;
      }
    }
    return undefined;
  }

  /** `provider/model` with a registered provider; undefined when the prefix names no provider. */
  private qualified(key: string): { ok: true; model: ModelSpec } | ModelLookupFailure | undefined {
    const slash = key.indexOf("/");
    if (slash <= 0) return undefined;
    const providerId = key.slice(0, slash);
    const p = this.providers.get(providerId);
    if (!p) return undefined;
    const modelId = key.slice(slash + 1);
    const spec = this.byProvider.get(providerId)?.get(modelId);
    if (!p.configured) return this.unavailable(p, key);
    if (!spec) {
      const ids = p.models.map((m) => `${p.id}/${m.id}`);
      return {
        ok: false,
        code: "model_not_found",
        provider: p.id,
        message: `model "${modelId}" is not served by provider "${p.id}" (${p.displayName}); its models: ${ids.length ? ids.join(", ") : "none"}`,
      };
    }
    return { ok: true, model: spec };
  }

  /** An alias target: `provider/model` or a bare id (no further aliasing). */
  private target(target: string): { ok: true; model: ModelSpec } | ModelLookupFailure | undefined {
    const qualified = this.qualified(target);
    if (qualified) return qualified;
    const primary = this.primary ? this.byProvider.get(this.primary)?.get(target) : undefined;
    if (primary) return this.servable(primary, target);
    return this.otherBare(target);
  }

  /**
   * A bare id no alias claims: the one configured other provider serving it. An unconfigured provider's bare ids
   * stay unknown (so e.g. an unknown `claude-*` id keeps falling back as before); only `provider/model` says 503.
   */
  private otherBare(key: string): { ok: true; model: ModelSpec } | ModelLookupFailure | undefined {
    const live = (this.bare.get(key) ?? []).filter((m) => m.provider !== this.primary && this.providers.get(m.provider)?.configured);
    if (live.length === 0) return undefined;
    if (live.length === 1) return { ok: true, model: live[0]! };
    return {
      ok: false,
      code: "model_not_found",
      candidates: live.map((m) => this.listedId(m)),
      message: `model "${key}" is served by several providers; name one: ${live.map((m) => this.listedId(m)).join(", ")}`,
    };
  }

  private servable(spec: ModelSpec, key: string): { ok: true; model: ModelSpec } | ModelLookupFailure {
    const p = this.providers.get(spec.provider);
    if (p && !p.configured) return this.unavailable(p, key);
    return { ok: true, model: spec };
  }

  private unavailable(p: CatalogProvider, key: string): ModelLookupFailure {
    return {
      ok: false,
      code: "provider_unavailable",
      provider: p.id,
      message: `model "${key}" is served by provider "${p.id}" (${p.displayName}), which is not configured on this server: ${p.setupHint ?? defaultSetupHint(p)}`,
    };
  }

  private unknown(name: string): ModelLookupFailure {
    return { ok: false, code: "model_not_found", message: this.notAvailableMessage(name) };
  }
}
