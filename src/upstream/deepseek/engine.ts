/**
 * The DeepSeek engine of a running server: PoW worker pool, web client (rebuilt when the client identity
 * setting changes), token manager, account pool and the turn backend. One per process.
 */
import { SETTING_KEYS } from "../../store/setting-keys.ts";
import { resolveTurnLimits, type TurnLimits } from "../../config/runtime-settings.ts";
import { resolveDeletion, resolvePacing, type AutoDeleteTiming, type EffectivePacing, type PacingSection } from "../../config/human-pacing.ts";
import type { ConfigProxy } from "../../config/ds2api-config.ts";
import type { LiveSettings } from "../../config/live-settings.ts";
import type { ServerOptions } from "../../config/options.ts";
import type { ClusterLeases, ClusterTokens } from "../../core/cluster/ports.ts";
import type { Logger } from "../../observability/logger.ts";
import { AccountPool } from "../../pool/account-pool.ts";
import { AccountView } from "../../pool/account-view.ts";
import { LoginError } from "../../pool/pool-errors.ts";
import { effectivePoolSettings, type PoolSettings } from "../../pool/pool-settings.ts";
import { TokenManager } from "../../pool/token-manager.ts";
import type { AccountRecord } from "../../store/accounts-repo.ts";
import type { StoreApi } from "../../store/store-api.ts";
import type { PowSolver } from "../pow/types.ts";
import { PowPool, type PowPoolStats } from "../pow/pool.ts";
import { DeepSeekBackend } from "./backend.ts";
import { SessionKeeper, type AutoDeleteMode } from "./session-keeper.ts";
import { DeepSeekClient, type DeepSeekClientOptions } from "./client.ts";
import { accountDeviceId } from "./account-device.ts";
import { DeepSeekError } from "./errors.ts";
import type { ClientIdentity } from "./identity.ts";
import { missingProxyFetch, ProxyRouter } from "../proxy/proxy-router.ts";
import { UpstreamTransport, type TransportState } from "../transport/upstream-transport.ts";
import { resolveTlsProfile, type TlsProfile } from "../transport/tls-profile.ts";
import { proxyFingerprint } from "../proxy/proxy-spec.ts";

/** How long after the transport warm-up the PoW workers start warming up. */
const POW_WARMUP_DELAY_MS = 250;

export interface EngineDeps {
  options: ServerOptions;
  store: StoreApi;
  settings: LiveSettings;
  logger: Logger;
  /** Several instances: cluster-wide account leases and log-in-once tokens (absent: this process is the only one). */
  cluster?: { leases?: ClusterLeases; tokens?: ClusterTokens };
  /** Test hooks: a solver instead of the worker pool, client retry/poll timings. */
  pow?: PowSolver;
  clientOptions?: Partial<DeepSeekClientOptions>;
}

/** The `client_identity` settings section (snake_case as in config.json) → the client's identity. */
function identityFrom(section: Record<string, unknown>): Partial<ClientIdentity> {
  const out: Partial<ClientIdentity> = {};
  if (typeof section.app_name === "string") out.appName = section.app_name;
  if (typeof section.version === "string") out.version = section.version;
  if (typeof section.platform === "string") out.platform = section.platform;
  if (section.api_level !== undefined && Number.isFinite(Number(section.api_level))) out.apiLevel = Number(section.api_level);
  if (typeof section.locale === "string") out.locale = section.locale;
  if (typeof section.device_id === "string") out.deviceId = section.device_id;
  return out;
}

/** How WAF errors name the TLS profile in use. */
function tlsLabel(s: TransportState): string {
  if (s.native) return `${s.in_use} (impersonating ${s.impersonates})`;
  if (s.requested === "plain") return "plain (Bun's TLS, no client fingerprint)";
  return `plain (Bun's TLS) instead of ${s.requested}: ${s.reason ?? "native transport unavailable"}`;
}

/** Told about every upstream error the backend meets (metrics, admin "recent errors"). */
export type UpstreamErrorListener = (kind: string, account: string | undefined, message: string) => void;

/** `auto_delete` as in the Go ds2api: mode none|single|all; legacy `sessions: true` means all. */
function autoDeleteMode(section: { mode?: string; sessions?: boolean }): AutoDeleteMode {
  if (section.mode === "single" || section.mode === "all") return section.mode;
  return section.sessions === true ? "all" : "none";
}

