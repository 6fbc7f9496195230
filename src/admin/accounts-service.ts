/**
 * Admin writes to the DeepSeek accounts: add, bulk import, update, delete, enable/disable, proxy binding. Each
 * validates, writes and appends its audit row in one transaction, then publishes `accounts.changed` with the
 * identifiers (the account pool re-reads just those).
 */
import type { ChangePublisher } from "../core/changes/change-bus.ts";
import { canonicalMobile } from "../config/mobile.ts";
import type { ConfigAccount } from "../config/ds2api-config.ts";
import type { AccountListQuery, AccountRecord } from "../store/accounts-repo.ts";
import type { Store } from "../store/store.ts";
import { conflict, invalid, missing } from "./admin-error.ts";
import { writeAudit, type AdminActor } from "./audit-entry.ts";
import { parseBulkAccounts } from "./bulk-accounts.ts";
import { storedProxies } from "./stored-proxies.ts";
import { deviceIdProblem, maskDeviceId } from "../store/device-id.ts";

export interface AccountAddInput {
  email?: string;
  mobile?: string;
  password: string;
  name?: string;
  remark?: string;
  proxy_id?: string;
  /** A device id captured from a real login; absent = a fresh random one. */
  device_id?: string;
}

/** `null` (or blank) clears a field; `undefined` leaves it. */
export interface AccountUpdateInput {
  name?: string | null;
  remark?: string | null;
  password?: string;
  proxy_id?: string | null;
  /** A new device id; "" or null = a fresh random one (either ends a `risk_device` state). */
  device_id?: string | null;
}

export interface BulkImportResult {
  imported: number;
  updated: number;
  errors: string[];
}

/** What the admin account routes need. */
export interface AccountsAdmin {
  page(query: AccountListQuery): { items: AccountRecord[]; total: number };
  list(): AccountRecord[];
  /** By identifier, email (any case) or mobile in any spelling. */
  find(raw: string): AccountRecord | undefined;
  count(): number;
  add(who: AdminActor, input: AccountAddInput): { identifier: string; total: number };
  bulkImport(who: AdminActor, text: string): BulkImportResult;
  /** Write already-parsed accounts (one chunk of a bulk job) in one transaction with one audit row. */
  importParsed(who: AdminActor, accounts: ConfigAccount[], detail?: Record<string, unknown>): { imported: number; updated: number };
  update(who: AdminActor, raw: string, input: AccountUpdateInput): { identifier: string; total: number };
  remove(who: AdminActor, raw: string): { identifier: string; total: number };
  setEnabled(who: AdminActor, raw: string, enabled: boolean): void;
  setProxy(who: AdminActor, raw: string, proxyId: string | null | undefined): string | null;
}

const blankToNull = (v: string | null | undefined) => (v === undefined ? undefined : v === null || v.trim() === "" ? null : v.trim());

/** The device id of an add / update: undefined = keep (or generate), null = a fresh random one; 400 when unusable. */
function deviceIdOf(raw: string | null | undefined): string | null | undefined {
  const v = blankToNull(raw);
  if (!v) return v;
  const problem = deviceIdProblem(v);
  if (problem) throw invalid(`device_id ${problem}`);
  return v;
}

