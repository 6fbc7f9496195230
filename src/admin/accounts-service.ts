/**
 * Admin writes to the DeepSeek accounts: add, bulk import, update, delete, enable/disable, proxy binding. Each
 * validates, writes and appends its audit row in one transaction, then publishes `accounts.changed` with the
 * identifiers (the account pool re-reads just those) and answers once the views have reloaded.
 */
import type { ChangePublisher } from "../core/changes/change-bus.ts";
import { canonicalMobile } from "../config/mobile.ts";
import type { ConfigAccount } from "../config/ds2api-config.ts";
import type { AccountListQuery, AccountRecord } from "../store/accounts-repo.ts";
import type { StoreApi, StoreRepos } from "../store/store-api.ts";
import { conflict, invalid, missing } from "./admin-error.ts";
import { writeAudit, type AdminActor } from "./audit-entry.ts";
import { parseBulkAccounts } from "./bulk-accounts.ts";
import { readStoredProxies } from "./stored-proxies.ts";
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
  page(query: AccountListQuery): Promise<{ items: AccountRecord[]; total: number }>;
  list(): Promise<AccountRecord[]>;
  /** By identifier, email (any case) or mobile in any spelling. */
  find(raw: string): Promise<AccountRecord | undefined>;
  count(): Promise<number>;
  add(who: AdminActor, input: AccountAddInput): Promise<{ identifier: string; total: number }>;
  bulkImport(who: AdminActor, text: string): Promise<BulkImportResult>;
  /** Write already-parsed accounts (one chunk of a bulk job) in one transaction with one audit row. */
  importParsed(who: AdminActor, accounts: ConfigAccount[], detail?: Record<string, unknown>): Promise<{ imported: number; updated: number }>;
  update(who: AdminActor, raw: string, input: AccountUpdateInput): Promise<{ identifier: string; total: number }>;
  remove(who: AdminActor, raw: string): Promise<{ identifier: string; total: number }>;
  setEnabled(who: AdminActor, raw: string, enabled: boolean): Promise<void>;
  setProxy(who: AdminActor, raw: string, proxyId: string | null | undefined): Promise<string | null>;
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

type Repos = Pick<StoreRepos, "accounts" | "settings">;

async function checkProxy(repos: Repos, proxyId: string | null | undefined): Promise<void> {
  if (proxyId && !(await readStoredProxies(repos)).some((p) => p.id === proxyId)) throw invalid(`unknown proxy_id ${JSON.stringify(proxyId)}; add the proxy first`);
}

/** By identifier, email (any case) or mobile in any spelling, through `repos` (the root store or a transaction's). */
async function findIn(repos: Repos, raw: string): Promise<AccountRecord | undefined> {
  let id = raw.trim();
  try {
    id = decodeURIComponent(id);
  } catch {
    // already decoded
  }
  const repo = repos.accounts;
  const direct = (await repo.get(id)) ?? (id.toLowerCase() !== id ? await repo.get(id.toLowerCase()) : undefined);
  if (direct) return direct;
  if (!id.includes("@")) {
    const mobile = canonicalMobile(id);
    return mobile ? repo.lookup(mobile) : undefined;
  }
  return repo.lookup(id.toLowerCase());
}

async function requireIn(repos: Repos, raw: string): Promise<AccountRecord> {
  const a = await findIn(repos, raw);
  if (!a) throw missing(`account ${JSON.stringify(raw)} not found`);
  return a;
}

