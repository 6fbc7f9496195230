/**
 * Admin writes of whole config documents: the partial replace of `POST /admin/config` (keys, accounts, aliases),
 * `POST /admin/config/import` (merge or replace) and the merge-only `POST /admin/import` that skips duplicates. Each
 * validates, writes and audits in one transaction, then publishes what it touched (without ids: reread it all).
 */
import type { ChangeEvent, ChangePublisher } from "../core/changes/change-bus.ts";
import type { ModelCatalog } from "../core/models/index.ts";
import { importConfigInto, readConfig, type ImportMode } from "../config/config-sync.ts";
import { ConfigError, parseDs2ApiConfig, type ConfigAccount, type Ds2ApiConfig } from "../config/ds2api-config.ts";
import { SETTING_KEYS } from "../store/setting-keys.ts";
import type { StoreApi, StoreRepos } from "../store/store-api.ts";
import { invalid } from "./admin-error.ts";
import { writeAudit, type AdminActor } from "./audit-entry.ts";
import { validateAliases } from "./settings-validation.ts";
import { readStoredProxies } from "./stored-proxies.ts";

/** A posted key entry of `POST /admin/config`: a raw key, or an existing stored key by key_id / masked preview. */
export type ConfigKeyEntry = string | { key?: string; key_id?: string; name?: string; remark?: string };

export interface ConfigReplaceInput {
  api_keys?: ConfigKeyEntry[];
  keys?: string[];
  accounts?: Record<string, unknown>[];
  model_aliases?: Record<string, string>;
}

export interface ConfigImportResult {
  importedKeys: number;
  importedAccounts: number;
  updatedAccounts: number;
}

export interface MergeImportResult {
  importedKeys: number;
  importedAccounts: number;
  skippedKeys: number;
  skippedAccounts: number;
  warnings: string[];
}

export interface ConfigAdmin {
  /** The stored configuration as a ds2api config document (secrets in clear: callers mask or export on purpose). */
  read(): Promise<Ds2ApiConfig>;
  /** Parse a config document (400 with the config problems). */
  parse(input: unknown): { config: Ds2ApiConfig; warnings: string[] };
  replace(who: AdminActor, input: ConfigReplaceInput): Promise<void>;
  import(who: AdminActor, config: Ds2ApiConfig, mode: ImportMode): Promise<ConfigImportResult>;
  /** Add keys and accounts that are not there yet (`POST /admin/import`); `body` holds only api_keys / keys / accounts. */
  mergeImport(who: AdminActor, body: Record<string, unknown>): Promise<MergeImportResult>;
}

const EVERYTHING: ChangeEvent[] = [{ topic: "settings.changed" }, { topic: "keys.changed" }, { topic: "accounts.changed" }, { topic: "proxies.changed" }];

function parse(input: unknown) {
  try {
    return parseDs2ApiConfig(input);
  } catch (e) {
    if (e instanceof ConfigError) throw invalid(e.message);
    throw e;
  }
}

