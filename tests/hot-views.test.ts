/**
 * The in-memory views the request path reads (settings, API keys, key quotas and day tallies, key-style credential
 * pools) over the async store: loaded once, followed through change events, never a store read per request, and
 * `bus.settled()` resolves only once a published change is served.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { subscribeViews } from "../src/admin/change-subscribers.ts";
import { LiveSettings } from "../src/config/live-settings.ts";
import { InProcessChangeBus } from "../src/core/changes/change-bus.ts";
import type { TurnOutcomeInfo } from "../src/core/turn/turn-observer.ts";
import { ProviderRegistry } from "../src/core/upstream/registry.ts";
import { ApiKeyIndex } from "../src/security/api-key-index.ts";
import { KeyUsageTracker } from "../src/security/key-usage.ts";
import type { StoreApi } from "../src/store/store-api.ts";
import { openStore } from "../src/store/open-store.ts";
import type { Store } from "../src/store/store.ts";
import { CredentialSnapshot } from "../src/upstream/credential-snapshot.ts";
import { CredentialPool } from "../src/upstream/volcengine/credentials/pool.ts";
import { KeyPool } from "../src/upstream/ondemand/credentials/pool.ts";
import { tempDir } from "./support/test-server.ts";
import { waitUntil } from "./support/wait.ts";

interface Opened {
  sync: Store;
  store: StoreApi;
  /** Calls made through `store`, as `repo.method`. */
  calls: string[];
}

const opened: { dir: string; sync: Store }[] = [];

afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.sync.close();
    rmSync(o.dir, { recursive: true, force: true });
  }
});

/** A temp sqlite store seen through `StoreApi`, every repository call counted. */
async function open(): Promise<Opened> {
  const dir = tempDir("ds2api-hot-views-");
  const sync = await openStore({ sqlitePath: join(dir, "db.sqlite") });
  opened.push({ dir, sync });
  const api = sync;
  const calls: string[] = [];
  const counted = new Proxy(api, {
    get(target, prop, receiver) {
      const repo = Reflect.get(target, prop, receiver) as unknown;
      if (typeof repo !== "object" || repo === null || typeof prop !== "string") return repo;
      return new Proxy(repo, {
        get(r, method, rr) {
          const fn = Reflect.get(r, method, rr) as unknown;
          if (typeof fn !== "function") return fn;
          return (...args: unknown[]) => {
            calls.push(`${prop}.${String(method)}`);
            return (fn as (...a: unknown[]) => unknown).apply(r, args);
          };
        },
      });
    },
  });
  return { sync, store: counted, calls };
}

const keyTurn = (key: string, prompt: number, completion: number): Pick<TurnOutcomeInfo, "caller" | "usage"> => ({
  caller: { kind: "key", key, id: "caller:test" },
  usage: { promptTokens: prompt, reasoningTokens: 0, completionTokens: completion, totalTokens: prompt + completion },
});

describe("LiveSettings", () => {
  test("loaded once, read synchronously with no store call; a write through it lands in the store and the copy at once", async () => {
    const o = await open();
    await o.sync.settings.set("runtime", { account_max_inflight: 3 });
    await o.sync.settings.set("proxies", [{ id: "px1", name: "p", type: "socks5", host: "127.0.0.1", port: 1080 }]);
    const live = new LiveSettings(o.store);
    await live.load();
    o.calls.length = 0;
    for (let i = 0; i < 100; i++) {
      expect(live.runtime()).toEqual({ account_max_inflight: 3 });
      expect(live.proxies().map((p) => p.id)).toEqual(["px1"]);
      expect(live.section("absent")).toEqual({});
    }
    expect(o.calls).toEqual([]);
    // Written behind its back: unseen until a reload.
    await o.sync.settings.set("model_aliases", { a: "deepseek-v4-flash" });
    expect(live.modelAliases()).toEqual({});
    await live.reload();
    expect(live.modelAliases()).toEqual({ a: "deepseek-v4-flash" });
    await live.set("section.x", { on: true });
    expect(live.section<{ on: boolean }>("x")).toEqual({ on: true });
    expect(await o.sync.settings.get("section.x")).toEqual({ on: true });
    await live.set("section.x", undefined);
    expect(await o.sync.settings.get("section.x")).toBeUndefined();
    expect(live.section("x")).toEqual({});
  });
});

