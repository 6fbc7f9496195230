/** The proxies stored in settings (passwords opened by the store). */
import type { ConfigProxy } from "../config/ds2api-config.ts";
import { SETTING_KEYS } from "../store/setting-keys.ts";
import type { StoreRepos } from "../store/store-api.ts";

/** Through the root store or a transaction's repositories. */
export async function readStoredProxies(repos: Pick<StoreRepos, "settings">): Promise<ConfigProxy[]> {
  return (await repos.settings.get<ConfigProxy[]>(SETTING_KEYS.proxies)) ?? [];
}
