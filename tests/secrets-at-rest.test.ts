/**
 * Secrets at rest: the sqlite file and its WAL hold no password, token, API key or JWT secret in clear; the
 * key file is 0600; a database written by the old (plaintext) schema migrates in place and keeps every
 * account and key working, across restarts and after kill -9; a wrong or missing key stops the start with
 * one clear message and changes nothing.
 */
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { createHash, createHmac } from "node:crypto";
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MIGRATIONS } from "../src/store/migrations.ts";
import { AdminClient } from "./support/admin-client.ts";
import { runCommand, sourceCommand, spawnServer } from "./support/spawn-server.ts";
import { startTestServer, tempDir, type TestServer } from "./support/test-server.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function freshDir(): string {
  const d = tempDir("ds2api-secrets-");
  dirs.push(d);
  return d;
}

/** Every byte sqlite keeps on disk for this database. */
function rawBytes(dbPath: string): Buffer {
  return Buffer.concat([dbPath, `${dbPath}-wal`, `${dbPath}-shm`].filter((p) => existsSync(p)).map((p) => readFileSync(p)));
}

function expectNotOnDisk(dbPath: string, secrets: string[]): void {
  const bytes = rawBytes(dbPath);
  expect(bytes.length).toBeGreaterThan(0);
  for (const s of secrets) {
    if (bytes.includes(Buffer.from(s, "utf8"))) throw new Error(`secret ${s.slice(0, 4)}… is stored in clear in ${dbPath}`);
  }
}

/** No test here talks to DeepSeek. */
const OFFLINE = { DS2API_DEEPSEEK_BASE_URL: "http://127.0.0.1:9" };

const fileDigest = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

/** A business call that needs a valid key: `{}` is a 400 for a known key, a 401 for an unknown one. */
async function keyWorks(url: string, key: string): Promise<boolean> {
  const r = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: "{}" });
  if (r.status !== 400 && r.status !== 401) throw new Error(`unexpected ${r.status}`);
  return r.status === 400;
}

function hs256(secret: string, payload: Record<string, unknown>): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const head = `${enc({ alg: "HS256", typ: "JWT" })}.${enc(payload)}`;
  return `${head}.${createHmac("sha256", secret).update(head).digest("base64url")}`;
}

const LEGACY = {
  keys: ["sk-legacy-key-aaaa1111", "sk-legacy-key-bbbb2222"],
  password: "legacy-pass-123456",
  token: "legacy-token-xyz-789000",
  jwtSecret: "legacy-jwt-secret-abcdefgh",
  consolePassword: "legacy-console-pw",
  proxyPassword: "legacy-proxy-pw-42",
};

