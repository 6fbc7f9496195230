/** Everything a request handler may need, built once at start-up. */
import type { TurnObserver } from "./core/turn/turn-observer.ts";
import type { ChangeBus } from "./core/changes/change-bus.ts";
import type { LiveSettings } from "./config/live-settings.ts";
import type { TurnDeps } from "./core/turn/execute-turn.ts";
import type { ProviderRegistry } from "./core/upstream/registry.ts";
import type { ServerOptions } from "./config/options.ts";
import type { Logger } from "./observability/logger.ts";
import type { UpstreamHealth } from "./observability/upstream-health.ts";
import type { AdminJwt } from "./security/admin-jwt.ts";
import type { AdminKey } from "./security/admin-key.ts";
import type { LoginLimiter } from "./security/login-limiter.ts";
import type { ApiKeyIndex } from "./security/api-key-index.ts";
import type { StoreApi } from "./store/store-api.ts";
import type { Cluster } from "./core/cluster/ports.ts";

export interface AppContext {
  options: ServerOptions;
  /** The store (sqlite or, later, Postgres): every call returns a promise. */
  store: StoreApi;
  logger: Logger;
  apiKeys: ApiKeyIndex;
  settings: LiveSettings;
  adminKey: AdminKey;
  /** Flipped by the server: ready once listening, draining during shutdown. */
  state: { ready: boolean; draining: boolean; /** Loopback base URL of this server once listening. */ url?: string };
  /** Admin JWTs (login, verify, guard, /metrics). */
  adminJwt: AdminJwt;
  /** Failed admin-credential attempts per client address (admin login, admin guard, /metrics). */
  loginLimiter: LoginLimiter;
  /** The upstream providers (DeepSeek today); surfaces, admin and health ask here, never a concrete provider. */
  providers: ProviderRegistry;
  /** Providers + tool kit + settings for executing a turn. */
  turnDeps(): TurnDeps;
  /** How long a stream waits for the first event before it starts with keep-alives (failures before that are plain HTTP errors). */
  streamHeadStartMs: number;
  /** How streamed deltas are batched (api/streaming/delta-coalescer.ts): at least `minChars`, at most `maxWaitMs` late. */
  coalescing: { minChars: number; maxWaitMs: number };
  /** Interval of SSE keep-alive frames (comments / Anthropic pings). */
  keepAliveMs: number;
  /** Protocol-change / client-version signs from DeepSeek (shown on /readyz). */
  upstreamHealth: UpstreamHealth;
  /** Told how every business turn ended (usage counters, metrics). */
  observers: TurnObserver[];
  /** The client address of each in-flight request (set by the server wrapper). */
  clientAddress: WeakMap<Request, string>;
  /** This instance's view of the cluster (one instance: in process): health of the database / Redis, stored responses, leases. */
  cluster: Cluster;
  /** Admin writes publish here (= `cluster.bus`); the pool, key index and settings cache subscribe (src/admin/change-subscribers.ts). */
  changes: ChangeBus;
}
