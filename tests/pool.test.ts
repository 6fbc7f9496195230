import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { AccountPool } from "../src/pool/account-pool.ts";
import { AccountsCoolingError, AccountUnavailableError, NoAccountsError, PoolBusyError } from "../src/pool/pool-errors.ts";
import { effectivePoolSettings, type PoolSettings } from "../src/pool/pool-settings.ts";
import { TokenManager } from "../src/pool/token-manager.ts";
import { AccountView } from "../src/pool/account-view.ts";
import { openStore } from "../src/store/open-store.ts";
import { tempDir } from "./support/test-server.ts";
import { waitUntil } from "./support/wait.ts";

/** A pool over a real sqlite store seen through the async API, its accounts loaded. `store` is that API. */
async function setup(n: number, over: Partial<PoolSettings> = {}, loginDelayMs = 0) {
  const store = await openStore({ sqlitePath: join(tempDir(), "pool.sqlite") });
  for (let i = 0; i < n; i++) await store.accounts.upsert({ identifier: `a${i}@x.io`, email: `a${i}@x.io`, password: "pw" });
  const logins: string[] = [];
  const view = new AccountView(store);
  const tokens = new TokenManager(
    view,
    async (a) => {
      logins.push(a.identifier);
      await Bun.sleep(loginDelayMs);
      return `tok-${a.identifier}-${logins.length}`;
    },
    () => 3600_000,
  );
  const settings: PoolSettings = { ...effectivePoolSettings({ env: {}, runtime: {}, accountCount: n }), ...over };
  const pool = new AccountPool(view, tokens, () => settings);
  await pool.reload();
  return { store, view, pool, tokens, logins, settings };
}

