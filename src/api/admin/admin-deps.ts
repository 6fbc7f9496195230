/** What every admin route group shares: the admin services, JWT helper, login limiter, usage tracker, who made each request. */
import type { AdminServices } from "../../admin/admin-services.ts";
import type { AdminActor } from "../../admin/audit-entry.ts";
import type { AppContext } from "../../context.ts";
import type { AdminJwt } from "../../security/admin-jwt.ts";
import type { KeyUsageTracker } from "../../security/key-usage.ts";
import type { LoginLimiter } from "../../security/login-limiter.ts";
import type { RecentErrors } from "./recent-errors.ts";

export type AdminActorKind = "admin-jwt" | "admin-key";

export interface AdminDeps {
  ctx: AppContext;
  /** Every admin write goes through these (validation, write and audit row in one transaction, then a change event). */
  services: AdminServices;
  jwt: AdminJwt;
  limiter: LoginLimiter;
  usage: KeyUsageTracker;
  errors: RecentErrors;
  /** Who made each authenticated admin request. */
  actors: WeakMap<Request, AdminActorKind>;
  /** Last account test outcome per identifier ("ok" | "failed" | "testing"), in memory as in the Go ds2api. */
  testStatus: Map<string, string>;
}

export function clientAddress(d: AdminDeps, request: Request): string {
  return d.ctx.clientAddress.get(request) ?? "unknown";
}

/** Who made this admin request, as the services audit it. */
export function actorOf(d: { actors: WeakMap<Request, AdminActorKind>; ctx: { clientAddress: WeakMap<Request, string> } }, request: Request): AdminActor {
  return { actor: d.actors.get(request) ?? "admin", address: d.ctx.clientAddress.get(request) ?? "unknown" };
}

/** Record an admin action that writes nothing else (a test, an upstream delete). `detail` is masked. */
export function audit(d: AdminDeps, request: Request, action: string, target?: string, detail?: Record<string, unknown>): void {
  d.services.audit.record(actorOf(d, request), action, target, detail);
}
