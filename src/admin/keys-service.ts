/**
 * Admin writes to the client API keys: create (the full key is returned once), update name/remark/quota, delete.
 * Each validates, writes and audits in one transaction, then publishes `keys.changed` with the key hashes (the
 * key index and the quota tracker follow).
 */
import { randomBytes } from "node:crypto";
import type { ChangePublisher } from "../core/changes/change-bus.ts";
import type { ApiKeyRecord } from "../store/api-keys-repo.ts";
import type { KeyQuota, KeyUsage } from "../store/key-usage-repo.ts";
import type { StoreApi, StoreRepos } from "../store/store-api.ts";
import { conflict, invalid, missing } from "./admin-error.ts";
import { writeAudit, type AdminActor } from "./audit-entry.ts";

export interface KeyAddInput {
  /** Absent: one is generated. */
  key?: string;
  name?: string;
  remark?: string;
}

/** `null` clears (a 0 limit too: unlimited); `undefined` leaves a field. */
export interface KeyUpdateInput {
  name?: string | null;
  remark?: string | null;
  quota?: { requests_per_minute?: number | null; tokens_per_day?: number | null };
}

export interface KeysAdmin {
  list(): Promise<ApiKeyRecord[]>;
  /** By key_id or full value. */
  find(ref: string): Promise<ApiKeyRecord | undefined>;
  count(): Promise<number>;
  usage(hash: string): Promise<KeyUsage>;
  quota(hash: string): Promise<KeyQuota>;
  add(who: AdminActor, input: KeyAddInput): Promise<{ key: string; record: ApiKeyRecord; total: number }>;
  update(who: AdminActor, ref: string, input: KeyUpdateInput): Promise<{ total: number }>;
  remove(who: AdminActor, ref: string): Promise<{ total: number }>;
}

/** By key_id or full value, through `repos` (the root store or a transaction's). */
async function findIn(repos: Pick<StoreRepos, "apiKeys">, ref: string): Promise<ApiKeyRecord | undefined> {
  let id = ref;
  try {
    id = decodeURIComponent(ref);
  } catch {
    // keep as is
  }
  return (await repos.apiKeys.byId(id)) ?? (await repos.apiKeys.find(id));
}

async function requireIn(repos: Pick<StoreRepos, "apiKeys">, ref: string): Promise<ApiKeyRecord> {
  const k = await findIn(repos, ref);
  if (!k) throw missing("API key not found");
  return k;
}

export function keysAdmin(store: StoreApi, changes: ChangePublisher): KeysAdmin {
  /** Tell the key index and the quota tracker, and answer only once they serve the change. */
  const changed = async (hash: string, removed = false) => {
    changes.publish({ topic: "keys.changed", ids: [hash], ...(removed ? { removed: [hash] } : {}) });
    await changes.settled();
  };
  return {
    list: () => store.apiKeys.list(),
    find: (ref) => findIn(store, ref),
    count: () => store.apiKeys.count(),
    usage: (hash) => store.keyUsage.usage(hash),
    quota: (hash) => store.keyUsage.quota(hash),

    async add(who, input) {
      let key = input.key;
      if (key === undefined) key = `sk-${randomBytes(24).toString("base64url")}`;
      key = key.trim();
      if (!key) throw invalid("key must not be empty (omit it to have one generated)");
      if (/\s/.test(key)) throw invalid("key must not contain whitespace");
      if (key.includes("****")) throw invalid("key looks like a masked preview; give the full key or omit it");
      const raw = key;
      const { record, total } = await store.transaction(async (tx) => {
        if (await tx.apiKeys.find(raw)) throw conflict("this key already exists");
        await tx.apiKeys.upsert({ key: raw, name: input.name?.trim() || undefined, remark: input.remark?.trim() || undefined });
        const added = await tx.apiKeys.find(raw);
        if (!added) throw new Error("the key just written cannot be read back");
        await writeAudit(tx, who, "keys.add", added.preview, { key_id: added.id, name: input.name });
        return { record: added, total: await tx.apiKeys.count() };
      });
      await changed(record.hash);
      return { key: raw, record, total };
    },

    async update(who, ref, input) {
      const { hash, total } = await store.transaction(async (tx) => {
        const k = await requireIn(tx, ref);
        await tx.apiKeys.update(k.hash, {
          name: input.name === undefined ? undefined : input.name?.trim() || null,
          remark: input.remark === undefined ? undefined : input.remark?.trim() || null,
        });
        if (input.quota) {
          const current = await tx.keyUsage.quota(k.hash);
          const pick = (v: number | null | undefined, old: number | undefined) => (v === undefined ? old : v || undefined);
          await tx.keyUsage.setQuota(k.hash, {
            requestsPerMinute: pick(input.quota.requests_per_minute, current.requestsPerMinute),
            tokensPerDay: pick(input.quota.tokens_per_day, current.tokensPerDay),
          });
        }
        await writeAudit(tx, who, "keys.update", k.preview, { key_id: k.id, fields: Object.keys(input), quota: input.quota });
        return { hash: k.hash, total: await tx.apiKeys.count() };
      });
      await changed(hash);
      return { total };
    },

    async remove(who, ref) {
      const { hash, total } = await store.transaction(async (tx) => {
        const k = await requireIn(tx, ref);
        await tx.apiKeys.delete(k.hash);
        await tx.keyUsage.forget(k.hash);
        await writeAudit(tx, who, "keys.delete", k.preview, { key_id: k.id });
        return { hash: k.hash, total: await tx.apiKeys.count() };
      });
      await changed(hash, true);
      return { total };
    },
  };
}
