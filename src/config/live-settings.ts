/**
 * The stored settings held in memory: loaded once at start (`load()`), reloaded on `settings.changed` /
 * `proxies.changed` (src/admin/change-subscribers.ts), read synchronously by request handlers (no store round trip,
 * no JSON parsing per request). A write through `set` awaits the store, then updates the copy at once.
 */
import type { ConfigProxy } from "./ds2api-config.ts";
import { SETTING_KEYS } from "../store/setting-keys.ts";
import type { StoreApi } from "../store/store-api.ts";
import type { RuntimeSettings } from "./runtime-settings.ts";

export class LiveSettings {
  private values = new Map<string, unknown>();
  /** Bumped by every write through `set`, so a reload that read the store before it does not undo it. */
  private writes = 0;

  constructor(private readonly store: Pick<StoreApi, "settings">) {}

  /** Read every setting (one query). Called at start and on change events; the old copy serves until it lands. */
  async load(): Promise<void> {
    const writes = this.writes;
    const all = await this.store.settings.all();
    if (writes !== this.writes) return this.load();
    this.values = new Map(Object.entries(all));
  }

  /** Same as `load`: what a change event starts. */
  reload(): Promise<void> {
    return this.load();
  }

  /** Same as `reload` (the name callers used before settings were loaded asynchronously). */
  invalidate(): Promise<void> {
    return this.load();
  }

  /** Write a setting (awaiting the store) and keep the new value. Undefined deletes it. */
  async set(key: string, value: unknown): Promise<void> {
    this.writes++;
    await this.store.settings.set(key, value);
    const next = new Map(this.values);
    if (value === undefined) next.delete(key);
    else next.set(key, value);
    this.values = next;
  }

  /** A setting as last loaded (undefined when not stored). */
  value<T>(key: string): T | undefined {
    return this.values.get(key) as T | undefined;
  }

  private read<T>(key: string, fallback: T): T {
    return (this.values.get(key) as T | undefined) ?? fallback;
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

  /** The stored proxies (passwords opened by the store). */
  proxies(): readonly ConfigProxy[] {
    return this.read<ConfigProxy[]>(SETTING_KEYS.proxies, []);
  }
}
