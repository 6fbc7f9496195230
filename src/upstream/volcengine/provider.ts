/**
 * The Volcengine Ark console (experience centre `Chat` action) as an `UpstreamProvider`: a pool of web ids
 * (store.credentials, provider "volcengine"), browser-like calls, the stream read as reasoning + answer.
 * Tools go through core's DSML prompt + sieve: the flattened prompt (tool prompt included) is what is sent.
 */
import { resolveTurnLimits, type TurnLimits } from "../../config/runtime-settings.ts";
import { VOLCENGINE_SETTINGS_KEY, type VolcengineStoredSettings } from "../../config/volcengine-config.ts";
import type { LiveSettings } from "../../config/live-settings.ts";
import type { ServerOptions } from "../../config/options.ts";
import type { ModelSpec } from "../../core/models/native.ts";
import { TurnError } from "../../core/turn/turn-error.ts";
import type { CredentialPoolAdmin, ProviderStatus, TransportView, UpstreamErrorListener, UpstreamEvent, UpstreamOutcome, UpstreamProvider, UpstreamTurn } from "../../core/upstream/provider.ts";
import type { Logger } from "../../observability/logger.ts";
import type { StoreApi } from "../../store/store-api.ts";
import { VolcengineClient, volcengineTransportState, type VolcengineClientOptions } from "./client.ts";
import { VolcengineCredentialAdmin } from "./credentials/admin.ts";
import { CredentialPool, type PoolLimits } from "./credentials/pool.ts";
import { VOLCENGINE_PROVIDER_ID, volcengineModels } from "./models.ts";
import { resolveVolcengineSettings, type VolcengineSettings } from "./settings.ts";
import { VolcengineTurnRunner } from "./turn.ts";

export interface VolcengineDeps {
  options: ServerOptions;
  store: StoreApi;
  settings: LiveSettings;
  logger: Logger;
  /** Test hooks: retry timings, a fetch. */
  clientOptions?: Pick<VolcengineClientOptions, "retry" | "fetch">;
}

/** What the admin test asks the console. */
const TEST_MESSAGE = "Reply with one short word: ok";

export class VolcengineProvider implements UpstreamProvider {
  readonly id = VOLCENGINE_PROVIDER_ID;
  readonly displayName = "Volcengine Ark console";
  /** The flattened prompt carries core's tool prompt and tool history; it goes up as one user message. */
  readonly input = "prompt";
  readonly toolCalls = "text";
  readonly acceptsTranscript = false;
  readonly credentials: CredentialPoolAdmin;
  readonly pool: CredentialPool;
  private readonly runner: VolcengineTurnRunner;
  private readonly listeners: UpstreamErrorListener[] = [];
  private client?: { url: string; client: VolcengineClient };

  constructor(private readonly deps: VolcengineDeps) {
    this.pool = new CredentialPool({
      store: deps.store,
      settings: () => this.settings(),
      stored: deps.settings,
      limits: (n) => this.poolLimits(n),
      onWriteError: (what, e) => deps.logger.warn(`volcengine: ${what} failed`, { error: String(e) }),
    });
    this.runner = new VolcengineTurnRunner({
      pool: this.pool,
      client: () => this.clientFor(this.settings().apiUrl),
      limits: () => this.turnLimits(),
      bodyStyle: () => this.settings().bodyStyle,
      report: (kind, entry, message) => this.report(kind, entry, message),
    });
    this.credentials = new VolcengineCredentialAdmin({
      store: deps.store,
      pool: this.pool,
      snapshot: () => this.pool.list(),
      refresh: () => this.pool.reload(),
      settings: () => this.settings(),
      test: (id) => this.testEntry(id),
    });
  }

  /** At start: VOLCENGINE_X_WEB_ID seeds the pool (idempotent: the same id is the same entry, its usage is kept), then the pool's copy loads. */
  async init(): Promise<void> {
    const env = this.deps.options.volcengine;
    let added = 0;
    for (const webId of env.webIds) if ((await this.deps.store.credentials.upsert(VOLCENGINE_PROVIDER_ID, { secret: webId })).created) added++;
    if (env.webIds.length) this.deps.logger.info("volcengine: web ids from VOLCENGINE_X_WEB_ID", { given: env.webIds.length, new: added });
    await this.pool.reload();
  }