export function accountsAdmin(store: Store, changes: ChangePublisher): AccountsAdmin {
  const checkProxy = (proxyId: string | null | undefined) => {
    if (proxyId && !storedProxies(store).some((p) => p.id === proxyId)) throw invalid(`unknown proxy_id ${JSON.stringify(proxyId)}; add the proxy first`);
  };
  const find = (raw: string): AccountRecord | undefined => {
    let id = raw.trim();
    try {
      id = decodeURIComponent(id);
    } catch {
      // already decoded
    }
    const repo = store.accounts;
    const direct = repo.get(id) ?? (id.toLowerCase() !== id ? repo.get(id.toLowerCase()) : undefined);
    if (direct) return direct;
    if (!id.includes("@")) {
      const mobile = canonicalMobile(id);
      return mobile ? repo.lookup(mobile) : undefined;
    }
    return repo.lookup(id.toLowerCase());
  };
  const require = (raw: string) => {
    const a = find(raw);
    if (!a) throw missing(`account ${JSON.stringify(raw)} not found`);
    return a;
  };
  const changed = (ids: string[], removed?: string[]) => changes.publish({ topic: "accounts.changed", ids, ...(removed ? { removed } : {}) });
  const writeParsed = (who: AdminActor, accounts: ConfigAccount[], detail?: Record<string, unknown>) => {
    let imported = 0;
    let updated = 0;
    store.transaction(() => {
      for (const a of accounts) {
        const isNew = store.accounts.upsert({ identifier: a.identifier, email: a.email, mobile: a.mobile, password: a.password, name: a.name, remark: a.remark, proxyId: a.proxy_id, deviceId: a.device_id, extra: a.extra });
        if (isNew) imported++;
        else updated++;
      }
      writeAudit(store, who, "accounts.bulk_import", undefined, { imported, updated, ...detail, identifiers: accounts.map((a) => a.identifier).slice(0, 50) });
    });
    if (imported + updated > 0) changed(accounts.map((a) => a.identifier));
    return { imported, updated };
  };

  return {
    page: (query) => store.accounts.page(query),
    list: () => store.accounts.list(),
    find,
    count: () => store.accounts.count(),

    add(who, input) {
      const email = input.email?.trim().toLowerCase() || undefined;
      const mobile = input.mobile?.trim() ? canonicalMobile(input.mobile) || undefined : undefined;
      if (input.mobile?.trim() && !mobile) throw invalid("mobile must contain digits");
      if (email && !/^[^\s@]+@[^\s@]+$/.test(email)) throw invalid(`${JSON.stringify(email)} is not an email address`);
      const identifier = email ?? mobile;
      if (!identifier) throw invalid("email or mobile is required");
      const proxyId = input.proxy_id?.trim() || undefined;
      const total = store.transaction(() => {
        if (store.accounts.conflictOf(identifier, mobile)) throw conflict(`account ${identifier} already exists`);
        checkProxy(proxyId);
        const deviceId = deviceIdOf(input.device_id) ?? undefined;
        store.accounts.insert({ identifier, email, mobile, password: input.password.trim(), name: input.name?.trim() || undefined, remark: input.remark?.trim() || undefined, proxyId, deviceId });
        writeAudit(store, who, "accounts.add", identifier, { name: input.name, proxy_id: input.proxy_id });
        return store.accounts.count();
      });
      changed([identifier]);
      return { identifier, total };
    },

    bulkImport(who, text) {
      const { accounts, errors } = parseBulkAccounts(text, storedProxies(store));
      const { imported, updated } = writeParsed(who, accounts, { errors: errors.length });
      return { imported, updated, errors };
    },

    importParsed: (who, accounts, detail) => writeParsed(who, accounts, detail),

    update(who, raw, input) {
      const proxyId = blankToNull(input.proxy_id);
      const { identifier, total } = store.transaction(() => {
        const a = require(raw);
        checkProxy(proxyId);
        const deviceId = deviceIdOf(input.device_id);
        store.accounts.updateProfile(a.identifier, { name: blankToNull(input.name), remark: blankToNull(input.remark), proxyId });
        if (input.password !== undefined) store.accounts.upsert({ identifier: a.identifier, password: input.password.trim() });
        // A new device id ends a risk_device state (the operator's fix) and drops the old device's token.
        if (deviceId !== undefined) store.accounts.setDeviceId(a.identifier, deviceId);
        writeAudit(store, who, "accounts.update", a.identifier, {
          fields: Object.keys(input),
          ...(input.password !== undefined ? { password_changed: true } : {}),
          ...(deviceId !== undefined ? { device_id: deviceId === null ? "regenerated" : maskDeviceId(deviceId) } : {}),
        });
        return { identifier: a.identifier, total: store.accounts.count() };
      });
      changed([identifier]);
      return { identifier, total };
    },

    remove(who, raw) {
      const { identifier, total } = store.transaction(() => {
        const a = require(raw);
        store.accounts.delete(a.identifier);
        writeAudit(store, who, "accounts.delete", a.identifier);
        return { identifier: a.identifier, total: store.accounts.count() };
      });
      changed([identifier], [identifier]);
      return { identifier, total };
    },

    setEnabled(who, raw, enabled) {
      const identifier = store.transaction(() => {
        const a = require(raw);
        store.accounts.setEnabled(a.identifier, enabled);
        writeAudit(store, who, enabled ? "accounts.enable" : "accounts.disable", a.identifier);
        return a.identifier;
      });
      changed([identifier]);
    },

    setProxy(who, raw, proxyIdRaw) {
      const proxyId = blankToNull(proxyIdRaw) ?? null;
      const identifier = store.transaction(() => {
        const a = require(raw);
        checkProxy(proxyId);
        store.accounts.updateProfile(a.identifier, { proxyId });
        writeAudit(store, who, "accounts.proxy", a.identifier, { proxy_id: proxyId });
        return a.identifier;
      });
      changed([identifier]);
      return proxyId;
    },
  };
}
