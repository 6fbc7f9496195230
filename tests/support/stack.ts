/** A full stack for end-to-end tests: the DeepSeek simulator as upstream and a real ds2api server in front of it. */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startSimulator, type RunningSimulator, type SimOptions } from "../../src/sim/index.ts";
import { resolveOptions } from "../../src/config/options.ts";
import { createLogger } from "../../src/observability/logger.ts";
import type { UpstreamProvider } from "../../src/core/upstream/provider.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import { trackStop } from "./processes.ts";
import { tempDir } from "./test-server.ts";

export const API_KEY = "sk-e2e-test-key";

export interface Stack {
  sim: RunningSimulator;
  server: RunningServer;
  url: string;
  logs: string[];
  dir: string;
  stop(): Promise<void>;
}

export interface StackOptions {
  accounts?: number;
  sim?: SimOptions;
  env?: Record<string, string>;
  config?: Record<string, unknown>;
  /** Providers registered after DeepSeek (startServer's `extraProviders` test hook). */
  extraProviders?: UpstreamProvider[];
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const n = opts.accounts ?? 2;
  const accounts = Array.from({ length: n }, (_, i) => ({ email: `user${i}@example.com`, password: `pw-${i}` }));
  const sim = await startSimulator({ powDifficulty: 500, ...opts.sim, accounts: opts.sim?.accounts ?? accounts });
  const stopSim = trackStop(`simulator ${sim.url}`, () => sim.stop());
  const dir = tempDir();
  writeFileSync(join(dir, "config.json"), JSON.stringify({ keys: [API_KEY], accounts, ...opts.config }));
  const options = resolveOptions(["--port", "0", "--host", "127.0.0.1"], {
    DS2API_ADMIN_KEY: "e2e-admin",
    DS2API_DB_PATH: join(dir, "db.sqlite"),
    DS2API_CONFIG_PATH: join(dir, "config.json"),
    DS2API_DEEPSEEK_BASE_URL: sim.url,
    DS2API_POW_WORKERS: "2",
    ...opts.env,
  });
  const logs: string[] = [];
  const server = await startServer(options, createLogger("debug", (l) => logs.push(l)), {
    clientOptions: { retry: { attempts: 3, completionDelayMs: 20, delayMs: 10 }, uploadPoll: { intervalMs: 20, maxPolls: 50, maxWaitMs: 2000 } },
    extraProviders: opts.extraProviders,
  }).catch(async (e) => {
    await stopSim();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  // Registered: stopped after the test (or at the end of the run) if the test never gets to stop() itself.
  const stop = trackStop(`stack ${server.url}`, async () => {
    await server.stop();
    await stopSim();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    sim,
    server,
    url: server.url,
    logs,
    dir,
    stop,
  };
}
