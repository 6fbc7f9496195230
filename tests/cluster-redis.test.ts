/**
 * The Redis side of several instances (src/cluster/) against a real redis-server: each test opens independent
 * clusters (one `openCluster` per simulated instance, each with its own two connections) under a fresh key prefix.
 * No timing assertions: every wait is on a condition with a generous bound.
 */
import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { openCluster, type RedisCluster } from "../src/cluster/open.ts";
import { DependencyHealthMonitor } from "../src/core/cluster/dependency-health.ts";
import { DependencyUnavailableError, type LeaseLimits } from "../src/core/cluster/ports.ts";
import type { ChangeEvent } from "../src/core/changes/change-bus.ts";
import { createLogger } from "../src/observability/logger.ts";
import { SecretBox } from "../src/store/secret-box.ts";
import { trackStop } from "./support/processes.ts";
import { redisForSuite, redisForTests } from "./support/redis.ts";
import { waitUntil } from "./support/wait.ts";

const suite = redisForSuite("t");
const box = new SecretBox(randomBytes(32));

interface Instance {
  cluster: RedisCluster;
  health: DependencyHealthMonitor;
  logs: string[];
  close(): Promise<void>;
}

async function instance(
  id: string,
  prefix: string,
  o: { url?: string; leaseTtlMs?: number; responsesTtlMs?: () => number; startTimeoutMs?: number; stallTimeoutMs?: number } = {},
): Promise<Instance> {
  const health = new DependencyHealthMonitor(["redis"]);
  const logs: string[] = [];
  const cluster = await openCluster({
    redisUrl: o.url ?? suite.redis.url,
    prefix,
    instanceId: id,
    box,
    logger: createLogger("debug", (l) => {
      logs.push(l);
      if (process.env.DEBUG_CLUSTER) console.error(`[${id}] ${l}`);
    }),
    leaseTtlMs: o.leaseTtlMs ?? 30_000,
    responsesTtlMs: o.responsesTtlMs ?? (() => 60_000),
    health,
    startTimeoutMs: o.startTimeoutMs ?? 10_000,
    heartbeatMs: 100,
    stallTimeoutMs: o.stallTimeoutMs,
  });
  const close = trackStop(`cluster ${id}`, () => cluster.close());
  return { cluster, health, logs, close };
}

/** Three instances (a, b, c) under a fresh prefix; closed by `using`-style finally in each test. */
async function three(o: Parameters<typeof instance>[2] = {}): Promise<{ prefix: string; a: Instance; b: Instance; c: Instance; closeAll(): Promise<void> }> {
  const prefix = suite.prefix();
  const [a, b, c] = await Promise.all([instance("a", prefix, o), instance("b", prefix, o), instance("c", prefix, o)]);
  return { prefix, a: a!, b: b!, c: c!, closeAll: async () => void (await Promise.all([a!.close(), b!.close(), c!.close()])) };
}

const limits = (l: Partial<LeaseLimits> = {}): LeaseLimits => ({ maxInflight: 2, gapMs: 0, nextGapMs: 0, dailyCap: 0, globalMax: 0, ...l });

