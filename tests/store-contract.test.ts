/**
 * The store contract, run against both engines: every repository method over a real sqlite file and a real
 * Postgres database (same statements, same results), secrets sealed at rest (read back from the raw rows), atomic
 * transactions, and the write-behind buffers (Postgres) that keep their counts when a write fails.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { randomBytes } from "node:crypto";
import { openDatabase, type OpenDatabase } from "../src/store/database.ts";
import { openPgExecutor } from "../src/store/sql/pg-executor.ts";
import type { SqlExecutor } from "../src/store/sql/executor.ts";
import { sqliteExecutor } from "../src/store/sql/sqlite-executor.ts";
import { WriteBehind } from "../src/store/sql/write-behind.ts";
import { Store } from "../src/store/store.ts";
import { FINE_SPAN, HOURLY_SPAN } from "../src/store/usage-history-repo.ts";
import { postgresForTests } from "./support/postgres.ts";
import { tempDir } from "./support/test-server.ts";
import { waitUntil } from "./support/wait.ts";

type Kind = "sqlite" | "postgres";

interface Backend {
  store: Store;
  /** The store's own executor, for reading raw rows. */
  raw: SqlExecutor;
  /** A new connection to the same database (to read what a closed store left); the caller closes it. */
  peek(): Promise<SqlExecutor>;
  /** Close the store (idempotent) and remove what the backend created. */
  dispose(): Promise<void>;
}

/** The store over an opened database (sqlite file or Postgres), as open-store.ts builds it, with a fast write-behind. */
function storeOver(db: OpenDatabase): Store {
  return new Store(db.executor, db.box, {
    kind: db.kind,
    location: db.location,
    withStartupLock: (fn) => db.withStartupLock(fn),
    close: () => db.close(),
    writeBehindMs: 50,
  });
}

