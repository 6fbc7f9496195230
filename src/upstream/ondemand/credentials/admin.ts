/**
 * The OnDemand key pool as a `CredentialPoolAdmin` (the generic admin routes and console page use it): views
 * never hold a key, only its masked preview. `importText` takes one key a line or comma-separated (blank lines
 * and `#` comments skipped). A reset puts usage back to 0 and closes open breakers (the operator says "try again").
 * Reads and writes await the store; each write refreshes the pool's in-memory view before it resolves; `status()`
 * counts that view.
 */
import type {
  CredentialEntryInput,
  CredentialImportResult,
  CredentialPoolAdmin,
  CredentialPoolStatus,
  CredentialView,
} from "../../../core/upstream/provider.ts";
import type { CredentialRecord } from "../../../store/credentials-repo.ts";
import { credentialPreview } from "../../../store/credentials-repo.ts";
import type { StoreApi } from "../../../store/store-api.ts";
import { ONDEMAND_PROVIDER_ID } from "../models.ts";
import { restingUntil, type KeyPool } from "./pool.ts";

const P = ONDEMAND_PROVIDER_ID;

export interface KeyAdminDeps {
  /** Admin reads and writes (awaited; a reset runs in one transaction). */
  store: Pick<StoreApi, "credentials" | "transaction">;
  pool: Pick<KeyPool, "inflightOf" | "inUse">;
  /** The pool's in-memory view of its keys: what `status()` counts without waiting on the store. */
  snapshot: () => readonly CredentialRecord[];
  /** Reload that view after an admin write, so the next request (and `status()`) sees it. */
  refresh: () => Promise<void>;
  /** Forget a key's session (removed, disabled, reset). */
  dropSession: (id: string) => void;
  /** One small real request with the key, bypassing selection. */
  test: (record: CredentialRecord) => Promise<{ ok: boolean; message: string; text?: string }>;
}

function viewState(r: CredentialRecord, now: number): CredentialView["state"] {
  if (!r.enabled) return "disabled";
  if (r.state === "exhausted" || (r.maxUsage && r.maxUsage > 0 && r.usageCount >= r.maxUsage)) return "exhausted";
  if (r.state === "bad") return "bad";
  if (r.state === "cooling") return restingUntil(r, now) !== undefined ? "cooling" : "ok";
  return "ok";
}

/** Why an entry cannot be a key (never echoing it in full). */
function rejectReason(secret: string): string | undefined {
  if (!secret) return "empty";
  if (secret.includes("****")) return "masked key (from an export); give the full key";
  if (/\s/.test(secret)) return "contains whitespace";
  if (secret.length > 512) return "longer than 512 characters";
  return undefined;
}

export class OnDemandKeyAdmin implements CredentialPoolAdmin {
  readonly entryKind = "api_key";

  constructor(private readonly d: KeyAdminDeps) {}

  private view(r: CredentialRecord, now: number): CredentialView {
    return {
      id: r.id,
      preview: r.preview,
      label: r.label,
      enabled: r.enabled,
      state: viewState(r, now),
      stateReason: r.stateReason,
      usage: r.usageCount,
      maxUsage: r.maxUsage ?? 0,
      inflight: this.d.pool.inflightOf(r.id),
      cooldownUntil: r.cooldownUntil,
      lastUsedAt: r.lastUsedAt,
      lastError: r.lastError,
    };
  }

  /** Read from the store: the usage counts of every instance, not only this one's view. */
  async list(): Promise<CredentialView[]> {
    const records = await this.d.store.credentials.list(P);
    const now = Date.now();
    return records.map((r) => this.view(r, now));
  }

  /** The write is done (committed or not), then the pool's view follows it. */
  private async changed<T>(write: Promise<T>): Promise<T> {
    try {
      return await write;
    } finally {
      await this.d.refresh();
    }
  }

  add(entries: CredentialEntryInput[]): Promise<CredentialImportResult> {
    const result: CredentialImportResult = { added: 0, updated: 0, skipped: [] };
    const ok: CredentialEntryInput[] = [];
    for (const e of entries) {
      const secret = (e.secret ?? "").trim();
      const reason = rejectReason(secret);
      if (reason) result.skipped.push({ entry: secret ? credentialPreview(secret) : "(empty)", reason });
      else ok.push({ ...e, secret });
    }
    return this.changed(
      this.d.store.transaction(async (tx) => {
        for (const e of ok) {
          const { created } = await tx.credentials.upsert(P, { secret: e.secret, label: e.label, maxUsage: e.maxUsage });
          if (created) result.added++;
          else result.updated++;
        }
        return result;
      }),
    );
  }

  importText(text: string): Promise<CredentialImportResult> {
    const entries = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"))
      .flatMap((l) => l.split(","))
      .map((s) => s.trim())
      .filter(Boolean);
    return this.add(entries.map((secret) => ({ secret })));
  }

  update(id: string, fields: { label?: string | null; maxUsage?: number | null }): Promise<boolean> {
    return this.changed(this.d.store.credentials.updateProfile(P, id, fields));
  }

  setEnabled(id: string, enabled: boolean): Promise<boolean> {
    if (!enabled) this.d.dropSession(id);
    return this.changed(this.d.store.credentials.setEnabled(P, id, enabled));
  }

  remove(id: string): Promise<boolean> {
    this.d.dropSession(id);
    return this.changed(this.d.store.credentials.remove(P, id));
  }

  async resetUsage(id?: string): Promise<number> {
    const { n, reopened } = await this.changed(
      this.d.store.transaction(async (tx) => {
        const n = await tx.credentials.resetUsage(P, id);
        const reopened: string[] = [];
        for (const r of await tx.credentials.list(P)) {
          if ((id === undefined || r.id === id) && r.state !== "ok") {
            await tx.credentials.setState(P, r.id, "ok");
            reopened.push(r.id);
          }
        }
        return { n, reopened };
      }),
    );
    for (const k of reopened) this.d.dropSession(k);
    return n;
  }

  async test(id: string): Promise<{ ok: boolean; message: string; text?: string }> {
    const r = await this.d.store.credentials.get(P, id);
    if (!r) return { ok: false, message: "no such OnDemand key" };
    return this.d.test(r);
  }

  /** Counted from the pool's in-memory view (no store read: /metrics and /readyz call it). */
  status(): CredentialPoolStatus {
    const now = Date.now();
    const out: CredentialPoolStatus = { total: 0, usable: 0, exhausted: 0, bad: 0, cooling: 0, disabled: 0, inUse: this.d.pool.inUse() };
    for (const r of this.d.snapshot()) {
      out.total++;
      const s = viewState(r, now);
      if (s === "ok") out.usable++;
      else out[s]++;
    }
    return out;
  }
}
