/** A real ds2api server in front of the OnDemand simulator (no DeepSeek accounts), for the ondemand-* tests. */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveOptions } from "../../src/config/options.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import { startOnDemandSimulator, type RunningOnDemandSim } from "../../src/sim/ondemand/index.ts";
import { tempDir } from "./test-server.ts";

export const OD_API_KEY = "sk-od-e2e";
export const OD_ADMIN_KEY = "od-admin";
/** Upstream keys the simulator accepts; long enough that their masked preview hides the middle. */
export const OD_KEYS = ["odkey-alpha-0000000000000001", "odkey-bravo-0000000000000002", "odkey-charl-0000000000000003"];

/** The model id a client asks for to reach OnDemand. */
export function odModel(id: string): string {
  return `ondemand/${id}`;
}

export interface OdStack {
  sim: RunningOnDemandSim;
  server: RunningServer;
  url: string;
  logs: string[];
  dir: string;
  /** Stop only the server (the sqlite file stays), e.g. to restart on it. */
  stopServer(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface OdStackOptions {
  /** Keys given to ds2api through ONDEMAND_APIKEYS (default: all of OD_KEYS). */
  keys?: string[];
  /** Keys the simulator knows (default: OD_KEYS). */
  simKeys?: string[];
  env?: Record<string, string>;
  /** Extra `ondemand` section fields for config.json. */
  ondemand?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

export async function startOdStack(opts: OdStackOptions = {}): Promise<OdStack> {
  const sim = await startOnDemandSimulator({ keys: opts.simKeys ?? OD_KEYS });
  const dir = tempDir("ds2api-od-");
  writeFileSync(join(dir, "config.json"), JSON.stringify({ keys: [OD_API_KEY], ondemand: { api_base: sim.apiBase, ...opts.ondemand }, ...opts.config }));
  const env = {
    DS2API_ADMIN_KEY: OD_ADMIN_KEY,
    DS2API_DB_PATH: join(dir, "db.sqlite"),
    DS2API_CONFIG_PATH: join(dir, "config.json"),
    DS2API_DEEPSEEK_BASE_URL: "http://127.0.0.1:9",
    DS2API_POW_WORKERS: "1",
    ONDEMAND_APIKEYS: (opts.keys ?? OD_KEYS).join(" , "),
    ...opts.env,
  };
  const logs: string[] = [];
  const start = () => startServer(resolveOptions(["--port", "0", "--host", "127.0.0.1"], env), createLogger("debug", (l) => logs.push(l)));
  const stack: OdStack = {
    sim,
    server: await start(),
    url: "",
    logs,
    dir,
    async stopServer() {
      await stack.server.stop();
    },
    async restart() {
      await stack.server.stop();
      stack.server = await start();
      stack.url = stack.server.url;
    },
    async stop() {
      await stack.server.stop();
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  stack.url = stack.server.url;
  return stack;
}

/** Admin API call with the admin key. */
export async function odAdmin(stack: OdStack, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${stack.url}${path}`, { ...init, headers: { authorization: `Bearer ${OD_ADMIN_KEY}`, "content-type": "application/json", ...(init.headers ?? {}) } });
}
