/** Starts a real ds2api server on a free port with a fresh sqlite file, and captures its log lines. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveOptions } from "../../src/config/options.ts";
import { createLogger } from "../../src/observability/logger.ts";
import type { UpstreamProvider } from "../../src/core/upstream/provider.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import { trackStop } from "./processes.ts";

export interface TestServer {
  url: string;
  dir: string;
  dbPath: string;
  logs: string[];
  running: RunningServer;
  adminKey: string;
  stop(opts?: { keepDir?: boolean }): Promise<void>;
}

export function tempDir(prefix = "ds2api-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * DS2API_TEST_DATABASE=postgres runs the in-process test servers on a real Postgres instead of their sqlite file
 * (tests/postgres-suites.test.ts runs whole suites that way): one database per test folder, so a restart on the
 * same folder finds its data again, as it would in the sqlite file.
 */
const postgresOfDir = new Map<string, string>();
const TEST_SECRET_KEY = "ZHMyYXBpLXRlc3Qtc2VjcmV0LWtleS0zMi1ieXRlcyE=";

async function databaseEnv(dir: string, given: Record<string, string> | undefined): Promise<Record<string, string>> {
  if (process.env.DS2API_TEST_DATABASE !== "postgres" || given?.DS2API_DATABASE_URL) return {};
  let url = postgresOfDir.get(dir);
  if (!url) {
    const { postgresForTests } = await import("./postgres.ts");
    url = await (await postgresForTests()).freshDatabase("suite");
    postgresOfDir.set(dir, url);
  }
  return { DS2API_DATABASE_URL: url, DS2API_SECRET_KEY: given?.DS2API_SECRET_KEY ?? TEST_SECRET_KEY };
}

export async function startTestServer(opts: { env?: Record<string, string>; args?: string[]; dir?: string; extraProviders?: UpstreamProvider[] } = {}): Promise<TestServer> {
  const dir = opts.dir ?? tempDir();
  const dbPath = join(dir, "ds2api.sqlite");
  const env: Record<string, string> = {
    DS2API_ADMIN_KEY: "test-admin-key",
    DS2API_CONFIG_PATH: join(dir, "config.json"),
    DS2API_DB_PATH: dbPath,
    ...opts.env,
    ...(await databaseEnv(dir, opts.env)),
  };
  const options = resolveOptions(["--port", "0", "--host", "127.0.0.1", ...(opts.args ?? [])], env);
  const logs: string[] = [];
  const running = await startServer(options, createLogger("debug", (l) => logs.push(l)), opts.extraProviders ? { extraProviders: opts.extraProviders } : {});
  // Registered: stopped after the test (or at the end of the run) if the test never gets to stop() itself.
  let keepDir = false;
  const stop = trackStop(`test server ${running.url}`, async () => {
    await running.stop();
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    url: running.url,
    dir,
    dbPath,
    logs,
    running,
    adminKey: env.DS2API_ADMIN_KEY ?? running.generatedAdminKey ?? "",
    async stop(o) {
      keepDir = o?.keepDir ?? false;
      await stop();
    },
  };
}

export const repoRoot = new URL("../..", import.meta.url).pathname;
export const bunBin = process.execPath;