/** A database as the previous build (schema 2, everything in clear) left it. */
function buildLegacyDatabase(dbPath: string): void {
  const db = new Database(dbPath, { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL;");
  for (const step of MIGRATIONS.slice(0, 2)) {
    if (typeof step !== "string") throw new Error("the first two migrations are SQL");
    db.exec(step);
  }
  db.exec("PRAGMA user_version = 2");
  const now = Date.now();
  LEGACY.keys.forEach((k, i) => db.query("INSERT INTO api_keys(key, name, remark, created_at, sort_order) VALUES(?, ?, ?, ?, ?)").run(k, `legacy-${i}`, null, now, i + 1));
  db.query("INSERT INTO api_key_usage(key, requests, prompt_tokens, completion_tokens, last_used_at) VALUES(?, 5, 100, 200, ?)").run(LEGACY.keys[0]!, now);
  db.query("INSERT INTO api_key_daily(key, day, tokens) VALUES(?, ?, 300)").run(LEGACY.keys[0]!, new Date(now).toISOString().slice(0, 10));
  db.query("INSERT INTO api_key_quotas(key, requests_per_minute, tokens_per_day) VALUES(?, 7, 9000)").run(LEGACY.keys[0]!);
  db.query(
    "INSERT INTO accounts(identifier, email, password, token, token_at, proxy_id, created_at, updated_at, sort_order) VALUES(?, ?, ?, ?, ?, ?, ?, ?, 1)",
  ).run("legacy@example.com", "legacy@example.com", LEGACY.password, LEGACY.token, now, "px1", now, now);
  db.query("INSERT INTO accounts(identifier, mobile, password, created_at, updated_at, sort_order) VALUES(?, ?, ?, ?, ?, 2)").run("+8613800000000", "+8613800000000", "mobile-pass-99", now, now);
  const set = (k: string, v: unknown) => db.query("INSERT INTO settings(key, value) VALUES(?, ?)").run(k, JSON.stringify(v));
  set("admin_jwt_secret", LEGACY.jwtSecret);
  set("admin", { password_hash: `sha256:${createHash("sha256").update(LEGACY.consolePassword).digest("hex")}`, jwt_expire_hours: 24 });
  set("proxies", [{ id: "px1", name: "px", type: "socks5", host: "127.0.0.1", port: 1080, username: "u", password: LEGACY.proxyPassword }]);
  db.close();
}

async function checkLegacyData(s: TestServer, api: AdminClient): Promise<void> {
  for (const k of LEGACY.keys) expect(await keyWorks(s.url, k)).toBe(true);
  expect(await keyWorks(s.url, "sk-not-a-key")).toBe(false);
  const keys = (await api.get("/admin/keys")).json.items;
  expect(keys.map((k: { name: string }) => k.name).slice(0, 2)).toEqual(["legacy-0", "legacy-1"]);
  expect(keys[0].key_preview).toBe("sk****11");
  expect(keys[0].quota).toEqual({ requests_per_minute: 7, tokens_per_day: 9000 });
  expect(keys[0].usage.requests).toBe(5);
  expect(keys[0].usage.tokens_today).toBe(300);
  const store = s.running.ctx.store;
  const acc = (await store.accounts.get("legacy@example.com"))!;
  expect(acc.password).toBe(LEGACY.password);
  expect(acc.token).toBe(LEGACY.token);
  expect(acc.proxyId).toBe("px1");
  expect((await store.accounts.get("+8613800000000"))!.password).toBe("mobile-pass-99");
  expect((await store.settings.get<{ password: string }[]>("proxies"))![0]!.password).toBe(LEGACY.proxyPassword);
  expect(await store.settings.get<string>("admin_jwt_secret")).toBe(LEGACY.jwtSecret);
}

describe("a fresh database", () => {
  test("holds no secret in clear (file and WAL), the key file is 0600, and everything works after a restart", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "config.json"), JSON.stringify({ keys: ["sk-from-config-file-1"], accounts: [{ email: "cfg@example.com", password: "cfg-password-77", token: "cfg-token-abcdef-99" }] }));
    let s = await startTestServer({ dir, env: OFFLINE });
    try {
      const keyFile = `${s.dbPath}.key`;
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(statSync(s.dbPath).mode & 0o777).toBe(0o600);
      const api = new AdminClient(s.url, s.adminKey);
      const created = (await api.post("/admin/keys", { name: "made" }, { secretBearing: true })).json;
      expect(created.key).toMatch(/^sk-/);
      expect((await api.post("/admin/accounts", { email: "new@example.com", password: "new-account-pass-1" })).status).toBe(200);
      await s.running.ctx.store.accounts.setToken("new@example.com", "fresh-token-0123456789");
      expect((await api.post("/admin/proxies", { id: "p9", type: "http", host: "127.0.0.1", port: 8080, username: "pu", password: "proxy-pass-5555" })).status).toBe(200);
      expect((await api.post("/admin/settings/password", { new_password: "console-password-2026" })).status).toBe(200);
      const jwtSecret = (await s.running.ctx.store.settings.get<string>("admin_jwt_secret"))!;
      expect(jwtSecret.length).toBeGreaterThan(20);
      expect(await keyWorks(s.url, created.key)).toBe(true);
      expect(await keyWorks(s.url, "sk-from-config-file-1")).toBe(true);
      const secrets = [created.key, "sk-from-config-file-1", "cfg-password-77", "cfg-token-abcdef-99", "new-account-pass-1", "fresh-token-0123456789", "proxy-pass-5555", "console-password-2026", jwtSecret];
      expectNotOnDisk(s.dbPath, secrets); // while running: main file + WAL
      // the key list shows previews only; the full key cannot be read back
      const listed = await api.get("/admin/keys");
      expect(listed.text).not.toContain(created.key);
      await s.stop({ keepDir: true });
      expectNotOnDisk(s.dbPath, secrets); // after the checkpoint
      s = await startTestServer({ dir, env: OFFLINE });
      expect(await keyWorks(s.url, created.key)).toBe(true);
      expect((await s.running.ctx.store.accounts.get("new@example.com"))!.token).toBe("fresh-token-0123456789");
      expect((await s.running.ctx.store.accounts.get("cfg@example.com"))!.password).toBe("cfg-password-77");
      expect((await new AdminClient(s.url).post("/admin/login", { admin_key: "console-password-2026" })).status).toBe(200);
    } finally {
      await s.stop({ keepDir: true });
    }
  });

  test("export: passwords only with include_secrets, API keys never (noted), import hashes keys", async () => {
    const dir = freshDir();
    const s = await startTestServer({ dir, env: OFFLINE });
    try {
      const api = new AdminClient(s.url, s.adminKey);
      await api.post("/admin/keys", { key: "sk-export-me-123456" }, { secretBearing: true });
      await api.post("/admin/accounts", { email: "ex@example.com", password: "export-pass-321" });
      const plain = (await api.get("/admin/config/export")).json;
      expect(plain.json).not.toContain("export-pass-321");
      expect(plain.json).not.toContain("sk-export-me-123456");
      expect(plain.omitted.api_keys).toBe(1);
      expect(plain.config._ds2api_note).toContain("API key");
      const full = (await api.get("/admin/config/export?include_secrets=1", { secretBearing: true })).json;
      expect(full.config.accounts[0].password).toBe("export-pass-321");
      expect(full.config.keys).toBeUndefined();
      // the note is not imported as an unknown key, and keys posted in clear are stored hashed
      const imported = await api.post("/admin/config/import", { config: { ...full.config, keys: ["sk-imported-key-777"] } });
      expect(imported.json.imported_keys).toBe(1);
      expect(JSON.stringify((await s.running.ctx.store.settings.get("config_extra")) ?? {})).not.toContain("_ds2api_note");
      expect(await keyWorks(s.url, "sk-imported-key-777")).toBe(true);
      expectNotOnDisk(s.dbPath, ["sk-imported-key-777", "sk-export-me-123456", "export-pass-321"]);
    } finally {
      await s.stop({ keepDir: true });
    }
  });
});

