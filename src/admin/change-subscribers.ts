/**
 * The one place where the in-memory views of the store follow admin changes (called once by src/server.ts):
 * settings cache, account pools, credential pools, proxy bridges, API-key index and key quotas subscribe to the
 * change bus. Nothing else refreshes them after an admin write.
 *
 * Every listener returns the promise of the reload it starts, so `bus.settled()` resolves once the views serve
 * the change: an admin service publishes, awaits `settled()`, then answers — what it added is served by the very
 * next request. A failed reload goes to the bus's error handler; the previous view keeps serving.
 */
import { changedIds, type ChangeEvent, type ChangeSubscriber } from "../core/changes/change-bus.ts";
import type { ProviderRegistry } from "../core/upstream/registry.ts";
import type { LiveSettings } from "../config/live-settings.ts";
import type { ApiKeyIndex } from "../security/api-key-index.ts";
import type { KeyUsageTracker } from "../security/key-usage.ts";

export interface ChangeViews {
  settings: LiveSettings;
  providers: ProviderRegistry;
  apiKeys: ApiKeyIndex;
  keyUsage: KeyUsageTracker;
}

/** Run these reloads together; resolves when all are done, rejects with the first failure after all settled. */
async function all(work: (void | Promise<void>)[]): Promise<void> {
  const results = await Promise.allSettled(work.map((w) => Promise.resolve(w)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}

/** The credential ids of one provider named by `credentials.changed` events (`provider/id`), or undefined for all. */
function credentialIds(events: readonly ChangeEvent[], provider: string): { touched: boolean; ids?: string[] } {
  const ids: string[] = [];
  for (const e of events) {
    if (!e.ids) return { touched: true };
    for (const id of e.ids) {
      if (id === provider) return { touched: true };
      if (id.startsWith(`${provider}/`)) ids.push(id.slice(provider.length + 1));
    }
  }
  return { touched: ids.length > 0, ids };
}

export function subscribeViews(bus: ChangeSubscriber, v: ChangeViews): void {
  // First the settings cache (proxies live in settings too), so that providers reloading after a settings change
  // read the new values: they wait for this reload before theirs.
  let settingsLoaded: Promise<void> = Promise.resolve();
  bus.subscribe(["settings.changed", "proxies.changed"], () => {
    settingsLoaded = v.settings.reload();
    return settingsLoaded;
  });

  // Settings and proxies shape every provider (pool limits, client identity, proxy routes): one full reload, which
  // also covers accounts and credentials changed together with them (an import). Accounts alone: the pooled
  // providers re-read just the named accounts (or all of them when the event names none).
  bus.subscribe(["settings.changed", "proxies.changed", "accounts.changed"], async (events) => {
    if (events.some((e) => e.topic !== "accounts.changed")) {
      await settingsLoaded.catch(() => {});
      if (events.some((e) => e.topic === "proxies.changed")) {
        const keep = new Set(v.settings.proxies().map((p) => p.id));
        for (const p of v.providers.list()) p.proxies?.retain(keep);
      }
      await all(v.providers.list().map((p) => p.reload()));
      return;
    }
    const changed = changedIds(events);
    await all(
      v.providers.list().map((p) => {
        if (!p.accounts) return;
        if (changed && p.accounts.refresh) return p.accounts.refresh([...changed.ids]);
        return p.reload();
      }),
    );
  });

  // Key-style credential pools (Volcengine web ids, OnDemand keys): ids are `provider/id`, or a provider's name for
  // its whole pool.
  bus.subscribe(["credentials.changed"], async (events) => {
    await all(
      v.providers.list().map((p) => {
        if (!p.reloadCredentials) return;
        const { touched, ids } = credentialIds(events, p.id);
        if (touched) return p.reloadCredentials(ids);
      }),
    );
  });

  bus.subscribe(["keys.changed"], async (events) => {
    const changed = changedIds(events);
    for (const hash of changed?.removed ?? []) v.keyUsage.forget(hash);
    await all([changed ? v.apiKeys.refresh(changed.ids, changed.removed) : v.apiKeys.reload(), v.keyUsage.reloadQuotas()]);
  });
}
