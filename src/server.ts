/**
 * Starts ds2api: store, start-up config import, admin key, the Elysia app on Bun.serve, and a thin
 * outer wrapper for what must hold for every request (request id, CORS, size limit, access log, and a
 * last-resort error answer that never leaks a stack trace).
 */
import type { Server } from "bun";
import { randomUUID } from "node:crypto";
import { createApp } from "./app.ts";
import { openEventStreams } from "./api/admin/events-routes.ts";
import { corsHeaders, isCrossSiteWrite } from "./api/cors.ts";
import { errorResponse } from "./api/error-response.ts";
import { clusterViewOf, probeResponse } from "./api/health-routes.ts";
import { surfaceForPath } from "./api/surface.ts";
import { bodyLimitFor, bodyTooLargeMessage } from "./api/body-policy.ts";
import { hostProblem, pathOf, requestTarget, routableRequest } from "./api/request-target.ts";
import { isEventStream, mayStillBeSending, onStreamEnd, setIdleTimeout } from "./api/connection.ts";
import { loadStartupConfig } from "./config/config-loader.ts";
import { LiveSettings } from "./config/live-settings.ts";
import { resolvePromptMarkers, type PromptSection } from "./config/human-pacing.ts";
import type { ServerOptions } from "./config/options.ts";
import type { AppContext } from "./context.ts";
import { createLogger, type Logger } from "./observability/logger.ts";
import { UpstreamHealth } from "./observability/upstream-health.ts";
import { Metrics } from "./observability/metrics.ts";
import { AdminJwt } from "./security/admin-jwt.ts";
import { AdminKey } from "./security/admin-key.ts";
import { LoginLimiter } from "./security/login-limiter.ts";
import { ApiKeyIndex } from "./security/api-key-index.ts";
import { TrustedProxies } from "./security/trusted-proxies.ts";
import { openStoreWaiting } from "./store/open-store.ts";
import { defaultToolKit } from "./core/turn/toolkit.ts";
import type { UpstreamProvider } from "./core/upstream/provider.ts";
import { ProviderRegistry } from "./core/upstream/registry.ts";
import type { EngineDeps } from "./upstream/deepseek/engine.ts";
import { DeepSeekProvider } from "./upstream/deepseek/provider.ts";
import { warmTokenizer } from "./core/usage/tokenizer.ts";
import { startIdleGc } from "./runtime/idle-gc.ts";
import { OnDemandProvider } from "./upstream/ondemand/provider.ts";
import { VolcengineProvider, type VolcengineDeps } from "./upstream/volcengine/provider.ts";
import { startMark } from "./runtime/start-trace.ts";
import { singleCluster } from "./core/cluster/single.ts";
import { DependencyHealthMonitor } from "./core/cluster/dependency-health.ts";
import type { Cluster } from "./core/cluster/ports.ts";
import { StoreError } from "./store/store-error.ts";
import { DependencyUnavailableError } from "./core/cluster/ports.ts";
import { dependencyErrorResponse, dependencyRefusal } from "./api/dependency-errors.ts";
import { subscribeViews } from "./admin/change-subscribers.ts";
import { keyUsageTracker } from "./security/key-usage.ts";

export interface RunningServer {
  ctx: AppContext;
  server: Server<undefined>;
  url: string;
  port: number;
  /** The admin key generated on this first start, if one was (it is printed once and never stored in clear). */
  generatedAdminKey?: string;
  metrics: Metrics;
  /**
   * Graceful stop: refuse new requests (503, readyz "draining"), let in-flight ones finish for up to `graceMs`
   * (default 0: at once), then cut the rest, wait for their account leases to come back, stop the providers,
   * checkpoint and close sqlite. Calling it again returns the same promise.
   */
  stop(graceMs?: number): Promise<void>;
}

/** `current_input_file` settings: on by default, for prompts over 64k characters (or the Go-style `min_chars`). */
function historyFilePolicy(section: { enabled?: boolean; min_chars?: number; prompt_chars?: number }) {
  return { enabled: section.enabled !== false, minChars: section.min_chars || undefined, promptChars: section.prompt_chars || 64_000 };
}

const REQUEST_ID = /^[\w.-]{1,64}$/;
/** Still answered while draining: probes and scrapes. */
const DRAIN_EXEMPT = new Set(["/healthz", "/readyz", "/metrics"]);
/** How long after listening the providers warm up (TLS transport first, PoW workers a little later): after the
 *  first probes, before the first real traffic usually arrives. */
