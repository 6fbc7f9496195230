/**
 * ds2api config: masked read, partial replace, import (object, {config}, {json} or {base64}; merge or
 * replace) and export (ds2api format). Export: account/proxy passwords only with ?include_secrets=1,
 * tokens never, API keys never (only their hashes are stored) — the document and the answer say so in
 * `_ds2api_note` / `omitted`.
 */
import { Elysia, t } from "elysia";
import { importConfig, readConfig, type ImportMode } from "../../config/config-sync.ts";
import { SETTING_KEYS } from "../../store/setting-keys.ts";
import { buildDs2ApiConfig, ConfigError, decodeConfigText, EXPORT_NOTE_KEY, exportNote, parseDs2ApiConfig } from "../../config/ds2api-config.ts";
import { badRequest } from "../http-error.ts";
import { audit, type AdminDeps } from "./admin-deps.ts";
import { accountView } from "./account-view.ts";
import { storedProxies } from "./accounts-routes.ts";
import { validateAliases } from "./settings-validation.ts";

const KeyEntry = t.Union([
  t.String({ maxLength: 512 }),
  t.Object({ key: t.Optional(t.String({ maxLength: 512 })), key_id: t.Optional(t.String({ maxLength: 64 })), name: t.Optional(t.String({ maxLength: 200 })), remark: t.Optional(t.String({ maxLength: 2000 })) }),
]);

const ConfigBody = t.Object({
  api_keys: t.Optional(t.Array(KeyEntry)),
  keys: t.Optional(t.Array(t.String({ maxLength: 512 }))),
  accounts: t.Optional(t.Array(t.Record(t.String(), t.Unknown()))),
  model_aliases: t.Optional(t.Record(t.String(), t.String())),
});

/** Parse, turning ConfigError into 400 {detail}. */
function parseOr400(input: unknown) {
  try {
    return parseDs2ApiConfig(input);
  } catch (e) {
    if (e instanceof ConfigError) throw badRequest(e.message);
    throw e;
  }
}

/** A posted key entry: an existing stored key (by key_id, its masked preview or its full value) or a new raw key. */
type ResolvedKey = { hash: string; key?: string; name?: string; remark?: string };

/** Resolve a posted key entry against the stored keys: key_id or a masked preview names an existing key. */
function resolveKeyEntry(d: AdminDeps, entry: string | { key?: string; key_id?: string; name?: string; remark?: string }): ResolvedKey {
  const e = typeof entry === "string" ? { key: entry } : entry;
  const repo = d.ctx.store.apiKeys;
  const extra = { name: e.name?.trim() || undefined, remark: e.remark?.trim() || undefined };
  if (e.key_id) {
    const byId = repo.byId(e.key_id);
    if (!byId) throw badRequest(`unknown key_id ${JSON.stringify(e.key_id)}`);
    return { hash: byId.hash, ...extra };
  }
  const key = e.key?.trim();
  if (!key) throw badRequest("each api_keys entry needs key or key_id");
  if (key.includes("****")) {
    const matches = repo.list().filter((k) => k.preview === key);
    if (matches.length !== 1) throw badRequest(`${JSON.stringify(key)} is a masked key preview that does not name exactly one stored key; send key_id instead`);
    return { hash: matches[0]!.hash, ...extra };
  }
  return { hash: repo.hashOf(key), key, ...extra };
}

/** The import body: a config, `{config, mode}`, `{json: "…"}` or `{base64: "…"}`. */
function importDocument(body: Record<string, unknown>): unknown {
  if (body.config && typeof body.config === "object") return body.config;
  try {
    if (typeof body.config === "string") return decodeConfigText(body.config);
    if (typeof body.json === "string") return decodeConfigText(body.json);
    if (typeof body.base64 === "string") return decodeConfigText(body.base64);
  } catch (e) {
    if (e instanceof ConfigError) throw badRequest(e.message);
    throw e;
  }
  const { mode: _mode, ...rest } = body;
  return rest;
}

function reloadAll(d: AdminDeps): void {
  d.ctx.apiKeys.reload();
  d.ctx.settings.invalidate();
  d.ctx.providers.reload();
  d.usage.quotasChanged();
}

