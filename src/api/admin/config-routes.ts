/**
 * ds2api config: masked read, partial replace, import (object, {config}, {json} or {base64}; merge or
 * replace) and export (ds2api format). Export: account/proxy passwords only with ?include_secrets=1,
 * tokens never, API keys never (only their hashes are stored) — the document and the answer say so in
 * `_ds2api_note` / `omitted`.
 */
import { Elysia, t } from "elysia";
import type { ConfigAdmin } from "../../admin/config-service.ts";
import type { AdminServices } from "../../admin/admin-services.ts";
import type { ImportMode } from "../../config/config-sync.ts";
import type { ServerOptions } from "../../config/options.ts";
import { buildDs2ApiConfig, ConfigError, decodeConfigText, EXPORT_NOTE_KEY, exportNote } from "../../config/ds2api-config.ts";
import { badRequest } from "../http-error.ts";
import type { AccountLiveView, RequestActor } from "./admin-deps.ts";
import { accountView } from "./account-view.ts";

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

/** What the config routes need: the config, keys and accounts services, who is asking, account rows, the file paths. */
export type ConfigRouteDeps = Pick<AdminServices, "config" | "keys" | "accounts"> & RequestActor & AccountLiveView & { ctx: { options: Pick<ServerOptions, "configPath" | "dbPath"> } };

export function configRoutes(d: ConfigRouteDeps) {
  const { options } = d.ctx;
  const service: ConfigAdmin = d.config;
  const exportHandler = async ({ query }: { query: { include_secrets?: string } }) => {
    const withSecrets = query.include_secrets === "1" || query.include_secrets === "true";
    const omittedKeys = d.keys.count();
    const note = exportNote({ includeSecrets: withSecrets, omittedKeys });
    const config = { [EXPORT_NOTE_KEY]: note, ...buildDs2ApiConfig(await service.read(), { includeSecrets: withSecrets }) };
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
      .get("/config", async () => {
        const doc = await service.read();
        const keys = d.keys.list();
        const now = Date.now();
        return {
          keys: keys.map((k) => k.preview),
          api_keys: keys.map((k) => ({ key: k.preview, key_id: k.id, name: k.name ?? "", remark: k.remark ?? "" })),
          accounts: d.accounts.list().map((a) => accountView(d, a, now)),
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
          service.replace(d.whoIs(request), body);
          return { success: true, message: "config updated" };
        },
        { body: ConfigBody },
      )
      .post(
        "/config/import",
        async ({ body, query, request }) => {
          const raw = body as Record<string, unknown>;
          const modeRaw = query.mode ?? (typeof raw.mode === "string" ? raw.mode : undefined) ?? "merge";
          if (modeRaw !== "merge" && modeRaw !== "replace") throw badRequest(`mode must be "merge" or "replace" (got ${JSON.stringify(modeRaw)})`);
          const mode: ImportMode = modeRaw;
          const { config: doc, warnings } = service.parse(importDocument(raw));
          const result = await service.import(d.whoIs(request), doc, mode);
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
