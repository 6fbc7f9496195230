/**
 * A shared service (the database, Redis) is down: every surface answers 503 in its own shape with `Retry-After: 5`
 * and the code `database_unavailable` / `redis_unavailable` — whether a route threw it, the turn path did before a
 * stream started, or it escaped to the server's last-resort catch. (After a stream started, describeFailure in
 * turn-errors.ts renders it as the surface's in-stream error.)
 */
import { DependencyUnavailableError, type Dependency, type DependencyHealth } from "../core/cluster/ports.ts";
import { unreachableMessage } from "../core/cluster/dependency-health.ts";
import { errorBody } from "./error-response.ts";
import type { Surface } from "./surface.ts";

export function dependencyErrorResponse(surface: Surface, e: DependencyUnavailableError, headers?: Record<string, string>): Response {
  const body = errorBody(surface, e.status, e.message, e.code);
  // The admin shape is `{detail}`; a dependency outage also names its code, as the business surfaces do.
  const shaped = surface === "admin" ? { ...(body as Record<string, unknown>), code: e.code } : body;
  return new Response(JSON.stringify(shaped), {
    status: e.status,
    headers: { "content-type": "application/json", "retry-after": String(e.retryAfterSeconds), ...headers },
  });
}

const DEPENDENCIES: readonly Dependency[] = ["database", "redis"];

/** The first dependency that is down (the database before Redis). */
export function firstDownDependency(health: DependencyHealth): { dependency: Dependency; error?: string } | undefined {
  const view = health.view();
  for (const dependency of DEPENDENCIES) {
    const state = view[dependency];
    if (state && !state.up) return { dependency, error: state.error };
  }
  return undefined;
}

/**
 * The request guard: while a dependency is known to be down, a business or admin request is answered 503 at once
 * (no request waits on a timeout) — probes and /metrics (surface `public`) still answer.
 */
export function dependencyRefusal(health: DependencyHealth, surface: Surface): Response | undefined {
  if (surface === "public") return undefined;
  const down = firstDownDependency(health);
  if (!down) return undefined;
  return dependencyErrorResponse(surface, new DependencyUnavailableError(down.dependency, unreachableMessage(down.dependency, down.error)));
}