describe("change subscribers", () => {
  function wire(o: Opened) {
    const errors: unknown[] = [];
    const bus = new InProcessChangeBus((e) => errors.push(e));
    const settings = new LiveSettings(o.store);
    const apiKeys = new ApiKeyIndex(o.store);
    const keyUsage = new KeyUsageTracker(o.store);
    subscribeViews(bus, { settings, providers: new ProviderRegistry(), apiKeys, keyUsage });
    return { bus, settings, apiKeys, keyUsage, errors };
  }

  test("a key added and published is matched once settled() resolves; a removed one is not; reloads are not per request", async () => {
    const o = await open();
    const v = wire(o);
    await v.apiKeys.reload();
    expect(v.apiKeys.match("sk-new-key")).toBeUndefined();
    await o.store.apiKeys.upsert({ key: "sk-new-key" });
    const hash = o.store.apiKeys.hashOf("sk-new-key");
    v.bus.publish({ topic: "keys.changed", ids: [hash] });
    await v.bus.settled();
    expect(v.apiKeys.match("sk-new-key")).toBe(hash);
    o.calls.length = 0;
    for (let i = 0; i < 50; i++) expect(v.apiKeys.match("sk-new-key")).toBe(hash);
    // hashOf is the keyed hash (no I/O); nothing else is asked.
    expect(o.calls.filter((c) => c !== "apiKeys.hashOf")).toEqual([]);
    await o.store.apiKeys.delete(hash);
    v.bus.publish({ topic: "keys.changed", ids: [hash], removed: [hash] });
    await v.bus.settled();
    expect(v.apiKeys.match("sk-new-key")).toBeUndefined();
    expect(v.errors).toEqual([]);
  });

  test("settings.changed and proxies.changed reload the settings copy before settled() resolves", async () => {
    const o = await open();
    const v = wire(o);
    await v.settings.load();
    await o.store.settings.set("runtime", { account_max_queue: 7 });
    v.bus.publish({ topic: "settings.changed", ids: ["runtime"] });
    await v.bus.settled();
    expect(v.settings.runtime()).toEqual({ account_max_queue: 7 });
    await o.store.settings.set("proxies", [{ id: "px9", name: "p", type: "http", host: "127.0.0.1", port: 8080 }]);
    v.bus.publish({ topic: "proxies.changed", ids: ["px9"] });
    await v.bus.settled();
    expect(v.settings.proxies().map((p) => p.id)).toEqual(["px9"]);
  });

  test("a quota set and published applies to the next admission", async () => {
    const o = await open();
    const v = wire(o);
    await v.keyUsage.init();
    expect(await v.keyUsage.admit("k1")).toBeUndefined();
    await o.store.keyUsage.setQuota("k1", { requestsPerMinute: 1 });
    v.bus.publish({ topic: "keys.changed", ids: ["k1"] });
    await v.bus.settled();
    expect(await v.keyUsage.admit("k1")).toBeUndefined();
    expect((await v.keyUsage.admit("k1"))?.message).toContain("1 requests per minute");
  });

  test("a failing reload goes to the bus's error handler; the previous view keeps serving", async () => {
    const o = await open();
    const v = wire(o);
    await o.store.apiKeys.upsert({ key: "sk-kept" });
    await v.apiKeys.reload();
    const hash = o.store.apiKeys.hashOf("sk-kept");
    // The store goes away under the views (closed here, so afterEach must not close it again).
    const mine = opened.pop()!;
    await mine.sync.close();
    try {
      v.bus.publish({ topic: "keys.changed" });
      await v.bus.settled();
      expect(v.errors.length).toBeGreaterThan(0);
      expect(v.apiKeys.match("sk-kept")).toBe(hash);
    } finally {
      rmSync(mine.dir, { recursive: true, force: true });
    }
  });
});

describe("KeyUsageTracker", () => {
  test("today's tally is read from the store once per key per day, then kept in memory as turns end", async () => {
    const o = await open();
    let now = Date.UTC(2026, 5, 1, 12, 0);
    const day = "2026-06-01";
    await o.sync.keyUsage.record("k1", 40, 60, now, day);
    await o.sync.keyUsage.setQuota("k1", { tokensPerDay: 1000 });
    const t = new KeyUsageTracker(o.store, () => now);
    await t.init();
    const seeds = () => o.calls.filter((c) => c === "keyUsage.tokensOn").length;
    expect(seeds()).toBe(1);
    expect(t.tokensToday("k1")).toBe(100);
    for (let i = 0; i < 20; i++) expect(await t.admit("k1")).toBeUndefined();
    t.turnEnded(keyTurn("k1", 300, 200));
    expect(t.tokensToday("k1")).toBe(600);
    expect(seeds()).toBe(1);
    t.turnEnded(keyTurn("k1", 250, 250));
    expect((await t.admit("k1"))?.message).toContain("daily token quota");
    expect(seeds()).toBe(1);
    // Both turns reached the store (fire-and-forget writes).
    await waitUntil(async () => (await o.sync.keyUsage.tokensOn("k1", day)) === 1100, "both turns in the store");
    // The next UTC day: one new seed, a fresh tally.
    now += 86_400_000;
    expect(await t.admit("k1")).toBeUndefined();
    expect(seeds()).toBe(2);
    expect(t.tokensToday("k1")).toBe(0);
  });

  test("concurrent first admissions of a key share one seed", async () => {
    const o = await open();
    await o.sync.keyUsage.setQuota("k2", { tokensPerDay: 10 });
    const t = new KeyUsageTracker(o.store);
    await t.reloadQuotas();
    await Promise.all(Array.from({ length: 10 }, () => t.admit("k2")));
    expect(o.calls.filter((c) => c === "keyUsage.tokensOn").length).toBe(1);
  });

  test("a key without a tally gets one seeded after its first turn is written (it counts that turn)", async () => {
    const o = await open();
    const t = new KeyUsageTracker(o.store);
    await t.init();
    t.turnEnded(keyTurn("k3", 5, 7));
    expect(await t.dailyTokens("k3")).toBe(12);
    t.turnEnded(keyTurn("k3", 1, 1));
    expect(t.tokensToday("k3")).toBe(14);
  });
});

