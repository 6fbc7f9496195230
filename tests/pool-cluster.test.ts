/**
 * The account pool and the token manager over the cluster ports, against a real redis-server: each simulated
 * instance is an `openCluster` client (its own connections, same key prefix) with its own AccountView, TokenManager
 * and AccountPool over one shared sqlite store. No timing assertions: every wait is on a condition.
 */
import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { openCluster, type RedisCluster } from "../src/cluster/open.ts";
import { DependencyHealthMonitor } from "../src/core/cluster/dependency-health.ts";
import { DependencyUnavailableError } from "../src/core/cluster/ports.ts";
import { createLogger } from "../src/observability/logger.ts";
import { AccountPool, type Lease } from "../src/pool/account-pool.ts";
import { AccountView } from "../src/pool/account-view.ts";
import { AccountsCoolingError, AccountUnavailableError } from "../src/pool/pool-errors.ts";
import { effectivePoolSettings, type PoolSettings } from "../src/pool/pool-settings.ts";
import { TokenManager, type LoginFn } from "../src/pool/token-manager.ts";
import { openStore } from "../src/store/open-store.ts";
import type { StoreApi } from "../src/store/store-api.ts";
import { SecretBox } from "../src/store/secret-box.ts";
import { resolveOptions } from "../src/config/options.ts";
import { LiveSettings } from "../src/config/live-settings.ts";
import type { ClusterLeases, ClusterTokens } from "../src/core/cluster/ports.ts";
import { ReferencePowSolver } from "../src/sim/index.ts";
import { DeepSeekProvider } from "../src/upstream/deepseek/provider.ts";
import { startSim } from "./support/sim.ts";
import { trackStop } from "./support/processes.ts";
import { redisForSuite } from "./support/redis.ts";
import { tempDir } from "./support/test-server.ts";
import { waitUntil } from "./support/wait.ts";

const suite = redisForSuite("pc");
const box = new SecretBox(randomBytes(32));

interface Node {
  cluster: RedisCluster;
  view: AccountView;
  tokens: TokenManager;
  pool: AccountPool;
  logs: string[];
}

interface Fleet {
  prefix: string;
  store: StoreApi;
  nodes: Node[];
  settings: PoolSettings;
  close(): Promise<void>;
}

interface FleetOptions {
  instances?: number;
  accounts?: number;
  over?: Partial<PoolSettings>;
  leaseTtlMs?: number;
  login?: LoginFn;
  busyRetryMs?: number;
}

