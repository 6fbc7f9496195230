/** The admin view of an account (secrets reduced to has_password / has_token / token_preview) and identifier lookup. */
import { maskSecret } from "../../observability/logger.ts";
import { accountStatusAt } from "../../pool/account-pool.ts";
import type { AccountRecord } from "../../store/accounts-repo.ts";
import { notFound } from "../http-error.ts";
import type { AdminServices } from "../../admin/admin-services.ts";
import type { AccountLiveView } from "./admin-deps.ts";

export function accountView(d: AccountLiveView, a: AccountRecord, now = Date.now()) {
  const cooling = a.cooldownUntil !== undefined && a.cooldownUntil > now;
  const status = accountStatusAt(a, now);
  return {
    identifier: a.identifier,
    email: a.email ?? "",
    mobile: a.mobile ?? "",
    name: a.name ?? "",
    remark: a.remark ?? "",
    proxy_id: a.proxyId ?? "",
    device_id: a.deviceId ?? "",
    enabled: a.enabled,
    has_password: Boolean(a.password),
    has_token: Boolean(a.token),
    token_preview: a.token ? maskSecret(a.token) : "",
    token_age_seconds: a.token && a.tokenAt ? Math.max(0, Math.floor((now - a.tokenAt) / 1000)) : null,
    status,
    status_reason: status === "ok" ? "" : status === "disabled" ? "disabled by admin" : a.statusReason ?? "",
    cooldown_until: cooling ? a.cooldownUntil! : null,
    last_error: a.lastError ?? "",
    last_error_at: a.lastErrorAt ?? null,
    last_used_at: a.lastUsedAt ?? null,
    request_count: a.requestCount,
    inflight: d.inflightOf(a.identifier),
    test_status: d.testStatus.get(a.identifier) ?? "",
  };
}

/** Find an account by its identifier, email (any case) or mobile in any spelling. */
export function findAccount(d: Pick<AdminServices, "accounts">, raw: string): Promise<AccountRecord | undefined> {
  return d.accounts.find(raw);
}

export async function requireAccount(d: Pick<AdminServices, "accounts">, raw: string): Promise<AccountRecord> {
  const a = await findAccount(d, raw);
  if (!a) throw notFound(`account ${JSON.stringify(raw)} not found`);
  return a;
}
