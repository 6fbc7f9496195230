/**
 * Transitional: today's synchronous sqlite `Store` seen through `StoreApi`, so callers move to the async API one
 * file at a time while the repositories still run on bun:sqlite directly. Replaced by the repositories over
 * `SqlExecutor` (src/store/sql/) once every caller awaits.
 *
 * Transactions: BEGIN IMMEDIATE on the one connection, the body awaited, COMMIT (ROLLBACK when it throws). An async
 * mutex keeps two transactions (and root calls made through this API meanwhile) from interleaving on the connection.
 */
import type { Store } from "./store.ts";
import type { StoreApi, StoreRepos } from "./store-api.ts";

type AnyFn = (...a: unknown[]) => unknown;

/** Wrap every method of `repo` so it returns a promise; names in `keep` stay synchronous. `gate` runs before each call. */
function promised<T extends object>(repo: T, keep: readonly string[], gate: () => Promise<void> | undefined): unknown {
  return new Proxy(repo, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== "function" || keep.includes(String(prop))) return typeof value === "function" ? (value as AnyFn).bind(target) : value;
      return (...args: unknown[]) => {
        const waiting = gate();
        if (waiting) return waiting.then(() => (value as AnyFn).apply(target, args));
        try {
          return Promise.resolve((value as AnyFn).apply(target, args));
        } catch (e) {
          return Promise.reject(e);
        }
      };
    },
  });
}

const KEEP: Record<keyof StoreRepos, readonly string[]> = {
  settings: ["conceal"],
  apiKeys: ["hashOf"],
  accounts: [],
  keyUsage: [],
  audit: [],
  credentials: ["idFor"],
  files: [],
  chatHistory: [],
  usageHistory: ["add"],
};

function reposOf(store: Store, gate: () => Promise<void> | undefined): StoreRepos {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(KEEP) as (keyof StoreRepos)[]) out[name] = promised(store[name], KEEP[name], gate);
  return out as unknown as StoreRepos;
}

export function asyncStore(store: Store): StoreApi {
  /** Settled when the open transaction ends; undefined when none is open. */
  let open: Promise<void> | undefined;
  const root = reposOf(store, () => open);
  const inside = reposOf(store, () => undefined);
  const api: StoreApi = {
    ...root,
    kind: "sqlite",
    location: store.path,
    async transaction<T>(fn: (tx: StoreRepos) => Promise<T>): Promise<T> {
      while (open) await open;
      let done!: () => void;
      open = new Promise<void>((r) => (done = r));
      try {
        store.db.exec("BEGIN IMMEDIATE");
        try {
          const out = await fn(inside);
          store.db.exec("COMMIT");
          return out;
        } catch (e) {
          store.db.exec("ROLLBACK");
          throw e;
        }
      } finally {
        open = undefined;
        done();
      }
    },
    async flush() {
      store.usageHistory.flush();
    },
    async close() {
      store.close();
    },
    withStartupLock: (fn) => fn(),
  };
  return api;
}
