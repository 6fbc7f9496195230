/** Liveness, readiness and the welcome page. */
import { Elysia } from "elysia";
import type { AppContext } from "../context.ts";
import { VERSION } from "../version.ts";

const WELCOME = `<!doctype html><html><head><meta charset="utf-8"><title>ds2api</title></head>
<body style="font-family:system-ui;max-width:40rem;margin:3rem auto;line-height:1.5">
<h1>ds2api ${VERSION}</h1>
<p>OpenAI, Anthropic and Gemini compatible gateway to DeepSeek web chat.</p>
<ul><li>OpenAI: <code>/v1/chat/completions</code>, <code>/v1/models</code></li>
<li>Anthropic: <code>/anthropic/v1/messages</code> (also <code>/v1/messages</code>)</li>
<li>Gemini: <code>/v1beta/models/{model}:generateContent</code></li>
<li>Admin console: <a href="/admin">/admin</a></li></ul></body></html>`;

export function healthRoutes(ctx: AppContext) {
  return new Elysia({ name: "health" })
    .get("/healthz", () => ({ status: "ok" }))
    .get("/readyz", ({ set, query }) => {
      if (!ctx.state.ready || ctx.state.draining) {
        set.status = 503;
        return { status: ctx.state.draining ? "draining" : "starting" };
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
      const problem = ctx.upstreamHealth.problem;
      const upstream = problem ? { upstream_problem: { kind: problem.kind, message: problem.message, since: new Date(problem.at).toISOString() } } : {};
      // Plain readiness stays 200 so the admin console is reachable; strict mode wants an account that can serve.
      const strict = query.strict === "1" || query.strict === "true";
      if (strict && pool.usableNow === 0) {
        set.status = 503;
        return { status: "no_usable_accounts", capacity, ...upstream };
      }
      return { status: "ready", capacity, ...upstream };
    })
    .get("/", () => new Response(WELCOME, { headers: { "content-type": "text/html; charset=utf-8" } }));
}