/** `instances` pools over `accounts` accounts in one store, each with its own cluster client under a fresh prefix. */
async function fleet(o: FleetOptions = {}): Promise<Fleet> {
  const prefix = suite.prefix();
  const accounts = o.accounts ?? 3;
  const store = await openStore({ sqlitePath: join(tempDir("ds2api-pool-cluster-"), "db.sqlite") });
  for (let i = 0; i < accounts; i++) await store.accounts.upsert({ identifier: `a${i}@x.io`, email: `a${i}@x.io`, password: "pw" });
  const settings: PoolSettings = { ...effectivePoolSettings({ env: {}, runtime: {}, accountCount: accounts }), maxInflightPerAccount: 2, maxQueue: 500, queueWaitMs: 60_000, ...o.over };
  const nodes: Node[] = [];
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const n of nodes) {
      n.pool.close();
      n.tokens.close();
    }
    await Promise.all(closers.map((c) => c()));
    await store.close();
  };
  try {
    for (let i = 0; i < (o.instances ?? 3); i++) {
      const id = String.fromCharCode(97 + i);
      const logs: string[] = [];
      const cluster = await openCluster({
        redisUrl: suite.redis.url,
        prefix,
        instanceId: id,
        box,
        logger: createLogger("warn", (l) => logs.push(l)),
        leaseTtlMs: o.leaseTtlMs ?? 30_000,
        responsesTtlMs: () => 60_000,
        health: new DependencyHealthMonitor(["redis"]),
        startTimeoutMs: 10_000,
        heartbeatMs: 100,
      });
      closers.push(trackStop(`pool-cluster ${prefix}${id}`, () => cluster.close()));
      const view = new AccountView(store);
      const tokens = new TokenManager(view, o.login ?? (async (a) => `tok-${a.identifier}`), () => 3600_000, Date.now, cluster.tokens);
      const pool = new AccountPool(view, tokens, () => settings, Date.now, Math.random, { leases: cluster.leases, busyRetryMs: o.busyRetryMs });
      await pool.reload();
      nodes.push({ cluster, view, tokens, pool, logs });
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { prefix, store, nodes, settings, close };
}

/** Counts live leases per account across every pool, and the most ever seen at once (here and in Redis). */
function liveCounter(prefix: string) {
  const live = new Map<string, number>();
  let maxLive = 0;
  let maxZcard = 0;
  return {
    async granted(l: Lease): Promise<void> {
      const n = (live.get(l.identifier) ?? 0) + 1;
      live.set(l.identifier, n);
      maxLive = Math.max(maxLive, n);
      maxZcard = Math.max(maxZcard, Number(await suite.raw.send("ZCARD", [`${prefix}lease:${l.identifier}`])));
    },
    /** Counted down before the release reaches Redis: this count can only be lower than the truth. */
    release(l: Lease): void {
      live.set(l.identifier, (live.get(l.identifier) ?? 1) - 1);
      l.release();
    },
    get maxLive() {
      return maxLive;
    },
    get maxZcard() {
      return maxZcard;
    },
  };
}

describe("account pool over cluster leases", () => {
  test("200 concurrent acquires over 3 pools at limit 2 on 3 accounts: never more than 2 live per account, all served", async () => {
    const f = await fleet();
    try {
      const counter = liveCounter(f.prefix);
      const perAccount = new Map<string, number>();
      let served = 0;
      await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const lease = await f.nodes[i % 3]!.pool.acquire();
          await counter.granted(lease);
          perAccount.set(lease.identifier, (perAccount.get(lease.identifier) ?? 0) + 1);
          await Bun.sleep(1 + (i % 4));
          served++;
          counter.release(lease);
        }),
      );
      expect(served).toBe(200);
      expect(counter.maxLive).toBeLessThanOrEqual(2);
      expect(counter.maxZcard).toBeLessThanOrEqual(2);
      // The load went to every account, not one.
      expect([...perAccount.keys()].sort()).toEqual(["a0@x.io", "a1@x.io", "a2@x.io"]);
      for (const n of f.nodes) {
        expect(n.pool.status().inUse).toBe(0);
        expect(n.pool.status().waiting).toBe(0);
      }
      await waitUntil(async () => Number(await suite.raw.send("ZCARD", [`${f.prefix}lease:a0@x.io`])) === 0, "the last releases to reach Redis");
    } finally {
      await f.close();
    }
  }, 60_000);

  test("each pool serves its own queue in FIFO order while the capacity is held elsewhere", async () => {
    const f = await fleet();
    try {
      const [a, b, c] = f.nodes as [Node, Node, Node];
      const counter = liveCounter(f.prefix);
      // Pool a holds the whole capacity (3 accounts × 2).
      const held = await Promise.all(Array.from({ length: 6 }, () => a.pool.acquire()));
      for (const l of held) await counter.granted(l);
      const orders = new Map<Node, number[]>([
        [a, []],
        [b, []],
        [c, []],
      ]);
      const served: Promise<void>[] = [];
      for (const n of [a, b, c]) {
        for (let k = 0; k < 8; k++) {
          served.push(
            n.pool.acquire().then(async (lease) => {
              orders.get(n)!.push(k);
              await counter.granted(lease);
              await Bun.sleep(2);
              counter.release(lease);
            }),
          );
          await waitUntil(() => n.pool.status().waiting === k + 1, `waiter ${k} to queue`);
        }
      }
      for (const l of held) counter.release(l);
      await Promise.all(served);
      for (const n of [a, b, c]) expect(orders.get(n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(counter.maxLive).toBeLessThanOrEqual(2);
      expect(counter.maxZcard).toBeLessThanOrEqual(2);
    } finally {
      await f.close();
    }
  }, 60_000);

  test("a waiter in pool a is woken by a release in pool b (the freed event, not a timer)", async () => {
    // A busy refusal would be retried only after 10 minutes: only the freed event can serve the waiter in time.
    const f = await fleet({ instances: 2, accounts: 1, over: { maxInflightPerAccount: 1 }, busyRetryMs: 600_000 });
    try {
      const [a, b] = f.nodes as [Node, Node];
      const held = await b.pool.acquire();
      let served: Lease | undefined;
      const waiting = a.pool.acquire().then((l) => (served = l));
      await waitUntil(() => a.pool.status().waiting === 1, "pool a's request to queue");
      expect(served).toBeUndefined();
      held.release();
      await waiting;
      expect(served!.identifier).toBe("a0@x.io");
      expect(a.pool.status().inUse).toBe(1);
      served!.release();
    } finally {
      await f.close();
    }
  });

  test("a lease whose instance stops renewing comes back after the TTL", async () => {
    const f = await fleet({ instances: 2, accounts: 1, over: { maxInflightPerAccount: 1 }, leaseTtlMs: 1500 });
    try {
      const [a, c] = f.nodes as [Node, Node];
      const lost = await c.pool.acquire();
      expect(lost.identifier).toBe("a0@x.io");
      // Instance c goes silent (as a kill -9): no renewal, no release ever reaches Redis.
      c.cluster.connection.close();
      const lease = await a.pool.acquire();
      expect(lease.identifier).toBe("a0@x.io");
      expect(c.pool.status().inUse).toBe(1); // c never released it
      lease.release();
    } finally {
      await f.close();
    }
  });

  test("a cool-down set on one instance is honoured by the others", async () => {
    const f = await fleet({ instances: 2, accounts: 2 });
    try {
      const [a, b] = f.nodes as [Node, Node];
      await a.pool.markFailing("a0@x.io", "upstream", "empty output");
      await waitUntil(async () => (await suite.raw.send("HGET", [`${f.prefix}acct:a0@x.io`, "cooldownUntil"])) !== null, "the cool-down to reach Redis");
      // Pool b's view has not re-read the store (no change bus here): the cluster refuses the account for it.
      expect(b.view.get("a0@x.io")!.status).toBe("ok");
      const err = await b.pool.acquire({ pinned: "a0@x.io" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AccountUnavailableError);
      const other = await b.pool.acquire();
      expect(other.identifier).toBe("a1@x.io");
      other.release();
      // Healthy again: the cool-down is lifted cluster-wide.
      await a.pool.markHealthy("a0@x.io");
      await waitUntil(async () => (await suite.raw.send("HGET", [`${f.prefix}acct:a0@x.io`, "cooldownUntil"])) === null, "the cool-down to be lifted in Redis");
    } finally {
      await f.close();
    }
  });

  test("the daily cap and the pacing gap count starts on every instance", async () => {
    const f = await fleet({ instances: 2, accounts: 1, over: { maxInflightPerAccount: 5, dailyCap: 3, minIntervalMs: 150, minIntervalJitter: 0 } });
    try {
      const [a, b] = f.nodes as [Node, Node];
      const starts: number[] = [];
      for (const n of [a, b, a]) {
        const l = await n.pool.acquire();
        starts.push(Number(await suite.raw.send("HGET", [`${f.prefix}acct:a0@x.io`, "lastStart"])));
        l.release();
      }
      // Redis's own clock: each start waited out the gap the previous one (on the other instance) left.
      for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(150);
      // b started once itself, but the account is at its cap for the day: a capacity limit, not waited for.
      const err = await b.pool.acquire().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AccountsCoolingError);
      expect((err as AccountsCoolingError).rateLimited).toBe(true);
      expect(b.pool.status().inUse).toBe(0);
    } finally {
      await f.close();
    }
  });

  test("Redis unreachable: acquire fails with DependencyUnavailableError and the local reservation is undone", async () => {
    const f = await fleet({ instances: 1, accounts: 2 });
    try {
      const [a] = f.nodes as [Node];
      a.cluster.connection.close();
      const err = await a.pool.acquire().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DependencyUnavailableError);
      expect(a.pool.status().inUse).toBe(0);
      expect(a.pool.status().waiting).toBe(0);
    } finally {
      await f.close();
    }
  });
});

