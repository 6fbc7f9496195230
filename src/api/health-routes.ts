/** Liveness, readiness (per provider) and the welcome page. */
import { Elysia } from "elysia";
import type { ProviderSnapshot } from "../core/upstream/registry.ts";
import type { TransportView } from "../core/upstream/provider.ts";
import type { AppContext } from "../context.ts";
import type { UpstreamProblem } from "../observability/upstream-health.ts";
import { VERSION } from "../version.ts";
import { clusterView, type ClusterView } from "../observability/cluster-view.ts";
import { firstDownDependency } from "./dependency-errors.ts";
import { unreachableMessage } from "../core/cluster/dependency-health.ts";

const WELCOME = `<!doctype html><html><head><meta charset="utf-8"><title>ds2api</title></head>
<body style="font-family:system-ui;max-width:40rem;margin:3rem auto;line-height:1.5">
<h1>ds2api ${VERSION}</h1>
<p>OpenAI, Anthropic and Gemini compatible gateway to DeepSeek web chat and other upstream providers.</p>
<ul><li>OpenAI: <code>/v1/chat/completions</code>, <code>/v1/models</code></li>
<li>Anthropic: <code>/anthropic/v1/messages</code> (also <code>/v1/messages</code>)</li>
<li>Gemini: <code>/v1beta/models/{model}:generateContent</code></li>
<li>Admin console: <a href="/admin">/admin</a></li></ul></body></html>`;

function problemView(problem: UpstreamProblem | undefined) {
  return problem ? { upstream_problem: { kind: problem.kind, message: problem.message, since: new Date(problem.at).toISOString() } } : {};
}

/** The TLS profile asked for and in use; `fallback_reason` when the native transport did not load. */
function tlsView(t: TransportView) {
  return { requested: t.requested, in_use: t.in_use, native: t.native, ...(t.impersonates ? { impersonates: t.impersonates } : {}), ...(t.reason ? { fallback_reason: t.reason } : {}) };
}

/** One provider's entry under `providers` of /readyz. */
function providerView(s: ProviderSnapshot, problem: UpstreamProblem | undefined) {
  const a = s.accounts;
  const c = s.credentials;
  return {
    name: s.displayName,
    configured: s.configured,
    can_serve: s.canServe,
    ...(s.setupHint ? { setup: s.setupHint } : {}),
    ...(s.error ? { error: s.error } : {}),
    ...(a
      ? {
          accounts: {
            accounts: a.total,
            usable_now: a.usableNow,
            cooling_down: a.coolingDown,
            failing: a.failing,
            disabled: a.disabled,
            in_flight: a.inUse,
            waiting: a.waiting,
          },
        }
      : {}),
    ...(s.transport ? { tls: tlsView(s.transport) } : {}),
    ...(c ? { credentials: { total: c.total, usable: c.usable, exhausted: c.exhausted, bad: c.bad, cooling: c.cooling, disabled: c.disabled, in_flight: c.inUse } } : {}),
    ...problemView(problem),
  };
}

/** A probe's answer: status code and JSON body. */
export interface ProbeAnswer {
  status: number;
  body: object;
}

/** GET /healthz: the process is up. */
export function livenessAnswer(): ProbeAnswer {
  return { status: 200, body: { status: "ok" } };
}

/**
 * GET /readyz: 200 once listening (503 while starting or draining), with DeepSeek's pool capacity and upstream
 * problem at the top level, every provider under `providers` and the cluster view under `cluster`; 503
 * `dependency_down` (with the reason) while the database or Redis is unreachable; `strict` (`?strict=1`) wants
 * some configured provider that can serve now.
 */
export function readinessAnswer(ctx: AppContext, strict: boolean): ProbeAnswer {
  if (!ctx.state.ready || ctx.state.draining) {
    return { status: 503, body: { status: ctx.state.draining ? "draining" : "starting" } };
  }
  const pool = ctx.providers.accountStatus();
  const capacity = {
    accounts: pool.total,
    usable_now: pool.usableNow,
    cooling_down: pool.coolingDown,
    failing: pool.failing,
    disabled: pool.disabled,
    in_flight: pool.inUse,
    waiting: pool.waiting,
  };
  const cluster = clusterViewOf(ctx, pool);
  const down = firstDownDependency(ctx.cluster.health);
  if (down) return { status: 503, body: { status: "dependency_down", reason: unreachableMessage(down.dependency, down.error), capacity, cluster } };
  const snapshots = ctx.providers.snapshots();
  const providers = Object.fromEntries(snapshots.map((s) => [s.provider, providerView(s, ctx.upstreamHealth.problemOf(s.provider))]));
  // Top level as before providers: the account pools (DeepSeek's) and the primary provider's upstream problem.
  const upstream = problemView(ctx.upstreamHealth.problem);
  // Plain readiness stays 200 so the admin console is reachable; strict mode wants some configured provider that can serve.
  if (strict && !snapshots.some((s) => s.canServe)) return { status: 503, body: { status: "no_usable_accounts", capacity, ...upstream, providers, cluster } };
  return { status: 200, body: { status: "ready", capacity, ...upstream, providers, cluster } };
}

/** This instance's cluster view (also read by /metrics). */
export function clusterViewOf(ctx: AppContext, pool = ctx.providers.accountStatus()): ClusterView {
  return clusterView(ctx.cluster, ctx.store.kind, { accounts: pool.total, inFlight: pool.inUse, waiting: pool.waiting });
}

const isStrict = (value: string | null | undefined) => value === "1" || value === "true";

/**
 * The probes, answered straight from the server's outer wrapper (GET/HEAD) without Elysia routing, so the first
 * probe after a start does not wait for Elysia to compile its router. Other methods fall through to Elysia (405).
 */
export function probeResponse(ctx: AppContext, method: string, pathname: string, target: string): Response | undefined {
  if (method !== "GET" && method !== "HEAD") return undefined;
  let answer: ProbeAnswer | undefined;
  if (pathname === "/healthz") answer = livenessAnswer();
  else if (pathname === "/readyz") {
    const query = target.indexOf("?");
    answer = readinessAnswer(ctx, query >= 0 && isStrict(new URLSearchParams(target.slice(query + 1)).get("strict")));
  }
  return answer && Response.json(answer.body, { status: answer.status });
}

export function healthRoutes(ctx: AppContext) {
  const answer = (set: { status?: number | string }, probe: ProbeAnswer) => {
    set.status = probe.status;
    return probe.body;
  };
  return new Elysia({ name: "health" })
    .get("/healthz", ({ set }) => answer(set, livenessAnswer()))
    .get("/readyz", ({ set, query }) => answer(set, readinessAnswer(ctx, isStrict(query.strict))))
    .get("/", () => new Response(WELCOME, { headers: { "content-type": "text/html; charset=utf-8" } }));
}
