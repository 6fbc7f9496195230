/**
 * The admin core: one service per admin area, all over the same store and change publisher. Built once per
 * server by the admin routes; routes hold only the services they need.
 */
import type { ChangePublisher } from "../core/changes/change-bus.ts";
import type { ModelCatalog } from "../core/models/index.ts";
import type { StoreApi } from "../store/store-api.ts";
import { accountsAdmin, type AccountsAdmin } from "./accounts-service.ts";
import { auditLog, type AuditLog } from "./audit-entry.ts";
import { configAdmin, type ConfigAdmin } from "./config-service.ts";
import { credentialsAdmin, type CredentialsAdmin } from "./credentials-service.ts";
import { keysAdmin, type KeysAdmin } from "./keys-service.ts";
import { proxiesAdmin, type ProxiesAdmin } from "./proxies-service.ts";
import { settingsAdmin, type AdminCredentialWriter, type SettingsAdmin } from "./settings-service.ts";

export interface AdminServices {
  accounts: AccountsAdmin;
  keys: KeysAdmin;
  proxies: ProxiesAdmin;
  settings: SettingsAdmin;
  config: ConfigAdmin;
  credentials: CredentialsAdmin;
  /** Audit rows for actions that write nothing else (tests, upstream session deletes, captures). */
  audit: AuditLog;
}

export interface AdminServicesDeps {
  store: StoreApi;
  changes: ChangePublisher;
  /** The model catalog aliases are checked against. */
  catalog: () => ModelCatalog;
  credentials: AdminCredentialWriter;
}

export function adminServices(deps: AdminServicesDeps): AdminServices {
  const { store, changes, catalog } = deps;
  return {
    accounts: accountsAdmin(store, changes),
    keys: keysAdmin(store, changes),
    proxies: proxiesAdmin(store, changes),
    settings: settingsAdmin(deps),
    config: configAdmin(store, changes, catalog),
    credentials: credentialsAdmin(store, changes),
    audit: auditLog(store),
  };
}
