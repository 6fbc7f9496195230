/**
 * The admin API under /admin (contract: notes/admin-contract.md; Go ds2api compatible where it overlaps).
 * Login and verify are public; every other route passes the admin guard first (JWT or raw admin key).
 */
import { Elysia } from "elysia";
import type { AppContext } from "../../context.ts";
import { badRequest } from "../http-error.ts";
import { keyUsageTracker } from "../../security/key-usage.ts";
import { accountTestRoutes } from "./account-test.ts";
import { accountsRoutes } from "./accounts-routes.ts";
import type { AdminDeps } from "./admin-deps.ts";
import { authenticateAdmin } from "./admin-guard.ts";
import { authRoutes } from "./auth-routes.ts";
import { configRoutes } from "./config-routes.ts";
import { keysRoutes } from "./keys-routes.ts";
import { proxiesRoutes } from "./proxies-routes.ts";
import { RecentErrors } from "./recent-errors.ts";
import { selfTestRoutes } from "./selftest-routes.ts";
import { settingsRoutes } from "./settings-routes.ts";
import { statusRoutes } from "./status-routes.ts";

const WRITES = new Set(["POST", "PUT", "PATCH"]);
/** The only admin writes that take no input at all, so may come without a body. */
const NO_INPUT = /^\/admin\/accounts\/[^/]+\/(enable|disable)$/;

/**
 * Every admin write carries a JSON object (`{}` when it has nothing to say): `42`, `"s"`, `null`, `[]` or no
 * body at all are refused, so an all-optional schema cannot turn them into "use the defaults" (a random
 * key, an empty config update). Only enable/disable may come without a body.
 */
function requireObjectBody(request: Request, body: unknown): void {
  if (!WRITES.has(request.method)) return;
  if (body !== null && typeof body === "object" && !Array.isArray(body)) return;
  if (body === undefined && NO_INPUT.test(new URL(request.url).pathname)) return;
  throw badRequest("invalid request: a JSON object body is required");
}

export function adminRoutes(ctx: AppContext) {
  const errors = new RecentErrors();
  ctx.observers.push(errors);
  ctx.engine.upstreamErrorListeners.push((kind, account, message) => errors.add(kind, account, message));
  const d: AdminDeps = {
    ctx,
    jwt: ctx.adminJwt,
    limiter: ctx.loginLimiter,
    usage: keyUsageTracker(ctx),
    errors,
    actors: new WeakMap(),
    testStatus: new Map(),
  };
  return new Elysia({ name: "admin-api", prefix: "/admin" })
    .use(authRoutes(d))
    .derive(async ({ request, body }) => {
      d.actors.set(request, await authenticateAdmin(d, request));
      requireObjectBody(request, body);
      return {};
    })
    .use(configRoutes(d))
    .use(keysRoutes(d))
    .use(accountTestRoutes(d))
    .use(accountsRoutes(d))
    .use(proxiesRoutes(d))
    .use(settingsRoutes(d))
    .use(statusRoutes(d))
    .use(selfTestRoutes(d));
}