export function accountsAdmin(store: StoreApi, changes: ChangePublisher): AccountsAdmin {
  /** Tell the views, and answer only once they serve the change. */
  const changed = async (ids: string[], removed?: string[]) => {
    changes.publish({ topic: "accounts.changed", ids, ...(removed ? { removed } : {}) });
    await changes.settled();
  };
  const writeParsed = async (who: AdminActor, accounts: ConfigAccount[], detail?: Record<string, unknown>) => {
    const counts = await store.transaction(async (tx) => {
      let imported = 0;
      let updated = 0;
      for (const a of accounts) {
        const isNew = await tx.accounts.upsert({ identifier: a.identifier, email: a.email, mobile: a.mobile, password: a.password, name: a.name, remark: a.remark, proxyId: a.proxy_id, deviceId: a.device_id, extra: a.extra });
        if (isNew) imported++;
        else updated++;
      }
      await writeAudit(tx, who, "accounts.bulk_import", undefined, { imported, updated, ...detail, identifiers: accounts.map((a) => a.identifier).slice(0, 50) });
      return { imported, updated };
    });
    if (counts.imported + counts.updated > 0) await changed(accounts.map((a) => a.identifier));
    return counts;
  };

  return {
    page: (query) => store.accounts.page(query),
    list: () => store.accounts.list(),
    find: (raw) => findIn(store, raw),
    count: () => store.accounts.count(),

    async add(who, input) {
      const email = input.email?.trim().toLowerCase() || undefined;
      const mobile = input.mobile?.trim() ? canonicalMobile(input.mobile) || undefined : undefined;
      if (input.mobile?.trim() && !mobile) throw invalid("mobile must contain digits");
      if (email && !/^[^\s@]+@[^\s@]+$/.test(email)) throw invalid(`${JSON.stringify(email)} is not an email address`);
      const identifier = email ?? mobile;
      if (!identifier) throw invalid("email or mobile is required");
      const proxyId = input.proxy_id?.trim() || undefined;
      const deviceId = deviceIdOf(input.device_id) ?? undefined;
      const total = await store.transaction(async (tx) => {
        if (await tx.accounts.conflictOf(identifier, mobile)) throw conflict(`account ${identifier} already exists`);
        await checkProxy(tx, proxyId);
        await tx.accounts.insert({ identifier, email, mobile, password: input.password.trim(), name: input.name?.trim() || undefined, remark: input.remark?.trim() || undefined, proxyId, deviceId });
        await writeAudit(tx, who, "accounts.add", identifier, { name: input.name, proxy_id: input.proxy_id });
        return tx.accounts.count();
      });
      await changed([identifier]);
      return { identifier, total };
    },

    async bulkImport(who, text) {
      const { accounts, errors } = parseBulkAccounts(text, await readStoredProxies(store));
      const { imported, updated } = await writeParsed(who, accounts, { errors: errors.length });
      return { imported, updated, errors };
    },

    importParsed: (who, accounts, detail) => writeParsed(who, accounts, detail),

    async update(who, raw, input) {
      const proxyId = blankToNull(input.proxy_id);
      const deviceId = deviceIdOf(input.device_id);
      const { identifier, total } = await store.transaction(async (tx) => {
        const a = await requireIn(tx, raw);
        await checkProxy(tx, proxyId);
        await tx.accounts.updateProfile(a.identifier, { name: blankToNull(input.name), remark: blankToNull(input.remark), proxyId });
        if (input.password !== undefined) await tx.accounts.upsert({ identifier: a.identifier, password: input.password.trim() });
        // A new device id ends a risk_device state (the operator's fix) and drops the old device's token.
        if (deviceId !== undefined) await tx.accounts.setDeviceId(a.identifier, deviceId);
        await writeAudit(tx, who, "accounts.update", a.identifier, {
          fields: Object.keys(input),
          ...(input.password !== undefined ? { password_changed: true } : {}),
          ...(deviceId !== undefined ? { device_id: deviceId === null ? "regenerated" : maskDeviceId(deviceId) } : {}),
        });
        return { identifier: a.identifier, total: await tx.accounts.count() };
      });
      await changed([identifier]);
      return { identifier, total };
    },

    async remove(who, raw) {
      const { identifier, total } = await store.transaction(async (tx) => {
        const a = await requireIn(tx, raw);
        await tx.accounts.delete(a.identifier);
        await writeAudit(tx, who, "accounts.delete", a.identifier);
        return { identifier: a.identifier, total: await tx.accounts.count() };
      });
      await changed([identifier], [identifier]);
      return { identifier, total };
    },

    async setEnabled(who, raw, enabled) {
      const identifier = await store.transaction(async (tx) => {
        const a = await requireIn(tx, raw);
        await tx.accounts.setEnabled(a.identifier, enabled);
        await writeAudit(tx, who, enabled ? "accounts.enable" : "accounts.disable", a.identifier);
        return a.identifier;
      });
      await changed([identifier]);
    },

    async setProxy(who, raw, proxyIdRaw) {
      const proxyId = blankToNull(proxyIdRaw) ?? null;
      const identifier = await store.transaction(async (tx) => {
        const a = await requireIn(tx, raw);
        await checkProxy(tx, proxyId);
        await tx.accounts.updateProfile(a.identifier, { proxyId });
        await writeAudit(tx, who, "accounts.proxy", a.identifier, { proxy_id: proxyId });
        return a.identifier;
      });
      await changed([identifier]);
      return proxyId;
    },
  };
}