export class Engine {
  readonly pow: PowSolver;
  /** Subscribers to upstream errors; add to it any time. */
  readonly upstreamErrorListeners: UpstreamErrorListener[] = [];
  private readonly powPool?: PowPool;
  /** The accounts in memory (loaded by `init`, reloaded on change events): what every request reads. */
  readonly accounts: AccountView;
  readonly tokens: TokenManager;
  readonly pool: AccountPool;
  readonly backend: DeepSeekBackend;
  /** Sessions after their turn: the reuse shelf and the delayed, batched deletions. */
  readonly sessions: SessionKeeper;
  /** Fetches through the accounts' proxies (SOCKS bridges started on first use). */
  readonly proxies = new ProxyRouter();
  /** The TLS profile transport (native client fingerprint, plain fallback) every DeepSeek call goes through. */
  readonly transport: UpstreamTransport;
  /** One client per route ("" = direct, else the proxy id), rebuilt when the identity or the proxy's settings change. */
  private readonly clients = new Map<string, { key: string; client: DeepSeekClient }>();
  /** The stored proxies (loaded with the accounts): the routes of accounts bound to a proxy. */
  private proxyList: readonly ConfigProxy[] = [];
  /** The pending PoW warm-up (cleared on close, so no worker starts after it). */
  private powWarmup?: ReturnType<typeof setTimeout>;

  constructor(private readonly deps: EngineDeps) {
    this.transport = new UpstreamTransport({ proxies: this.proxies, logger: deps.logger });
    if (deps.pow) this.pow = deps.pow;
    else {
      this.powPool = new PowPool({ size: deps.options.powWorkers });
      this.pow = this.powPool;
    }
    this.accounts = new AccountView(deps.store, (what, account, error) => deps.logger.warn("account write failed", { what, account, error: String(error) }));
    const cluster = deps.cluster;
    this.tokens = new TokenManager(this.accounts, (account) => this.login(account), () => this.poolSettings().tokenRefreshMs, Date.now, cluster?.tokens);
    this.pool = new AccountPool(
      this.accounts,
      this.tokens,
      () => this.poolSettings(),
      Date.now,
      Math.random,
      cluster?.leases && { leases: cluster.leases, warn: (message, fields) => deps.logger.warn(message, fields) },
    );
    const autoDelete = () => deps.settings.section<{ mode?: string; sessions?: boolean } & AutoDeleteTiming>("auto_delete");
    this.sessions = new SessionKeeper({
      client: (account) => this.client(account),
      token: (account) => this.tokens.token(account),
      mode: () => autoDeleteMode(autoDelete()),
      deletion: () => resolveDeletion(autoDelete()),
      pacing: () => this.pacing(),
      logger: deps.logger,
      account: (id) => this.accounts.get(id),
      store: deps.store,
    });
    this.backend = new DeepSeekBackend({
      client: (account) => this.client(account),
      viaProxy: (account) => Boolean(this.accounts.get(account)?.proxyId),
      limits: () => this.turnLimits(),
      pool: this.pool,
      logger: deps.logger,
      sessions: this.sessions,
      onUpstreamError: (kind, account, message) => {
        for (const listener of this.upstreamErrorListeners) listener(kind, account, message);
      },
    });
  }

  /** At start, before the server answers: load the accounts and proxies, then queue the deletions the last run owed. */
  async init(): Promise<void> {
    await this.reload();
    await this.sessions.restore();
  }

  /**
   * Re-read accounts and proxies (at start and on change events). Requests that arrive meanwhile are served from
   * what was loaded before.
   */
  async reload(): Promise<void> {
    await Promise.all([this.pool.reload(), this.loadProxies()]);
  }

  private async loadProxies(): Promise<void> {
    this.proxyList = (await this.deps.store.settings.get<ConfigProxy[]>(SETTING_KEYS.proxies)) ?? [];
  }

  /**
   * Once the server answers (src/server.ts): load the TLS transport (native addon, its first client and root store,
   * ~100 ms) so it is not inside the first upstream call's header timeout, then a little later start the PoW
   * workers warming up, so that their start does not compete with the first requests (readiness waits for neither).
   */
  warmup(): void {
    try {
      this.client();
    } catch (e) {
      this.deps.logger.warn("upstream client warm-up failed", { error: String(e) });
    }
    this.powWarmup = setTimeout(() => {
      this.powPool?.warmup().catch((e) => this.deps.logger.warn("PoW warm-up failed", { error: String(e) }));
    }, POW_WARMUP_DELAY_MS);
    this.powWarmup.unref();
  }

  /** PoW worker pool statistics (undefined when a test solver replaces the pool). */
  powStats(): PowPoolStats | undefined {
    return this.powPool?.stats();
  }