describe("token manager over cluster tokens", () => {
  test("3 instances logging in one account at once run the login once; a re-login is shared and announced", async () => {
    let logins = 0;
    const f = await fleet({
      accounts: 1,
      login: async (acct) => {
        logins++;
        await Bun.sleep(150); // the others arrive while it runs
        return `tok-${acct.identifier}-${logins}`;
      },
    });
    try {
      const toks = await Promise.all(f.nodes.map((n) => n.tokens.token("a0@x.io")));
      expect(logins).toBe(1);
      expect(new Set(toks)).toEqual(new Set(["tok-a0@x.io-1"]));
      // DeepSeek rejected the token on instance a: one new login for the cluster, and b and c hear of it.
      const [a, b, c] = f.nodes as [Node, Node, Node];
      const fresh = await Promise.all([a.tokens.relogin("a0@x.io", toks[0]!), b.tokens.relogin("a0@x.io", toks[0]!)]);
      expect(logins).toBe(2);
      expect(fresh).toEqual(["tok-a0@x.io-2", "tok-a0@x.io-2"]);
      await waitUntil(async () => (await c.tokens.token("a0@x.io")) === "tok-a0@x.io-2", "c to drop its old token on the announcement");
      expect(logins).toBe(2);
      expect(a.tokens.loginCount + b.tokens.loginCount + c.tokens.loginCount).toBe(2);
    } finally {
      await f.close();
    }
  });

  test("a token another instance stored is used instead of logging in", async () => {
    let logins = 0;
    const f = await fleet({ instances: 2, accounts: 1, login: async () => `tok-${++logins}` });
    try {
      const [a, b] = f.nodes as [Node, Node];
      expect(await a.tokens.token("a0@x.io")).toBe("tok-1");
      expect(await b.tokens.token("a0@x.io")).toBe("tok-1");
      expect(logins).toBe(1);
    } finally {
      await f.close();
    }
  });

  test("Redis unreachable: the token read throws DependencyUnavailableError, no login runs", async () => {
    let logins = 0;
    const f = await fleet({ instances: 1, accounts: 1, login: async () => `tok-${++logins}` });
    try {
      const [a] = f.nodes as [Node];
      a.cluster.connection.close();
      const err = await a.tokens.token("a0@x.io").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DependencyUnavailableError);
      expect(logins).toBe(0);
    } finally {
      await f.close();
    }
  });
});

