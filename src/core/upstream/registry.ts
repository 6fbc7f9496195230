/**
 * The upstream providers of a running server. `execute-turn` picks the provider of the resolved model
 * here; surfaces, admin and health ask the registry, never a concrete provider. The first provider registered
 * is the primary one: its ids and the built-in aliases own the unprefixed model names (core/models/catalog.ts).
 */
import { defaultSetupHint, ModelCatalog } from "../models/catalog.ts";
import type { ModelSpec } from "../models/native.ts";
import { TurnError } from "../turn/turn-error.ts";
import type {
  AccountPoolStatus,
  CredentialPoolStatus,
  ProofOfWorkStats,
  ProviderId,
  ProviderStatus,
  TransportView,
  UpstreamErrorListener,
  UpstreamProvider,
} from "./provider.ts";

/** One provider's capacity as health and metrics read it; a provider whose status hooks throw gets `error` instead. */
export interface ProviderSnapshot {
  provider: ProviderId;
  displayName: string;
  configured: boolean;
  /** Configured and with something usable now (an account, a credential; a provider with neither pool: yes). */
  canServe: boolean;
  accounts?: AccountPoolStatus;
  credentials?: CredentialPoolStatus;
  pow?: ProofOfWorkStats;
  /** The TLS profile of its upstream calls (providers with a TLS transport). */
  transport?: TransportView;
  /** How to configure it, when it is not. */
  setupHint?: string;
  error?: string;
}

/** What `execute-turn` needs of the registry. */
export interface ProviderLookup {
  forModel(model: Pick<ModelSpec, "id" | "provider">): UpstreamProvider;
}

/** A provider hook's answer, or `fallback` when the hook throws (one provider's bug must not break the others). */
function safely<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

const NO_MODELS: readonly ModelSpec[] = Object.freeze([]);

/** Whether a provider has what it needs to serve (`configured()` absent = yes; a throwing check = no). */
export function isConfigured(p: UpstreamProvider): boolean {
  try {
    return p.configured ? p.configured() : true;
  } catch {
    return false;
  }
}

export class ProviderRegistry implements ProviderLookup {
  private readonly byId = new Map<ProviderId, UpstreamProvider>();
  private cached?: { key: unknown[]; catalog: ModelCatalog };
  private readonly errorListeners: UpstreamErrorListener[] = [];

  register(provider: UpstreamProvider): this {
    if (this.byId.has(provider.id)) throw new Error(`provider ${JSON.stringify(provider.id)} is registered twice`);
    this.byId.set(provider.id, provider);
    for (const l of this.errorListeners) this.subscribe(provider, l);
    return this;
  }

  get(id: ProviderId): UpstreamProvider | undefined {
    return this.byId.get(id);
  }

  list(): UpstreamProvider[] {
    return [...this.byId.values()];
  }

  /** The provider whose ids own the unprefixed model names (the first registered). */
  primary(): UpstreamProvider | undefined {
    return this.byId.values().next().value;
  }

  /** The provider serving `model`; a model whose provider is not running here, or not configured, is a 503. */
  forModel(model: Pick<ModelSpec, "id" | "provider">): UpstreamProvider {
    const p = this.byId.get(model.provider);
    if (!p) throw new TurnError(503, `model "${model.id}" is served by provider "${model.provider}", which is not configured on this server`, "provider_unavailable");
    if (!isConfigured(p)) {
      const hint = safely(() => p.setupHint?.(), undefined) ?? defaultSetupHint(p);
      throw new TurnError(503, `model "${model.id}" is served by provider "${p.id}" (${p.displayName}), which is not configured on this server: ${hint}`, "provider_unavailable");
    }
    return p;
  }

  /** Every model of every configured provider, in registration order. */
  models(): ModelSpec[] {
    return this.catalog().listed().slice();
  }