describe("migration of a database written by the old plaintext schema", () => {
  test("every account, key, quota, proxy, JWT and the console password keep working; nothing stays in clear", async () => {
    const dir = freshDir();
    const dbPath = join(dir, "ds2api.sqlite");
    buildLegacyDatabase(dbPath);
    const oldJwt = hs256(LEGACY.jwtSecret, { role: "admin", iat_ms: Date.now(), exp: Math.floor(Date.now() / 1000) + 3600 });
    let s = await startTestServer({ dir, env: OFFLINE });
    try {
      const api = new AdminClient(s.url, s.adminKey);
      await checkLegacyData(s, api);
      // a session from before the upgrade still verifies (the JWT secret was kept, now sealed)
      expect((await api.get("/admin/verify", { auth: oldJwt })).status).toBe(200);
      // the unsalted sha256 console password still logs in, and is upgraded to argon2id by that login
      expect((await api.post("/admin/login", { admin_key: LEGACY.consolePassword }, { auth: null })).status).toBe(200);
      expect((await s.running.ctx.store.settings.get<{ password_hash: string }>("admin"))!.password_hash).toMatch(/^\$argon2id\$/);
      expect((await api.post("/admin/login", { admin_key: LEGACY.consolePassword }, { auth: null })).status).toBe(200);
      expect((await api.post("/admin/login", { admin_key: s.adminKey }, { auth: null })).status).toBe(200);
      const secrets = [...LEGACY.keys, LEGACY.password, LEGACY.token, LEGACY.jwtSecret, LEGACY.proxyPassword, "mobile-pass-99"];
      expectNotOnDisk(dbPath, secrets);
      await s.stop({ keepDir: true });
      expectNotOnDisk(dbPath, secrets);
      s = await startTestServer({ dir, env: OFFLINE });
      await checkLegacyData(s, new AdminClient(s.url, s.adminKey));
    } finally {
      await s.stop({ keepDir: true });
    }
  });

  test("after kill -9 of a process that migrated and wrote, nothing is lost", async () => {
    const dir = freshDir();
    const dbPath = join(dir, "ds2api.sqlite");
    buildLegacyDatabase(dbPath);
    const env = { ...OFFLINE, DS2API_ADMIN_KEY: "kill-admin-key", DS2API_DB_PATH: dbPath, DS2API_CONFIG_PATH: join(dir, "none.json"), PORT: "0", HOST: "127.0.0.1" };
    const child = await spawnServer(sourceCommand(), { cwd: dir, env });
    try {
      const api = new AdminClient(child.url, "kill-admin-key");
      expect((await api.post("/admin/accounts", { email: "after@example.com", password: "after-kill-pass-1" })).status).toBe(200);
      const added = (await api.post("/admin/keys", { key: "sk-added-before-kill" }, { secretBearing: true })).json;
      expect(added.success).toBe(true);
    } finally {
      child.proc.kill("SIGKILL");
      await child.proc.exited;
    }
    const s = await startTestServer({ dir, env: OFFLINE });
    try {
      await checkLegacyData(s, new AdminClient(s.url, s.adminKey));
      expect((await s.running.ctx.store.accounts.get("after@example.com"))!.password).toBe("after-kill-pass-1");
      expect(await keyWorks(s.url, "sk-added-before-kill")).toBe(true);
      expectNotOnDisk(dbPath, [...LEGACY.keys, LEGACY.password, LEGACY.token, "after-kill-pass-1", "sk-added-before-kill"]);
    } finally {
      await s.stop({ keepDir: true });
    }
  });
});

