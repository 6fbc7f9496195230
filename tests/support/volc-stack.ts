/** A ds2api server with the fake Volcengine console as its Volcengine upstream (DeepSeek left unconfigured). */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveOptions } from "../../src/config/options.ts";
import type { CredentialPoolAdmin } from "../../src/core/upstream/provider.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import { ReferencePowSolver } from "../../src/sim/reference-solver.ts";
import { startVolcengineSimulator, type RunningVolcSimulator, type VolcSimOptions } from "../../src/sim/volcengine/index.ts";
import { tempDir } from "./test-server.ts";

export const VOLC_API_KEY = "sk-volc-test-key";
export const VOLC_AUTH = "Bearer volc-test-authorization-0123456789";
export const WEB_IDS = ["7400000000000000001", "7400000000000000002", "7400000000000000003"];

/** The id a client sends for a Volcengine model (provider-prefixed, so it never lands on DeepSeek). */
export function volcModel(id: "deepseek-r1" | "deepseek-v3-1"): string {
  return `volcengine/${id}`;
}

/**
 * The id for surfaces that put the model in the URL path (Gemini `models/{model}:generateContent`): the bare id
 * until the Gemini route accepts `provider/model` in its path (provider routing work).
 */
export function volcPathModel(id: "deepseek-r1" | "deepseek-v3-1"): string {
  return id;
}

export interface VolcStack {
  sim: RunningVolcSimulator;
  server: RunningServer;
  url: string;
  logs: string[];
  dir: string;
  adminKey: string;
  /** Stop the server only (the sqlite file stays), then start it again on the same data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface VolcStackOptions {
  sim?: VolcSimOptions;
  /** Extra env (e.g. VOLCENGINE_X_WEB_ID); by default the web ids come from config.json. */
  env?: Record<string, string>;
  /** The config.json `volcengine` section (default: WEB_IDS + VOLC_AUTH). */
  volcengine?: Record<string, unknown>;
  /** Runtime settings (config.json `runtime`). */
  runtime?: Record<string, unknown>;
}

export async function startVolcStack(opts: VolcStackOptions = {}): Promise<VolcStack> {
  const sim = await startVolcengineSimulator({ webIds: WEB_IDS, authorization: VOLC_AUTH, ...opts.sim });
  const dir = tempDir("ds2api-volc-");
  const volcengine = opts.volcengine ?? { authorization: VOLC_AUTH, web_ids: WEB_IDS };
  writeFileSync(join(dir, "config.json"), JSON.stringify({ keys: [VOLC_API_KEY], accounts: [], volcengine, ...(opts.runtime ? { runtime: opts.runtime } : {}) }));
  const adminKey = "volc-admin-key";
  const options = resolveOptions(["--port", "0", "--host", "127.0.0.1"], {
    DS2API_ADMIN_KEY: adminKey,
    DS2API_DB_PATH: join(dir, "db.sqlite"),
    DS2API_CONFIG_PATH: join(dir, "config.json"),
    DS2API_DEEPSEEK_BASE_URL: "http://127.0.0.1:9",
    VOLCENGINE_API_URL: sim.chatUrl,
    ...opts.env,
  });
  const logs: string[] = [];
  const start = () => startServer(options, createLogger("debug", (l) => logs.push(l)), { pow: new ReferencePowSolver(), volcengineClient: { retry: { attempts: 2, delayMs: 10 } } });
  let server = await start();
  const stack: VolcStack = {
    sim,
    server,
    url: server.url,
    logs,
    dir,
    adminKey,
    async restart() {
      await server.stop();
      server = await start();
      stack.server = server;
      stack.url = server.url;
    },
    async stop() {
      try {
        await server.stop();
      } finally {
        await sim.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return stack;
}

/** One OpenAI chat call with plain fetch: status, Retry-After and the parsed body. */
export async function volcChat(stack: VolcStack, opts: { model?: string; stream?: boolean; text?: string } = {}): Promise<{ status: number; retryAfter: string | null; body: Record<string, unknown>; raw: string }> {
  const res = await fetch(`${stack.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${VOLC_API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: opts.model ?? volcModel("deepseek-v3-1"), stream: opts.stream ?? false, messages: [{ role: "user", content: opts.text ?? "hello" }] }),
  });
  const raw = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    // a stream
  }
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body, raw };
}

/** The pool admin methods that write (the admin API publishes `credentials.changed` after them). */
const WRITES = new Set(["add", "importText", "update", "setEnabled", "remove", "resetUsage"]);

/**
 * The Volcengine pool admin capability of the running server, as the admin API uses it: after a write,
 * `credentials.changed` is published so the pool's in-memory copy follows (what src/admin/credentials-service.ts
 * does). A write's result is returned as the admin returns it; when that is a promise, it resolves once the pool
 * re-read the change. Await `volcSettled(stack)` after a synchronous write before asserting on the pool.
 */
export function volcAdmin(stack: VolcStack): CredentialPoolAdmin {
  const p = stack.server.ctx.providers.get("volcengine");
  if (!p?.credentials) throw new Error("the volcengine provider has no credential admin");
  const admin = p.credentials;
  const changes = stack.server.ctx.changes;
  return new Proxy(admin, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== "function") return value;
      const fn = value as (...a: unknown[]) => unknown;
      if (!WRITES.has(String(prop))) return fn.bind(target);
      return (...args: unknown[]) => {
        const result = fn.apply(target, args);
        const publish = () => changes.publish({ topic: "credentials.changed", ids: ["volcengine"] });
        if (result instanceof Promise) return result.then(async (r: unknown) => (publish(), await changes.settled(), r));
        publish();
        return result;
      };
    },
  });
}

/** Wait until the views reloaded what was published (after a synchronous admin write). */
export function volcSettled(stack: VolcStack): Promise<void> {
  return stack.server.ctx.changes.settled();
}

/** The admin view of a web id (by its value; the view itself never holds the value). */
export function viewOf(stack: VolcStack, webId: string) {
  const id = stack.server.ctx.store.credentials.idFor("volcengine", webId);
  return volcAdmin(stack).list().find((v) => v.id === id)!;
}

export function errorOf(r: { body: Record<string, unknown> }): { message: string; code?: string; type?: string } {
  return (r.body.error ?? {}) as { message: string; code?: string; type?: string };
}
