/**
 * `POST /admin/import` (Go ds2api §12.2): a merge-only bulk add of API keys and accounts that skips
 * duplicates. Body `{api_keys?, keys?, accounts?}` in the config file's shapes; answer
 * `{success, imported_keys, imported_accounts}` (plus what was skipped). Entries are validated by the
 * config parser and written by the config import (keys stored hashed, accounts with sealed passwords).
 */
import { t } from "elysia";
import type { Elysia } from "elysia";
import { importConfig } from "../../config/config-sync.ts";
import { ConfigError, parseDs2ApiConfig, type ConfigAccount, type ConfigApiKey } from "../../config/ds2api-config.ts";
import { badRequest } from "../http-error.ts";
import { audit, type AdminDeps } from "./admin-deps.ts";
import { findAccount } from "./account-view.ts";
import { storedProxies } from "./accounts-routes.ts";

const FIELDS = ["api_keys", "keys", "accounts"];

/** Only the three lists: anything else (proxies, settings, …) belongs to /admin/config/import and is refused, not dropped. */
function checkFields(body: Record<string, unknown>): void {
  const unknown = Object.keys(body).filter((k) => !FIELDS.includes(k));
  if (unknown.length) throw badRequest(`/admin/import takes only api_keys, keys and accounts (got ${unknown.map((k) => JSON.stringify(k)).join(", ")}); use /admin/config/import for a whole config`);
  if (!FIELDS.some((k) => body[k] !== undefined)) throw badRequest("nothing to import: send api_keys, keys and/or accounts");
}

function parseEntries(d: AdminDeps, body: Record<string, unknown>): { keys: ConfigApiKey[]; accounts: ConfigAccount[]; warnings: string[] } {
  try {
    const { config, warnings } = parseDs2ApiConfig({ ...body, proxies: storedProxies(d) });
    return { keys: config.apiKeys ?? [], accounts: config.accounts ?? [], warnings };
  } catch (e) {
    if (e instanceof ConfigError) throw badRequest(e.message);
    throw e;
  }
}

export function importRoutes(d: AdminDeps) {
  const { store, providers, apiKeys } = d.ctx;
  return (app: Elysia<"/admin">) =>
    app.post(
      "/import",
      ({ body, request }) => {
        checkFields(body);
        const parsed = parseEntries(d, body);
        if (parsed.keys.some((k) => k.key.includes("****"))) throw badRequest("masked API keys (with ****) cannot be imported; give the full keys");
        const seenKeys = new Set<string>();
        const keys = parsed.keys.filter((k) => {
          const hash = store.apiKeys.hashOf(k.key);
          if (seenKeys.has(hash) || store.apiKeys.get(hash)) return false;
          seenKeys.add(hash);
          return true;
        });
        const isKnown = (a: ConfigAccount) => [a.identifier, a.email, a.mobile].some((id) => id && findAccount(d, id));
        const accounts = parsed.accounts.filter((a) => !isKnown(a));
        const result = importConfig(store, { apiKeys: keys, accounts, sections: {}, extra: {} }, { mode: "merge", acceptTokens: false });
        if (result.importedKeys) apiKeys.reload();
        if (result.importedAccounts) providers.reload();
        const skippedKeys = parsed.keys.length - keys.length;
        const skippedAccounts = parsed.accounts.length - accounts.length;
        audit(d, request, "import", undefined, {
          imported_keys: result.importedKeys,
          imported_accounts: result.importedAccounts,
          skipped_keys: skippedKeys,
          skipped_accounts: skippedAccounts,
          accounts: accounts.map((a) => a.identifier).slice(0, 50),
        });
        return {
          success: true,
          imported_keys: result.importedKeys,
          imported_accounts: result.importedAccounts,
          skipped_keys: skippedKeys,
          skipped_accounts: skippedAccounts,
          ...(parsed.warnings.length ? { warnings: parsed.warnings } : {}),
        };
      },
      { body: t.Record(t.String(), t.Unknown()) },
    );
}
