/**
 * `POST /admin/import` (Go ds2api §12.2): a merge-only bulk add of API keys and accounts that skips
 * duplicates. Body `{api_keys?, keys?, accounts?}` in the config file's shapes; answer
 * `{success, imported_keys, imported_accounts}` (plus what was skipped). Entries are validated by the
 * config parser and written by the config service (keys stored hashed, accounts with sealed passwords).
 */
import { t } from "elysia";
import type { Elysia } from "elysia";
import type { ConfigAdmin } from "../../admin/config-service.ts";
import { badRequest } from "../http-error.ts";
import type { AdminServices } from "../../admin/admin-services.ts";
import type { RequestActor } from "./admin-deps.ts";

const FIELDS = ["api_keys", "keys", "accounts"];

/** Only the three lists: anything else (proxies, settings, …) belongs to /admin/config/import and is refused, not dropped. */
function checkFields(body: Record<string, unknown>): void {
  const unknown = Object.keys(body).filter((k) => !FIELDS.includes(k));
  if (unknown.length) throw badRequest(`/admin/import takes only api_keys, keys and accounts (got ${unknown.map((k) => JSON.stringify(k)).join(", ")}); use /admin/config/import for a whole config`);
  if (!FIELDS.some((k) => body[k] !== undefined)) throw badRequest("nothing to import: send api_keys, keys and/or accounts");
}

export function importRoutes(d: Pick<AdminServices, "config"> & RequestActor) {
  const config: ConfigAdmin = d.config;
  return (app: Elysia<"/admin">) =>
    app.post(
      "/import",
      async ({ body, request }) => {
        checkFields(body);
        const r = await config.mergeImport(d.whoIs(request), body);
        return {
          success: true,
          imported_keys: r.importedKeys,
          imported_accounts: r.importedAccounts,
          skipped_keys: r.skippedKeys,
          skipped_accounts: r.skippedAccounts,
          ...(r.warnings.length ? { warnings: r.warnings } : {}),
        };
      },
      { body: t.Record(t.String(), t.Unknown()) },
    );
}