  /**
   * The model catalog as the providers see it now (configured or not, their `models()`); rebuilt only when a
   * provider's configured state or model list changed.
   */
  catalog(): ModelCatalog {
    const list = this.list();
    const entries = list.map((p) => ({ p, configured: isConfigured(p), models: safely(() => p.models(), NO_MODELS) }));
    const key = entries.flatMap((e) => [e.p, e.configured, e.models]);
    const c = this.cached;
    if (c && c.key.length === key.length && c.key.every((k, i) => k === key[i])) return c.catalog;
    const catalog = new ModelCatalog(
      entries.map((e) => ({ id: e.p.id, displayName: e.p.displayName, configured: e.configured, setupHint: safely(() => e.p.setupHint?.(), undefined), models: e.models })),
    );
    this.cached = { key, catalog };
    return catalog;
  }

  status(): ProviderStatus[] {
    return this.list().map((p) => p.status());
  }

  /** Every provider's capacity, each read on its own (one provider's failing hooks never hide another's). */
  snapshots(): ProviderSnapshot[] {
    return this.list().map((p) => {
      const configured = isConfigured(p);
      const base = { provider: p.id, displayName: p.displayName, configured, ...(configured ? {} : { setupHint: safely(() => p.setupHint?.(), undefined) ?? defaultSetupHint(p) }) };
      try {
        const accounts = p.accounts?.status();
        const credentials = p.credentials?.status();
        const pow = p.powStats?.();
        const transport = safely(() => p.transport?.(), undefined);
        const usable = accounts ? accounts.usableNow > 0 : credentials ? credentials.usable > 0 : true;
        return { ...base, canServe: configured && usable, ...(accounts ? { accounts } : {}), ...(credentials ? { credentials } : {}), ...(pow ? { pow } : {}), ...(transport ? { transport } : {}) };
      } catch (e) {
        return { ...base, canServe: false, error: `status unavailable: ${(e as Error)?.message ?? String(e)}` };
      }
    });
  }

  /** The account pools of every pooled provider, summed (with one provider: its pool status as is). */
  accountStatus(): AccountPoolStatus {
    const pools = this.list().flatMap((p) => {
      try {
        return p.accounts ? [p.accounts.status()] : [];
      } catch {
        return [];
      }
    });
    if (pools.length === 1) return pools[0]!;
    return mergePoolStatus(pools);
  }

  /** Subscribe to every provider's upstream errors (also those registered later); the listener learns which provider met each one. */
  onUpstreamError(listener: UpstreamErrorListener): void {
    this.errorListeners.push(listener);
    for (const p of this.byId.values()) this.subscribe(p, listener);
  }

  private subscribe(p: UpstreamProvider, listener: UpstreamErrorListener): void {
    p.onUpstreamError((kind, account, message) => listener(kind, account, message, p.id));
  }

  /** Every provider re-reads the store; resolves when all are done. */
  async reload(): Promise<void> {
    await Promise.all([...this.byId.values()].map((p) => p.reload()));
  }

  warmup(): void {
    for (const p of this.byId.values()) p.warmup?.();
  }

  async close(): Promise<void> {
    await Promise.all(this.list().map((p) => p.close()));
  }
}

function mergePoolStatus(pools: AccountPoolStatus[]): AccountPoolStatus {
  const sum = (f: (s: AccountPoolStatus) => number) => pools.reduce((n, s) => n + f(s), 0);
  return {
    total: sum((s) => s.total),
    enabled: sum((s) => s.enabled),
    usableNow: sum((s) => s.usableNow),
    coolingDown: sum((s) => s.coolingDown),
    failing: sum((s) => s.failing),
    disabled: sum((s) => s.disabled),
    inUse: sum((s) => s.inUse),
    available: sum((s) => s.available),
    waiting: sum((s) => s.waiting),
    maxQueue: sum((s) => s.maxQueue),
    maxInflightPerAccount: Math.max(0, ...pools.map((s) => s.maxInflightPerAccount)),
    // 0 means "no global limit" for a pool; the sum of limits only holds when every pool has one.
    globalMaxInflight: pools.some((s) => s.globalMaxInflight === 0) ? 0 : sum((s) => s.globalMaxInflight),
    recommendedConcurrency: sum((s) => s.recommendedConcurrency),
    accounts: pools.flatMap((s) => s.accounts),
  };
}