describe("account pool", () => {
  test("spreads load, enforces the per-account limit, queues FIFO and hands slots over on release", async () => {
    const { pool } = await setup(2, { maxInflightPerAccount: 2, maxQueue: 4 });
    const first = await Promise.all([pool.acquire(), pool.acquire()]);
    expect(new Set(first.map((l) => l.identifier)).size).toBe(2);
    const more = await Promise.all([pool.acquire(), pool.acquire()]);
    expect(pool.status().inUse).toBe(4);
    const order: number[] = [];
    const waiting = [0, 1, 2].map((i) => pool.acquire().then((l) => (order.push(i), l)));
    await waitUntil(() => pool.status().waiting === 3, "three waiters");
    first[0]!.release();
    first[0]!.release(); // idempotent
    await waitUntil(() => order.length > 0, "the first waiter to be served");
    expect(order).toEqual([0]);
    expect(pool.status().waiting).toBe(2);
    first[1]!.release();
    more[0]!.release();
    const served = await Promise.all(waiting);
    expect(order).toEqual([0, 1, 2]);
    for (const l of [...served, more[1]!]) l.release();
    expect(pool.status().inUse).toBe(0);
    expect(pool.status().waiting).toBe(0);
  });

  test("a full queue answers PoolBusyError with a Retry-After estimate", async () => {
    const { pool } = await setup(1, { maxInflightPerAccount: 1, maxQueue: 1 });
    const l = await pool.acquire();
    const w = pool.acquire();
    const err = await pool.acquire().catch((e) => e);
    expect(err).toBeInstanceOf(PoolBusyError);
    expect((err as PoolBusyError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    l.release();
    (await w).release();
  });

  test("queue size 0 disables waiting", async () => {
    const { pool } = await setup(1, { maxInflightPerAccount: 1, maxQueue: 0 });
    const l = await pool.acquire();
    expect(await pool.acquire().catch((e) => e)).toBeInstanceOf(PoolBusyError);
    l.release();
  });

  test("an aborted waiter leaves the queue and frees its place", async () => {
    const { pool } = await setup(1, { maxInflightPerAccount: 1, maxQueue: 1 });
    const l = await pool.acquire();
    const ac = new AbortController();
    const w = pool.acquire({ signal: ac.signal });
    ac.abort();
    expect((await w.catch((e) => e)).name).toBe("AbortError");
    expect(pool.status().waiting).toBe(0);
    const next = pool.acquire();
    l.release();
    (await next).release();
  });

  test("no accounts, unknown pinned account, disabled accounts", async () => {
    expect(await (await setup(0)).pool.acquire().catch((e) => e)).toBeInstanceOf(NoAccountsError);
    const { pool, store } = await setup(2);
    expect(await pool.acquire({ pinned: "nobody@x.io" }).catch((e) => e)).toBeInstanceOf(AccountUnavailableError);
    const pinned = await pool.acquire({ pinned: "a1@x.io" });
    expect(pinned.identifier).toBe("a1@x.io");
    pinned.release();
    await store.accounts.setEnabled("a0@x.io", false);
    await store.accounts.setEnabled("a1@x.io", false);
    await pool.reload();
    expect(await pool.acquire().catch((e) => e)).toBeInstanceOf(AccountUnavailableError);
  });

  test("failing accounts cool down, are skipped, and come back after the cool-down", async () => {
    const { pool, store, view } = await setup(2, { maxInflightPerAccount: 1, cooldownMs: 80 });
    const a = await pool.acquire();
    const failedAt = Date.now();
    a.fail("rate_limited", "empty output");
    a.release();
    // the pool sees the failure at once; the store once the fire-and-forget write has landed
    expect(view.get(a.identifier)!.status).toBe("cooling_down");
    await view.settled();
    expect((await store.accounts.get(a.identifier))!.status).toBe("cooling_down");
    expect((await store.accounts.get(a.identifier))!.lastError).toBe("empty output");
    expect(pool.status().coolingDown).toBe(1);
    const b = await pool.acquire();
    expect(b.identifier).not.toBe(a.identifier);
    // the only usable account is busy and the other cools down: the waiter is served when the cool-down ends,
    // and not before (the cool-down started no earlier than failedAt)
    const c = await pool.acquire();
    expect(c.identifier).toBe(a.identifier);
    expect(Date.now() - failedAt).toBeGreaterThanOrEqual(80 - 1);
    c.succeed();
    await view.settled();
    expect((await store.accounts.get(a.identifier))!.status).toBe("ok");
    b.release();
    c.release();
  });

  test("reload keeps in-flight counts (no limit overshoot after admin changes)", async () => {
    const { pool, store } = await setup(1, { maxInflightPerAccount: 1, maxQueue: 5 });
    const l = await pool.acquire();
    await store.accounts.upsert({ identifier: "a0@x.io", name: "renamed" });
    await pool.reload();
    expect(pool.inflightOf("a0@x.io")).toBe(1);
    let got = false;
    const w = pool.acquire().then((x) => ((got = true), x));
    await waitUntil(() => pool.status().waiting === 1, "the waiter to queue");
    expect(got).toBe(false);
    l.release();
    (await w).release();
  });

  test("global cap, pacing and the daily cap", async () => {
    const g = await setup(3, { maxInflightPerAccount: 2, globalMaxInflight: 2, maxQueue: 0 });
    const two = [await g.pool.acquire(), await g.pool.acquire()];
    expect(await g.pool.acquire().catch((e) => e)).toBeInstanceOf(PoolBusyError);
    two.forEach((l) => l.release());

    const p = await setup(1, { maxInflightPerAccount: 5, minIntervalMs: 60, maxQueue: 5 });
    const t0 = Date.now();
    (await p.pool.acquire()).release();
    (await p.pool.acquire()).release();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);

    const d = await setup(1, { maxInflightPerAccount: 5, dailyCap: 2, maxQueue: 0 });
    (await d.pool.acquire()).release();
    (await d.pool.acquire()).release();
    const capped = await d.pool.acquire().catch((e) => e);
    // a daily cap is not waited out: at once, as a capacity limit (429 at the surfaces), with Retry-After
    expect(capped).toBeInstanceOf(AccountsCoolingError);
    expect(capped.rateLimited).toBe(true);
    expect(capped.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });
});

describe("failure reasons", () => {
  test("a failed login reads 'login failed: …' once, whichever layer prefixed the message; other kinds keep their kind", async () => {
    const { store, pool, view } = await setup(3);
    pool.markFailing("a0@x.io", "login", "account login failed: wrong password");
    pool.markFailing("a1@x.io", "login", "login failed: HTTP 403");
    pool.markFailing("a2@x.io", "rate_limited", "too many requests");
    await view.settled();
    const a0 = (await store.accounts.get("a0@x.io"))!;
    expect(a0.status).toBe("login_failed");
    expect(a0.statusReason).toBe("login failed: wrong password");
    expect(a0.lastError).toBe("login failed: wrong password");
    expect((await store.accounts.get("a1@x.io"))!.statusReason).toBe("login failed: HTTP 403");
    expect((await store.accounts.get("a2@x.io"))!.statusReason).toBe("rate_limited: too many requests");
    expect((await store.accounts.get("a2@x.io"))!.lastError).toBe("too many requests");
    for (const a of await store.accounts.list()) expect((a.statusReason ?? "").match(/login failed/gi)?.length ?? 0).toBeLessThanOrEqual(1);
  });
});

describe("queue wait limit", () => {
  test("a waiter on busy accounts gives up after maxWaitMs with PoolBusyError; its slot in the queue is gone", async () => {
    const { pool } = await setup(1, { maxInflightPerAccount: 1, maxQueue: 5, queueWaitMs: 40 });
    const held = await pool.acquire();
    const err = await pool.acquire().catch((e) => e);
    expect(err).toBeInstanceOf(PoolBusyError);
    expect(err.message).toContain("queue wait limit");
    expect(pool.status().waiting).toBe(0);
    held.release();
    (await pool.acquire()).release();
  });

  test("a cool-down longer than the wait limit is not waited out; after a failed account nothing is", async () => {
    const { pool } = await setup(2, { maxInflightPerAccount: 1, cooldownMs: 60_000, queueWaitMs: 1000 });
    const a = await pool.acquire();
    a.fail("auth", "bad token");
    a.release();
    const b = await pool.acquire();
    b.fail("auth", "bad token");
    b.release();
    const err = await pool.acquire().catch((e) => e);
    expect(err).toBeInstanceOf(AccountsCoolingError);
    expect(err.rateLimited).toBe(false);
    expect(err.retryAfterSeconds).toBeGreaterThan(1);
    expect(pool.status().waiting).toBe(0);

    const short = await setup(2, { maxInflightPerAccount: 1, cooldownMs: 50, queueWaitMs: 1000 });
    const c = await short.pool.acquire();
    c.fail("auth", "bad token");
    c.release();
    const d = await short.pool.acquire();
    // the other account is busy and c rests briefly: a plain waiter may wait for c…
    const waiter = short.pool.acquire();
    // …but a request moving on after a failure (c already tried elsewhere) does not wait for any cool-down
    const movingOn = await short.pool.acquire({ exclude: new Set([d.identifier]), noCooldownWait: true }).catch((e) => e);
    expect(movingOn).toBeInstanceOf(AccountsCoolingError);
    const served = await waiter;
    expect(served.identifier).toBe(c.identifier);
    served.release();
    d.release();
  });
});

describe("token manager", () => {
  test("one login for many concurrent requests, token persisted, re-login shared", async () => {
    const { pool, logins, store, view } = await setup(1, { maxInflightPerAccount: 10 }, 20);
    const leases = await Promise.all(Array.from({ length: 5 }, () => pool.acquire()));
    const toks = await Promise.all(leases.map((l) => l.token()));
    expect(new Set(toks).size).toBe(1);
    expect(logins.length).toBe(1);
    await view.settled();
    expect((await store.accounts.get("a0@x.io"))!.token).toBe(toks[0]);
    const re = await Promise.all(leases.map((l) => l.relogin(toks[0]!)));
    expect(new Set(re).size).toBe(1);
    expect(re[0]).not.toBe(toks[0]);
    expect(logins.length).toBe(2);
    // a stale token reported after someone else already re-logged in does not log in again
    expect(await leases[0]!.relogin(toks[0]!)).toBe(re[0]!);
    expect(logins.length).toBe(2);
    leases.forEach((l) => l.release());
  });

  test("an old token is refreshed by logging in again", async () => {
    const store = await openStore({ sqlitePath: join(tempDir(), "t.sqlite") });
    await store.accounts.upsert({ identifier: "o@x.io", email: "o@x.io", password: "pw", token: "old" });
    let clock = Date.now();
    let n = 0;
    const view = new AccountView(store);
    await view.reload();
    const tm = new TokenManager(view, async () => `new-${++n}`, () => 1000, () => clock);
    expect(await tm.token("o@x.io")).toBe("old");
    clock += 2000;
    expect(await tm.token("o@x.io")).toBe("new-1");
  });
});
