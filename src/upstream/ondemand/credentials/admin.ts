/**
 * The OnDemand key pool as a `CredentialPoolAdmin` (the generic admin routes and console page use it): views
 * never hold a key, only its masked preview. `importText` takes one key a line or comma-separated (blank lines
 * and `#` comments skipped). A reset puts usage back to 0 and closes open breakers (the operator says "try again").
 */
import type {
  CredentialEntryInput,
  CredentialImportResult,
  CredentialPoolAdmin,
  CredentialPoolStatus,
  CredentialView,
} from "../../../core/upstream/provider.ts";
import type { CredentialRecord, CredentialsRepo } from "../../../store/credentials-repo.ts";
import { credentialPreview } from "../../../store/credentials-repo.ts";
import { ONDEMAND_PROVIDER_ID } from "../models.ts";
import { restingUntil, type KeyPool } from "./pool.ts";

const P = ONDEMAND_PROVIDER_ID;

export interface KeyAdminDeps {
  repo: CredentialsRepo;
  pool: KeyPool;
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

  list(): CredentialView[] {
    const now = Date.now();
    return this.d.repo.list(P).map((r) => this.view(r, now));
  }

  add(entries: CredentialEntryInput[]): CredentialImportResult {
    const result: CredentialImportResult = { added: 0, updated: 0, skipped: [] };
    for (const e of entries) {
      const secret = (e.secret ?? "").trim();
      const reason = rejectReason(secret);
      if (reason) {
        result.skipped.push({ entry: secret ? credentialPreview(secret) : "(empty)", reason });
        continue;
      }
      const { created } = this.d.repo.upsert(P, { secret, label: e.label, maxUsage: e.maxUsage });
      if (created) result.added++;
      else result.updated++;
    }
    return result;
  }

  importText(text: string): CredentialImportResult {
    const entries = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"))
      .flatMap((l) => l.split(","))
      .map((s) => s.trim())
      .filter(Boolean);
    return this.add(entries.map((secret) => ({ secret })));
  }

  update(id: string, fields: { label?: string | null; maxUsage?: number | null }): boolean {
    return this.d.repo.updateProfile(P, id, fields);
  }

  setEnabled(id: string, enabled: boolean): boolean {
    if (!enabled) this.d.dropSession(id);
    return this.d.repo.setEnabled(P, id, enabled);
  }

  remove(id: string): boolean {
    this.d.dropSession(id);
    return this.d.repo.remove(P, id);
  }

  resetUsage(id?: string): number {
    const n = this.d.repo.resetUsage(P, id);
    for (const r of this.d.repo.list(P)) {
      if ((id === undefined || r.id === id) && r.state !== "ok") {
        this.d.repo.setState(P, r.id, "ok");
        this.d.dropSession(r.id);
      }
    }
    return n;
  }

  async test(id: string): Promise<{ ok: boolean; message: string; text?: string }> {
    const r = this.d.repo.get(P, id);
    if (!r) return { ok: false, message: "no such OnDemand key" };
    return this.d.test(r);
  }

  status(): CredentialPoolStatus {
    const now = Date.now();
    const out: CredentialPoolStatus = { total: 0, usable: 0, exhausted: 0, bad: 0, cooling: 0, disabled: 0, inUse: this.d.pool.inUse() };
    for (const r of this.d.repo.list(P)) {
      out.total++;
      const s = viewState(r, now);
      if (s === "ok") out.usable++;
      else out[s]++;
    }
    return out;
  }
}
