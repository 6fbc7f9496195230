/**
 * The one place where the in-memory views of the store follow admin changes (called once by src/server.ts):
 * settings cache, account pools, proxy bridges, API-key index and key quotas subscribe to the change bus. Nothing
 * else refreshes them after an admin write.
 */
import { changedIds, type ChangeSubscriber } from "../core/changes/change-bus.ts";
import type { ProviderRegistry } from "../core/upstream/registry.ts";
import type { LiveSettings } from "../config/live-settings.ts";
import type { ApiKeyIndex } from "../security/api-key-index.ts";
import type { KeyUsageTracker } from "../security/key-usage.ts";
import type { Store } from "../store/store.ts";
import { storedProxies } from "./stored-proxies.ts";

export interface ChangeViews {
  store: Store;
  settings: LiveSettings;
  providers: ProviderRegistry;
  apiKeys: ApiKeyIndex;
  keyUsage: KeyUsageTracker;
}

export function subscribeViews(bus: ChangeSubscriber, v: ChangeViews): void {
  // First the settings cache, so that providers reloading after a settings change read the new values.
  bus.subscribe(["settings.changed"], () => v.settings.invalidate());

  // Settings and proxies shape every provider (pool limits, client identity, proxy routes): one full reload, which
  // also covers accounts changed together with them (an import). Accounts alone: the pooled providers re-read just
  // the named accounts (or all of them when the event names none).
  bus.subscribe(["settings.changed", "proxies.changed", "accounts.changed"], (events) => {
    if (events.some((e) => e.topic === "proxies.changed")) {
      const keep = new Set(storedProxies(v.store).map((p) => p.id));
      for (const p of v.providers.list()) p.proxies?.retain(keep);
    }
    if (events.some((e) => e.topic !== "accounts.changed")) return v.providers.reload();
    const changed = changedIds(events);
    const work: (void | Promise<void>)[] = [];
    for (const p of v.providers.list()) {
      if (!p.accounts) continue;
      work.push(changed && p.accounts.refresh ? p.accounts.refresh([...changed.ids]) : p.reload());
    }
    return Promise.all(work).then(() => {});
  });

  bus.subscribe(["keys.changed"], (events) => {
    const changed = changedIds(events);
    if (changed) v.apiKeys.refresh(changed.ids, changed.removed);
    else v.apiKeys.reload();
    for (const hash of changed?.removed ?? []) v.keyUsage.forget(hash);
    v.keyUsage.quotasChanged();
  });
}