  /** The effective settings: stored (config.json `volcengine` section / admin) over the environment over the defaults. */
  settings(): VolcengineSettings {
    return resolveVolcengineSettings(this.deps.settings.value<VolcengineStoredSettings>(VOLCENGINE_SETTINGS_KEY), this.deps.options.volcengine);
  }

  private turnLimits(): TurnLimits {
    return resolveTurnLimits(this.deps.settings.runtime(), this.deps.options.turnLimits);
  }

  private poolLimits(entries: number): PoolLimits {
    const runtime = this.deps.settings.runtime() as ReturnType<LiveSettings["runtime"]> & { cooldown_seconds?: number };
    const o = this.deps.options;
    const perEntry = runtime.account_max_inflight || o.accountMaxInflight || 2;
    return {
      maxInflightPerEntry: perEntry,
      maxQueue: runtime.account_max_queue || (o.accountMaxQueue ?? Math.max(1, entries) * perEntry),
      queueWaitMs: this.turnLimits().queueWaitMs,
      cooldownMs: (runtime.cooldown_seconds ?? 60) * 1000,
    };
  }

  private clientFor(url: string): VolcengineClient {
    if (this.client?.url === url) return this.client.client;
    const client = new VolcengineClient({
      url: () => url,
      headerTimeoutMs: () => this.turnLimits().upstreamHeaderTimeoutMs,
      idleTimeoutMs: () => this.turnLimits().upstreamIdleTimeoutMs,
      ...this.deps.clientOptions,
    });
    this.client = { url, client };
    return client;
  }

  private report(kind: string, entry: string | undefined, message: string): void {
    this.deps.logger.warn("upstream error", { provider: this.id, kind, entry, message });
    for (const l of this.listeners) l(kind, entry, message);
  }

  models(): readonly ModelSpec[] {
    return volcengineModels();
  }

  /** What an operator does to configure it (the 503 for its models and /readyz say so). */
  setupHint(): string {
    return 'set VOLCENGINE_X_WEB_ID (and VOLCENGINE_AUTHORIZATION), the "volcengine" section of config.json, or add web ids on the admin console\'s Providers page';
  }

  /** Configured once the pool holds at least one web id (the URL has a default). */
  /** The console's TLS profile (chrome; a test's injected fetch is plain). */
  transport(): TransportView {
    return this.deps.clientOptions?.fetch ? { requested: "plain", in_use: "plain", native: false } : volcengineTransportState();
  }

  configured(): boolean {
    return this.pool.size() > 0;
  }

  run(turn: UpstreamTurn, signal: AbortSignal): AsyncGenerator<UpstreamEvent, UpstreamOutcome> {
    if (turn.pinnedAccount !== undefined) {
      // X-Ds2-Target-Account names DeepSeek accounts; a web id is never picked by a client.
      return (async function* (): AsyncGenerator<UpstreamEvent, UpstreamOutcome> {
        throw new TurnError(503, "the requested account (X-Ds2-Target-Account) is not available", "account_unavailable");
      })();
    }
    return this.runner.run(turn, signal);
  }

  private async testEntry(id: string): Promise<{ ok: boolean; message: string; text?: string }> {
    if (!(await this.deps.store.credentials.get(this.id, id))) return { ok: false, message: "no such web id" };
    const model = volcengineModels()[0]!;
    let text = "";
    try {
      const gen = this.runner.run({ model, prompt: TEST_MESSAGE, passthrough: {} }, AbortSignal.timeout(this.turnLimits().turnTimeoutMs), id);
      for await (const ev of gen) if (ev.type === "text") text += ev.text;
      const cur = await this.deps.store.credentials.get(this.id, id);
      if (cur && cur.state !== "ok" && cur.state !== "exhausted") {
        await this.deps.store.credentials.setState(this.id, id, "ok");
        await this.pool.reload([id]);
      }
      return { ok: true, message: "the console answered", text: text.slice(0, 500) };
    } catch (e) {
      return { ok: false, message: e instanceof Error ? e.message : String(e) };
    }
  }

  onUpstreamError(listener: UpstreamErrorListener): void {
    this.listeners.push(listener);
  }

  status(): ProviderStatus {
    return { id: this.id, models: this.models().length, credentials: this.credentials.status() };
  }

  /** Settings are read from LiveSettings on every use; the pool's copy of the entries is re-read. */
  reload(): Promise<void> {
    return this.pool.reload();
  }

  reloadCredentials(ids?: readonly string[]): Promise<void> {
    return this.pool.reload(ids);
  }

  async close(): Promise<void> {}
}
