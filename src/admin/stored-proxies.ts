/** The proxies stored in settings (passwords opened by the store). */
import type { ConfigProxy } from "../config/ds2api-config.ts";
import { SETTING_KEYS } from "../store/setting-keys.ts";
import type { Store } from "../store/store.ts";

export function storedProxies(store: Store): ConfigProxy[] {
  return store.settings.get<ConfigProxy[]>(SETTING_KEYS.proxies) ?? [];
}
