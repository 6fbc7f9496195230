/**
 * OnDemand (on-demand.io Chat API, other-providers.md Part B) as an `UpstreamProvider`: a pool of API keys with
 * a circuit breaker per key (credentials/pool.ts), one session per key (sessions.ts), the query client
 * (client.ts), the stream parser, the model → endpointId map (models.ts, extended by the `ondemand.models`
 * setting) and the failure mapping onto core's classes (failure-map.ts). Tools go through core's DSML prompt and
 * sieve (`toolCalls: "text"`): the flattened prompt is the query.
 */
import type { LiveSettings } from "../../config/live-settings.ts";
import type { ServerOptions } from "../../config/options.ts";
import type { ModelSpec } from "../../core/models/native.ts";
import { TurnError } from "../../core/turn/turn-error.ts";
import type {
  CredentialPoolAdmin,
  ProviderStatus,
  UpstreamErrorListener,
  UpstreamEvent,
  UpstreamOutcome,
  UpstreamProvider,
  UpstreamTurn,
} from "../../core/upstream/provider.ts";
import type { Logger } from "../../observability/logger.ts";
import type { CredentialRecord } from "../../store/credentials-repo.ts";
import type { StoreApi } from "../../store/store-api.ts";
import { OnDemandClient } from "./client.ts";
import { OnDemandKeyAdmin } from "./credentials/admin.ts";
import { KeyPool } from "./credentials/pool.ts";
import { OnDemandError } from "./errors.ts";
import { classifyOnDemandError } from "./failure-map.ts";
import { endpointMap, modelKey, ONDEMAND_PROVIDER_ID, onDemandModels } from "./models.ts";
import { SessionCache } from "./sessions.ts";
import { OnDemandSettings } from "./settings.ts";
import { OnDemandTurnRunner, redact } from "./turn-runner.ts";

export interface OnDemandDeps {
  options: Pick<ServerOptions, "turnLimits" | "ondemandApiBase" | "ondemandApiKeys">;
  store: StoreApi;
  settings: LiveSettings;
  logger: Logger;
  /** Test hook. */
  fetch?: typeof fetch;
}

/** The endpoint the admin key test asks (the first mapped model). */
const TEST_PROMPT = "Reply with the single word OK.";

export class OnDemandProvider implements UpstreamProvider {
  readonly id = ONDEMAND_PROVIDER_ID;
  readonly displayName = "OnDemand";
  readonly input = "prompt";
  readonly toolCalls = "text";
  readonly acceptsTranscript = false;
  readonly credentials: CredentialPoolAdmin;
  private readonly listeners: UpstreamErrorListener[] = [];
  private readonly conf: OnDemandSettings;
  private readonly pool: KeyPool;
  private readonly sessions: SessionCache;
  private readonly runner: OnDemandTurnRunner;
  private client?: { base: string; client: OnDemandClient };

  constructor(private readonly deps: OnDemandDeps) {
    this.conf = new OnDemandSettings(deps.settings, deps.options);
    this.pool = new KeyPool(
      deps.store.credentials,
      () => ({
        badKeyProbeMs: this.conf.badKeyProbeMs(),
        cooldownMs: this.conf.cooldownMs(),
        queueWaitMs: this.conf.turnLimits().queueWaitMs,
      }),
      Date.now,
      (what, e) => deps.logger.warn(`OnDemand: ${what} failed`, { error: String(e) }),
    );
    this.sessions = new SessionCache(() => this.conf.sessionTtlMs());
    // Kinds carry the provider ("ondemand.protocol"): the listener has no provider field yet, and an OnDemand fault
    // must not read as DeepSeek's (e.g. /readyz `upstream_problem` reacts to a bare "protocol").
    const report = (kind: string, keyId: string | undefined, message: string) => {
      deps.logger.warn("OnDemand upstream error", { kind, key: keyId, error: message });
      for (const l of this.listeners) l(`${this.id}.${kind}`, keyId, message);
    };
    this.runner = new OnDemandTurnRunner({ client: () => this.httpClient(), pool: this.pool, sessions: this.sessions, settings: this.conf, report });
    this.credentials = new OnDemandKeyAdmin({
      store: deps.store,
      pool: this.pool,
      snapshot: () => this.pool.list(),
      refresh: () => this.pool.reload(),
      dropSession: (id) => this.sessions.drop(id),
      test: (record) => this.testKey(record),
    });
  }

  /** At start: ONDEMAND_APIKEYS joins the stored pool (same key = same entry: restarting adds nothing twice), then the pool's copy loads. */
  async init(): Promise<void> {
    let added = 0;
    for (const secret of this.deps.options.ondemandApiKeys ?? []) if ((await this.deps.store.credentials.upsert(this.id, { secret })).created) added++;
    if (added) this.deps.logger.info("OnDemand keys from ONDEMAND_APIKEYS added to the pool", { added });
    await this.pool.reload();
  }