const TRANSPORT_WARMUP_DELAY_MS = 50;
/** After cutting the last streams on shutdown, how long their leases may take to come back before sqlite closes. */
const LEASE_RETURN_MS = 2000;

/**
 * Test hooks: replace parts of the engine (e.g. a reference PoW solver, fast client retries), the Volcengine
 * client's options, and register extra providers after the built-in ones (e.g. a scripted fake provider to test
 * routing, a fake credential pool).
 */
export type EngineOverrides = Pick<EngineDeps, "pow" | "clientOptions"> & { extraProviders?: readonly UpstreamProvider[]; volcengineClient?: VolcengineDeps["clientOptions"] };

export async function startServer(options: ServerOptions, logger: Logger = createLogger(options.logLevel), overrides: EngineOverrides = {}): Promise<RunningServer> {
  if (options.redisUrl && !options.databaseUrl) {
    throw new StoreError("DS2API_REDIS_URL is set without DS2API_DATABASE_URL: instances that share account leases must share one database (postgres://…); see docs/DEPLOY.md");
  }
  // One health for the shared services: the store's calls and the Redis connection report to it; /readyz, /metrics
  // and the request guard read it.
  const health = new DependencyHealthMonitor(options.redisUrl ? ["database", "redis"] : ["database"]);
  const store = await openStoreWaiting(
    {
      sqlitePath: options.dbPath,
      databaseUrl: options.databaseUrl,
      secretKey: options.secretKey,
      health,
      onWriteError: (what, e) => logger.warn("buffered counters not written yet (kept, retried)", { what, error: e instanceof Error ? e.message : String(e) }),
    },
    options.dependencyStartTimeoutSeconds * 1000,
    logger,
  );
  startMark("store open");
  if (options.databaseUrl && !options.redisUrl) {
    logger.warn("DS2API_DATABASE_URL without DS2API_REDIS_URL: run exactly ONE instance (account leases, logins, quotas and stored responses are per instance); see docs/DEPLOY.md");
  }
  let admin: { key: AdminKey; jwt: AdminJwt; generatedKey?: string };
  try {
    await loadStartupConfig(store, options, logger);
    startMark("config loaded");
    // Under the start-up lock: instances starting together make one generated admin key and one JWT secret.
    admin = await store.withStartupLock(async () => {
      const key = await AdminKey.load(store, options.adminKey);
      const { generatedKey } = await key.ensure();
      return { key, generatedKey, jwt: await AdminJwt.open(store, options.jwtSecret) };
    });
  } catch (e) {
    await store.close();
    throw e;
  }
  const { key: adminKey, generatedKey } = admin;
  logger.info(adminKey.describe());
  startMark("admin key");
  const trustedProxies = new TrustedProxies(options.trustedProxies);
  const settings = new LiveSettings(store);
  await settings.load();
  const metrics = new Metrics();
  const responsesTtlMs = () => (Number(settings.section<{ store_ttl_seconds?: number }>("responses").store_ttl_seconds) || 900) * 1000;
  let cluster: Cluster;
  try {
    // The Redis side loads only when it is used (one instance never pays for it at start).
    cluster = options.redisUrl
      ? await (await import("./cluster/open.ts")).openCluster({
          redisUrl: options.redisUrl,
          prefix: options.redisPrefix,
          instanceId: options.instanceId,
          box: store.box,
          logger,
          leaseTtlMs: options.leaseTtlSeconds * 1000,
          responsesTtlMs,
          health,
          startTimeoutMs: options.dependencyStartTimeoutSeconds * 1000,
        })
      : singleCluster({
          instanceId: options.instanceId,
          responsesTtlMs,
          health,
          onBusError: (e, events) => logger.error("a change subscriber failed", { topics: events.map((x) => x.topic).join(","), error: String(e) }),
        });
  } catch (e) {
    await store.close();
    throw e;
  }
  health.onChange((dependency, s) =>
    s.up ? logger.info("dependency back up", { dependency }) : logger.error("dependency down", { dependency, error: s.error ?? "" }),
  );
  // Lease refusals are counted on /metrics (several instances: the pool asks Redis for every lease).
  if (cluster.leases) cluster.leases = metrics.watchLeases(cluster.leases);
  const { extraProviders = [], ...engineOverrides } = overrides;
  const deepseek = new DeepSeekProvider({ options, store, settings, logger, cluster: { leases: cluster.leases, tokens: cluster.tokens }, ...engineOverrides });
  // The first provider registered is the primary one: its ids and the built-in aliases own the unprefixed model names.
  const providers = new ProviderRegistry().register(deepseek);
  const volcengine = new VolcengineProvider({ options, store, settings, logger, clientOptions: overrides.volcengineClient });
  const ondemand = new OnDemandProvider({ options, store, settings, logger });
  await Promise.all([volcengine.init(), ondemand.init()]);
  providers.register(volcengine);
  providers.register(ondemand);
  for (const p of extraProviders) providers.register(p);
  const upstreamHealth = new UpstreamHealth(providers.primary()?.id);
  providers.onUpstreamError(metrics.upstreamError);
  providers.onUpstreamError(upstreamHealth.onUpstreamError);
  const ctx: AppContext = {
    options,
    store,
    logger,
    apiKeys: new ApiKeyIndex(store),
    settings,
    adminKey,
    providers,
    turnDeps: () => ({
      providers,
      toolkit: defaultToolKit,
      thinkingInstruction: settings.section<{ prompt?: string }>("thinking_injection").prompt || undefined,
      historyFile: historyFilePolicy(settings.section<{ enabled?: boolean; min_chars?: number; prompt_chars?: number }>("current_input_file")),
      promptMarkers: resolvePromptMarkers(settings.section<PromptSection>("prompt"), options.promptMarkers),
    }),
    streamHeadStartMs: 1500,
    coalescing: { minChars: 16, maxWaitMs: 10 },
    keepAliveMs: 5000,
    upstreamHealth,
    observers: [metrics, upstreamHealth],
    state: { ready: false, draining: false },
    adminJwt: admin.jwt,
    loginLimiter: new LoginLimiter(),
    clientAddress: new WeakMap(),
    cluster,
    changes: cluster.bus,
  };
  try {
    await deepseek.init();
  } catch (e) {
    await store.close();
    throw e;
  }
  subscribeViews(ctx.changes, { settings, providers, apiKeys: ctx.apiKeys, keyUsage: keyUsageTracker(ctx) });
  adminKey.follow(ctx.changes);
  ctx.adminJwt.follow(ctx.changes);
  await Promise.all([ctx.apiKeys.reload(), keyUsageTracker(ctx).init()]);
  startMark("context built");
  const app = createApp(ctx);
  startMark("app built");

  let served = 0;
  const handle = async (incoming: Request, server: Server<undefined>): Promise<Response> => {
    const started = performance.now();
    served++;
    const requestId = REQUEST_ID.test(incoming.headers.get("x-request-id") ?? "") ? incoming.headers.get("x-request-id")! : randomUUID();
    // Routing, limits and logs go by the request target, never by the Host header.
    const target = requestTarget(incoming.url);
    const pathname = pathOf(target ?? "/");
    const surface = surfaceForPath(pathname);
    // Bun's idle timer does not count response writes: it would cut SSE streams and long upstream waits. It is off
    // while a request is handled (a body has its own deadline) and back once the response is complete.
    setIdleTimeout(server, incoming, 0);
    const malformed = target === undefined ? (incoming.method === "CONNECT" ? "CONNECT is not supported (this is not a proxy)" : "malformed request target") : hostProblem(incoming.headers.get("host"));
    const peer = server.requestIP(incoming)?.address;
    const address = peer ? trustedProxies.clientAddress(peer, incoming.headers) : undefined;
    let request = incoming;
    let response: Response;
    if (malformed) {
      response = errorResponse(surface, 400, malformed, undefined, { connection: "close" });
    } else if (incoming.method === "OPTIONS") {
      response = new Response(null, { status: 204 });
    } else if (isCrossSiteWrite(incoming, pathname)) {
      response = errorResponse(surface, 403, "cross-origin requests to the admin API are refused; use the console served by this server");
    } else if (ctx.state.draining && !DRAIN_EXEMPT.has(pathname)) {
      response = errorResponse(surface, 503, "server is shutting down; retry on another instance", undefined, { "retry-after": "5", connection: "close" });
    } else if (Number(incoming.headers.get("content-length") ?? 0) > bodyLimitFor(pathname, options).bytes) {
      response = errorResponse(surface, 413, bodyTooLargeMessage(bodyLimitFor(pathname, options)), undefined, { connection: "close" });
    } else {
      request = routableRequest(incoming, target!);
      if (address) ctx.clientAddress.set(request, address);
      try {
        response = dependencyRefusal(health, surface) ?? probeResponse(ctx, incoming.method, pathname, target!) ?? (await app.handle(request));
      } catch (e) {
        if (e instanceof DependencyUnavailableError) {
          response = dependencyErrorResponse(surface, e);
        } else {
          logger.error("request failed", { id: requestId, path: pathname, error: (e as Error)?.stack ?? String(e) });
          response = errorResponse(surface, 500, "internal error; see the server log");
        }
      }
    }
    // A body nobody read may still be arriving: close instead of draining it.
    if (!request.bodyUsed && mayStillBeSending(incoming)) response.headers.set("connection", "close");
    for (const [k, v] of Object.entries(corsHeaders(incoming, pathname))) response.headers.set(k, v);
    response.headers.set("x-request-id", requestId);
    const seconds = (performance.now() - started) / 1000;
    metrics.requestServed(surface, incoming.method, response.status, seconds);
    logger.info("request", {
      id: requestId,
      method: incoming.method,
      path: pathname,
      status: response.status,
      ms: Math.round(seconds * 10000) / 10,
      ...(address ? { client: address } : {}),
    });
    const restoreIdle = () => setIdleTimeout(server, incoming, options.idleTimeoutSeconds);
    if (served === 1) startMark(`first response (${pathname} ${response.status})`);
    if (!isEventStream(response)) {
      restoreIdle();
      return response;
    }
    return onStreamEnd(response, restoreIdle);
  };

  let server: Server<undefined>;
  try {
    server = Bun.serve({
      port: options.port,
      hostname: options.host,
      // Bun's own cap is only a backstop (it answers an empty 413); the shaped 413 comes from the checks here and in the body parser.
      maxRequestBodySize: options.maxBodyBytes * 2,
      idleTimeout: options.idleTimeoutSeconds,
      fetch: handle,
      error(e) {
        if (e instanceof DependencyUnavailableError) return dependencyErrorResponse("public", e);
        logger.error("server error", { error: e.stack ?? String(e) });
        return errorResponse("public", 500, "internal error; see the server log");
      },
    });
  } catch (e) {
    await store.close();
    throw new Error(`cannot listen on ${options.host}:${options.port}: ${(e as Error).message}`);
  }
  ctx.state.ready = true;
  startMark("listening");
  // Off the start path, once the server answers: the tokenizer loads (requests before that await it, never
  // blocking), and a little later the PoW workers start and warm up, so that their start (worker threads compiling
  // and tiering up the wasm kernel) does not compete with the first requests; a solve before that starts them.
  setTimeout(() => void warmTokenizer(), 0);
  setTimeout(() => {
    if (!ctx.state.draining) providers.warmup();
  }, TRANSPORT_WARMUP_DELAY_MS).unref();
  // An open console's event stream is not traffic: it must not keep the idle collection from ever running.
  const idleGc = startIdleGc({ inFlight: () => server.pendingRequests - openEventStreams(ctx), served: () => served });
  metrics.attach({
    providers: () => providers.snapshots(),
    httpInFlight: () => Math.max(0, server.pendingRequests - 1),
    draining: () => ctx.state.draining,
    cluster: () => clusterViewOf(ctx),
  });
  const port = server.port!;
  const shownHost = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
  const url = `http://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${port}`;
  ctx.state.url = url;
  let stopping: Promise<void> | undefined;
  const drainAndStop = async (graceMs: number) => {
    ctx.state.draining = true;
    idleGc.stop();
    const deadline = performance.now() + graceMs;
    if (server.pendingRequests > 0 && graceMs > 0) logger.info("draining", { in_flight: server.pendingRequests, timeout_s: graceMs / 1000 });
    while (server.pendingRequests > 0 && performance.now() < deadline) await Bun.sleep(20);
    if (server.pendingRequests > 0 && graceMs > 0) logger.warn("shutdown timeout: cutting in-flight requests", { in_flight: server.pendingRequests });
    await server.stop(true);
    // Cut turns unwind on their abort signal and give their leases back; sqlite must outlive those writes.
    const leaseDeadline = performance.now() + LEASE_RETURN_MS;
    while (providers.accountStatus().inUse > 0 && performance.now() < leaseDeadline) await Bun.sleep(10);
    await providers.close();
    await cluster.close();
    health.close();
    await store.close();
  };
  return {
    ctx,
    server,
    url,
    port,
    generatedAdminKey: generatedKey,
    metrics,
    stop(graceMs = 0) {
      stopping ??= drainAndStop(graceMs);
      return stopping;
    },
  };
}