describe("the DeepSeek provider over the cluster (simulator upstream)", () => {
  /** One instance's provider over the shared store, with the cluster parts given. */
  async function provider(store: StoreApi, simUrl: string, dir: string, cluster: { leases?: ClusterLeases; tokens?: ClusterTokens }): Promise<DeepSeekProvider> {
    const options = resolveOptions(["--port", "0", "--host", "127.0.0.1"], {
      DS2API_ADMIN_KEY: "cluster-admin",
      DS2API_DB_PATH: join(dir, "db.sqlite"),
      DS2API_CONFIG_PATH: join(dir, "config.json"),
      DS2API_DEEPSEEK_BASE_URL: simUrl,
    });
    const settings = new LiveSettings(store);
    await settings.load();
    const p = new DeepSeekProvider({
      options,
      store,
      settings,
      logger: createLogger("warn", () => {}),
      cluster,
      pow: new ReferencePowSolver(),
      clientOptions: { retry: { attempts: 1, completionDelayMs: 5, delayMs: 5 } },
    });
    await p.init();
    return p;
  }

  /** Runs one turn to its end; returns the text or the error it ended with. */
  async function turn(p: DeepSeekProvider): Promise<{ text: string } | { error: unknown }> {
    let text = "";
    try {
      for await (const ev of p.run({ model: p.models()[0]!, prompt: "hello", thinking: false, passthrough: {}, callerId: "t" }, new AbortController().signal)) {
        if (ev.type === "text") text += ev.text;
      }
      return { text };
    } catch (e) {
      return { error: e };
    }
  }

  test("two instances log the account in once; Redis failing on the token read is a 503 that leaves the account healthy", async () => {
    const sim = await startSim({ powDifficulty: 500, accounts: [{ email: "user0@example.com", password: "pw-0" }] });
    const f = await fleet({ instances: 3, accounts: 0 });
    const providers: DeepSeekProvider[] = [];
    try {
      await f.store.accounts.upsert({ identifier: "user0@example.com", email: "user0@example.com", password: "pw-0" });
      const dir = tempDir("ds2api-pool-cluster-engine-");
      const [a, b, c] = f.nodes as [Node, Node, Node];
      const pa = await provider(f.store, sim.url, dir, { leases: a.cluster.leases, tokens: a.cluster.tokens });
      providers.push(pa);
      const first = await turn(pa);
      expect(first).toHaveProperty("text");
      expect(sim.state.counters.logins).toBe(1);
      // Instance b has no token in its memory: it takes the one a stored in Redis instead of logging in.
      const pb = await provider(f.store, sim.url, dir, { leases: b.cluster.leases, tokens: b.cluster.tokens });
      providers.push(pb);
      expect(await turn(pb)).toHaveProperty("text");
      expect(sim.state.counters.logins).toBe(1);
      // An instance whose Redis fails on the token read (its lease came through): 503, the account is not blamed.
      c.cluster.connection.close();
      const pc = await provider(f.store, sim.url, dir, { leases: b.cluster.leases, tokens: c.cluster.tokens });
      providers.push(pc);
      const failed = await turn(pc);
      expect("error" in failed && failed.error).toBeInstanceOf(DependencyUnavailableError);
      expect(pc.engine.pool.status().inUse).toBe(0);
      expect(pc.engine.accounts.get("user0@example.com")!.status).toBe("ok");
      expect((await f.store.accounts.get("user0@example.com"))!.status).toBe("ok");
      expect(sim.state.counters.logins).toBe(1);
    } finally {
      for (const p of providers) await p.close();
      await f.close();
      await sim.stop();
    }
  }, 60_000);
});
