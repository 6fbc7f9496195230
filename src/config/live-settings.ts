/**
 * Cached read access to the stored settings. Writers call `invalidate()` after changing the store,
 * so request handlers never parse settings JSON per request.
 */
import type { Store } from "../store/store.ts";
import { SETTING_KEYS } from "../store/setting-keys.ts";
import type { RuntimeSettings } from "./runtime-settings.ts";

export class LiveSettings {
  private cache = new Map<string, unknown>();

  constructor(private readonly store: Store) {}

  invalidate(): void {
    this.cache.clear();
  }

  private read<T>(key: string, fallback: T): T {
    if (this.cache.has(key)) return this.cache.get(key) as T;
    const value = this.store.settings.get<T>(key) ?? fallback;
    this.cache.set(key, value);
    return value;
  }

  modelAliases(): Readonly<Record<string, string>> {
    return this.read<Record<string, string>>(SETTING_KEYS.modelAliases, {});
  }

  runtime(): Partial<RuntimeSettings> {
    return this.read<Partial<RuntimeSettings>>(SETTING_KEYS.runtime, {});
  }

  section<T extends object>(name: string): Partial<T> {
    return this.read<Partial<T>>(SETTING_KEYS.section(name), {});
  }
}