describe("the secret key", () => {
  test("a missing key file or a wrong DS2API_SECRET_KEY stops the start with one clear error and changes nothing", async () => {
    const dir = freshDir();
    const first = await startTestServer({ dir, env: OFFLINE });
    const api = new AdminClient(first.url, first.adminKey);
    await api.post("/admin/accounts", { email: "keep@example.com", password: "keep-this-pass" });
    await first.stop({ keepDir: true });
    const dbPath = first.dbPath;
    const keyFile = `${dbPath}.key`;
    const before = fileDigest(dbPath);

    renameSync(keyFile, `${keyFile}.away`);
    const missing = await startTestServer({ dir, env: OFFLINE }).then(
      (s) => s.stop({ keepDir: true }).then(() => "started"),
      (e: Error) => e.message,
    );
    expect(missing).toContain("key file");
    expect(missing).toContain("Nothing was changed");
    expect(existsSync(keyFile)).toBe(false); // no new key was made over the old data
    expect(fileDigest(dbPath)).toBe(before);

    renameSync(`${keyFile}.away`, keyFile);
    const wrong = await startTestServer({ dir, env: { ...OFFLINE, DS2API_SECRET_KEY: Buffer.alloc(32, 7).toString("base64") } }).then(
      (s) => s.stop({ keepDir: true }).then(() => "started"),
      (e: Error) => e.message,
    );
    expect(wrong).toContain("does not open the secrets");
    expect(fileDigest(dbPath)).toBe(before);

    // the same through the CLI: one line, no stack trace, exit code 2
    const cli = await runCommand(sourceCommand(), { cwd: dir, env: { DS2API_DB_PATH: dbPath, DS2API_SECRET_KEY: "x".repeat(40), PORT: "0", DS2API_ADMIN_KEY: "k" } });
    expect(cli.code).toBe(2);
    expect(cli.stderr.trim().split("\n")).toHaveLength(1);
    expect(cli.stderr).toMatch(/^ds2api: the secret key from DS2API_SECRET_KEY does not open/);
    expect(cli.stderr).not.toMatch(/\n\s+at /);
    expect(fileDigest(dbPath)).toBe(before);

    const back = await startTestServer({ dir, env: OFFLINE });
    try {
      expect((await back.running.ctx.store.accounts.get("keep@example.com"))!.password).toBe("keep-this-pass");
    } finally {
      await back.stop({ keepDir: true });
    }
  });

  test("DS2API_SECRET_KEY as a passphrase: no key file, the same passphrase reopens, a short one is refused", async () => {
    const dir = freshDir();
    const env = { ...OFFLINE, DS2API_SECRET_KEY: "correct horse battery staple" };
    const s1 = await startTestServer({ dir, env });
    await new AdminClient(s1.url, s1.adminKey).post("/admin/accounts", { email: "pp@example.com", password: "passphrase-protected" });
    await s1.stop({ keepDir: true });
    expect(existsSync(`${s1.dbPath}.key`)).toBe(false);
    const s2 = await startTestServer({ dir, env });
    try {
      expect((await s2.running.ctx.store.accounts.get("pp@example.com"))!.password).toBe("passphrase-protected");
    } finally {
      await s2.stop({ keepDir: true });
    }
    const short = await startTestServer({ dir: freshDir(), env: { ...OFFLINE, DS2API_SECRET_KEY: "too-short" } }).then(
      (s) => s.stop().then(() => "started"),
      (e: Error) => e.message,
    );
    expect(short).toContain("at least 16 characters");
  });
});