async function openSqlite(): Promise<Backend> {
  const dir = tempDir("ds2api-contract-");
  const path = join(dir, "db.sqlite");
  const db = await openDatabase({ sqlitePath: path });
  const store = storeOver(db);
  return {
    store,
    raw: db.executor,
    peek: async () => sqliteExecutor(new Database(path, { strict: true })),
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function openPostgres(): Promise<Backend> {
  const url = await (await postgresForTests()).freshDatabase("contract");
  const db = await openDatabase({ sqlitePath: "unused", databaseUrl: url, secretKey: randomBytes(32).toString("base64") });
  const store = storeOver(db);
  return { store, raw: db.executor, peek: () => openPgExecutor(url), dispose: () => store.close() };
}

const OPENERS: Record<Kind, () => Promise<Backend>> = { sqlite: openSqlite, postgres: openPostgres };

const KINDS: Kind[] = ["sqlite", "postgres"];

describe.each(KINDS)("store contract on %s", (kind) => {
  let b: Backend;
  let store: Store;
  beforeAll(async () => {
    b = await OPENERS[kind]();
    store = b.store;
  }, 60_000); // the first Postgres of the run is initdb + start: seconds on a busy machine
  afterAll(async () => {
    await b?.dispose();
  });

  test("settings: set / get / all / delete; secret parts sealed in the raw row, plain through the repository", async () => {
    await store.settings.set("probe", { n: 1, s: "x" });
    expect(await store.settings.get<{ n: number; s: string }>("probe")).toEqual({ n: 1, s: "x" });
    await store.settings.set("admin_jwt_secret", "jwt-secret-plain-0123456789");
    await store.settings.set("proxies", [{ id: "p1", host: "h", port: 1, password: "proxy-pass-plain-42" }]);
    const raw = await b.raw.all<{ key: string; value: string }>("SELECT key, value FROM settings WHERE key IN (?, ?)", ["admin_jwt_secret", "proxies"]);
    expect(raw).toHaveLength(2);
    for (const r of raw) {
      expect(r.value).toContain("enc:v1:");
      expect(r.value).not.toContain("jwt-secret-plain");
      expect(r.value).not.toContain("proxy-pass-plain");
    }
    expect(await store.settings.get<string>("admin_jwt_secret")).toBe("jwt-secret-plain-0123456789");
    expect((await store.settings.get<{ password: string }[]>("proxies"))![0]!.password).toBe("proxy-pass-plain-42");
    // conceal is pure and synchronous.
    const concealed = store.settings.conceal("admin_jwt_secret", "abc");
    expect(typeof concealed).toBe("string");
    expect(String(concealed)).toStartWith("enc:v1:");
    const all = await store.settings.all();
    expect(Object.keys(all)).toEqual(expect.arrayContaining(["probe", "admin_jwt_secret", "proxies"]));
    expect(Object.keys(all)).toEqual([...Object.keys(all)].sort());
    expect(all.admin_jwt_secret).toBe("jwt-secret-plain-0123456789");
    await store.settings.set("probe", undefined);
    expect(await store.settings.get("probe")).toBeUndefined();
    await store.settings.set("probe2", 5);
    await store.settings.delete("probe2");
    expect(await store.settings.get("probe2")).toBeUndefined();
  });

  test("api keys: only the keyed hash is stored; upsert / find / byId / list / count / update / delete", async () => {
    const key = "sk-contract-key-alpha-0001";
    expect(await store.apiKeys.upsert({ key, name: "alpha" })).toBe(true);
    expect(await store.apiKeys.upsert({ key, remark: "again" })).toBe(false);
    expect(await store.apiKeys.upsert({ key: "sk-contract-key-bravo-0002" })).toBe(true);
    const hash = store.apiKeys.hashOf(key);
    expect(typeof hash).toBe("string");
    const rec = (await store.apiKeys.find(key))!;
    expect(rec).toMatchObject({ hash, name: "alpha", remark: "again", preview: "sk****01" });
    expect(await store.apiKeys.get(hash)).toEqual(rec);
    expect(await store.apiKeys.byId(rec.id)).toEqual(rec);
    expect((await store.apiKeys.list()).map((k) => k.name ?? null)).toEqual(["alpha", null]);
    expect(await store.apiKeys.count()).toBe(2);
    const raw = JSON.stringify(await b.raw.all("SELECT * FROM api_keys"));
    expect(raw).not.toContain(key);
    expect(raw).toContain(hash);
    expect(await store.apiKeys.update(hash, { name: null })).toBe(true);
    expect((await store.apiKeys.get(hash))!.name).toBeUndefined();
    expect((await store.apiKeys.get(hash))!.remark).toBe("again");
    expect(await store.apiKeys.update("no-such-hash", { name: "x" })).toBe(false);
    await store.apiKeys.insertHashed("h".repeat(64), "ab****yz", "hashed", undefined, 1234);
    expect((await store.apiKeys.list()).map((k) => k.name ?? null)).toEqual([null, null, "hashed"]);
    expect(await store.apiKeys.delete(hash)).toBe(true);
    expect(await store.apiKeys.delete(hash)).toBe(false);
    expect(await store.apiKeys.find(key)).toBeUndefined();
    await store.apiKeys.deleteAll();
    expect(await store.apiKeys.count()).toBe(0);
  });

  test("accounts: insert / upsert / get / list / page / conflicts / lookup / proxies / profile / device / token / status / use / delete", async () => {
    await store.accounts.deleteAll();
    await store.accounts.insert({ identifier: "a@example.com", email: "a@example.com", password: "pass-a-plain-1", name: "Alpha", remark: "50%_off" });
    expect(await store.accounts.upsert({ identifier: "+8613800000001", mobile: "+8613800000001", password: "pass-b-plain-2", proxyId: "px" })).toBe(true);
    expect(await store.accounts.upsert({ identifier: "c@example.com", email: "c@example.com", token: "token-c-plain-3", proxyId: "px" })).toBe(true);
    const a = (await store.accounts.get("a@example.com"))!;
    expect(a).toMatchObject({ identifier: "a@example.com", password: "pass-a-plain-1", enabled: true, status: "ok", requestCount: 0, name: "Alpha" });
    expect(a.deviceId).toBeTruthy();
    expect((await store.accounts.get("c@example.com"))!.tokenAt).toBeNumber();
    const raw = JSON.stringify(await b.raw.all("SELECT * FROM accounts"));
    for (const secret of ["pass-a-plain-1", "pass-b-plain-2", "token-c-plain-3"]) expect(raw).not.toContain(secret);

    expect((await store.accounts.list()).map((r) => r.identifier)).toEqual(["a@example.com", "+8613800000001", "c@example.com"]);
    expect(await store.accounts.identifiers()).toEqual(["a@example.com", "+8613800000001", "c@example.com"]);
    expect(await store.accounts.count()).toBe(3);
    const page = await store.accounts.page({ offset: 0, limit: 2 });
    expect(page.total).toBe(3);
    expect(page.items.map((r) => r.identifier)).toEqual(["c@example.com", "+8613800000001"]);
    expect((await store.accounts.page({ offset: 2, limit: 2 })).items.map((r) => r.identifier)).toEqual(["a@example.com"]);
    expect((await store.accounts.page({ q: "ALPHA", offset: 0, limit: 10 })).items.map((r) => r.identifier)).toEqual(["a@example.com"]);
    // % and _ are literal characters in the filter.
    expect((await store.accounts.page({ q: "50%_", offset: 0, limit: 10 })).total).toBe(1);
    expect((await store.accounts.page({ q: "5_%", offset: 0, limit: 10 })).total).toBe(0);
    expect((await store.accounts.page({ q: "8613800", offset: 0, limit: 10 })).items.map((r) => r.identifier)).toEqual(["+8613800000001"]);

    expect(await store.accounts.conflictOf("a@example.com")).toBe("a@example.com");
    expect(await store.accounts.conflictOf("new@example.com")).toBeUndefined();
    expect(await store.accounts.conflictOf("other", "+8613800000001")).toBe("+8613800000001");
    expect((await store.accounts.lookup("c@example.com"))!.identifier).toBe("c@example.com");
    expect((await store.accounts.lookup("+8613800000001"))!.identifier).toBe("+8613800000001");
    expect(await store.accounts.lookup("nobody")).toBeUndefined();

    expect(await store.accounts.boundTo("px")).toEqual(["+8613800000001", "c@example.com"]);
    expect(await store.accounts.unbindProxy("px")).toBe(2);
    expect(await store.accounts.boundTo("px")).toEqual([]);

    // upsert of an existing account: only given fields change; a new password drops the token.
    expect(await store.accounts.upsert({ identifier: "c@example.com", remark: "kept" })).toBe(false);
    expect((await store.accounts.get("c@example.com"))!.token).toBe("token-c-plain-3");
    expect(await store.accounts.upsert({ identifier: "c@example.com", password: "new-pass-c" })).toBe(false);
    const c = (await store.accounts.get("c@example.com"))!;
    expect(c).toMatchObject({ password: "new-pass-c", remark: "kept", email: "c@example.com" });
    expect(c.token).toBeUndefined();

    expect(await store.accounts.updateProfile("a@example.com", { name: null, proxyId: "p2" })).toBe(true);
    expect(await store.accounts.updateProfile("nobody", { name: "x" })).toBe(false);
    expect(await store.accounts.get("a@example.com")).toMatchObject({ name: undefined, remark: "50%_off", proxyId: "p2" });

    await store.accounts.setToken("a@example.com", "token-a-plain-9");
    await store.accounts.setStatus("a@example.com", "risk_device", "device refused", Date.now() + 60_000);
    expect(await store.accounts.get("a@example.com")).toMatchObject({ token: "token-a-plain-9", status: "risk_device", statusReason: "device refused" });
    const device = await store.accounts.setDeviceId("a@example.com", null);
    expect(device).toBeTruthy();
    expect(device).not.toBe(a.deviceId);
    const afterDevice = (await store.accounts.get("a@example.com"))!;
    expect(afterDevice).toMatchObject({ deviceId: device, status: "ok", token: undefined, cooldownUntil: undefined });
    expect(await store.accounts.setDeviceId("nobody", null)).toBeUndefined();

    expect(await store.accounts.setEnabled("a@example.com", false)).toBe(true);
    expect(await store.accounts.setEnabled("nobody", false)).toBe(false);
    await store.accounts.recordError("a@example.com", "boom");
    for (let i = 0; i < 3; i++) await store.accounts.recordUse("a@example.com");
    await store.flush();
    const used = (await store.accounts.get("a@example.com"))!;
    expect(used).toMatchObject({ enabled: false, lastError: "boom", requestCount: 3 });
    expect(used.lastUsedAt).toBeNumber();
    expect(used.lastErrorAt).toBeNumber();

    expect(await store.accounts.delete("a@example.com")).toBe(true);
    expect(await store.accounts.delete("a@example.com")).toBe(false);
    await store.accounts.deleteAll();
    expect(await store.accounts.count()).toBe(0);
  });

  test("key usage: record (per day too) / usage / allUsage / tokensOn / quotas / forget", async () => {
    const day1 = "2026-01-01";
    const day2 = "2026-01-02";
    await store.keyUsage.record("hash-1", 10, 5, 1000, day1);
    await store.keyUsage.record("hash-1", 1, 2, 3000, day1);
    await store.keyUsage.record("hash-1", 100, 0, 2000, day2);
    await store.keyUsage.record("hash-2", 7, 7, 4000, day2);
    await store.flush();
    expect(await store.keyUsage.usage("hash-1")).toEqual({ requests: 3, promptTokens: 111, completionTokens: 7, lastUsedAt: 3000 });
    expect(await store.keyUsage.usage("nobody")).toEqual({ requests: 0, promptTokens: 0, completionTokens: 0 });
    const all = await store.keyUsage.allUsage();
    expect(all.get("hash-2")).toEqual({ requests: 1, promptTokens: 7, completionTokens: 7, lastUsedAt: 4000 });
    expect(await store.keyUsage.tokensOn("hash-1", day1)).toBe(18);
    expect(await store.keyUsage.tokensOn("hash-1", day2)).toBe(100);
    expect(await store.keyUsage.tokensOn("hash-1", "2030-01-01")).toBe(0);

    expect(await store.keyUsage.quota("hash-1")).toEqual({});
    await store.keyUsage.setQuota("hash-1", { requestsPerMinute: 5 });
    await store.keyUsage.setQuota("hash-1", { requestsPerMinute: 6, tokensPerDay: 1000 });
    await store.keyUsage.setQuota("hash-2", { tokensPerDay: 50 });
    expect(await store.keyUsage.quota("hash-1")).toEqual({ requestsPerMinute: 6, tokensPerDay: 1000 });
    expect((await store.keyUsage.allQuotas()).get("hash-2")).toEqual({ requestsPerMinute: undefined, tokensPerDay: 50 });
    await store.keyUsage.setQuota("hash-2", {});
    expect(await store.keyUsage.quota("hash-2")).toEqual({});

    await store.keyUsage.forget("hash-1");
    expect(await store.keyUsage.usage("hash-1")).toEqual({ requests: 0, promptTokens: 0, completionTokens: 0 });
    expect(await store.keyUsage.tokensOn("hash-1", day1)).toBe(0);
    expect(await store.keyUsage.quota("hash-1")).toEqual({});
  });

  test("audit: add, newest first, limit, filters by exact action / prefix / actor / target substring", async () => {
    const add = (action: string, actor: string, target?: string) => store.audit.add({ at: Date.now(), actor, action, target, address: "127.0.0.1", detail: { n: 1 } });
    await add("accounts.add", "admin", "Alice@Example.com");
    await add("accounts.delete", "admin", "bob@example.com");
    await add("keys.add", "ops", "k_100%_sure");
    await add("accountsX", "ops");
    await add("config.import", "admin");
    const all = await store.audit.list({ limit: 100 });
    expect(all.map((e) => e.action)).toEqual(["config.import", "accountsX", "keys.add", "accounts.delete", "accounts.add"]);
    expect(all[0]!.id).toBeGreaterThan(all[1]!.id);
    expect(all[4]).toMatchObject({ actor: "admin", address: "127.0.0.1", target: "Alice@Example.com", detail: { n: 1 } });
    expect((await store.audit.list({ limit: 2 })).map((e) => e.action)).toEqual(["config.import", "accountsX"]);
    expect((await store.audit.list({ limit: 100, action: "accounts.add" })).map((e) => e.action)).toEqual(["accounts.add"]);
    expect((await store.audit.list({ limit: 100, action: "accounts." })).map((e) => e.action)).toEqual(["accounts.delete", "accounts.add"]);
    expect((await store.audit.list({ limit: 100, action: "accounts*" })).map((e) => e.action)).toEqual(["accountsX", "accounts.delete", "accounts.add"]);
    expect((await store.audit.list({ limit: 100, action: "ACCOUNTS." })).map((e) => e.action)).toEqual([]);
    expect((await store.audit.list({ limit: 100, actor: "ops" })).map((e) => e.action)).toEqual(["accountsX", "keys.add"]);
    expect((await store.audit.list({ limit: 100, target: "ALICE" })).map((e) => e.action)).toEqual(["accounts.add"]);
    expect((await store.audit.list({ limit: 100, target: "100%_" })).map((e) => e.action)).toEqual(["keys.add"]);
    expect((await store.audit.list({ limit: 100, target: "0_%" })).map((e) => e.action)).toEqual([]);
    expect((await store.audit.list({ limit: 100, actor: "admin", action: "accounts*", target: "example" })).map((e) => e.action)).toEqual(["accounts.delete", "accounts.add"]);
  });

  test("credentials: upsert / get / list / count / recordUse / setState / resetUsage / profile / remove; secrets sealed", async () => {
    const p = "contract-provider";
    const first = await store.credentials.upsert(p, { secret: "secret-one-plain-0001", auth: "Bearer auth-plain-xyz", label: "one", maxUsage: 5, meta: { region: "x" } });
    const again = await store.credentials.upsert(p, { secret: "secret-one-plain-0001", label: "renamed" });
    const second = await store.credentials.upsert(p, { secret: "secret-two-plain-0002" });
    expect(first.created).toBe(true);
    expect(again).toEqual({ id: first.id, created: false });
    expect(first.id).toBe(store.credentials.idFor(p, "secret-one-plain-0001"));
    expect(await store.credentials.get(p, first.id)).toMatchObject({
      secret: "secret-one-plain-0001",
      auth: "Bearer auth-plain-xyz",
      label: "renamed",
      maxUsage: 5,
      meta: { region: "x" },
      preview: "se****01",
      state: "ok",
      usageCount: 0,
      enabled: true,
      failures: 0,
    });
    const raw = JSON.stringify(await b.raw.all("SELECT * FROM provider_credentials"));
    for (const s of ["secret-one-plain", "secret-two-plain", "auth-plain-xyz"]) expect(raw).not.toContain(s);
    expect((await store.credentials.list(p)).map((c) => c.id)).toEqual([first.id, second.id]);
    expect(await store.credentials.count(p)).toBe(2);
    expect(await store.credentials.count("other")).toBe(0);

    expect(await store.credentials.recordUse(p, first.id)).toBe(1);
    expect(await store.credentials.recordUse(p, first.id)).toBe(2);
    expect(await store.credentials.recordUse(p, "missing")).toBe(0);
    await store.credentials.setUsage(p, second.id, 41.7);
    expect((await store.credentials.get(p, second.id))!.usageCount).toBe(41);
    await store.credentials.setState(p, first.id, "exhausted", "max usage reached");
    await store.credentials.setState(p, second.id, "cooling", "401", { cooldownUntil: 99_999, failures: 3 });
    await store.credentials.recordError(p, second.id, "401 from upstream");
    expect(await store.credentials.setEnabled(p, second.id, false)).toBe(true);
    expect(await store.credentials.get(p, second.id)).toMatchObject({ state: "cooling", stateReason: "401", cooldownUntil: 99_999, failures: 3, enabled: false, lastError: "401 from upstream" });
    expect(await store.credentials.resetUsage(p, first.id)).toBe(1);
    expect(await store.credentials.get(p, first.id)).toMatchObject({ usageCount: 0, state: "ok", stateReason: undefined });
    expect(await store.credentials.resetUsage(p)).toBe(2);
    expect((await store.credentials.get(p, second.id))!.state).toBe("cooling");
    await store.credentials.setState(p, second.id, "ok");
    expect(await store.credentials.get(p, second.id)).toMatchObject({ state: "ok", failures: 0, cooldownUntil: undefined, stateReason: undefined });
    expect(await store.credentials.updateProfile(p, first.id, { label: null, maxUsage: 9 })).toBe(true);
    expect(await store.credentials.get(p, first.id)).toMatchObject({ label: undefined, maxUsage: 9 });
    expect(await store.credentials.updateProfile(p, "missing", { label: "x" })).toBe(false);
    expect(await store.credentials.remove(p, first.id)).toBe(true);
    expect(await store.credentials.remove(p, first.id)).toBe(false);
    expect(await store.credentials.count(p)).toBe(1);
  });

  test("chat history: start / finish / list newest first (same millisecond too) / get / revision / prune / delete", async () => {
    await store.chatHistory.deleteAll();
    const detail = { messages: [{ role: "user", content: "hi" }], history_text: "", final_prompt: "p", reasoning_content: "", content: "", tool_calls: [], error: "", usage: null };
    const at = 1_700_000_000_000;
    const rev0 = await store.chatHistory.revision();
    await store.chatHistory.start({ id: "c1", at, stream: true, model: "m", provider: "deepseek", surface: "openai", caller_id: "k_1", user_input: "hi", detail }, 10);
    await store.chatHistory.start({ id: "c2", at, stream: false, detail }, 10);
    await store.chatHistory.start({ id: "c3", at, stream: false, detail }, 10);
    expect(await store.chatHistory.revision()).toBe(rev0 + 3);
    expect((await store.chatHistory.list()).map((r) => r.id)).toEqual(["c3", "c2", "c1"]);
    expect(await store.chatHistory.count()).toBe(3);

    expect(await store.chatHistory.finish("c1", { at: at + 500, status: "success", account_id: "acc", status_code: 200, elapsed_ms: 499.6, finish_reason: "stop", preview: "hello", detail: { content: "hello" } })).toBe(true);
    expect(await store.chatHistory.finish("nope", { at, status: "error", elapsed_ms: 1, detail: {} })).toBe(false);
    const c1 = (await store.chatHistory.get("c1"))!;
    expect(c1).toMatchObject({ status: "success", stream: true, completed_at: at + 500, elapsed_ms: 500, content: "hello", final_prompt: "p", model: "m", caller_id: "k_1", account_id: "acc" });
    expect(c1.revision).toBe(rev0 + 4);
    expect(c1.detail_revision).toBe(c1.revision);
    // A finish does not move an entry in the list.
    expect((await store.chatHistory.list()).map((r) => r.id)).toEqual(["c3", "c2", "c1"]);
    expect(await store.chatHistory.get("nope")).toBeUndefined();

    await store.chatHistory.start({ id: "c4", at: at + 1, stream: false, detail }, 3);
    expect((await store.chatHistory.list()).map((r) => r.id)).toEqual(["c4", "c3", "c2"]);
    await store.chatHistory.prune(2);
    expect((await store.chatHistory.list()).map((r) => r.id)).toEqual(["c4", "c3"]);
    const before = await store.chatHistory.revision();
    expect(await store.chatHistory.delete("c3")).toBe(true);
    expect(await store.chatHistory.delete("c3")).toBe(false);
    expect(await store.chatHistory.revision()).toBe(before + 1);
    await store.chatHistory.prune(0);
    expect(await store.chatHistory.count()).toBe(0);
    await store.chatHistory.start({ id: "c5", at, stream: false, detail }, 10);
    await store.chatHistory.deleteAll();
    expect(await store.chatHistory.list()).toEqual([]);
  });

  test("files: put (again replaces) / get only for its caller / remove", async () => {
    const f = { id: "file-1", provider: "deepseek", account: "acc", caller: "caller-a", filename: "a.txt", bytes: 12, mediaType: "text/plain", purpose: "assistants", createdAt: 1_700_000_000 };
    await store.files.put(f);
    expect(await store.files.get("file-1", "caller-a")).toEqual(f);
    expect(await store.files.get("file-1", "caller-b")).toBeUndefined();
    await store.files.put({ ...f, account: undefined, bytes: 99 });
    expect(await store.files.get("file-1", "caller-a")).toEqual({ ...f, account: undefined, bytes: 99 });
    expect(await store.files.remove("file-1")).toBe(true);
    expect(await store.files.remove("file-1")).toBe(false);
    expect(await store.files.get("file-1", "caller-a")).toBeUndefined();
  });

  test("usage history: add counts in memory, flush writes additive buckets, series and providers read them", async () => {
    const at = Date.now();
    const sample = (model: string, provider = "deepseek", error = false) => ({ at, keyId: "k_c", account: "a", provider, model, error, inputTokens: 10, outputTokens: 5, latencyMs: 100.4 });
    const count = async () => (await b.raw.get<{ n: number }>("SELECT COUNT(*) AS n FROM usage_buckets"))!.n;
    const before = await count();
    store.usageHistory.add(sample("m1"));
    store.usageHistory.add(sample("m1", "deepseek", true));
    store.usageHistory.add(sample("m2", "ondemand"));
    await store.usageHistory.flush();
    expect(await count()).toBe(before + 4); // two groups × two spans
    store.usageHistory.add(sample("m1"));
    const series = await store.usageHistory.series({ span: FINE_SPAN, stepSeconds: HOURLY_SPAN, from: at - 3_600_000, by: "model" });
    const m1 = series.find((r) => r.group === "deepseek/m1")!;
    expect(m1).toMatchObject({ requests: 3, errors: 1, input_tokens: 30, output_tokens: 15 });
    expect(m1.bucket % 3_600_000).toBe(0);
    expect(typeof m1.requests).toBe("number");
    expect((await store.usageHistory.series({ span: HOURLY_SPAN, stepSeconds: HOURLY_SPAN, from: at - 3_600_000, by: "provider" })).map((r) => [r.group, r.requests])).toEqual([
      ["deepseek", 3],
      ["ondemand", 1],
    ]);
    expect(await store.usageHistory.providers()).toEqual(["deepseek", "ondemand"]);
  });

  test("concurrent upserts of one new key / account / credential create it once, without an error", async () => {
    const keys = await Promise.all(Array.from({ length: 5 }, (_, i) => store.apiKeys.upsert({ key: "sk-contract-race-key-0001", name: `n${i}` })));
    expect(keys.filter(Boolean)).toHaveLength(1);
    expect(await store.apiKeys.count()).toBe(1);
    const accounts = await Promise.all(Array.from({ length: 5 }, (_, i) => store.accounts.upsert({ identifier: "race@example.com", remark: `r${i}`, password: "race-pass" })));
    expect(accounts.filter(Boolean)).toHaveLength(1);
    expect((await store.accounts.get("race@example.com"))!.password).toBe("race-pass");
    const creds = await Promise.all(Array.from({ length: 5 }, () => store.credentials.upsert("race", { secret: "race-secret-0000001" })));
    expect(creds.filter((c) => c.created)).toHaveLength(1);
    expect(await store.credentials.count("race")).toBe(1);
    await store.apiKeys.deleteAll();
    await store.accounts.delete("race@example.com");
  });

  test("a transaction that throws leaves nothing; one that returns keeps everything", async () => {
    const err = await store
      .transaction(async (tx) => {
        await tx.accounts.insert({ identifier: "tx-gone@example.com", password: "x" });
        await tx.settings.set("tx.gone", 1);
        await tx.chatHistory.start({ id: "tx-gone", at: 1, stream: false, detail: { messages: [], history_text: "", final_prompt: "", reasoning_content: "", content: "", tool_calls: [], error: "", usage: null } }, 100);
        await tx.audit.add({ at: 1, actor: "t", action: "tx.gone" });
        throw new Error("changed my mind");
      })
      .catch((e: Error) => e);
    expect((err as Error).message).toBe("changed my mind");
    expect(await store.accounts.get("tx-gone@example.com")).toBeUndefined();
    expect(await store.settings.get("tx.gone")).toBeUndefined();
    expect(await store.chatHistory.get("tx-gone")).toBeUndefined();
    expect(await store.audit.list({ limit: 10, action: "tx.gone" })).toEqual([]);

    const out = await store.transaction(async (tx) => {
      await tx.accounts.insert({ identifier: "tx-kept@example.com" });
      await tx.settings.set("tx.kept", { ok: true });
      return (await tx.accounts.get("tx-kept@example.com"))!.identifier;
    });
    expect(out).toBe("tx-kept@example.com");
    expect(await store.settings.get("tx.kept")).toEqual({ ok: true });
    await store.accounts.delete("tx-kept@example.com");
  });

  test("two concurrent transactions do not interleave: no half-done write is seen, no mixed result is left", async () => {
    await store.settings.set("pair.a", 0);
    await store.settings.set("pair.b", 0);
    let wroteA!: () => void;
    const firstWroteA = new Promise<void>((r) => (wroteA = r));
    let releaseFirst!: () => void;
    const firstMayFinish = new Promise<void>((r) => (releaseFirst = r));
    const pair = (all: Record<string, unknown>) => [all["pair.a"], all["pair.b"]];
    const first = store.transaction(async (tx) => {
      await tx.settings.set("pair.a", 1);
      wroteA();
      await firstMayFinish;
      await tx.settings.set("pair.b", 1);
    });
    await firstWroteA;
    // Started while the first is half done. Reads are one statement each (on Postgres every statement of a
    // READ COMMITTED transaction takes its own snapshot): each sees both of the first's writes or neither.
    const second = store.transaction(async (tx) => {
      const seen = pair(await tx.settings.all());
      await tx.settings.set("pair.a", 2);
      await tx.settings.set("pair.b", 2);
      return seen;
    });
    const rootRead = store.settings.all().then(pair);
    releaseFirst();
    await first;
    const seen = await second;
    const either: unknown[][] = [[0, 0], [1, 1]];
    expect(either).toContainEqual(seen);
    // The root read may also come after the second committed.
    expect([...either, [2, 2]]).toContainEqual(await rootRead);
    // The second wrote after the first committed (sqlite: it waited for it; Postgres: for its row lock).
    expect(pair(await store.settings.all())).toEqual([2, 2]);
  });

  test("a root write made while transactions queue is never swept into (and rolled back with) another transaction", async () => {
    let releaseFirst!: () => void;
    const firstMayFinish = new Promise<void>((r) => (releaseFirst = r));
    let firstOpen!: () => void;
    const firstIsOpen = new Promise<void>((r) => (firstOpen = r));
    const first = store.transaction(async (tx) => {
      await tx.settings.set("queue.first", 1);
      firstOpen();
      await firstMayFinish;
    });
    await firstIsOpen;
    // Queued behind the first (sqlite: one connection), in this order: a transaction that fails, then a root write.
    const failing = store
      .transaction(async (tx) => {
        await tx.settings.set("queue.failing", 1);
        await Promise.resolve();
        throw new Error("rolled back on purpose");
      })
      .catch((e: Error) => e.message);
    const rootWrite = store.settings.set("queue.root", "kept");
    releaseFirst();
    await first;
    expect(await failing).toBe("rolled back on purpose");
    await rootWrite;
    expect(await store.settings.get("queue.failing")).toBeUndefined();
    expect(await store.settings.get("queue.root")).toBe("kept");
  });

  test("write-behind: a failed write keeps the counts (reported, never thrown at the counter), the next write lands them all", async () => {
    const errors: string[] = [];
    let failing = true;
    const flaky: SqlExecutor = {
      dialect: b.raw.dialect,
      all: (s, p) => b.raw.all(s, p),
      get: (s, p) => b.raw.get(s, p),
      run: (s, p) => b.raw.run(s, p),
      exec: (s) => b.raw.exec(s),
      hasTable: (n) => b.raw.hasTable(n),
      transaction: (fn) => (failing ? Promise.reject(new Error("database unreachable")) : b.raw.transaction(fn)),
      close: async () => {},
    };
    await store.settings.set("wb.total", 0);
    const buffer = new WriteBehind<{ n: number }>({
      name: "test counter",
      x: flaky,
      everyMs: 20,
      onError: (what, e) => errors.push(`${what}: ${(e as Error).message}`),
      merge: (into, more) => {
        into.n += more.n;
      },
      write: async (tx, entries) => {
        for (const [, v] of entries) await tx.run("UPDATE settings SET value = CAST(CAST(value AS INTEGER) + ? AS TEXT) WHERE key = 'wb.total'", [v.n]);
      },
    });
    buffer.add("k", { n: 2 });
    buffer.add("k", { n: 3 });
    await waitUntil(() => errors.length > 0, "the timed write to fail");
    expect(errors[0]).toBe("test counter: database unreachable");
    expect(buffer.size).toBe(1);
    await expect(buffer.flush()).rejects.toThrow("database unreachable");
    buffer.add("k", { n: 4 });
    failing = false;
    await waitUntil(async () => (await store.settings.get<number>("wb.total")) === 9, "the retried write to land all counts");
    expect(buffer.size).toBe(0);
    await buffer.close();
    buffer.add("k", { n: 100 }); // ignored once closed
    expect(buffer.size).toBe(0);
  });

  test("per-request counters: concurrent recordUse / keyUsage.record add up and land without an explicit flush", async () => {
    await store.accounts.insert({ identifier: "busy@example.com" });
    await Promise.all(Array.from({ length: 40 }, (_, i) => Promise.all([store.accounts.recordUse("busy@example.com"), store.keyUsage.record("busy-key", i, 1, 1000 + i, "2026-03-03")])));
    // Postgres writes them within the write-behind period (50 ms here), sqlite at once: no flush() call.
    await waitUntil(async () => (await store.accounts.get("busy@example.com"))!.requestCount === 40, "the account's 40 uses to land");
    await waitUntil(async () => (await store.keyUsage.usage("busy-key")).requests === 40, "the key's 40 requests to land");
    expect(await store.keyUsage.usage("busy-key")).toEqual({ requests: 40, promptTokens: 780, completionTokens: 40, lastUsedAt: 1039 });
    expect(await store.keyUsage.tokensOn("busy-key", "2026-03-03")).toBe(820);
    expect((await store.accounts.get("busy@example.com"))!.lastUsedAt).toBeNumber();
  });

  test("write-behind only on Postgres: recordUse / keyUsage.record buffer there and write at once on sqlite", async () => {
    await store.accounts.insert({ identifier: "wb@example.com" });
    await store.flush();
    expect(store.writeBehindBacklog()).toBe(0);
    await store.accounts.recordUse("wb@example.com");
    await store.keyUsage.record("wb-key", 1, 2, 10, "2026-04-04");
    // Only microtasks ran since the calls: a timed write (a macrotask) cannot have taken the counts yet.
    expect(store.writeBehindBacklog()).toBe(kind === "postgres" ? 2 : 0);
    if (kind === "sqlite") expect((await store.accounts.get("wb@example.com"))!.requestCount).toBe(1);
    await store.flush();
    expect(store.writeBehindBacklog()).toBe(0);
    expect((await store.accounts.get("wb@example.com"))!.requestCount).toBe(1);
    expect(await store.keyUsage.tokensOn("wb-key", "2026-04-04")).toBe(3);
  });

  test("close flushes what is buffered and is safe twice", async () => {
    await store.accounts.insert({ identifier: "close@example.com" });
    await store.accounts.recordUse("close@example.com");
    await store.keyUsage.record("close-key", 1, 1, 5, "2026-02-02");
    store.usageHistory.add({ at: Date.now(), keyId: "k_close", account: "", provider: "closing", model: "m", error: false, inputTokens: 1, outputTokens: 1, latencyMs: 1 });
    await store.close();
    await store.close();
    const again = await b.peek();
    try {
      expect(await again.get("SELECT request_count AS n FROM accounts WHERE identifier = ?", ["close@example.com"])).toEqual({ n: 1 });
      expect(await again.get("SELECT requests AS n FROM api_key_usage WHERE key = ?", ["close-key"])).toEqual({ n: 1 });
      expect(await again.get("SELECT tokens AS n FROM api_key_daily WHERE key = ? AND day = ?", ["close-key", "2026-02-02"])).toEqual({ n: 2 });
      expect(await again.get("SELECT COUNT(*) AS n FROM usage_buckets WHERE provider = ?", ["closing"])).toEqual({ n: 2 });
    } finally {
      await again.close();
    }
  });
});