describe("leases", () => {
  test("3 instances racing 200 acquires on 2 accounts at limit 2 get exactly 2 leases per account", async () => {
    const { prefix, a, b, c, closeAll } = await three();
    try {
      const nodes = [a, b, c];
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => nodes[i % 3]!.cluster.leases.tryAcquire(i % 2 ? "acct-1" : "acct-2", limits())),
      );
      const granted = results.filter((r) => r.ok);
      expect(granted.length).toBe(4);
      expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.reason === "busy")).toBe(true);
      expect(await suite.raw.send("ZCARD", [`${prefix}lease:acct-1`])).toBe(2);
      expect(await suite.raw.send("ZCARD", [`${prefix}lease:acct-2`])).toBe(2);
    } finally {
      await closeAll();
    }
  });

  test("acquire/release churn from 3 instances never holds more than 2 leases on an account", async () => {
    const { prefix, a, b, c, closeAll } = await three();
    try {
      const held: Record<string, number> = { "acct-1": 0, "acct-2": 0 };
      let maxHeld = 0;
      let maxZcard = 0;
      let grants = 0;
      const worker = async (node: Instance, n: number) => {
        for (let i = 0; i < n; i++) {
          const account = (i + n) % 2 ? "acct-1" : "acct-2";
          const r = await node.cluster.leases.tryAcquire(account, limits());
          if (!r.ok) {
            await Bun.sleep(1);
            continue;
          }
          grants++;
          held[account]!++;
          maxHeld = Math.max(maxHeld, held[account]!);
          maxZcard = Math.max(maxZcard, Number(await suite.raw.send("ZCARD", [`${prefix}lease:${account}`])));
          await Bun.sleep(2);
          held[account]!--; // counted down before Redis frees it: our count can only be lower than the truth
          node.cluster.leases.release(account, r.leaseId);
        }
      };
      await Promise.all([a, b, c].flatMap((node) => [worker(node, 40), worker(node, 41)]));
      expect(grants).toBeGreaterThan(10);
      expect(maxHeld).toBeLessThanOrEqual(2);
      expect(maxZcard).toBeLessThanOrEqual(2);
    } finally {
      await closeAll();
    }
  });

  test("pacing, daily cap, global cap and cooldown refuse with a wait", async () => {
    const { a, b, c, closeAll } = await three();
    try {
      // Pacing: the gap drawn by the first start binds the next one, on any instance.
      const first = await a.cluster.leases.tryAcquire("paced", limits({ gapMs: 1000, nextGapMs: 60_000 }));
      expect(first.ok).toBe(true);
      if (first.ok) a.cluster.leases.release("paced", first.leaseId);
      const paced = await b.cluster.leases.tryAcquire("paced", limits({ gapMs: 1000, nextGapMs: 60_000 }));
      expect(paced.ok).toBe(false);
      if (!paced.ok) {
        expect(paced.reason).toBe("paced");
        expect(paced.waitMs).toBeGreaterThan(0);
        expect(paced.waitMs).toBeLessThanOrEqual(60_000);
      }

      // Daily cap: 2 starts per UTC day over the cluster.
      for (const node of [a, b]) {
        const r = await node.cluster.leases.tryAcquire("capped", limits({ dailyCap: 2 }));
        expect(r.ok).toBe(true);
        if (r.ok) node.cluster.leases.release("capped", r.leaseId);
      }
      const capped = await c.cluster.leases.tryAcquire("capped", limits({ dailyCap: 2 }));
      expect(capped.ok).toBe(false);
      if (!capped.ok) {
        expect(capped.reason).toBe("daily_cap");
        expect(capped.waitMs).toBeGreaterThan(0);
        expect(capped.waitMs).toBeLessThanOrEqual(86_400_000);
      }

      // Global bound: 2 streams at once over all accounts.
      const g1 = await a.cluster.leases.tryAcquire("g-1", limits({ maxInflight: 5, globalMax: 2 }));
      const g2 = await b.cluster.leases.tryAcquire("g-2", limits({ maxInflight: 5, globalMax: 2 }));
      const g3 = await c.cluster.leases.tryAcquire("g-3", limits({ maxInflight: 5, globalMax: 2 }));
      expect([g1.ok, g2.ok]).toEqual([true, true]);
      expect(g3).toEqual({ ok: false, reason: "global" });
      if (g1.ok) a.cluster.leases.release("g-1", g1.leaseId);
      await waitUntil(async () => (await c.cluster.leases.tryAcquire("g-3", limits({ maxInflight: 5, globalMax: 2 }))).ok, "a global slot after a release");

      // Cooldown set on one instance holds on the others until lifted.
      await a.cluster.leases.setCooldown("cool", Date.now() + 60_000);
      const cooling = await b.cluster.leases.tryAcquire("cool", limits());
      expect(cooling.ok).toBe(false);
      if (!cooling.ok) {
        expect(cooling.reason).toBe("cooling");
        expect(cooling.waitMs).toBeGreaterThan(0);
        expect(cooling.waitMs).toBeLessThanOrEqual(60_000);
      }
      await c.cluster.leases.setCooldown("cool");
      expect((await b.cluster.leases.tryAcquire("cool", limits())).ok).toBe(true);
    } finally {
      await closeAll();
    }
  });

  test("a lease nobody renews expires after its TTL; a renewed one outlives it; renew re-adds a lost lease", async () => {
    const prefix = suite.prefix();
    const a = await instance("a", prefix, { leaseTtlMs: 600 });
    const b = await instance("b", prefix, { leaseTtlMs: 600 });
    const dead = await instance("dead", prefix, { leaseTtlMs: 600 });
    try {
      // Renewed: still there after several TTLs, and it keeps the account busy.
      const kept = await a.cluster.leases.tryAcquire("long", limits({ maxInflight: 1 }));
      expect(kept.ok).toBe(true);
      await Bun.sleep(2000);
      expect(await suite.raw.send("ZSCORE", [`${prefix}lease:long`, kept.ok ? kept.leaseId : ""])).not.toBeNull();
      expect((await b.cluster.leases.tryAcquire("long", limits({ maxInflight: 1 }))).ok).toBe(false);

      // Lost (as by a Redis restart): the next renew puts it back.
      await suite.raw.send("DEL", [`${prefix}lease:long`]);
      await a.cluster.leases.renew();
      expect(await suite.raw.send("ZCARD", [`${prefix}lease:long`])).toBe(1);

      // Not renewed (the instance lost its connection, as if killed): the account frees itself.
      const orphan = await dead.cluster.leases.tryAcquire("orphan", limits({ maxInflight: 1 }));
      expect(orphan.ok).toBe(true);
      dead.cluster.connection.close();
      await waitUntil(async () => (await b.cluster.leases.tryAcquire("orphan", limits({ maxInflight: 1 }))).ok, "the orphaned lease to expire");
    } finally {
      await Promise.all([a.close(), b.close(), dead.close()]);
    }
  });

  test("a release anywhere tells every instance; close() releases this instance's leases", async () => {
    const { prefix, a, b, c, closeAll } = await three();
    try {
      const freedB: string[] = [];
      const freedC: string[] = [];
      b.cluster.leases.onFreed((acct) => freedB.push(acct));
      c.cluster.leases.onFreed((acct) => freedC.push(acct));
      const r = await a.cluster.leases.tryAcquire("shared", limits());
      expect(r.ok).toBe(true);
      if (r.ok) a.cluster.leases.release("shared", r.leaseId);
      await waitUntil(() => freedB.includes("shared") && freedC.includes("shared"), "freed on b and c");

      const held = await c.cluster.leases.tryAcquire("held-by-c", limits());
      expect(held.ok).toBe(true);
      expect(await suite.raw.send("ZCARD", [`${prefix}lease:held-by-c`])).toBe(1);
      await c.close();
      expect(await suite.raw.send("ZCARD", [`${prefix}lease:held-by-c`])).toBe(0);
      await waitUntil(() => freedB.includes("held-by-c"), "freed by close()");
    } finally {
      await closeAll();
    }
  });

  test("the heartbeat shows every instance's queue and the leases per account", async () => {
    const { a, b, c, closeAll } = await three();
    try {
      a.cluster.leases.reportLocal({ inflight: 1, waiting: 2 });
      b.cluster.leases.reportLocal({ inflight: 3, waiting: 0 });
      c.cluster.leases.reportLocal({ inflight: 0, waiting: 5 });
      const r = await b.cluster.leases.tryAcquire("cap-1", limits());
      expect(r.ok).toBe(true);
      await waitUntil(() => {
        const cap = a.cluster.leases.capacity();
        return cap?.instances === 3 && cap.inflight === 4 && cap.waiting === 7 && cap.perAccount["cap-1"] === 1;
      }, "a's view of the cluster");
      await c.close();
      await waitUntil(() => a.cluster.leases.capacity()?.instances === 2, "c gone from the instance list");
    } finally {
      await closeAll();
    }
  });

  test("scripts come back after SCRIPT FLUSH (NOSCRIPT → reload)", async () => {
    const { a, closeAll } = await three();
    try {
      expect((await a.cluster.leases.tryAcquire("flush", limits())).ok).toBe(true);
      await suite.raw.send("SCRIPT", ["FLUSH"]);
      expect((await a.cluster.leases.tryAcquire("flush", limits())).ok).toBe(true);
      expect((await a.cluster.quotas.admitRpm("flush-key", 10)).ok).toBe(true);
    } finally {
      await closeAll();
    }
  });
});

