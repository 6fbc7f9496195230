/**
 * What the admin routes are built from. `AdminDeps` is the whole bag, held only by the composer (admin-routes.ts):
 * each route group declares the narrow slice it needs (e.g. `AccountsRouteDeps`: the accounts service, who made the
 * request, in-flight counts) and is handed this bag, which satisfies every slice. Writes go through the admin
 * services (src/admin/): validation, write and audit row in one transaction, then a change event.
 */
import type { AdminServices } from "../../admin/admin-services.ts";
import type { AdminActor } from "../../admin/audit-entry.ts";
import type { AppContext } from "../../context.ts";
import type { AdminJwt } from "../../security/admin-jwt.ts";
import type { KeyUsageTracker } from "../../security/key-usage.ts";
import type { LoginLimiter } from "../../security/login-limiter.ts";
import type { RecentErrors } from "./recent-errors.ts";

export type AdminActorKind = "admin-jwt" | "admin-key";

/** Who made an (authenticated) admin request, as the audit log names them. */
export interface RequestActor {
  whoIs(request: Request): AdminActor;
}

/** The live state an account row shows besides its stored fields. */
export interface AccountLiveView {
  /** Requests in flight on the account now. */
  inflightOf(identifier: string): number;
  /** Last account test outcome per identifier ("ok" | "failed" | "testing"), in memory as in the Go ds2api. */
  testStatus: Map<string, string>;
}

export interface AdminDeps extends AdminServices, RequestActor, AccountLiveView {
  /** The whole context, for the route groups not yet narrowed (status, self-test, captures, chat history, loopback). */
  ctx: AppContext;
  jwt: AdminJwt;
  limiter: LoginLimiter;
  usage: KeyUsageTracker;
  errors: RecentErrors;
  /** How each authenticated admin request authenticated. */
  actors: WeakMap<Request, AdminActorKind>;
}

/** What login, verify and the admin guard need: the admin credentials, JWTs, the failed-attempt limiter, client addresses. */
export interface AdminAuthDeps {
  ctx: Pick<AppContext, "adminKey" | "clientAddress">;
  jwt: AdminJwt;
  limiter: LoginLimiter;
}

export function clientAddress(d: { ctx: Pick<AppContext, "clientAddress"> }, request: Request): string {
  return d.ctx.clientAddress.get(request) ?? "unknown";
}

/** Record an admin action that writes nothing else (a test, an upstream delete). `detail` is masked. */
export function audit(d: RequestActor & Pick<AdminServices, "audit">, request: Request, action: string, target?: string, detail?: Record<string, unknown>): Promise<void> {
  return d.audit.record(d.whoIs(request), action, target, detail);
}
