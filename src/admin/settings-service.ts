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
import type { StoreApi, StoreRepos } from "../store/store-api.ts";
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

/**
 * The credential side of the password change (src/security). Both write through `tx`, the password change's
 * transaction (with its audit row): a write through the root store there would wait on that very transaction.
 */
export interface AdminCredentialWriter {
  setPasswordHash(hash: string, tx: StoreRepos): void | Promise<void>;
  /** Revoke every JWT issued so far; returns the new cut-off (unix seconds). */
  revokeAll(tx: StoreRepos): number | Promise<number>;
}

export interface SettingsAdmin {
  update(who: AdminActor, body: SettingsUpdate): Promise<void>;
  /** Store an already hashed console password and revoke every JWT; returns the cut-off. */
  setPassword(who: AdminActor, hash: string): Promise<number>;
  setChatHistoryLimit(who: AdminActor, limit: number): Promise<void>;
  clearChatHistory(who: AdminActor): Promise<void>;
  deleteChatHistory(who: AdminActor, id: string): Promise<void>;
}

export interface SettingsAdminDeps {
  store: StoreApi;
  changes: ChangePublisher;
  catalog: () => ModelCatalog;
  credentials: AdminCredentialWriter;
}

export function settingsAdmin({ store, changes, catalog, credentials }: SettingsAdminDeps): SettingsAdmin {
  /** Tell the settings cache and the providers, and answer only once they serve the change. */
  const changed = async (ids: string[]) => {
    changes.publish({ topic: "settings.changed", ids });
    await changes.settled();
  };
  return {
    async update(who, body) {
      const aliases = body.model_aliases ? validateAliases(body.model_aliases, catalog()) : undefined;
      for (const name of CHECKED_SECTIONS) {
        const section = body[name];
        if (section) validateSection(name, section);
      }
      const written = await store.transaction(async (tx) => {
        const written: string[] = [];
        if (body.runtime) {
          const runtime: Record<string, number> = { ...((await tx.settings.get<Record<string, number>>(SETTING_KEYS.runtime)) ?? {}) };
          for (const [k, v] of Object.entries(body.runtime)) {
            if (v === undefined) continue;
            if (v === 0 && CLEAR_ON_ZERO.has(k)) delete runtime[k];
            else runtime[k] = v;
          }
          if (runtime.global_max_inflight && runtime.account_max_inflight && runtime.global_max_inflight < runtime.account_max_inflight) {
            throw invalid("runtime.global_max_inflight must be ≥ runtime.account_max_inflight");
          }
          await tx.settings.set(SETTING_KEYS.runtime, runtime);
          written.push(SETTING_KEYS.runtime);
        }
        if (body.admin?.jwt_expire_hours !== undefined) {
          await tx.settings.set(SETTING_KEYS.admin, { ...((await tx.settings.get<object>(SETTING_KEYS.admin)) ?? {}), jwt_expire_hours: body.admin.jwt_expire_hours });
          written.push(SETTING_KEYS.admin);
        }
        if (aliases) {
          await tx.settings.set(SETTING_KEYS.modelAliases, aliases);
          written.push(SETTING_KEYS.modelAliases);
        }
        for (const name of MERGED_SECTIONS) {
          const value = body[name];
          if (!value) continue;
          const key = SETTING_KEYS.section(name);
          const merged: Section = { ...((await tx.settings.get<Section>(key)) ?? {}), ...value };
          for (const [k, v] of Object.entries(merged)) if (v === undefined || v === null) delete merged[k];
          await tx.settings.set(key, merged);
          written.push(key);
        }
        if (body.chat_history?.limit !== undefined) await tx.chatHistory.prune(body.chat_history.limit);
        await writeAudit(tx, who, "settings.update", undefined, { changed: body });
        return written;
      });
      await changed(written);
    },

    async setPassword(who, hash) {
      const cutoff = await store.transaction(async (tx) => {
        await credentials.setPasswordHash(hash, tx);
        const cutoff = await credentials.revokeAll(tx);
        await writeAudit(tx, who, "settings.password", undefined, { password_changed: true, jwt_valid_after_unix: cutoff });
        return cutoff;
      });
      await changed([SETTING_KEYS.admin]);
      return cutoff;
    },

    async setChatHistoryLimit(who, limit) {
      const key = SETTING_KEYS.section("chat_history");
      await store.transaction(async (tx) => {
        await tx.settings.set(key, { ...((await tx.settings.get<Section>(key)) ?? {}), limit });
        await tx.chatHistory.prune(limit);
        await writeAudit(tx, who, "chat_history.settings", undefined, { limit });
      });
      await changed([key]);
    },

    async clearChatHistory(who) {
      await store.transaction(async (tx) => {
        await tx.chatHistory.deleteAll();
        await writeAudit(tx, who, "chat_history.clear");
      });
    },

    async deleteChatHistory(who, id) {
      await store.transaction(async (tx) => {
        if (!(await tx.chatHistory.delete(id))) throw missing("chat history entry not found");
        await writeAudit(tx, who, "chat_history.delete", id);
      });
    },
  };
}
