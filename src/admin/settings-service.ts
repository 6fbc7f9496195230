/**
 * Admin writes to the runtime settings: a partial settings update (validated, merged section by section), the
 * console password (revokes every JWT), the chat-history limit and chat-history deletes. Each writes and audits in
 * one transaction, then publishes `settings.changed` with the setting keys it wrote (the settings cache and the
 * providers follow).
 */
import type { ChangePublisher } from "../core/changes/change-bus.ts";
import type { ModelCatalog } from "../core/models/index.ts";
import { TURN_LIMIT_KEYS } from "../config/runtime-settings.ts";
import { SETTING_KEYS } from "../store/setting-keys.ts";
import { asyncStore } from "../store/async-store.ts";
import type { StoreRepos } from "../store/store-api.ts";
import type { Store } from "../store/store.ts";
import { invalid, missing } from "./admin-error.ts";
import { writeAudit, type AdminActor } from "./audit-entry.ts";
import { validateAliases, validateSection } from "./settings-validation.ts";

/** Sections merged key by key into their stored object (null / undefined values drop the key). */
const MERGED_SECTIONS = ["client_identity", "thinking_injection", "responses", "embeddings", "auto_delete", "current_input_file", "chat_history", "dev_capture", "prompt", "pacing", "upstream"] as const;
/** Sections checked with the config file's rules. */
const CHECKED_SECTIONS = ["responses", "embeddings", "auto_delete", "current_input_file", "prompt", "pacing"] as const;
/** Runtime keys where 0 removes the override (back to the environment or the default). */
const CLEAR_ON_ZERO = new Set<string>(["account_max_inflight", "account_max_queue", "global_max_inflight", "token_refresh_interval_hours", ...TURN_LIMIT_KEYS]);

type Section = Record<string, unknown>;

/** A validated-by-schema `PUT /admin/settings` body. */
export interface SettingsUpdate {
  admin?: { jwt_expire_hours?: number };
  runtime?: Record<string, number | undefined>;
  model_aliases?: Record<string, string>;
  client_identity?: Section;
  thinking_injection?: Section;
  responses?: Section;
  embeddings?: Section;
  auto_delete?: Section;
  current_input_file?: Section;
  chat_history?: { limit?: number };
  dev_capture?: Section;
  prompt?: Section;
  pacing?: Section;
  upstream?: Section;
}

/** The credential side of the password change (src/security). */
export interface AdminCredentialWriter {
  setPasswordHash(hash: string, tx: Pick<StoreRepos, "settings">): Promise<void>;
  /** Revoke every JWT issued so far; returns the new cut-off (unix seconds). */
  revokeAll(tx: Pick<StoreRepos, "settings">): Promise<number>;
}

export interface SettingsAdmin {
  update(who: AdminActor, body: SettingsUpdate): void;
  /** Store an already hashed console password and revoke every JWT; returns the cut-off. */
  setPassword(who: AdminActor, hash: string): Promise<number>;
  setChatHistoryLimit(who: AdminActor, limit: number): void;
  clearChatHistory(who: AdminActor): void;
  deleteChatHistory(who: AdminActor, id: string): void;
}

export interface SettingsAdminDeps {
  store: Store;
  changes: ChangePublisher;
  catalog: () => ModelCatalog;
  credentials: AdminCredentialWriter;
}

export function settingsAdmin({ store, changes, catalog, credentials }: SettingsAdminDeps): SettingsAdmin {
  const changed = (ids: string[]) => changes.publish({ topic: "settings.changed", ids });
  return {
    update(who, body) {
      const aliases = body.model_aliases ? validateAliases(body.model_aliases, catalog()) : undefined;
      for (const name of CHECKED_SECTIONS) {
        const section = body[name];
        if (section) validateSection(name, section);
      }
      const written: string[] = [];
      store.transaction(() => {
        if (body.runtime) {
          const runtime: Record<string, number> = { ...(store.settings.get<Record<string, number>>(SETTING_KEYS.runtime) ?? {}) };
          for (const [k, v] of Object.entries(body.runtime)) {
            if (v === undefined) continue;
            if (v === 0 && CLEAR_ON_ZERO.has(k)) delete runtime[k];
            else runtime[k] = v;
          }
          if (runtime.global_max_inflight && runtime.account_max_inflight && runtime.global_max_inflight < runtime.account_max_inflight) {
            throw invalid("runtime.global_max_inflight must be ≥ runtime.account_max_inflight");
          }
          store.settings.set(SETTING_KEYS.runtime, runtime);
          written.push(SETTING_KEYS.runtime);
        }
        if (body.admin?.jwt_expire_hours !== undefined) {
          store.settings.set(SETTING_KEYS.admin, { ...(store.settings.get<object>(SETTING_KEYS.admin) ?? {}), jwt_expire_hours: body.admin.jwt_expire_hours });
          written.push(SETTING_KEYS.admin);
        }
        if (aliases) {
          store.settings.set(SETTING_KEYS.modelAliases, aliases);
          written.push(SETTING_KEYS.modelAliases);
        }
        for (const name of MERGED_SECTIONS) {
          const value = body[name];
          if (!value) continue;
          const key = SETTING_KEYS.section(name);
          const merged: Section = { ...(store.settings.get<Section>(key) ?? {}), ...value };
          for (const [k, v] of Object.entries(merged)) if (v === undefined || v === null) delete merged[k];
          store.settings.set(key, merged);
          written.push(key);
        }
        if (body.chat_history?.limit !== undefined) store.chatHistory.prune(body.chat_history.limit);
        writeAudit(store, who, "settings.update", undefined, { changed: body });
      });
      changed(written);
    },

    async setPassword(who, hash) {
      // Transitional (cconf): the credential writers write through the transaction's repositories; the in-memory
      // admin key and JWT cut-off follow the settings.changed event (awaited before answering).
      const cutoff = await asyncStore(store).transaction(async (tx) => {
        await credentials.setPasswordHash(hash, tx);
        const cutoff = await credentials.revokeAll(tx);
        writeAudit(store, who, "settings.password", undefined, { password_changed: true, jwt_valid_after_unix: cutoff });
        return cutoff;
      });
      changed([SETTING_KEYS.admin]);
      await changes.settled();
      return cutoff;
    },

    setChatHistoryLimit(who, limit) {
      const key = SETTING_KEYS.section("chat_history");
      store.transaction(() => {
        store.settings.set(key, { ...(store.settings.get<Section>(key) ?? {}), limit });
        store.chatHistory.prune(limit);
        writeAudit(store, who, "chat_history.settings", undefined, { limit });
      });
      changed([key]);
    },

    clearChatHistory(who) {
      store.transaction(() => {
        store.chatHistory.deleteAll();
        writeAudit(store, who, "chat_history.clear");
      });
    },

    deleteChatHistory(who, id) {
      store.transaction(() => {
        if (!store.chatHistory.delete(id)) throw missing("chat history entry not found");
        writeAudit(store, who, "chat_history.delete", id);
      });
    },
  };
}
