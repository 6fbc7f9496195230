/**
 * Starts ds2api: store, start-up config import, admin key, the Elysia app on Bun.serve, and a thin
 * outer wrapper for what must hold for every request (request id, CORS, size limit, access log, and a
 * last-resort error answer that never leaks a stack trace).
 */
import type { Server } from "bun";
import { randomUUID } from "node:crypto";
import { createApp } from "./app.ts";
import { corsHeaders } from "./api/cors.ts";
import { errorResponse } from "./api/error-response.ts";
import { surfaceForPath } from "./api/surface.ts";
import { loadStartupConfig } from "./config/config-loader.ts";
import { LiveSettings } from "./config/live-settings.ts";
import type { ServerOptions } from "./config/options.ts";
import type { AppContext } from "./context.ts";
import { createLogger, type Logger } from "./observability/logger.ts";
import { AdminKey } from "./security/admin-key.ts";
import { ApiKeyIndex } from "./security/api-key-index.ts";
import { openStore } from "./store/store.ts";
import { defaultToolKit } from "./core/turn/toolkit.ts";
import { Engine, type EngineDeps } from "./upstream/deepseek/engine.ts";

export interface RunningServer {
  ctx: AppContext;
  server: Server<undefined>;
  url: string;
  port: number;
  /** The admin key generated on this first start, if one was (it is printed once and never stored in clear). */
  generatedAdminKey?: string;
  stop(): Promise<void>;
}

const REQUEST_ID = /^[\w.-]{1,64}$/;

/** Test hooks: replace parts of the engine (e.g. a reference PoW solver, fast client retries). */
export type EngineOverrides = Pick<EngineDeps, "pow" | "clientOptions">;

export async function startServer(options: ServerOptions, logger: Logger = createLogger(options.logLevel), overrides: EngineOverrides = {}): Promise<RunningServer> {
  const store = openStore(options.dbPath);
  try {
    loadStartupConfig(store, options, logger);
  } catch (e) {
    store.close();
    throw e;
  }
  const adminKey = new AdminKey(store, options.adminKey);
  const { generatedKey } = adminKey.ensure();
  const settings = new LiveSettings(store);
  const engine = new Engine({ options, store, settings, logger, ...overrides });
  engine.warmup();
  const ctx: AppContext = {
    options,
    store,
    logger,
    apiKeys: new ApiKeyIndex(store),
    settings,
    adminKey,
    engine,
    turnDeps: () => ({
      backend: engine.backend,
      toolkit: defaultToolKit,
      thinkingInstruction: settings.section<{ prompt?: string }>("thinking_injection").prompt || undefined,
    }),
    streamHeadStartMs: 1500,
    coalescing: { minChars: 16, maxWaitMs: 10 },
    keepAliveMs: 5000,
    observers: [],
    state: { ready: false, draining: false },
    clientAddress: new WeakMap(),
  };
  const app = createApp(ctx);

  const handle = async (request: Request, server: Server<undefined>): Promise<Response> => {
    const started = performance.now();
    const requestId = REQUEST_ID.test(request.headers.get("x-request-id") ?? "") ? request.headers.get("x-request-id")! : randomUUID();
    const url = new URL(request.url);
    const address = server.requestIP(request)?.address;
    if (address) ctx.clientAddress.set(request, address);
    let response: Response;
    if (request.method === "OPTIONS") {
      response = new Response(null, { status: 204 });
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
    for (const [k, v] of Object.entries(corsHeaders(request))) response.headers.set(k, v);
    response.headers.set("x-request-id", requestId);
    logger.info("request", {
      id: requestId,
      method: request.method,
      path: url.pathname,
      status: response.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
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
  const port = server.port!;
  const shownHost = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
  const url = `http://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${port}`;
  let stopped = false;
  return {
    ctx,
    server,
    url,
    port,
    generatedAdminKey: generatedKey,
    async stop() {
      if (stopped) return;
      stopped = true;
      ctx.state.draining = true;
      await server.stop(true);
      await engine.close();
      store.close();
    },
  };
}