describe("credential pools read an in-memory copy", () => {
  test("snapshot: a partial reload adds, updates and drops the named entries, keeping the store's order", async () => {
    const o = await open();
    const a = (await o.store.credentials.upsert("volcengine", { secret: "7400000000000000001" })).id;
    const b = (await o.store.credentials.upsert("volcengine", { secret: "7400000000000000002" })).id;
    const snap = new CredentialSnapshot(o.store.credentials, "volcengine");
    await snap.reload();
    expect(snap.list().map((e) => e.id)).toEqual([a, b]);
    const c = (await o.store.credentials.upsert("volcengine", { secret: "7400000000000000003" })).id;
    await o.store.credentials.remove("volcengine", a);
    await o.store.credentials.setEnabled("volcengine", b, false);
    await snap.reload([a, b, c]);
    expect(snap.list().map((e) => [e.id, e.enabled])).toEqual([
      [b, false],
      [c, true],
    ]);
  });

  test("Volcengine: acquiring and using entries makes no store read; uses and failures reach the store without being awaited", async () => {
    const o = await open();
    for (const secret of ["7400000000000000001", "7400000000000000002"]) await o.store.credentials.upsert("volcengine", { secret });
    const live = new LiveSettings(o.store);
    await live.load();
    const pool = new CredentialPool({
      store: o.store,
      stored: live,
      settings: () => ({ apiUrl: "", maxUsage: 3, dailyReset: false, bodyStyle: "console" }),
      limits: () => ({ maxInflightPerEntry: 2, maxQueue: 10, queueWaitMs: 100, cooldownMs: 60_000 }),
    });
    await pool.reload();
    o.calls.length = 0;
    const take = () => pool.acquire({ signal: new AbortController().signal, exclude: new Set(), noWait: true });
    for (let i = 0; i < 6; i++) {
      const lease = await take();
      lease.accepted();
      lease.succeed();
      lease.release();
    }
    expect(o.calls.filter((c) => !c.endsWith(".recordUse"))).toEqual([]);
    expect(o.calls.length).toBe(6);
    // Every entry is at its cap of 3: the copy knows it without a reload.
    expect(await take().catch((e) => e)).toMatchObject({ status: 503, code: "credentials_exhausted" });
    await waitUntil(async () => (await o.sync.credentials.list("volcengine")).every((e) => e.usageCount === 3), "the uses in the store");
    await o.store.credentials.resetUsage("volcengine");
    await pool.reload();
    const lease = await take();
    lease.fail("cooling", "slow down");
    lease.release();
    expect(pool.entry(lease.id)).toMatchObject({ state: "cooling", failures: 1, lastError: "slow down" });
    await waitUntil(async () => (await o.sync.credentials.get("volcengine", lease.id))?.state === "cooling", "the failure in the store");
    expect(await o.sync.credentials.get("volcengine", lease.id)).toMatchObject({ state: "cooling", failures: 1 });
  });

  test("OnDemand: a key's breaker opens and closes in the copy at once; the store follows", async () => {
    const o = await open();
    const id = (await o.store.credentials.upsert("ondemand", { secret: "od-key-0123456789" })).id;
    const pool = new KeyPool(o.store.credentials, () => ({ badKeyProbeMs: 60_000, cooldownMs: 60_000, queueWaitMs: 10 }));
    await pool.reload();
    o.calls.length = 0;
    const lease = await pool.acquire({ exclude: new Set(), noWait: true, signal: new AbortController().signal });
    lease.fail({ class: "account", code: "upstream_auth", penalty: "auth", message: "401" });
    lease.release();
    expect(pool.list()[0]).toMatchObject({ state: "bad", failures: 1 });
    expect(await pool.acquire({ exclude: new Set(), noWait: true, signal: new AbortController().signal }).catch((e) => e.constructor.name)).toBe("NoKeyLeftError");
    expect(o.calls.filter((c) => c.endsWith(".get") || c.endsWith(".list"))).toEqual([]);
    await waitUntil(async () => (await o.sync.credentials.get("ondemand", id))?.state === "bad", "the breaker in the store");
    expect(await o.sync.credentials.get("ondemand", id)).toMatchObject({ state: "bad", failures: 1 });
    pool.markOk(id);
    expect(pool.list()[0]).toMatchObject({ state: "ok", failures: 0 });
    await waitUntil(async () => (await o.sync.credentials.get("ondemand", id))?.state === "ok", "the reset in the store");
    expect(await o.sync.credentials.get("ondemand", id)).toMatchObject({ state: "ok", failures: 0 });
  });
});
