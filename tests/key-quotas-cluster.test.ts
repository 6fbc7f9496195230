/**
 * Per-key quotas across several instances: two KeyUsageTrackers, each over its own `openCluster` (its own Redis
 * connections, as two servers would have) and one shared sqlite store (the cluster's database), against a real
 * redis-server. Each test uses a fresh key prefix. No timing assertions: every wait is on a condition.
 */
import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { enforceQuota } from "../src/api/caller.ts";
import { HttpError } from "../src/api/http-error.ts";
import { openCluster, type RedisCluster } from "../src/cluster/open.ts";
import { DependencyHealthMonitor } from "../src/core/cluster/dependency-health.ts";
import { DependencyUnavailableError } from "../src/core/cluster/ports.ts";
import type { TurnObserver, TurnOutcomeInfo } from "../src/core/turn/turn-observer.ts";
import { createLogger } from "../src/observability/logger.ts";
import { keyUsageTracker, type KeyUsageTracker } from "../src/security/key-usage.ts";
import { openStore } from "../src/store/open-store.ts";
import { SecretBox } from "../src/store/secret-box.ts";
import type { Store } from "../src/store/store.ts";
import { trackStop } from "./support/processes.ts";
import { redisForSuite, redisForTests } from "./support/redis.ts";
import { tempDir } from "./support/test-server.ts";
import { waitUntil } from "./support/wait.ts";

const suite = redisForSuite("kq");
const box = new SecretBox(randomBytes(32));

const today = () => new Date().toISOString().slice(0, 10);

const keyTurn = (key: string, prompt: number, completion: number): Pick<TurnOutcomeInfo, "caller" | "usage"> => ({
  caller: { kind: "key", key, id: "caller:test" },
  usage: { promptTokens: prompt, reasoningTokens: 0, completionTokens: completion, totalTokens: prompt + completion },
});

interface Instance {
  cluster: RedisCluster;
  health: DependencyHealthMonitor;
  /** Made by the server's factory from an owner carrying `cluster`, as `keyUsageTracker(ctx)` is. */
  tracker: KeyUsageTracker;
  observers: TurnObserver[];
  /** The tracker's own warnings ("key usage: … failed"). */
  warnings: string[];
}

