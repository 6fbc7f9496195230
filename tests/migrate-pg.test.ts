/**
 * `ds2api migrate --to postgres://…`: an sqlite store seeded through the admin API is copied into a real Postgres;
 * a server started on that Postgres with the same key serves the same configuration (secrets included), usage,
 * history and audit; a second copy without --force is refused; bad usage is a clear error.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { postgresForTests } from "./support/postgres.ts";
import { runCommand, sourceCommand, spawnServer, type SpawnedServer } from "./support/spawn-server.ts";
import { tempDir } from "./support/test-server.ts";

const ADMIN = "migrate-admin-key";
const CONFIG = {
  keys: ["sk-migrate-one", "sk-migrate-two"],
  accounts: [
    { email: "m1@example.com", password: "pw-one" },
    { mobile: "13800000001", password: "pw-two" },
  ],
};

async function admin(srv: SpawnedServer, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${srv.url}${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json", ...(init.headers ?? {}) } });
}

/** What must survive the move: the full export (secrets included) and the audit trail. */
async function snapshot(srv: SpawnedServer): Promise<{ config: unknown; audit: unknown[] }> {
  const config = await (await admin(srv, "/admin/config/export?include_secrets=1")).json();
  const audit = ((await (await admin(srv, "/admin/audit?limit=1000")).json()) as { items: unknown[] }).items;
  return { config, audit };
}

describe("ds2api migrate --to postgres", () => {
  let dir: string;
  let dbPath: string;
  let targetUrl: string;
  let before: { config: unknown; audit: unknown[] };

  beforeAll(async () => {
    dir = tempDir();
    dbPath = join(dir, "one.sqlite");
    targetUrl = await (await postgresForTests()).freshDatabase("migrate");
    const srv = await spawnServer([...sourceCommand(), "--port", "0", "--host", "127.0.0.1", "--db", dbPath], {
      cwd: dir,
      env: { DS2API_ADMIN_KEY: ADMIN, DS2API_CONFIG_JSON: JSON.stringify(CONFIG) },
    });
    try {
      expect((await admin(srv, "/admin/keys", { method: "POST", body: JSON.stringify({ key: "sk-migrate-three", name: "third" }) })).status).toBeLessThan(300);
      expect((await admin(srv, "/admin/proxies", { method: "POST", body: JSON.stringify({ name: "p", type: "http", host: "127.0.0.1", port: 3128, username: "u", password: "proxy-secret" }) })).status).toBeLessThan(300);
      before = await snapshot(srv);
    } finally {
      await srv.stop();
    }
  }, 120_000);

  test("bad usage: a clear message and exit 2", async () => {
    const none = await runCommand([...sourceCommand(), "migrate"], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("--to postgres://");
    const wrong = await runCommand([...sourceCommand(), "migrate", "--to", "mysql://x/y", "--db", dbPath], { cwd: dir });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("postgres://");
  });

  test("copies every table; the counts match; the hint names the key without printing it", async () => {
    const res = await runCommand([...sourceCommand(), "migrate", "--to", targetUrl, "--db", dbPath], { cwd: dir });
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/accounts\s+2 →\s+2/);
    expect(res.stdout).toMatch(/api_keys\s+3 →\s+3/);
    expect(res.stdout).not.toContain("MISMATCH");
    expect(res.stdout).toContain(`${dbPath}.key`);
    expect(res.stdout).not.toContain(readFileSync(`${dbPath}.key`, "utf8").trim());
  });

  test("a second copy onto a database with data is refused without --force, accepted with it", async () => {
    const again = await runCommand([...sourceCommand(), "migrate", "--to", targetUrl, "--db", dbPath], { cwd: dir });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already holds data");
    const forced = await runCommand([...sourceCommand(), "migrate", "--to", targetUrl, "--db", dbPath, "--force"], { cwd: dir });
    expect(forced.code).toBe(0);
  });

  test("a server on the Postgres copy, with the same key, serves the same configuration and audit", async () => {
    const srv = await spawnServer([...sourceCommand(), "--port", "0", "--host", "127.0.0.1", "--db", join(dir, "unused.sqlite")], {
      cwd: dir,
      env: { DS2API_ADMIN_KEY: ADMIN, DS2API_DATABASE_URL: targetUrl, DS2API_SECRET_KEY: readFileSync(`${dbPath}.key`, "utf8").trim() },
    });
    try {
      const after = await snapshot(srv);
      expect(after.config).toEqual(before.config);
      // The audit trail moved whole (this server's own reads add nothing).
      expect(after.audit).toEqual(before.audit);
      // New audit rows continue after the copied ids.
      expect((await admin(srv, "/admin/keys", { method: "POST", body: JSON.stringify({ key: "sk-migrate-four" }) })).status).toBeLessThan(300);
      const newest = (((await (await admin(srv, "/admin/audit?limit=1")).json()) as { items: { id: number }[] }).items[0])!;
      expect(newest.id).toBeGreaterThan(Math.max(...(before.audit as { id: number }[]).map((a) => a.id)));
    } finally {
      await srv.stop();
    }
  });
});

