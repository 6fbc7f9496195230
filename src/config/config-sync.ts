/**
 * Moves a ds2api config document into the store (import) and back out (export).
 * Import is idempotent: keys are upserted by key (stored as their keyed hash), accounts by email /
 * canonical mobile (passwords and tokens sealed by the store). An import is one transaction: `importConfig` opens
 * it; a caller that already holds one (with its own audit row) runs `importConfigInto(tx, …)` inside it.
 */
import { SETTING_KEYS } from "../store/setting-keys.ts";
import type { StoreApi, StoreRepos } from "../store/store-api.ts";
import type { ConfigProxy, Ds2ApiConfig } from "./ds2api-config.ts";
import { exportOnDemandSection, importOnDemandKeys, ONDEMAND_SECTION } from "./ondemand-section.ts";
import { importVolcengineSection, readVolcengineSection } from "./volcengine-config.ts";

export type ImportMode = "merge" | "replace";

export interface ImportResult {
  mode: ImportMode;
  importedKeys: number;
  importedAccounts: number;
  updatedAccounts: number;
}

export interface ImportOptions {
  mode: ImportMode;
  acceptTokens: boolean;
}

/** Import `doc` in one transaction of its own. */
export function importConfig(store: StoreApi, doc: Ds2ApiConfig, opts: ImportOptions): Promise<ImportResult> {
  return store.transaction((tx) => importConfigInto(tx, doc, opts));
}

/** Import `doc` through `tx`: the repositories of a transaction the caller holds (store work only, no other I/O). */
export async function importConfigInto(tx: StoreRepos, doc: Ds2ApiConfig, opts: ImportOptions): Promise<ImportResult> {
  const result: ImportResult = { mode: opts.mode, importedKeys: 0, importedAccounts: 0, updatedAccounts: 0 };
  const replace = opts.mode === "replace";
  // A replaced account keeps its device (a Go ds2api file has no device_id): it stays one stable device.
  const devices = new Map((await tx.accounts.list()).map((a) => [a.identifier, a.deviceId]));
  if (replace) {
    await tx.apiKeys.deleteAll();
    await tx.accounts.deleteAll();
  }
  for (const k of doc.apiKeys ?? []) if (await tx.apiKeys.upsert(k)) result.importedKeys++;
  for (const a of doc.accounts ?? []) {
    const isNew = await tx.accounts.upsert({
      identifier: a.identifier,
      email: a.email,
      mobile: a.mobile,
      password: a.password,
      name: a.name,
      remark: a.remark,
      proxyId: a.proxy_id,
      deviceId: a.device_id ?? devices.get(a.identifier),
      extra: a.extra,
    });
    if (opts.acceptTokens && a.token) await tx.accounts.setToken(a.identifier, a.token);
    if (isNew) result.importedAccounts++;
    else result.updatedAccounts++;
  }
  const overlay = async <T extends object>(key: string, value: T | undefined) => {
    if (value === undefined) {
      if (replace) await tx.settings.delete(key);
      return;
    }
    const base = replace ? {} : ((await tx.settings.get<T>(key)) ?? {});
    const defined = Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
    await tx.settings.set(key, { ...base, ...defined });
  };
  await overlay(SETTING_KEYS.modelAliases, doc.modelAliases);
  await overlay(SETTING_KEYS.admin, doc.admin);
  await overlay(SETTING_KEYS.runtime, doc.runtime);
  await overlay(SETTING_KEYS.extra, doc.extra);
  for (const [name, value] of Object.entries(doc.sections)) await overlay(SETTING_KEYS.section(name), value);
  if (doc.proxies !== undefined) {
    const stored = replace ? [] : ((await tx.settings.get<ConfigProxy[]>(SETTING_KEYS.proxies)) ?? []);
    const byId = new Map<string, ConfigProxy>(stored.map((p) => [p.id, p]));
    for (const p of doc.proxies) byId.set(p.id, { ...p, password: p.password ?? byId.get(p.id)?.password });
    await tx.settings.set(SETTING_KEYS.proxies, [...byId.values()]);
  } else if (replace) await tx.settings.delete(SETTING_KEYS.proxies);
  if (doc.ondemandKeys) await importOnDemandKeys(tx, doc.ondemandKeys);
  await importVolcengineSection(tx, doc.volcengine, replace);
  return result;
}

const SECTION_PREFIX = "section.";

/**
 * Read the stored configuration back as a ds2api document. Tokens are never included, and API keys cannot
 * be: only their hashes are stored (`apiKeys` stays undefined; see `storedKeyCount`).
 */
export async function readConfig(store: StoreRepos): Promise<Ds2ApiConfig> {
  const all = await store.settings.all();
  const sections: Record<string, Record<string, unknown>> = {};
  for (const [k, v] of Object.entries(all)) if (k.startsWith(SECTION_PREFIX)) sections[k.slice(SECTION_PREFIX.length)] = v as Record<string, unknown>;
  const ondemand = await exportOnDemandSection(store, sections[ONDEMAND_SECTION]);
  if (ondemand) sections[ONDEMAND_SECTION] = ondemand;
  const accounts = await store.accounts.list();
  const volcengine = await readVolcengineSection(store);
  return {
    accounts: accounts.map((a) => ({
      identifier: a.identifier,
      email: a.email,
      mobile: a.mobile,
      password: a.password,
      name: a.name,
      remark: a.remark,
      proxy_id: a.proxyId,
      device_id: a.deviceId,
      extra: a.extra,
    })),
    proxies: (all[SETTING_KEYS.proxies] as ConfigProxy[] | undefined) ?? [],
    modelAliases: (all[SETTING_KEYS.modelAliases] as Record<string, string> | undefined) ?? {},
    admin: all[SETTING_KEYS.admin] as Ds2ApiConfig["admin"],
    runtime: all[SETTING_KEYS.runtime] as Ds2ApiConfig["runtime"],
    volcengine,
    sections,
    extra: (all[SETTING_KEYS.extra] as Record<string, unknown> | undefined) ?? {},
  };
}
