/** Liveness, readiness (per provider) and the welcome page. */
import { Elysia } from "elysia";
import type { ProviderSnapshot } from "../core/upstream/registry.ts";
import type { AppContext } from "../context.ts";
import type { UpstreamProblem } from "../observability/upstream-health.ts";
import { VERSION } from "../version.ts";

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
    ...(c ? { credentials: { total: c.total, usable: c.usable, exhausted: c.exhausted, bad: c.bad, cooling: c.cooling, disabled: c.disabled, in_flight: c.inUse } } : {}),
    ...problemView(problem),
  };
}

export function healthRoutes(ctx: AppContext) {
  return new Elysia({ name: "health" })
    .get("/healthz", () => ({ status: "ok" }))
    .get("/readyz", ({ set, query }) => {
      if (!ctx.state.ready || ctx.state.draining) {
        set.status = 503;
        return { status: ctx.state.draining ? "draining" : "starting" };
      }
      // Top level as before providers: the account pools (DeepSeek's) and the primary provider's upstream problem.
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
      const snapshots = ctx.providers.snapshots();
      const providers = Object.fromEntries(snapshots.map((s) => [s.provider, providerView(s, ctx.upstreamHealth.problemOf(s.provider))]));
      const upstream = problemView(ctx.upstreamHealth.problem);
      // Plain readiness stays 200 so the admin console is reachable; strict mode wants some configured provider that can serve.
      const strict = query.strict === "1" || query.strict === "true";
      if (strict && !snapshots.some((s) => s.canServe)) {
        set.status = 503;
        return { status: "no_usable_accounts", capacity, ...upstream, providers };
      }
      return { status: "ready", capacity, ...upstream, providers };
    })
    .get("/", () => new Response(WELCOME, { headers: { "content-type": "text/html; charset=utf-8" } }));
}