export function configRoutes(d: AdminDeps) {
  const { store, options } = d.ctx;
  const exportHandler = ({ query }: { query: { include_secrets?: string } }) => {
    const withSecrets = query.include_secrets === "1" || query.include_secrets === "true";
    const omittedKeys = store.apiKeys.count();
    const note = exportNote({ includeSecrets: withSecrets, omittedKeys });
    const config = { [EXPORT_NOTE_KEY]: note, ...buildDs2ApiConfig(readConfig(store), { includeSecrets: withSecrets }) };
    const json = JSON.stringify(config, null, 2);
    return {
      success: true,
      secrets_included: withSecrets,
      omitted: { api_keys: omittedKeys, account_tokens: true, passwords: !withSecrets },
      note,
      config,
      json,
      base64: Buffer.from(json, "utf8").toString("base64"),
    };
  };
  const ExportQuery = t.Object({ include_secrets: t.Optional(t.String({ maxLength: 8 })) });
  return (app: Elysia<"/admin">) =>
    app
      .get("/config", () => {
        const doc = readConfig(store);
        const keys = store.apiKeys.list();
        const now = Date.now();
        return {
          keys: keys.map((k) => k.preview),
          api_keys: keys.map((k) => ({ key: k.preview, key_id: k.id, name: k.name ?? "", remark: k.remark ?? "" })),
          accounts: store.accounts.list().map((a) => accountView(d, a, now)),
          proxies: (doc.proxies ?? []).map((p) => ({ id: p.id, name: p.name, type: p.type, host: p.host, port: p.port, username: p.username ?? "", has_password: Boolean(p.password) })),
          model_aliases: doc.modelAliases ?? {},
          env_backed: false,
          config_path: options.configPath,
          db_path: options.dbPath,
        };
      })
      .post(
        "/config",
        ({ body, request }) => {
          const keys = body.api_keys?.length ? body.api_keys.map((e) => resolveKeyEntry(d, e)) : body.keys ? body.keys.map((k) => resolveKeyEntry(d, k)) : body.api_keys ? [] : undefined;
          const accounts = body.accounts ? parseOr400({ accounts: body.accounts, proxies: storedProxies(d) }).config.accounts ?? [] : undefined;
          const aliases = body.model_aliases ? validateAliases(body.model_aliases, d.ctx.providers.catalog()) : undefined;
          store.transaction(() => {
            if (keys) {
              const keep = new Set(keys.map((k) => k.hash));
              for (const k of store.apiKeys.list()) if (!keep.has(k.hash)) {
                store.apiKeys.delete(k.hash);
                store.keyUsage.forget(k.hash);
              }
              for (const k of keys) {
                if (k.key) store.apiKeys.upsert({ key: k.key });
                store.apiKeys.update(k.hash, { name: k.name ?? null, remark: k.remark ?? null });
              }
            }
            if (accounts) {
              const keep = new Set(accounts.map((a) => a.identifier));
              for (const a of store.accounts.list()) if (!keep.has(a.identifier)) store.accounts.delete(a.identifier);
              for (const a of accounts) {
                store.accounts.upsert({ identifier: a.identifier, email: a.email, mobile: a.mobile, password: a.password, deviceId: a.device_id, extra: a.extra });
                store.accounts.updateProfile(a.identifier, { name: a.name ?? null, remark: a.remark ?? null, proxyId: a.proxy_id ?? null });
              }
            }
            if (aliases) store.settings.set(SETTING_KEYS.modelAliases, aliases);
          });
          reloadAll(d);
          audit(d, request, "config.update", undefined, {
            api_keys: keys?.length,
            accounts: accounts?.map((a) => a.identifier),
            model_aliases: aliases,
          });
          return { success: true, message: "config updated" };
        },
        { body: ConfigBody },
      )
      .post(
        "/config/import",
        ({ body, query, request }) => {
          const raw = body as Record<string, unknown>;
          const modeRaw = query.mode ?? (typeof raw.mode === "string" ? raw.mode : undefined) ?? "merge";
          if (modeRaw !== "merge" && modeRaw !== "replace") throw badRequest(`mode must be "merge" or "replace" (got ${JSON.stringify(modeRaw)})`);
          const mode = modeRaw as ImportMode;
          const { config, warnings } = parseOr400(importDocument(raw));
          if (config.apiKeys?.some((k) => k.key.includes("****"))) throw badRequest("the config holds masked API keys; ds2api stores only key hashes, so keys cannot be exported — give the full keys");
          if (config.modelAliases) validateAliases(config.modelAliases, d.ctx.providers.catalog());
          // The admin password is not something a replace should silently drop.
          const adminBefore = store.settings.get<Record<string, unknown>>(SETTING_KEYS.admin);
          const result = store.transaction(() => {
            const r = importConfig(store, config, { mode, acceptTokens: false });
            if (mode === "replace" && !config.admin && adminBefore) store.settings.set(SETTING_KEYS.admin, adminBefore);
            return r;
          });
          reloadAll(d);
          audit(d, request, "config.import", undefined, { mode, imported_keys: result.importedKeys, imported_accounts: result.importedAccounts, updated_accounts: result.updatedAccounts });
          return {
            success: true,
            mode,
            imported_keys: result.importedKeys,
            imported_accounts: result.importedAccounts,
            updated_accounts: result.updatedAccounts,
            warnings,
            message: "config imported",
          };
        },
        {
          body: t.Record(t.String(), t.Unknown()),
          query: t.Object({ mode: t.Optional(t.String({ maxLength: 16 })) }),
        },
      )
      .get("/config/export", exportHandler, { query: ExportQuery })
      .get("/export", exportHandler, { query: ExportQuery });
}
