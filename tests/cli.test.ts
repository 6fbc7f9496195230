import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveOptions } from "../src/config/options.ts";
import { runCommand, sourceCommand, spawnServer } from "./support/spawn-server.ts";
import { tempDir } from "./support/test-server.ts";
import { waitUntil } from "./support/wait.ts";

describe("options: flags win over env, env wins over defaults", () => {
  test("resolveOptions precedence and defaults", () => {
    const d = resolveOptions([], {});
    expect(d.port).toBe(5001);
    expect(d.host).toBe("0.0.0.0");
    expect(d.dbPath).toBe("./data/ds2api.sqlite");
    expect(d.configPath).toBe("./config.json");
    expect(d.configPathExplicit).toBe(false);
    expect(d.deepseekBaseUrl).toBe("https://chat.deepseek.com");
    const env = { PORT: "7000", HOST: "127.0.0.2", DS2API_DB_PATH: "/e.db", DS2API_CONFIG_PATH: "/e.json", LOG_LEVEL: "warn", DS2API_DEEPSEEK_BASE_URL: "http://127.0.0.1:9/" };
    const e = resolveOptions([], env);
    expect([e.port, e.host, e.dbPath, e.configPath, e.logLevel, e.deepseekBaseUrl]).toEqual([7000, "127.0.0.2", "/e.db", "/e.json", "warn", "http://127.0.0.1:9"]);
    const f = resolveOptions(["--port", "7100", "--host=::1", "--db", "/f.db", "--config", "/f.json", "--log-level", "debug"], env);
    expect([f.port, f.host, f.dbPath, f.configPath, f.logLevel]).toEqual([7100, "::1", "/f.db", "/f.json", "debug"]);
  });

  test("bad values are rejected with a message naming the setting", () => {
    expect(() => resolveOptions([], { PORT: "80a" })).toThrow(/PORT must be an integer/);
    expect(() => resolveOptions(["--port", "99999"], {})).toThrow(/--port must be an integer/);
    expect(() => resolveOptions(["--bogus"], {})).toThrow(/unknown option "--bogus"/);
    expect(() => resolveOptions(["--port"], {})).toThrow(/needs a value/);
    expect(() => resolveOptions([], { DS2API_ACCOUNT_MAX_INFLIGHT: "0" })).toThrow(/DS2API_ACCOUNT_MAX_INFLIGHT/);
    expect(() => resolveOptions([], { DS2API_DEEPSEEK_BASE_URL: "chat.deepseek.com" })).toThrow(/DS2API_DEEPSEEK_BASE_URL/);
    expect(() => resolveOptions([], { DS2API_DEEPSEEK_BASE_URL: "ftp://x" })).toThrow(/http or https/);
  });

  test("a real process: --port beats PORT, --db beats DS2API_DB_PATH", async () => {
    const dir = tempDir();
    const srv = await spawnServer([...sourceCommand(), "--port", "0", "--host", "127.0.0.1", "--db", join(dir, "flag.sqlite")], {
      cwd: dir,
      env: { PORT: "1", DS2API_DB_PATH: join(dir, "env.sqlite"), DS2API_ADMIN_KEY: "k" },
    });
    try {
      expect(srv.url).not.toEndWith(":1");
      expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
      expect(existsSync(join(dir, "flag.sqlite"))).toBe(true);
      expect(existsSync(join(dir, "env.sqlite"))).toBe(false);
    } finally {
      await srv.stop();
    }
  });

  test("start-up errors are one clear line and exit code 2", async () => {
    const dir = tempDir();
    const bad = await runCommand([...sourceCommand(), "--port", "x"], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--port must be an integer");
    writeFileSync(join(dir, "config.json"), JSON.stringify({ runtime: { account_max_inflight: 1000 } }));
    const cfg = await runCommand([...sourceCommand(), "--port", "0"], { cwd: dir, env: { DS2API_ADMIN_KEY: "k" } });
    expect(cfg.code).toBe(2);
    expect(cfg.stderr).toContain("runtime.account_max_inflight");
    expect(cfg.stderr).not.toMatch(/\n\s+at /);
    const unknown = await runCommand([...sourceCommand(), "frobnicate"], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command");
  });
});

describe("first start", () => {
  test("generates an admin key, prints it once with the admin URL, stores only a hash", async () => {
    const dir = tempDir();
    const first = await spawnServer([...sourceCommand(), "--port", "0", "--host", "127.0.0.1"], { cwd: dir });
    await waitUntil(() => first.stdout().includes("admin console:"), "the one-time admin key banner");
    await first.stop();
    const m = /admin key:\s+(\S+)/.exec(first.stdout());
    expect(m).not.toBeNull();
    const key = m![1]!;
    expect(key.length).toBeGreaterThanOrEqual(24);
    expect(first.stdout()).toMatch(/admin console:\s+http:\/\/127\.0\.0\.1:\d+\/admin/);
    const dbFile = join(dir, "data", "ds2api.sqlite");
    expect(statSync(dbFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(dbFile).includes(Buffer.from(key))).toBe(false);
    const db = new Database(dbFile, { readonly: true });
    const rows = db.query("SELECT value FROM settings").all() as { value: string }[];
    db.close();
    expect(rows.some((r) => r.value.includes(new Bun.CryptoHasher("sha256").update(key).digest("hex")))).toBe(true);

    const second = await spawnServer([...sourceCommand(), "--port", "0", "--host", "127.0.0.1"], { cwd: dir });
    await second.stop();
    expect(second.stdout()).not.toContain("admin key:");
  });

  test("with DS2API_ADMIN_KEY set nothing is generated or printed", async () => {
    const dir = tempDir();
    const srv = await spawnServer([...sourceCommand(), "--port", "0", "--host", "127.0.0.1"], { cwd: dir, env: { DS2API_ADMIN_KEY: "mine" } });
    await srv.stop();
    expect(srv.stdout()).not.toContain("admin key:");
    expect(srv.stderr()).not.toContain("mine");
  });
});

describe("options of several instances", () => {
  test("defaults, and bad values rejected naming the variable without repeating a URL's password", () => {
    const d = resolveOptions([], {});
    expect([d.databaseUrl, d.redisUrl, d.redisPrefix, d.leaseTtlSeconds, d.dependencyStartTimeoutSeconds]).toEqual([undefined, undefined, "ds2api:", 30, 60]);
    expect(d.instanceId).toMatch(/.+:\d+$/);
    const set = resolveOptions([], { DS2API_DATABASE_URL: "postgres://u:pw@db:5432/x", DS2API_REDIS_URL: "redis://:pw@r:6379", DS2API_INSTANCE_ID: "a", DS2API_REDIS_PREFIX: "p:" });
    expect([set.databaseUrl, set.redisUrl, set.instanceId, set.redisPrefix]).toEqual(["postgres://u:pw@db:5432/x", "redis://:pw@r:6379", "a", "p:"]);
    const refused = (env: Record<string, string>, message: RegExp) => {
      let error: Error | undefined;
      try {
        resolveOptions([], env);
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).toMatch(message);
      expect(error?.message).not.toContain("secret-pw");
    };
    refused({ DS2API_DATABASE_URL: "mysql://u:secret-pw@h/db" }, /DS2API_DATABASE_URL must start with postgres:\/\//);
    refused({ DS2API_DATABASE_URL: "not a url secret-pw" }, /DS2API_DATABASE_URL is not a URL/);
    refused({ DS2API_REDIS_URL: "http://u:secret-pw@h" }, /DS2API_REDIS_URL must start with redis:\/\//);
    refused({ DS2API_CLUSTER_LEASE_TTL_SECONDS: "abc" }, /DS2API_CLUSTER_LEASE_TTL_SECONDS must be an integer/);
    refused({ DS2API_DEPENDENCY_START_TIMEOUT_SECONDS: "-1" }, /DS2API_DEPENDENCY_START_TIMEOUT_SECONDS must be an integer/);
  });
});