describe("tokens", () => {
  test("loginOnce among 3 instances logs in once; all get the token; Redis holds no clear token", async () => {
    const { prefix, a, b, c, closeAll } = await three();
    try {
      let logins = 0;
      const winners: Instance[] = [];
      const loginOn = (n: Instance) => async () => {
        logins++;
        winners.push(n);
        await Bun.sleep(300);
        return `secret-token-${logins}`;
      };
      const changed = new Map<Instance, string[]>([a, b, c].map((n) => [n, []]));
      for (const n of [a, b, c]) n.cluster.tokens.onChanged((acct) => changed.get(n)!.push(acct));
      const got = await Promise.all([a, b, c].map((n) => n.cluster.tokens.loginOnce("acc-1", loginOn(n), {})));
      expect(logins).toBe(1);
      expect(got).toEqual(["secret-token-1", "secret-token-1", "secret-token-1"]);
      expect((await c.cluster.tokens.get("acc-1"))?.token).toBe("secret-token-1");

      // Nothing in Redis (keys or values) holds the clear token.
      const keys = (await suite.raw.send("KEYS", [`${prefix}*`])) as string[];
      expect(keys).toContain(`${prefix}token:acc-1`);
      for (const k of keys) {
        const type = await suite.raw.send("TYPE", [k]);
        if (type === "string") expect(String(await suite.raw.get(k))).not.toContain("secret-token");
      }
      // The lock is gone once the login is done.
      expect(await suite.raw.exists(`${prefix}login:acc-1`)).toBe(false);

      // A stale token: relogin once; an instance that still holds the old one gets the new one without logging in.
      const again = await Promise.all([a, b, c].map((n) => n.cluster.tokens.loginOnce("acc-1", loginOn(n), { stale: "secret-token-1" })));
      expect(logins).toBe(2);
      expect(again).toEqual(["secret-token-2", "secret-token-2", "secret-token-2"]);
      expect(await a.cluster.tokens.loginOnce("acc-1", loginOn(a), { stale: "secret-token-1" })).toBe("secret-token-2");
      expect(logins).toBe(2);

      // A login that fails: the error reaches the caller, the lock is dropped, the next one logs in.
      await expect(b.cluster.tokens.loginOnce("acc-2", async () => Promise.reject(new Error("bad password")), {})).rejects.toThrow("bad password");
      expect(await suite.raw.exists(`${prefix}login:acc-2`)).toBe(false);
      expect(await c.cluster.tokens.loginOnce("acc-2", async () => "secret-token-x", {})).toBe("secret-token-x");

      // Every instance but the one that stored it is told (its own news is not echoed back).
      const last = winners.at(-1)!;
      await waitUntil(() => [a, b, c].filter((n) => n !== last).every((n) => changed.get(n)!.includes("acc-1")), "the others told of acc-1's new token");
      await waitUntil(() => changed.get(a)!.includes("acc-2") && changed.get(b)!.includes("acc-2"), "a and b told of acc-2's token (stored by c)");
      expect(changed.get(c)!).not.toContain("acc-2");
      for (const n of [a, b, c]) expect(n.logs.join("\n")).not.toContain("secret-token");
    } finally {
      await closeAll();
    }
  });
});