/** Two instances (a, b) over one store and one Redis under a fresh prefix; everything is closed by `close()`. */
async function twoInstances(o: { url?: string } = {}): Promise<{ prefix: string; store: Store; a: Instance; b: Instance; close(): Promise<void> }> {
  const prefix = suite.prefix();
  const dir = tempDir("ds2api-key-quotas-");
  const store = await openStore({ sqlitePath: join(dir, "db.sqlite") });
  const made: Instance[] = [];
  const close = trackStop(`key quota instances ${prefix}`, async () => {
    for (const i of made) {
      await i.cluster.close();
      i.health.close();
    }
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    for (const id of ["a", "b"]) {
      const health = new DependencyHealthMonitor(["redis"]);
      const warnings: string[] = [];
      const logger = createLogger("debug", (l) => {
        if (l.includes("key usage:")) warnings.push(l);
      });
      const cluster = await openCluster({
        redisUrl: o.url ?? suite.redis.url,
        prefix,
        instanceId: id,
        box,
        logger,
        leaseTtlMs: 30_000,
        responsesTtlMs: () => 60_000,
        health,
        startTimeoutMs: 10_000,
        heartbeatMs: 200,
      });
      const observers: TurnObserver[] = [];
      const tracker = keyUsageTracker({ store, observers, cluster, logger });
      made.push({ cluster, health, tracker, observers, warnings });
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { prefix, store, a: made[0]!, b: made[1]!, close };
}

describe("per-key quotas over Redis", () => {
  test("rpm 3 over two instances: 3 requests admitted in total, the 4th refused with a Retry-After", async () => {
    const { store, a, b, close } = await twoInstances();
    try {
      await store.keyUsage.setQuota("k-rpm", { requestsPerMinute: 3 });
      await Promise.all([a.tracker.init(), b.tracker.init()]);
      expect(a.observers).toEqual([a.tracker]); // registered by the factory, as keyUsageTracker(ctx) does
      // One after the other, alternating instances: each alone would admit 3 (6 in all).
      expect(await a.tracker.admit("k-rpm")).toBeUndefined();
      expect(await b.tracker.admit("k-rpm")).toBeUndefined();
      expect(await a.tracker.admit("k-rpm")).toBeUndefined();
      const fourth = await b.tracker.admit("k-rpm");
      expect(fourth?.message).toContain("3 requests per minute");
      expect(fourth!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(fourth!.retryAfterSeconds).toBeLessThanOrEqual(60);
      // Through the surfaces' gate: a 429 carrying Retry-After.
      const refused = await enforceQuota({ kind: "key", key: "k-rpm", id: "caller:x" }, a.tracker).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(HttpError);
      expect((refused as HttpError).status).toBe(429);
      const retryAfter = Number((refused as HttpError).headers?.["retry-after"]);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      // Other keys are not affected.
      await store.keyUsage.setQuota("k-other", { requestsPerMinute: 3 });
      await b.tracker.reloadQuotas();
      expect(await b.tracker.admit("k-other")).toBeUndefined();
    } finally {
      await close();
    }
  });

  test("rpm 3, 12 concurrent admissions spread over both instances: exactly 3 pass", async () => {
    const { store, a, b, close } = await twoInstances();
    try {
      await store.keyUsage.setQuota("k-race", { requestsPerMinute: 3 });
      await Promise.all([a.tracker.init(), b.tracker.init()]);
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).tracker.admit("k-race")));
      expect(results.filter((r) => r === undefined).length).toBe(3);
      expect(results.filter((r) => r !== undefined).every((r) => r!.retryAfterSeconds >= 1 && r!.retryAfterSeconds <= 60)).toBe(true);
    } finally {
      await close();
    }
  });

  test("a daily token cap reached through instance A refuses on instance B; the tally is seeded from the store and counts each turn once", async () => {
    const { prefix, store, a, b, close } = await twoInstances();
    try {
      const day = today();
      // Spent before this cluster's Redis knew the key (e.g. Redis was flushed): the seed brings it in.
      await store.keyUsage.record("k-day", 100, 200, Date.now(), day);
      await store.keyUsage.setQuota("k-day", { tokensPerDay: 1000 });
      await Promise.all([a.tracker.init(), b.tracker.init()]);
      expect(await b.tracker.dailyTokens("k-day")).toBe(300);
      expect(await b.tracker.admit("k-day")).toBeUndefined();
      a.tracker.turnEnded(keyTurn("k-day", 400, 350));
      await waitUntil(async () => (await b.tracker.admit("k-day")) !== undefined, "instance B to refuse the key");
      const refusal = await b.tracker.admit("k-day");
      expect(refusal?.message).toContain("daily token quota");
      expect(refusal!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(refusal!.retryAfterSeconds).toBeLessThanOrEqual(86_400);
      // A refuses too, and the store (durable counters) got the turn once.
      expect((await a.tracker.admit("k-day"))?.message).toContain("daily token quota");
      await waitUntil(async () => (await store.keyUsage.tokensOn("k-day", day)) === 1050, "the turn in the store");
      expect(Number(await suite.raw.send("GET", [`${prefix}tok:k-day:${day}`]))).toBe(1050);
      expect(await a.tracker.dailyTokens("k-day")).toBe(1050);
      // The admin view (sync) shows the cluster's value once refreshed.
      b.tracker.tokensToday("k-day");
      await waitUntil(() => b.tracker.tokensToday("k-day") === 1050, "B's displayed tally to follow the cluster");
      // Lifting the quota lets it through everywhere.
      await store.keyUsage.setQuota("k-day", {});
      await Promise.all([a.tracker.reloadQuotas(), b.tracker.reloadQuotas()]);
      expect(await b.tracker.admit("k-day")).toBeUndefined();
    } finally {
      await close();
    }
  });

  test("turns ending on both instances before any seed: Redis and the store agree on the day's total", async () => {
    const { prefix, store, a, b, close } = await twoInstances();
    try {
      const day = today();
      await store.keyUsage.record("k-sum", 150, 50, Date.now(), day);
      await Promise.all([a.tracker.init(), b.tracker.init()]);
      for (let i = 0; i < 5; i++) (i % 2 ? a : b).tracker.turnEnded(keyTurn("k-sum", 10, 5));
      await waitUntil(async () => (await store.keyUsage.tokensOn("k-sum", day)) === 275, "every turn in the store");
      await waitUntil(async () => Number(await suite.raw.send("GET", [`${prefix}tok:k-sum:${day}`])) === 275, "every turn in the Redis tally");
      expect(await a.tracker.dailyTokens("k-sum")).toBe(275);
      expect(await b.tracker.dailyTokens("k-sum")).toBe(275);
      expect([...a.warnings, ...b.warnings]).toEqual([]);
    } finally {
      await close();
    }
  });

  test("Redis down: a key with a quota gets DependencyUnavailableError (503), a key without one still passes, turns still reach the store", async () => {
    const own = await redisForTests();
    const { store, a, close } = await twoInstances({ url: own.url });
    try {
      const day = today();
      await store.keyUsage.setQuota("k-rpm", { requestsPerMinute: 5 });
      await store.keyUsage.setQuota("k-day", { tokensPerDay: 100 });
      await a.tracker.init();
      expect(await a.tracker.admit("k-rpm")).toBeUndefined();
      await own.kill();
      await waitUntil(() => !a.health.up("redis"), "redis marked down");
      for (const key of ["k-rpm", "k-day"]) {
        const e = await a.tracker.admit(key).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(DependencyUnavailableError);
        expect((e as DependencyUnavailableError).status).toBe(503);
        expect((e as DependencyUnavailableError).code).toBe("redis_unavailable");
      }
      await expect(enforceQuota({ kind: "key", key: "k-rpm", id: "caller:x" }, a.tracker)).rejects.toBeInstanceOf(DependencyUnavailableError);
      expect(await a.tracker.admit("k-free")).toBeUndefined();
      a.tracker.turnEnded(keyTurn("k-free", 3, 4));
      await waitUntil(async () => (await store.keyUsage.tokensOn("k-free", day)) === 7, "the turn in the store despite Redis");
      await waitUntil(() => a.warnings.length > 0, "the failed tally read to be logged");
    } finally {
      await close();
      await own.stop();
    }
  });
});
