/**
 * The accounts in memory (src/pool/account-view.ts) under the pool and the token manager: requests never wait on
 * the store, a reload swaps in without an empty window, local changes are seen at once and survive a load that
 * read the row before their write landed, and a failed write is reported, never thrown.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { AccountPool } from "../src/pool/account-pool.ts";
import { AccountView } from "../src/pool/account-view.ts";
import { effectivePoolSettings } from "../src/pool/pool-settings.ts";
import { TokenManager } from "../src/pool/token-manager.ts";
import type { StoreApi } from "../src/store/store-api.ts";
import { openStore } from "../src/store/open-store.ts";
import { tempDir } from "./support/test-server.ts";
import { storeWith } from "./support/store-with.ts";
import { waitUntil } from "./support/wait.ts";

type Accounts = StoreApi["accounts"];
type Hooks = { [K in keyof Accounts]?: Accounts[K] };

/** A promise released by hand, to hold a store call open. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => {};
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

/** A real sqlite store seen through the async API, with some account methods replaced (to delay, count or fail them). */
async function setup(ids: string[]) {
  const store = await openStore({ sqlitePath: join(tempDir(), "view.sqlite") });
  for (const id of ids) await store.accounts.upsert({ identifier: id, email: id, password: "pw" });
  const hooks: Hooks = {};
  const accounts = new Proxy(store.accounts, { get: (t, prop, r) => (hooks as Record<string | symbol, unknown>)[prop] ?? Reflect.get(t, prop, r) });
  const wrapped = storeWith(store, { accounts });
  const reports: string[] = [];
  const view = new AccountView(wrapped, (what, id, error) => reports.push(`${what} ${id}: ${String(error)}`));
  let logins = 0;
  const tokens = new TokenManager(view, async (a) => `tok-${a.identifier}-${++logins}`, () => 3600_000);
  const settings = effectivePoolSettings({ env: {}, runtime: {}, accountCount: ids.length });
  const pool = new AccountPool(view, tokens, () => settings);
  await pool.reload();
  return { store, hooks, view, tokens, pool, reports };
}

describe("account view", () => {
  test("a request that arrives during a reload is served from the accounts as they were; the new list is in once the read lands", async () => {
    const { store, hooks, view, pool } = await setup(["a@x.io"]);
    await store.accounts.upsert({ identifier: "b@x.io", email: "b@x.io", password: "pw" });
    const held = gate();
    const list = store.accounts.list.bind(store.accounts);
    hooks.list = async () => {
      await held.wait;
      return list();
    };
    let reloaded = false;
    const reloading = pool.reload().then(() => (reloaded = true));
    // The read is held open: the pool still has its one account and serves it (no empty window, no wait).
    const lease = await pool.acquire({ maxWaitMs: 0 });
    expect(lease.identifier).toBe("a@x.io");
    expect(view.size).toBe(1);
    expect(reloaded).toBe(false);
    held.open();
    await reloading;
    expect(view.size).toBe(2);
    const other = await pool.acquire({ maxWaitMs: 0 });
    expect(other.identifier).toBe("b@x.io");
    lease.release();
    other.release();
  });

  test("hot reads never touch the store: tokens and statuses come from memory", async () => {
    const { hooks, tokens, pool } = await setup(["a@x.io"]);
    let reads = 0;
    hooks.get = async () => {
      reads++;
      return undefined;
    };
    hooks.list = async () => {
      reads++;
      return [];
    };
    const lease = await pool.acquire();
    const first = await lease.token();
    expect(await lease.token()).toBe(first);
    expect(await tokens.token("a@x.io")).toBe(first);
    lease.fail("upstream", "boom");
    lease.release();
    expect(pool.status().coolingDown).toBe(1);
    expect(reads).toBe(0);
  });

  test("a local change is seen at once and survives a reload that read the row before the write landed", async () => {
    const { store, hooks, view, pool } = await setup(["a@x.io", "b@x.io"]);
    const held = gate();
    const setStatus = store.accounts.setStatus.bind(store.accounts);
    hooks.setStatus = async (...args) => {
      await held.wait;
      return setStatus(...args);
    };
    pool.markFailing("a@x.io", "rate_limited", "slow down");
    expect(view.get("a@x.io")!.status).toBe("cooling_down");
    // The store still says ok (the write is held); a reload reads that, and the pool must not forget the failure.
    expect((await store.accounts.get("a@x.io"))!.status).toBe("ok");
    await pool.reload();
    expect(view.get("a@x.io")!.status).toBe("cooling_down");
    expect((await pool.acquire({ maxWaitMs: 0 })).identifier).toBe("b@x.io");
    held.open();
    await view.settled();
    expect((await store.accounts.get("a@x.io"))!.status).toBe("cooling_down");
    // Once the write landed, a reload reads the store as it is: an operator's change made since wins.
    await store.accounts.setStatus("a@x.io", "ok");
    await pool.reload();
    expect(view.get("a@x.io")!.status).toBe("ok");
  });

  test("a new token is used by the next request without a reload, and written through", async () => {
    const { store, view, tokens } = await setup(["a@x.io"]);
    const t1 = await tokens.token("a@x.io");
    expect(view.get("a@x.io")!.token).toBe(t1);
    const t2 = await tokens.relogin("a@x.io", t1);
    expect(t2).not.toBe(t1);
    expect(await tokens.token("a@x.io")).toBe(t2);
    await view.settled();
    expect((await store.accounts.get("a@x.io"))!.token).toBe(t2);
    tokens.forget("a@x.io");
    expect(view.get("a@x.io")!.token).toBeUndefined();
    await view.settled();
    expect((await store.accounts.get("a@x.io"))!.token).toBeUndefined();
  });

  test("a failed write-through is reported, never thrown: the pool keeps serving", async () => {
    const { hooks, view, pool, reports } = await setup(["a@x.io"]);
    hooks.recordUse = async () => {
      throw new Error("database went away");
    };
    hooks.setStatus = async () => {
      throw new Error("database went away");
    };
    const lease = await pool.acquire();
    lease.fail("upstream", "boom");
    lease.release();
    await view.settled();
    await waitUntil(() => reports.length >= 2, "both failed writes to be reported");
    expect(reports.some((r) => r.startsWith("record use a@x.io") && r.includes("database went away"))).toBe(true);
    expect(reports.some((r) => r.startsWith("mark failing a@x.io"))).toBe(true);
    // The failure is still in memory; the account comes back after its cool-down like any other.
    expect(view.get("a@x.io")!.status).toBe("cooling_down");
  });

  test("refresh re-reads only the named accounts: added at the end, changed in place, deleted gone", async () => {
    const { store, view, pool } = await setup(["a@x.io", "b@x.io"]);
    await store.accounts.upsert({ identifier: "c@x.io", email: "c@x.io", password: "pw" });
    await store.accounts.upsert({ identifier: "a@x.io", name: "renamed" });
    await store.accounts.delete("b@x.io");
    await pool.refresh(["c@x.io", "a@x.io", "b@x.io"]);
    expect(view.list().map((a) => a.identifier)).toEqual(["a@x.io", "c@x.io"]);
    expect(view.get("a@x.io")!.name).toBe("renamed");
    expect(view.get("b@x.io")).toBeUndefined();
  });
});
