/**
 * Admin writes to the client API keys: create (the full key is returned once), update name/remark/quota, delete.
 * Each validates, writes and audits in one transaction, then publishes `keys.changed` with the key hashes (the
 * key index and the quota tracker follow).
 */
import { randomBytes } from "node:crypto";
import type { ChangePublisher } from "../core/changes/change-bus.ts";
import type { ApiKeyRecord } from "../store/api-keys-repo.ts";
import type { KeyQuota, KeyUsage } from "../store/key-usage-repo.ts";
import type { Store } from "../store/store.ts";
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
  list(): ApiKeyRecord[];
  /** By key_id or full value. */
  find(ref: string): ApiKeyRecord | undefined;
  count(): number;
  usage(hash: string): KeyUsage;
  quota(hash: string): KeyQuota;
  add(who: AdminActor, input: KeyAddInput): { key: string; record: ApiKeyRecord; total: number };
  update(who: AdminActor, ref: string, input: KeyUpdateInput): { total: number };
  remove(who: AdminActor, ref: string): { total: number };
}

export function keysAdmin(store: Store, changes: ChangePublisher): KeysAdmin {
  const find = (ref: string) => {
    let id = ref;
    try {
      id = decodeURIComponent(ref);
    } catch {
      // keep as is
    }
    return store.apiKeys.byId(id) ?? store.apiKeys.find(id);
  };
  const require = (ref: string) => {
    const k = find(ref);
    if (!k) throw missing("API key not found");
    return k;
  };
  return {
    list: () => store.apiKeys.list(),
    find,
    count: () => store.apiKeys.count(),
    usage: (hash) => store.keyUsage.usage(hash),
    quota: (hash) => store.keyUsage.quota(hash),

    add(who, input) {
      let key = input.key;
      if (key === undefined) key = `sk-${randomBytes(24).toString("base64url")}`;
      key = key.trim();
      if (!key) throw invalid("key must not be empty (omit it to have one generated)");
      if (/\s/.test(key)) throw invalid("key must not contain whitespace");
      if (key.includes("****")) throw invalid("key looks like a masked preview; give the full key or omit it");
      const raw = key;
      const { record, total } = store.transaction(() => {
        if (store.apiKeys.find(raw)) throw conflict("this key already exists");
        store.apiKeys.upsert({ key: raw, name: input.name?.trim() || undefined, remark: input.remark?.trim() || undefined });
        const added = store.apiKeys.find(raw)!;
        writeAudit(store, who, "keys.add", added.preview, { key_id: added.id, name: input.name });
        return { record: added, total: store.apiKeys.count() };
      });
      changes.publish({ topic: "keys.changed", ids: [record.hash] });
      return { key: raw, record, total };
    },

    update(who, ref, input) {
      const { hash, total } = store.transaction(() => {
        const k = require(ref);
        store.apiKeys.update(k.hash, {
          name: input.name === undefined ? undefined : input.name?.trim() || null,
          remark: input.remark === undefined ? undefined : input.remark?.trim() || null,
        });
        if (input.quota) {
          const current = store.keyUsage.quota(k.hash);
          const pick = (v: number | null | undefined, old: number | undefined) => (v === undefined ? old : v || undefined);
          store.keyUsage.setQuota(k.hash, {
            requestsPerMinute: pick(input.quota.requests_per_minute, current.requestsPerMinute),
            tokensPerDay: pick(input.quota.tokens_per_day, current.tokensPerDay),
          });
        }
        writeAudit(store, who, "keys.update", k.preview, { key_id: k.id, fields: Object.keys(input), quota: input.quota });
        return { hash: k.hash, total: store.apiKeys.count() };
      });
      changes.publish({ topic: "keys.changed", ids: [hash] });
      return { total };
    },

    remove(who, ref) {
      const { hash, total } = store.transaction(() => {
        const k = require(ref);
        store.apiKeys.delete(k.hash);
        store.keyUsage.forget(k.hash);
        writeAudit(store, who, "keys.delete", k.preview, { key_id: k.id });
        return { hash: k.hash, total: store.apiKeys.count() };
      });
      changes.publish({ topic: "keys.changed", ids: [hash], removed: [hash] });
      return { total };
    },
  };
}