  private httpClient(): OnDemandClient {
    const base = this.conf.apiBase();
    if (this.client?.base !== base) {
      this.client = {
        base,
        client: new OnDemandClient({
          apiBase: () => base,
          headerTimeoutMs: () => this.conf.turnLimits().upstreamHeaderTimeoutMs,
          idleTimeoutMs: () => this.conf.turnLimits().upstreamIdleTimeoutMs,
          fetch: this.deps.fetch,
        }),
      };
    }
    return this.client.client;
  }

  /** Endpoint map and model list, rebuilt only when the stored overrides change (settings objects are cached). */
  private modelView?: { overrides: Record<string, string> | undefined; endpoints: Map<string, string>; models: readonly ModelSpec[] };

  private view(): { endpoints: Map<string, string>; models: readonly ModelSpec[] } {
    const overrides = this.conf.modelOverrides();
    if (!this.modelView || this.modelView.overrides !== overrides) {
      const endpoints = endpointMap(overrides);
      this.modelView = { overrides, endpoints, models: onDemandModels(endpoints) };
    }
    return this.modelView;
  }

  private endpoints(): Map<string, string> {
    return this.view().endpoints;
  }

  /** The same array while the settings are unchanged, so the registry's model catalog is not rebuilt per request. */
  models(): readonly ModelSpec[] {
    return this.view().models;
  }

  /** What an operator does to configure it (the 503 for its models and /readyz say so). */
  setupHint(): string {
    return 'set ONDEMAND_APIKEYS, the "ondemand" section of config.json, or add API keys on the admin console\'s Providers page';
  }

  /** Configured when at least one key is stored (the API base has a default). */
  configured(): boolean {
    return this.pool.list().length > 0;
  }

  async *run(turn: UpstreamTurn, signal: AbortSignal): AsyncGenerator<UpstreamEvent, UpstreamOutcome> {
    const key = modelKey(turn.model.id);
    const endpointId = this.endpoints().get(key);
    if (!endpointId) {
      throw new TurnError(400, `model "${turn.model.id}" is not served by OnDemand; available: ${[...this.endpoints().keys()].join(", ")} (map more with config.json ondemand.models)`, "model_not_found");
    }
    if (!this.configured()) {
      throw new TurnError(503, "OnDemand is not configured: add API keys with ONDEMAND_APIKEYS, config.json ondemand.api_keys or the admin API", "provider_unconfigured", 60);
    }
    return yield* this.runner.run(turn, endpointId, signal);
  }

  /** One sync query with this key (own session, not cached); a key failure opens its breaker, success closes it. */
  private async testKey(record: CredentialRecord): Promise<{ ok: boolean; message: string; text?: string }> {
    const [first] = this.endpoints().values();
    if (!first) return { ok: false, message: "no OnDemand model is mapped (ondemand.models)" };
    const signal = AbortSignal.timeout(this.conf.turnLimits().upstreamIdleTimeoutMs + this.conf.turnLimits().upstreamHeaderTimeoutMs);
    const client = this.httpClient();
    try {
      const session = await client.createSession(record.secret, signal);
      const { answer } = await client.querySync(record.secret, session, { query: TEST_PROMPT, endpointId: first, pluginIds: [], responseMode: "sync" }, signal);
      await this.deps.store.credentials.setState(this.id, record.id, "ok");
      await this.pool.reload([record.id]);
      return { ok: true, message: "the key works", text: answer.slice(0, 200) };
    } catch (e) {
      if (!(e instanceof OnDemandError)) return { ok: false, message: `test failed: ${(e as Error)?.message ?? e}` };
      const f = classifyOnDemandError(e);
      f.message = redact(f.message, record.secret);
      if (f.class === "account") this.pool.open(record.id, f);
      return { ok: false, message: f.message };
    }
  }

  onUpstreamError(listener: UpstreamErrorListener): void {
    this.listeners.push(listener);
  }

  status(): ProviderStatus {
    return { id: this.id, models: this.models().length, credentials: this.credentials.status() };
  }

  /** Settings changed (or an import): sessions and client start afresh, the pool's copy is re-read. */
  reload(): Promise<void> {
    this.sessions.clear();
    this.client = undefined;
    return this.pool.reload();
  }

  reloadCredentials(ids?: readonly string[]): Promise<void> {
    return this.pool.reload(ids);
  }

  async close(): Promise<void> {
    this.sessions.clear();
  }
}
