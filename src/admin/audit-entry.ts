/**
 * Who made an admin change and the audit row it leaves. `detail` must not hold secrets; values under
 * secret-looking names are masked anyway.
 */
import { maskSecret } from "../observability/logger.ts";
import type { AuditEntry } from "../store/audit-repo.ts";
import type { StoreRepos } from "../store/store-api.ts";

/** The caller of an admin operation, as the audit log names it. */
export interface AdminActor {
  /** "admin-jwt" | "admin-key" (or "admin" when unknown). */
  actor: string;
  /** Client address. */
  address: string;
}

const SECRET_NAME = /pass|token|secret|^key$|api_key|admin_key/i;

export function maskDetail(detail: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(detail)) {
    if (SECRET_NAME.test(k) && typeof v === "string") out[k] = maskSecret(v);
    else if (v && typeof v === "object" && !Array.isArray(v)) out[k] = maskDetail(v as Record<string, unknown>);
    else out[k] = v;
  }
  return out;
}

export function auditRow(who: AdminActor, action: string, target?: string, detail?: Record<string, unknown>): Omit<AuditEntry, "id"> {
  return { at: Date.now(), actor: who.actor, address: who.address, action, target, detail: detail ? maskDetail(detail) : undefined };
}

/** Append the audit row through `repos`: a transaction's (`tx`, so it commits with the write) or the root store's. */
export async function writeAudit(repos: Pick<StoreRepos, "audit">, who: AdminActor, action: string, target?: string, detail?: Record<string, unknown>): Promise<void> {
  await repos.audit.add(auditRow(who, action, target, detail));
}

/** Audit entries for admin actions that change nothing in the store (tests, upstream session deletes, captures). */
export interface AuditLog {
  record(who: AdminActor, action: string, target?: string, detail?: Record<string, unknown>): Promise<void>;
}

export function auditLog(store: Pick<StoreRepos, "audit">): AuditLog {
  return { record: (who, action, target, detail) => writeAudit(store, who, action, target, detail) };
}
