/**
 * The admin capability of the Volcengine pool (`CredentialPoolAdmin`): list with usage and state, add, bulk
 * import (webids.json layouts), profile, enable / disable, delete, reset, test. Views never hold a web id or
 * an authorization — only the masked preview.
 */
import { MAX_USAGE_LIMIT, webIdProblem } from "../../../config/volcengine-config.ts";
import type { CredentialEntryInput, CredentialImportResult, CredentialPoolAdmin, CredentialPoolStatus, CredentialView } from "../../../core/upstream/provider.ts";
import { credentialPreview } from "../../../store/credentials-repo.ts";
import type { Store } from "../../../store/store.ts";
import { VOLCENGINE_PROVIDER_ID } from "../models.ts";
import type { VolcengineSettings } from "../settings.ts";
import { capOf, effectiveState } from "./entry-state.ts";
import { parseWebIdImport, type ParsedWebId } from "./import-text.ts";
import type { CredentialPool } from "./pool.ts";

const P = VOLCENGINE_PROVIDER_ID;

export interface AdminDeps {
  store: Store;
  pool: CredentialPool;
  settings: () => VolcengineSettings;
  test: (id: string) => Promise<{ ok: boolean; message: string; text?: string }>;
}

function validMax(v: number | undefined): boolean {
  return v === undefined || (Number.isInteger(v) && v >= 0 && v <= MAX_USAGE_LIMIT);
}

export class VolcengineCredentialAdmin implements CredentialPoolAdmin {
  readonly entryKind = "web_id";

  constructor(private readonly deps: AdminDeps) {}

  list(): CredentialView[] {
    const now = Date.now();
    const s = this.deps.settings();
    return this.deps.store.credentials.list(P).map((c) => {
      const state = effectiveState(c, s.maxUsage, now);
      return {
        id: c.id,
        preview: c.preview,
        label: c.label,
        enabled: c.enabled,
        state,
        stateReason: state === "exhausted" && !c.stateReason ? "max usage reached" : state === "ok" ? undefined : c.stateReason,
        usage: c.usageCount,
        maxUsage: capOf(c, s.maxUsage),
        inflight: this.deps.pool.inflightOf(c.id),
        cooldownUntil: state === "cooling" ? c.cooldownUntil : undefined,
        lastUsedAt: c.lastUsedAt,
        lastError: c.lastError,
        hasOwnAuth: c.auth !== undefined,
      };
    });
  }

  private upsertAll(entries: ParsedWebId[], skipped: CredentialImportResult["skipped"]): CredentialImportResult {
    const result: CredentialImportResult = { added: 0, updated: 0, skipped };
    this.deps.store.transaction(() => {
      for (const e of entries) {
        if (!validMax(e.maxUsage)) {
          result.skipped.push({ entry: credentialPreview(e.webId), reason: `max usage must be an integer between 0 and ${MAX_USAGE_LIMIT}` });
          continue;
        }
        const { id, created } = this.deps.store.credentials.upsert(P, { secret: e.webId, auth: e.authorization, maxUsage: e.maxUsage, label: e.label });
        if (created) {
          if (e.usage) this.deps.store.credentials.setUsage(P, id, e.usage);
          result.added++;
        } else result.updated++;
      }
    });
    return result;
  }

  add(entries: CredentialEntryInput[]): CredentialImportResult {
    const skipped: CredentialImportResult["skipped"] = [];
    const ok: ParsedWebId[] = [];
    for (const e of entries) {
      const id = (e.secret ?? "").trim();
      const problem = id ? webIdProblem(id) : "empty";
      if (problem) skipped.push({ entry: id ? credentialPreview(id) : "(empty)", reason: problem });
      else ok.push({ webId: id, authorization: e.auth?.trim() || undefined, maxUsage: e.maxUsage, label: e.label?.trim() || undefined });
    }
    return this.upsertAll(ok, skipped);
  }

  importText(text: string): CredentialImportResult {
    const parsed = parseWebIdImport(text);
    return this.upsertAll(parsed.entries, parsed.skipped);
  }

  update(id: string, fields: { label?: string | null; maxUsage?: number | null }): boolean {
    if (fields.maxUsage !== undefined && fields.maxUsage !== null && !validMax(fields.maxUsage)) return false;
    return this.deps.store.credentials.updateProfile(P, id, fields);
  }

  setEnabled(id: string, enabled: boolean): boolean {
    return this.deps.store.credentials.setEnabled(P, id, enabled);
  }

  remove(id: string): boolean {
    return this.deps.store.credentials.remove(P, id);
  }

  /** Usage back to 0 and the entry usable again (exhausted, rejected or resting). */
  resetUsage(id?: string): number {
    const store = this.deps.store;
    return store.transaction(() => {
      const n = store.credentials.resetUsage(P, id);
      for (const c of id === undefined ? store.credentials.list(P) : [store.credentials.get(P, id)]) {
        if (c && c.state !== "ok") store.credentials.setState(P, c.id, "ok");
      }
      return n;
    });
  }

  test(id: string): Promise<{ ok: boolean; message: string; text?: string }> {
    return this.deps.test(id);
  }

  status(): CredentialPoolStatus {
    const views = this.list();
    const count = (s: CredentialView["state"]) => views.filter((v) => v.state === s).length;
    return {
      total: views.length,
      usable: count("ok"),
      exhausted: count("exhausted"),
      bad: count("bad"),
      cooling: count("cooling"),
      disabled: count("disabled"),
      inUse: this.deps.pool.inUse(),
    };
  }
}