export function configAdmin(store: StoreApi, changes: ChangePublisher, catalog: () => ModelCatalog): ConfigAdmin {
  /** Resolve a posted key entry against the stored keys: key_id or a masked preview names an existing key. */
  const resolveKey = async (repos: Pick<StoreRepos, "apiKeys">, entry: ConfigKeyEntry): Promise<{ hash: string; key?: string; name?: string; remark?: string }> => {
    const e = typeof entry === "string" ? { key: entry } : entry;
    const repo = repos.apiKeys;
    const extra = { name: e.name?.trim() || undefined, remark: e.remark?.trim() || undefined };
    if (e.key_id) {
      const byId = await repo.byId(e.key_id);
      if (!byId) throw invalid(`unknown key_id ${JSON.stringify(e.key_id)}`);
      return { hash: byId.hash, ...extra };
    }
    const key = e.key?.trim();
    if (!key) throw invalid("each api_keys entry needs key or key_id");
    if (key.includes("****")) {
      const matches = (await repo.list()).filter((k) => k.preview === key);
      if (matches.length !== 1) throw invalid(`${JSON.stringify(key)} is a masked key preview that does not name exactly one stored key; send key_id instead`);
      return { hash: matches[0]!.hash, ...extra };
    }
    return { hash: repo.hashOf(key), key, ...extra };
  };
  /** Tell the views, and answer only once they serve the change. */
  const publish = async (events: ChangeEvent[]) => {
    changes.publish(...events);
    await changes.settled();
  };

  return {
    read: () => readConfig(store),
    parse,

    async replace(who, body) {
      const aliases = body.model_aliases ? validateAliases(body.model_aliases, catalog()) : undefined;
      const events = await store.transaction(async (tx) => {
        const events: ChangeEvent[] = [];
        const entries = body.api_keys?.length ? body.api_keys : body.keys ? body.keys : body.api_keys ? [] : undefined;
        let keys: Awaited<ReturnType<typeof resolveKey>>[] | undefined;
        if (entries) {
          keys = [];
          for (const e of entries) keys.push(await resolveKey(tx, e));
        }
        const accounts = body.accounts ? parse({ accounts: body.accounts, proxies: await readStoredProxies(tx) }).config.accounts ?? [] : undefined;
        if (keys) {
          const keep = new Set(keys.map((k) => k.hash));
          for (const k of await tx.apiKeys.list()) {
            if (keep.has(k.hash)) continue;
            await tx.apiKeys.delete(k.hash);
            await tx.keyUsage.forget(k.hash);
          }
          for (const k of keys) {
            if (k.key) await tx.apiKeys.upsert({ key: k.key });
            await tx.apiKeys.update(k.hash, { name: k.name ?? null, remark: k.remark ?? null });
          }
          events.push({ topic: "keys.changed" });
        }
        if (accounts) {
          const keep = new Set(accounts.map((a) => a.identifier));
          for (const id of await tx.accounts.identifiers()) if (!keep.has(id)) await tx.accounts.delete(id);
          for (const a of accounts) {
            await tx.accounts.upsert({ identifier: a.identifier, email: a.email, mobile: a.mobile, password: a.password, deviceId: a.device_id, extra: a.extra });
            await tx.accounts.updateProfile(a.identifier, { name: a.name ?? null, remark: a.remark ?? null, proxyId: a.proxy_id ?? null });
          }
          events.push({ topic: "accounts.changed" });
        }
        if (aliases) {
          await tx.settings.set(SETTING_KEYS.modelAliases, aliases);
          events.push({ topic: "settings.changed", ids: [SETTING_KEYS.modelAliases] });
        }
        await writeAudit(tx, who, "config.update", undefined, { api_keys: keys?.length, accounts: accounts?.map((a) => a.identifier), model_aliases: aliases });
        return events;
      });
      await publish(events);
    },

    async import(who, config, mode) {
      if (config.apiKeys?.some((k) => k.key.includes("****"))) throw invalid("the config holds masked API keys; ds2api stores only key hashes, so keys cannot be exported — give the full keys");
      if (config.modelAliases) validateAliases(config.modelAliases, catalog());
      const result = await store.transaction(async (tx) => {
        // The admin password is not something a replace should silently drop.
        const adminBefore = await tx.settings.get<Record<string, unknown>>(SETTING_KEYS.admin);
        const r = await importConfigInto(tx, config, { mode, acceptTokens: false });
        if (mode === "replace" && !config.admin && adminBefore) await tx.settings.set(SETTING_KEYS.admin, adminBefore);
        await writeAudit(tx, who, "config.import", undefined, { mode, imported_keys: r.importedKeys, imported_accounts: r.importedAccounts, updated_accounts: r.updatedAccounts });
        return r;
      });
      await publish(EVERYTHING);
      return { importedKeys: result.importedKeys, importedAccounts: result.importedAccounts, updatedAccounts: result.updatedAccounts };
    },

    async mergeImport(who, body) {
      let parsed: { keys: NonNullable<Ds2ApiConfig["apiKeys"]>; accounts: ConfigAccount[]; warnings: string[] };
      try {
        const { config, warnings } = parseDs2ApiConfig({ ...body, proxies: await readStoredProxies(store) });
        parsed = { keys: config.apiKeys ?? [], accounts: config.accounts ?? [], warnings };
      } catch (e) {
        if (e instanceof ConfigError) throw invalid(e.message);
        throw e;
      }
      if (parsed.keys.some((k) => k.key.includes("****"))) throw invalid("masked API keys (with ****) cannot be imported; give the full keys");
      const result = await store.transaction(async (tx) => {
        const seenKeys = new Set<string>();
        const keys: typeof parsed.keys = [];
        for (const k of parsed.keys) {
          const hash = tx.apiKeys.hashOf(k.key);
          if (seenKeys.has(hash) || (await tx.apiKeys.get(hash))) continue;
          seenKeys.add(hash);
          keys.push(k);
        }
        const accounts: ConfigAccount[] = [];
        for (const a of parsed.accounts) if (!(await tx.accounts.conflictOf(a.identifier, a.mobile))) accounts.push(a);
        const r = await importConfigInto(tx, { apiKeys: keys, accounts, sections: {}, extra: {} }, { mode: "merge", acceptTokens: false });
        const out = { importedKeys: r.importedKeys, importedAccounts: r.importedAccounts, skippedKeys: parsed.keys.length - keys.length, skippedAccounts: parsed.accounts.length - accounts.length, warnings: parsed.warnings };
        await writeAudit(tx, who, "import", undefined, {
          imported_keys: out.importedKeys,
          imported_accounts: out.importedAccounts,
          skipped_keys: out.skippedKeys,
          skipped_accounts: out.skippedAccounts,
          accounts: accounts.map((a) => a.identifier).slice(0, 50),
        });
        return { out, keyHashes: keys.map((k) => tx.apiKeys.hashOf(k.key)), accountIds: accounts.map((a) => a.identifier) };
      });
      const events: ChangeEvent[] = [];
      if (result.out.importedKeys) events.push({ topic: "keys.changed", ids: result.keyHashes });
      if (result.out.importedAccounts) events.push({ topic: "accounts.changed", ids: result.accountIds });
      await publish(events);
      return result.out;
    },
  };
}
