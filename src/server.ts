/**
 * Starts ds2api: store, start-up config import, admin key, the Elysia app on Bun.serve, and a thin
 * outer wrapper for what must hold for every request (request id, CORS, size limit, access log, and a
 * last-resort error answer that never leaks a stack trace).
 */
import type { Server } from "bun";
import { randomUUID } from "node:crypto";
import { createApp } from "./app.ts";
import { corsHeaders, isCrossSiteWrite } from "./api/cors.ts";
import { errorResponse } from "./api/error-response.ts";
import { surfaceForPath } from "./api/surface.ts";
import { loadStartupConfig } from "./config/config-loader.ts";
import { LiveSettings } from "./config/live-settings.ts";
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
import { openStore } from "./store/store.ts";
import { defaultToolKit } from "./core/turn/toolkit.ts";
import type { UpstreamProvider } from "./core/upstream/provider.ts";
import { ProviderRegistry } from "./core/upstream/registry.ts";
import type { EngineDeps } from "./upstream/deepseek/engine.ts";
import { DeepSeekProvider } from "./upstream/deepseek/provider.ts";

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
/** After cutting the last streams on shutdown, how long their leases may take to come back before sqlite closes. */
const LEASE_RETURN_MS = 2000;

/**
 * Test hooks: replace parts of the engine (e.g. a reference PoW solver, fast client retries), and register
 * extra providers after the built-in ones (e.g. a scripted fake provider to test routing).
 */
export type EngineOverrides = Pick<EngineDeps, "pow" | "clientOptions"> & { extraProviders?: readonly UpstreamProvider[] };

export async function startServer(options: ServerOptions, logger: Logger = createLogger(options.logLevel), overrides: EngineOverrides = {}): Promise<RunningServer> {
  const store = openStore(options.dbPath, options.secretKey);
  try {
    loadStartupConfig(store, options, logger);
  } catch (e) {
    store.close();
    throw e;
  }
  const adminKey = new AdminKey(store, options.adminKey);
  const { generatedKey } = adminKey.ensure();
  logger.info(adminKey.describe());
  const trustedProxies = new TrustedProxies(options.trustedProxies);
  const settings = new LiveSettings(store);
  const metrics = new Metrics();
  const { extraProviders = [], ...engineOverrides } = overrides;
  const deepseek = new DeepSeekProvider({ options, store, settings, logger, ...engineOverrides });
  // The first provider registered is the primary one: its ids and the built-in aliases own the unprefixed model names.
  const providers = new ProviderRegistry().register(deepseek);
  for (const p of extraProviders) providers.register(p);
  const upstreamHealth = new UpstreamHealth(providers.primary()?.id);
  providers.onUpstreamError(metrics.upstreamError);
  providers.onUpstreamError(upstreamHealth.onUpstreamError);
  providers.warmup();
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
    }),
    streamHeadStartMs: 1500,
    coalescing: { minChars: 16, maxWaitMs: 10 },
    keepAliveMs: 5000,
    upstreamHealth,
    observers: [metrics, upstreamHealth],
    state: { ready: false, draining: false },
    adminJwt: new AdminJwt(store, options.jwtSecret),
    loginLimiter: new LoginLimiter(),
    clientAddress: new WeakMap(),
  };
  const app = createApp(ctx);

  const handle = async (request: Request, server: Server<undefined>): Promise<Response> => {
    const started = performance.now();
    const requestId = REQUEST_ID.test(request.headers.get("x-request-id") ?? "") ? request.headers.get("x-request-id")! : randomUUID();
    const url = new URL(request.url);
    const peer = server.requestIP(request)?.address;
    const address = peer ? trustedProxies.clientAddress(peer, request.headers) : undefined;
    if (address) ctx.clientAddress.set(request, address);
    let response: Response;
    if (request.method === "OPTIONS") {
      response = new Response(null, { status: 204 });
    } else if (isCrossSiteWrite(request, url.pathname)) {
      response = errorResponse(surfaceForPath(url.pathname), 403, "cross-origin requests to the admin API are refused; use the console served by this server");
    } else if (ctx.state.draining && !DRAIN_EXEMPT.has(url.pathname)) {
      response = errorResponse(surfaceForPath(url.pathname), 503, "server is shutting down; retry on another instance", undefined, { "retry-after": "5", connection: "close" });
    } else if (Number(request.headers.get("content-length") ?? 0) > options.maxBodyBytes) {
      response = errorResponse(surfaceForPath(url.pathname), 413, `request body too large (limit ${options.maxBodyBytes} bytes; DS2API_MAX_BODY_MB)`);
    } else {
      try {
        response = await app.handle(request);
      } catch (e) {
        logger.error("request failed", { id: requestId, path: url.pathname, error: (e as Error)?.stack ?? String(e) });
        response = errorResponse(surfaceForPath(url.pathname), 500, "internal error; see the server log");
      }
    }
    for (const [k, v] of Object.entries(corsHeaders(request, url.pathname))) response.headers.set(k, v);
    response.headers.set("x-request-id", requestId);
    const seconds = (performance.now() - started) / 1000;
    metrics.requestServed(surfaceForPath(url.pathname), request.method, response.status, seconds);
    logger.info("request", {
      id: requestId,
      method: request.method,
      path: url.pathname,
      status: response.status,
      ms: Math.round(seconds * 10000) / 10,
      ...(address ? { client: address } : {}),
    });
    return response;
  };

  let server: Server<undefined>;
  try {
    server = Bun.serve({
      port: options.port,
      hostname: options.host,
      // Bun's own cap is only a backstop (it answers an empty 413); the shaped 413 comes from the checks here and in the body parser.
      maxRequestBodySize: options.maxBodyBytes * 2,
      idleTimeout: 0,
      fetch: handle,
      error(e) {
        logger.error("server error", { error: e.stack ?? String(e) });
        return errorResponse("public", 500, "internal error; see the server log");
      },
    });
  } catch (e) {
    store.close();
    throw new Error(`cannot listen on ${options.host}:${options.port}: ${(e as Error).message}`);
  }
  ctx.state.ready = true;
  metrics.attach({
    providers: () => providers.snapshots(),
    httpInFlight: () => Math.max(0, server.pendingRequests - 1),
    draining: () => ctx.state.draining,
  });
  const port = server.port!;
  const shownHost = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
  const url = `http://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${port}`;
  ctx.state.url = url;
  let stopping: Promise<void> | undefined;
  const drainAndStop = async (graceMs: number) => {
    ctx.state.draining = true;
    const deadline = performance.now() + graceMs;
    if (server.pendingRequests > 0 && graceMs > 0) logger.info("draining", { in_flight: server.pendingRequests, timeout_s: graceMs / 1000 });
    while (server.pendingRequests > 0 && performance.now() < deadline) await Bun.sleep(20);
    if (server.pendingRequests > 0 && graceMs > 0) logger.warn("shutdown timeout: cutting in-flight requests", { in_flight: server.pendingRequests });
    await server.stop(true);
    // Cut turns unwind on their abort signal and give their leases back; sqlite must outlive those writes.
    const leaseDeadline = performance.now() + LEASE_RETURN_MS;
    while (providers.accountStatus().inUse > 0 && performance.now() < leaseDeadline) await Bun.sleep(10);
    await providers.close();
    store.close();
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
