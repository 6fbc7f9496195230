/**
 * A store with some of its members replaced (a repository wrapped to count, delay or fail calls; the start-up lock
 * counted), every other member the store's own. A spread (`{ ...store, accounts }`) would not do: the store is a
 * class instance, and a spread drops its methods (`transaction`, `flush`, `close`, `withStartupLock`).
 */
import type { StoreApi } from "../../src/store/store-api.ts";

export function storeWith(store: StoreApi, replaced: Partial<StoreApi>): StoreApi {
  return new Proxy(store, {
    get: (target, prop, receiver) => (Object.hasOwn(replaced, prop) ? Reflect.get(replaced, prop) : Reflect.get(target, prop, receiver)),
  });
}