describe("quotas and responses", () => {
  test("RPM is exact across instances; tokens/day seeds once and adds up", async () => {
    const { a, b, c, closeAll } = await three();
    try {
      const nodes = [a, b, c];
      const admits = await Promise.all(Array.from({ length: 12 }, (_, i) => nodes[i % 3]!.cluster.quotas.admitRpm("key-1", 5)));
      expect(admits.filter((r) => r.ok).length).toBe(5);
      for (const r of admits.filter((x) => !x.ok)) {
        if (r.ok) continue;
        expect(r.retryAfterSeconds).toBeGreaterThanOrEqual(1);
        expect(r.retryAfterSeconds).toBeLessThanOrEqual(60);
      }
      expect((await a.cluster.quotas.admitRpm("key-2", 5)).ok).toBe(true); // per key

      let seeds = 0;
      const seed = async () => {
        seeds++;
        return 100;
      };
      expect(await a.cluster.quotas.tokensToday("key-1", "2026-12-05", seed)).toBe(100);
      expect(await b.cluster.quotas.tokensToday("key-1", "2026-12-05", seed)).toBe(100);
      expect(seeds).toBe(1);
      await c.cluster.quotas.addTokens("key-1", "2026-12-05", 50);
      await a.cluster.quotas.addTokens("key-1", "2026-12-05", 7);
      expect(await b.cluster.quotas.tokensToday("key-1", "2026-12-05", seed)).toBe(157);
      expect(await a.cluster.quotas.tokensToday("key-1", "2026-12-06", seed)).toBe(100); // another day, its own seed
      expect(seeds).toBe(2);
    } finally {
      await closeAll();
    }
  });

  test("a response stored on one instance is read on another, by its caller only, until its TTL", async () => {
    let ttl = 60_000;
    const { a, b, closeAll } = await three({ responsesTtlMs: () => ttl });
    try {
      const response = { id: "resp_1", output: [{ type: "message", content: [{ type: "output_text", text: "hi" }] }] };
      const conversation = [{ role: "user", content: "hello" }];
      await a.cluster.responses.put("resp_1", "caller-1", response, conversation);
      expect(await b.cluster.responses.get("resp_1", "caller-1")).toEqual({ response, conversation });
      expect(await b.cluster.responses.get("resp_1", "caller-2")).toBeUndefined();
      expect(await b.cluster.responses.get("resp_unknown", "caller-1")).toBeUndefined();

      ttl = 200;
      await a.cluster.responses.put("resp_2", "caller-1", response, conversation);
      expect(await b.cluster.responses.get("resp_2", "caller-1")).toBeDefined();
      await waitUntil(async () => (await b.cluster.responses.get("resp_2", "caller-1")) === undefined, "resp_2 to expire");
    } finally {
      await closeAll();
    }
  });
});

