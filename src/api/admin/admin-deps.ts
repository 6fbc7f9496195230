/** What every admin route group shares: the app context, JWT helper, login limiter, usage tracker, audit writer. */
import type { AppContext } from "../../context.ts";
import { maskSecret } from "../../observability/logger.ts";
import type { AdminJwt } from "../../security/admin-jwt.ts";
import type { KeyUsageTracker } from "../../security/key-usage.ts";
import type { LoginLimiter } from "../../security/login-limiter.ts";
import type { RecentErrors } from "./recent-errors.ts";

export type AdminActor = "admin-jwt" | "admin-key";

export interface AdminDeps {
  ctx: AppContext;
  jwt: AdminJwt;
  limiter: LoginLimiter;
  usage: KeyUsageTracker;
  errors: RecentErrors;
  /** Who made each authenticated admin request. */
  actors: WeakMap<Request, AdminActor>;
  /** Last account test outcome per identifier ("ok" | "failed" | "testing"), in memory as in the Go ds2api. */
  testStatus: Map<string, string>;
}

export function clientAddress(d: AdminDeps, request: Request): string {
  return d.ctx.clientAddress.get(request) ?? "unknown";
}

/** Record an admin change. `detail` must not hold secrets; values under secret-looking names are masked anyway. */
export function audit(d: AdminDeps, request: Request, action: string, target?: string, detail?: Record<string, unknown>): void {
  d.ctx.store.audit.add({
    at: Date.now(),
    actor: d.actors.get(request) ?? "admin",
    address: clientAddress(d, request),
    action,
    target,
    detail: detail ? maskDetail(detail) : undefined,
  });
}

const SECRET_NAME = /pass|token|secret|^key$|api_key|admin_key/i;

function maskDetail(detail: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(detail)) {
    if (SECRET_NAME.test(k) && typeof v === "string") out[k] = maskSecret(v);
    else if (v && typeof v === "object" && !Array.isArray(v)) out[k] = maskDetail(v as Record<string, unknown>);
    else out[k] = v;
  }
  return out;
}

