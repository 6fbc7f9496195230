/**
 * The admin capability of the Volcengine pool (`CredentialPoolAdmin`): list with usage and state, add, bulk
 * import (webids.json layouts), profile, enable / disable, delete, reset, test. Views never hold a web id or
 * an authorization — only the masked preview. Reads and writes await the store; each write refreshes the pool's
 * in-memory view before it resolves; `status()` counts that view.
 */
import { MAX_USAGE_LIMIT, webIdProblem } from "../../../config/volcengine-config.ts";
import type { CredentialEntryInput, CredentialImportResult, CredentialPoolAdmin, CredentialPoolStatus, CredentialView } from "../../../core/upstream/provider.ts";
import { credentialPreview, type CredentialRecord } from "../../../store/credentials-repo.ts";
import type { StoreApi } from "../../../store/store-api.ts";
import { VOLCENGINE_PROVIDER_ID } from "../models.ts";
import type { VolcengineSettings } from "../settings.ts";
import { capOf, effectiveState } from "./entry-state.ts";
import { parseWebIdImport, type ParsedWebId } from "./import-text.ts";
import type { CredentialPool } from "./pool.ts";

const P = VOLCENGINE_PROVIDER_ID;

export interface AdminDeps {
  /** Admin reads and writes (awaited; each write in its own transaction where it takes several statements). */
  store: Pick<StoreApi, "credentials" | "transaction">;
  pool: Pick<CredentialPool, "inflightOf" | "inUse">;
  /** The pool's in-memory view of its entries: what `status()` counts without waiting on the store. */
  snapshot: () => readonly CredentialRecord[];
  /** Reload that view after an admin write, so the next request (and `status()`) sees it. */
  refresh: () => Promise<void>;
  settings: () => VolcengineSettings;
  test: (id: string) => Promise<{ ok: boolean; message: string; text?: string }>;
}

function validMax(v: number | undefined): boolean {
  return v === undefined || (Number.isInteger(v) && v >= 0 && v <= MAX_USAGE_LIMIT);
}

export class VolcengineCredentialAdmin implements CredentialPoolAdmin {
  readonly entryKind = "web_id";

  constructor(private readonly deps: AdminDeps) {}

  private view(c: CredentialRecord, globalMax: number, now: number): CredentialView {
    const state = effectiveState(c, globalMax, now);
    return {
      id: c.id,
      preview: c.preview,
      label: c.label,
      enabled: c.enabled,
      state,
      stateReason: state === "exhausted" && !c.stateReason ? "max usage reached" : state === "ok" ? undefined : c.stateReason,
      usage: c.usageCount,
      maxUsage: capOf(c, globalMax),
      inflight: this.deps.pool.inflightOf(c.id),
      cooldownUntil: state === "cooling" ? c.cooldownUntil : undefined,
      lastUsedAt: c.lastUsedAt,
      lastError: c.lastError,
      hasOwnAuth: c.auth !== undefined,
    };
  }

  /** Read from the store: the usage counts of every instance, not only this one's view. */
  async list(): Promise<CredentialView[]> {
    const records = await this.deps.store.credentials.list(P);
    const now = Date.now();
    const globalMax = this.deps.settings().maxUsage;
    return records.map((c) => this.view(c, globalMax, now));
  }

  /** The write is done (committed or not), then the pool's view follows it. */
  private async changed<T>(write: Promise<T>): Promise<T> {
    try {
      return await write;
    } finally {
      await this.deps.refresh();
    }
  }

  private upsertAll(entries: ParsedWebId[], skipped: CredentialImportResult["skipped"]): Promise<CredentialImportResult> {
    return this.changed(
      this.deps.store.transaction(async (tx) => {
        const result: CredentialImportResult = { added: 0, updated: 0, skipped };
        for (const e of entries) {
          if (!validMax(e.maxUsage)) {
            result.skipped.push({ entry: credentialPreview(e.webId), reason: `max usage must be an integer between 0 and ${MAX_USAGE_LIMIT}` });
            continue;
          }
          const { id, created } = await tx.credentials.upsert(P, { secret: e.webId, auth: e.authorization, maxUsage: e.maxUsage, label: e.label });
          if (created) {
            if (e.usage) await tx.credentials.setUsage(P, id, e.usage);
            result.added++;
          } else result.updated++;
        }
        return result;
      }),
    );
  }

  add(entries: CredentialEntryInput[]): Promise<CredentialImportResult> {
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

  importText(text: string): Promise<CredentialImportResult> {
    const parsed = parseWebIdImport(text);
    return this.upsertAll(parsed.entries, parsed.skipped);
  }

  async update(id: string, fields: { label?: string | null; maxUsage?: number | null }): Promise<boolean> {
    if (fields.maxUsage !== undefined && fields.maxUsage !== null && !validMax(fields.maxUsage)) return false;
    return this.changed(this.deps.store.credentials.updateProfile(P, id, fields));
  }

  setEnabled(id: string, enabled: boolean): Promise<boolean> {
    return this.changed(this.deps.store.credentials.setEnabled(P, id, enabled));
  }

  remove(id: string): Promise<boolean> {
    return this.changed(this.deps.store.credentials.remove(P, id));
  }

  /** Usage back to 0 and the entry usable again (exhausted, rejected or resting). */
  resetUsage(id?: string): Promise<number> {
    return this.changed(
      this.deps.store.transaction(async (tx) => {
        const n = await tx.credentials.resetUsage(P, id);
        for (const c of id === undefined ? await tx.credentials.list(P) : [await tx.credentials.get(P, id)]) {
          if (c && c.state !== "ok") await tx.credentials.setState(P, c.id, "ok");
        }
        return n;
      }),
    );
  }

  test(id: string): Promise<{ ok: boolean; message: string; text?: string }> {
    return this.deps.test(id);
  }

  /** Counted from the pool's in-memory view (no store read: /metrics and /readyz call it). */
  status(): CredentialPoolStatus {
    const now = Date.now();
    const globalMax = this.deps.settings().maxUsage;
    const out: CredentialPoolStatus = { total: 0, usable: 0, exhausted: 0, bad: 0, cooling: 0, disabled: 0, inUse: this.deps.pool.inUse() };
    for (const c of this.deps.snapshot()) {
      out.total++;
      const st = effectiveState(c, globalMax, now);
      if (st === "ok") out.usable++;
      else out[st]++;
    }
    return out;
  }
}