describe("change bus", () => {
  test("a publish reaches the local listeners at once and the other instances once; own messages are not redelivered", async () => {
    const { a, b, closeAll } = await three();
    try {
      const onA: (readonly ChangeEvent[])[] = [];
      const onB: (readonly ChangeEvent[])[] = [];
      let reloaded = false;
      a.cluster.bus.subscribe(["accounts.changed", "keys.changed"], (events) => void onA.push(events));
      b.cluster.bus.subscribe(["accounts.changed"], async (events) => {
        onB.push(events);
        await Bun.sleep(50);
        reloaded = true;
      });
      a.cluster.bus.publish({ topic: "accounts.changed", ids: ["acc-1"] }, { topic: "settings.changed", ids: ["x"] });
      expect(onA).toEqual([[{ topic: "accounts.changed", ids: ["acc-1"] }]]); // synchronous, like the in-process bus
      await waitUntil(() => onB.length === 1, "b gets a's event");
      expect(onB[0]).toEqual([{ topic: "accounts.changed", ids: ["acc-1"] }]);
      await b.cluster.bus.settled();
      expect(reloaded).toBe(true);

      // b publishes after a's message: once a sees b's, its own earlier message has passed through its subscriber too.
      b.cluster.bus.publish({ topic: "keys.changed", ids: ["h1"], removed: ["h1"] });
      await waitUntil(() => onA.length === 2, "a gets b's event");
      expect(onA[1]).toEqual([{ topic: "keys.changed", ids: ["h1"], removed: ["h1"] }]);
      expect(onB.length).toBe(1); // b's own keys event is not for its listener's topics, and a's was delivered once
    } finally {
      await closeAll();
    }
  });
});