  /** Upstream header / idle / turn timeouts, account attempts and queue wait: runtime settings, else env, else defaults. */
  turnLimits(): TurnLimits {
    return resolveTurnLimits(this.deps.settings.runtime(), this.deps.options.turnLimits);
  }

  /** The `pacing` section: jitter on the minimum interval, chat-session reuse. */
  pacing(): EffectivePacing {
    return resolvePacing(this.deps.settings.section<PacingSection>("pacing"));
  }

  poolSettings(): PoolSettings {
    const o = this.deps.options;
    return effectivePoolSettings({
      env: { accountMaxInflight: o.accountMaxInflight, accountMaxQueue: o.accountMaxQueue, globalMaxInflight: o.globalMaxInflight, queueWaitSeconds: o.turnLimits.queueWaitSeconds },
      runtime: this.deps.settings.runtime(),
      jitterFraction: this.pacing().jitterFraction,
      accountCount: this.accounts.size,
    });
  }

  /** The `upstream.tls_profile` setting, else DS2API_TLS_PROFILE, else okhttp (the Android app's client). */
  tlsProfile(): TlsProfile {
    return resolveTlsProfile(this.deps.settings.section<{ tls_profile?: string }>("upstream").tls_profile, this.deps.options.tlsProfile);
  }

  /** The profile asked for, the one in use and why they differ (/readyz, admin console). */
  transportState(): TransportState {
    return this.transport.state(this.tlsProfile());
  }

  /**
   * The web client for `accountId`: through the account's proxy when it has one, direct otherwise (and for
   * direct-token callers, who pass no account). An account bound to a proxy that no longer exists gets a
   * client that fails rather than one that silently connects directly.
   */
  client(accountId?: string): DeepSeekClient {
    const identity = identityFrom(this.deps.settings.section<Record<string, unknown>>("client_identity"));
    const tls = this.transportState();
    const identityKey = JSON.stringify([identity, tls.in_use]);
    const proxyId = accountId ? this.accounts.get(accountId)?.proxyId : undefined;
    const proxy = proxyId ? this.proxyList.find((p) => p.id === proxyId) : undefined;
    const route = proxyId ?? "";
    const key = proxy ? `${identityKey}\n${proxyFingerprint(proxy)}` : proxyId ? `${identityKey}\nmissing` : identityKey;
    const cached = this.clients.get(route);
    if (cached?.key === key) return cached.client;
    // A test's injected fetch replaces the direct route; accounts with a proxy go through the transport.
    const testFetch = this.deps.clientOptions?.fetch;
    const fetchImpl = proxy ? this.transport.fetchFor(tls.requested, proxy) : proxyId ? missingProxyFetch(proxyId) : testFetch ?? this.transport.fetchFor(tls.requested);
    const client = new DeepSeekClient({
      baseUrl: this.deps.options.deepseekBaseUrl,
      identity,
      pow: this.pow,
      headerTimeoutMs: () => this.turnLimits().upstreamHeaderTimeoutMs,
      idleTimeoutMs: () => this.turnLimits().upstreamIdleTimeoutMs,
      ...this.deps.clientOptions,
      fetch: fetchImpl,
      tls: { profile: testFetch && !proxy ? "plain" : tls.in_use, label: tlsLabel(tls) },
    });
    this.clients.set(route, { key, client });
    return client;
  }

  /**
   * The device id `account` logs in with (its own; see account-device.ts). `record` is the account as the caller
   * read it (default: the pool's view); an account without one gets a fresh id, stored, and the view re-reads it.
   */
  async deviceIdOf(accountId: string, record: Pick<AccountRecord, "deviceId"> | undefined = this.accounts.get(accountId)): Promise<string | undefined> {
    const { deviceId, stored } = await accountDeviceId(this.deps.store, accountId, record, this.client(accountId).identity.deviceId);
    if (stored && this.accounts.get(accountId)) await this.pool.refresh([accountId]);
    return deviceId;
  }

  private async login(account: AccountRecord): Promise<string> {
    try {
      const deviceId = await this.deviceIdOf(account.identifier, account);
      const { token } = await this.client(account.identifier).login({ email: account.email, mobile: account.mobile, password: account.password ?? "", deviceId });
      return token;
    } catch (e) {
      const rejected = e instanceof DeepSeekError && (e.kind === "auth" || e.kind === "business");
      throw new LoginError(e instanceof Error ? e.message : String(e), account.identifier, rejected, e);
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.powWarmup);
    this.pool.close();
    this.tokens.close();
    // Before the proxies and the store go: the last deletions, and what is left written down for the next start.
    await this.sessions.close();
    await this.accounts.settled();
    this.proxies.close();
    await this.powPool?.close();
  }
}
