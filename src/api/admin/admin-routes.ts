/**
 * The admin API under /admin (contract: notes/admin-contract.md; Go ds2api compatible where it overlaps).
 * Login and verify are public; every other route passes the admin guard first (JWT or raw admin key).
 */
import { Elysia } from "elysia";
import { adminServices } from "../../admin/admin-services.ts";
import type { AppContext } from "../../context.ts";
import { keyUsageTracker } from "../../security/key-usage.ts";
import { accountTestRoutes } from "./account-test.ts";
import { accountsRoutes } from "./accounts-routes.ts";
import type { AdminActorKind, AdminDeps } from "./admin-deps.ts";
import { accountAdmin } from "./provider-admin.ts";
import { authenticateAdmin } from "./admin-guard.ts";
import { requireObjectBody } from "./object-body.ts";
import { authRoutes } from "./auth-routes.ts";
import { chatHistoryRoutes } from "./chat-history-routes.ts";
import { devCaptureRoutes } from "./dev-capture-routes.ts";
import { configRoutes } from "./config-routes.ts";
import { importRoutes } from "./import-routes.ts";
import { keysRoutes } from "./keys-routes.ts";
import { liveRoutes } from "./events-routes.ts";
import { providerPoolsRoutes } from "./provider-pools-routes.ts";
import { proxiesRoutes } from "./proxies-routes.ts";
import { RecentErrors } from "./recent-errors.ts";
import { selfTestRoutes } from "./selftest-routes.ts";
import { sessionsRoutes } from "./sessions-routes.ts";
import { settingsRoutes } from "./settings-routes.ts";
import { statusRoutes } from "./status-routes.ts";
import { usageRoutes } from "./usage-routes.ts";

export function adminRoutes(ctx: AppContext) {
  const errors = new RecentErrors();
  ctx.observers.push(errors);
  ctx.providers.onUpstreamError((kind, account, message) => errors.add(kind, account, message));
  const services = adminServices({
    store: ctx.store,
    changes: ctx.changes,
    catalog: () => ctx.providers.catalog(),
    // A password change writes the hash and revokes sessions inside its own transaction (`tx`).
    credentials: { setPasswordHash: (hash, tx) => ctx.adminKey.setPasswordHash(hash, tx), revokeAll: (tx) => ctx.adminJwt.revokeAll(tx) },
  });
  const actors = new WeakMap<Request, AdminActorKind>();
  const d: AdminDeps = {
    ...services,
    whoIs: (request) => ({ actor: actors.get(request) ?? "admin", address: ctx.clientAddress.get(request) ?? "unknown" }),
    inflightOf: (identifier) => accountAdmin(ctx).inflightOf(identifier),
    testStatus: new Map(),
    ctx,
    jwt: ctx.adminJwt,
    limiter: ctx.loginLimiter,
    usage: keyUsageTracker(ctx),
    errors,
    actors,
  };
  return new Elysia({ name: "admin-api", prefix: "/admin" })
    .use(authRoutes(d))
    .derive(async ({ request, body }) => {
      d.actors.set(request, await authenticateAdmin(d, request));
      requireObjectBody(request, body);
      return {};
    })
    .use(configRoutes(d))
    .use(importRoutes(d))
    .use(keysRoutes(d))
    .use(accountTestRoutes(d))
    .use(sessionsRoutes(d))
    .use(accountsRoutes(d))
    .use(providerPoolsRoutes(d))
    .use(proxiesRoutes(d))
    .use(settingsRoutes(d))
    .use(statusRoutes(d))
    .use(liveRoutes(d))
    .use(selfTestRoutes(d))
    .use(chatHistoryRoutes(d))
    .use(usageRoutes(d))
    .use(devCaptureRoutes(d));
}