describe("outage", () => {
  test("opening against no server waits up to the start timeout, then fails with a clear error and no password", async () => {
    const gone = await redisForTests();
    const port = gone.port;
    await gone.stop();
    const health = new DependencyHealthMonitor(["redis"]);
    const err = await openCluster({
      redisUrl: `redis://:hunter2@127.0.0.1:${port}`,
      prefix: "none:",
      instanceId: "x",
      box,
      logger: createLogger("error", () => {}),
      leaseTtlMs: 3000,
      responsesTtlMs: () => 1000,
      health,
      startTimeoutMs: 300,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    expect(String((err as Error).message)).toContain("Redis unreachable");
    expect(String((err as Error).message)).not.toContain("hunter2");
    expect(health.up("redis")).toBe(false);
  });

  test("only one instance's link drops: what it could not publish is re-announced (reread) once it is back", async () => {
    const { a, b, closeAll } = await three();
    try {
      const onB: (readonly ChangeEvent[])[] = [];
      b.cluster.bus.subscribe(["keys.changed", "settings.changed"], (e) => void onB.push(e));
      const id = await a.cluster.connection.cmd.send("CLIENT", ["ID"]);
      await suite.raw.send("CLIENT", ["KILL", "ID", String(id)]);
      await waitUntil(() => !a.cluster.connection.connected, "a's command link down");
      a.cluster.bus.publish({ topic: "keys.changed", ids: ["lost"] }, { topic: "settings.changed", ids: ["lost-too"] });
      await a.cluster.bus.settled();
      await waitUntil(
        () => onB.some((evs) => evs.length === 2 && evs.every((e) => e.ids === undefined) && evs.map((e) => e.topic).sort().join() === "keys.changed,settings.changed"),
        "b told to reread keys and settings",
      );
      expect(onB.some((evs) => evs.some((e) => e.ids?.includes("lost")))).toBe(false); // the event itself was lost
    } finally {
      await closeAll();
    }
  });

  test("a URL that is not a Redis URL fails at once with a clear configuration error", async () => {
    const err = await openCluster({
      redisUrl: "http://user:hunter2@example.invalid:6379",
      prefix: "bad:",
      instanceId: "x",
      box,
      logger: createLogger("error", () => {}),
      leaseTtlMs: 3000,
      responsesTtlMs: () => 1000,
      health: new DependencyHealthMonitor(["redis"]),
      startTimeoutMs: 60_000,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(DependencyUnavailableError);
    expect(String((err as Error).message)).toContain("DS2API_REDIS_URL");
    expect(String((err as Error).message)).not.toContain("hunter2");
  });

  test("Redis killed: calls fail at once with DependencyUnavailableError, health down; restarted: reconnect, resubscribe, reread all", async () => {
    const own = await redisForTests(); // a server of its own: the rest of the file keeps theirs
    const prefix = "outage:";
    const a = await instance("a", prefix, { url: own.url, leaseTtlMs: 3000 });
    const b = await instance("b", prefix, { url: own.url, leaseTtlMs: 3000 });
    try {
      const onA: (readonly ChangeEvent[])[] = [];
      const onB: (readonly ChangeEvent[])[] = [];
      a.cluster.bus.subscribe(["accounts.changed", "keys.changed", "settings.changed", "proxies.changed", "credentials.changed"], (e) => void onA.push(e));
      b.cluster.bus.subscribe(["accounts.changed", "keys.changed", "settings.changed", "proxies.changed", "credentials.changed"], (e) => void onB.push(e));
      const freedOnB: string[] = [];
      b.cluster.leases.onFreed((acct) => freedOnB.push(acct));
      const lease = await a.cluster.leases.tryAcquire("during", limits());
      expect(lease.ok).toBe(true);

      await own.kill();
      await waitUntil(() => !a.health.up("redis") && !b.health.up("redis"), "health down on both");
      await expect(a.cluster.leases.tryAcquire("acc", limits())).rejects.toBeInstanceOf(DependencyUnavailableError);
      await expect(a.cluster.tokens.get("acc")).rejects.toBeInstanceOf(DependencyUnavailableError);
      await expect(a.cluster.tokens.loginOnce("acc", async () => "t", {})).rejects.toBeInstanceOf(DependencyUnavailableError);
      await expect(a.cluster.quotas.admitRpm("k", 5)).rejects.toBeInstanceOf(DependencyUnavailableError);
      await expect(a.cluster.responses.get("r", "c")).rejects.toBeInstanceOf(DependencyUnavailableError);
      await expect(a.cluster.leases.setCooldown("acc", Date.now() + 1000)).rejects.toBeInstanceOf(DependencyUnavailableError);
      const down = await a.cluster.leases.tryAcquire("acc", limits()).catch((e: unknown) => e);
      expect((down as DependencyUnavailableError).code).toBe("redis_unavailable");
      expect((down as DependencyUnavailableError).status).toBe(503);
      // A write's change is still applied here; the failed remote publish is reported, not thrown.
      const before = a.logs.length;
      expect(() => a.cluster.bus.publish({ topic: "accounts.changed", ids: ["local"] })).not.toThrow();
      expect(onA.at(-1)).toEqual([{ topic: "accounts.changed", ids: ["local"] }]);
      await a.cluster.bus.settled();
      expect(a.logs.slice(before).join("\n")).toContain("could not be applied or shared");
      expect(() => a.cluster.leases.release("during", lease.ok ? lease.leaseId : "")).not.toThrow();

      const bBefore = onB.length;
      await own.restart();
      await waitUntil(() => a.health.up("redis") && b.health.up("redis"), "health up again on both");
      // b's subscriber came back: every topic is delivered without ids (reread all).
      await waitUntil(() => onB.slice(bBefore).some((evs) => evs.length === 5 && evs.every((e) => e.ids === undefined)), "b's reread-all delivery");
      // …and it listens again: a publish after the restart reaches b.
      await waitUntil(async () => {
        a.cluster.bus.publish({ topic: "keys.changed", ids: ["after-restart"] });
        await a.cluster.bus.settled();
        await Bun.sleep(50);
        return onB.some((evs) => evs.some((e) => e.ids?.includes("after-restart")));
      }, "a publish after the restart reaches b");
      // Once each (a resubscribe on top of the old registration would deliver twice): a's next publish is the fence.
      a.cluster.bus.publish({ topic: "proxies.changed", ids: ["once"] });
      a.cluster.bus.publish({ topic: "proxies.changed", ids: ["fence"] });
      await waitUntil(() => onB.some((evs) => evs.some((e) => e.ids?.includes("fence"))), "the fence reaches b");
      expect(onB.filter((evs) => evs.some((e) => e.ids?.includes("once"))).length).toBe(1);
      // Leases and freed work again.
      const again = await a.cluster.leases.tryAcquire("after", limits());
      expect(again.ok).toBe(true);
      if (again.ok) a.cluster.leases.release("after", again.leaseId);
      await waitUntil(() => freedOnB.includes("after"), "freed after the restart");
    } finally {
      await Promise.all([a.close(), b.close()]);
      await own.stop();
    }
  });

  test("a Redis that stops answering fails the pending calls instead of hanging them; it recovers when it answers again", async () => {
    const own = await redisForTests();
    const a = await instance("a", "stall:", { url: own.url, stallTimeoutMs: 500 });
    const b = await instance("b", "stall:", { url: own.url, stallTimeoutMs: 500 });
    try {
      const onB: (readonly ChangeEvent[])[] = [];
      b.cluster.bus.subscribe(["accounts.changed"], (e) => void onB.push(e));
      own.pause();
      await expect(a.cluster.leases.tryAcquire("acc", limits())).rejects.toBeInstanceOf(DependencyUnavailableError);
      await waitUntil(() => !a.health.up("redis"), "health down while it hangs");
      own.resume();
      await waitUntil(async () => (await a.cluster.leases.tryAcquire("acc", limits()).then((r) => r.ok).catch(() => false)), "acquire works again");
      expect(a.health.up("redis")).toBe(true);
      await waitUntil(async () => {
        a.cluster.bus.publish({ topic: "accounts.changed", ids: ["after-stall"] });
        await a.cluster.bus.settled();
        await Bun.sleep(50);
        return onB.some((evs) => evs.some((e) => e.ids?.includes("after-stall")));
      }, "the bus works after the stall");
    } finally {
      own.resume();
      await Promise.all([a.close(), b.close()]);
      await own.stop();
    }
  });
});
