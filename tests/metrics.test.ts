/** `GET /metrics` on a real server over the DeepSeek simulator: auth, and counters that follow real traffic. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { metricsRoutes } from "../src/api/metrics-route.ts";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";
import { parseExposition, sumOf, type Exposition } from "./support/prometheus-parse.ts";
import { LoginLimiter } from "../src/security/login-limiter.ts";
import { until, WAIT_MS } from "./support/wait.ts";

const ADMIN = "e2e-admin"; // the stack's DS2API_ADMIN_KEY
const MODEL = "deepseek-v4-flash";

async function scrape(url: string): Promise<Exposition> {
  const r = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } });
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  return parseExposition(await r.text());
}

function chat(url: string, stream: boolean, content = "hello") {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, stream, messages: [{ role: "user", content }] }),
  });
}

describe("/metrics", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ accounts: 2 });
  });
  afterAll(() => stack?.stop());

  test("needs the admin key as a Bearer token", async () => {
    const none = await fetch(`${stack.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    expect(((await none.json()) as { detail: string }).detail).toContain("admin key");
    expect((await fetch(`${stack.url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    // An API key is not an admin key.
    expect((await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } })).status).toBe(401);
    expect((await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(200);
  });

  test("an admin console session token (JWT) works too; a forged one does not", async () => {
    const login = await fetch(`${stack.url}/admin/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ admin_key: ADMIN }),
    });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    expect(token.split(".").length).toBe(3);
    expect((await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const [h, p] = token.split(".");
    const forged = `${h}.${p}.${"A".repeat(43)}`;
    expect((await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
  });

  test("repeated wrong keys from one address are throttled like admin logins; the right key gets in once its turn comes", async () => {
    let t = 1_000_000;
    const limiter = new LoginLimiter({ now: () => t, sleep: async (ms) => void (t += ms) }); // its own counter, on a fake clock
    const route = metricsRoutes({ ...stack.server.ctx, loginLimiter: limiter });
    const ask = (key: string) => route.handle(new Request("http://local/metrics", { headers: { authorization: `Bearer ${key}` } }));
    for (let i = 0; i < 5; i++) expect((await ask(`guess-${i}`)).status).toBe(401);
    let locked: Response | undefined;
    for (let i = 0; i < 20 && !locked; i++) {
      const r = await ask(`more-${i}`);
      if (r.status === 429) locked = r;
      else expect(r.status).toBe(401);
    }
    expect(locked).toBeDefined();
    const retry = Number(locked!.headers.get("retry-after"));
    expect(retry).toBeGreaterThan(0);
    expect((await ask(ADMIN)).status).toBe(429); // refused without being checked while the budget is spent
    t += retry * 1000;
    expect((await ask(ADMIN)).status).toBe(200);
  });

  test("DS2API_METRICS_PUBLIC=true opens it without a key", async () => {
    const route = metricsRoutes({ ...stack.server.ctx, options: { ...stack.server.ctx.options, metricsPublic: true } });
    const r = await route.handle(new Request("http://local/metrics"));
    expect(r.status).toBe(200);
    expect(parseExposition(await r.text()).types.get("ds2api_turns_total")).toBe("counter");
    const closed = metricsRoutes({ ...stack.server.ctx, options: { ...stack.server.ctx.options, metricsPublic: false } });
    expect((await closed.handle(new Request("http://local/metrics"))).status).toBe(401);
  });

  test("requests, turns, latency, tokens and PoW solves move with traffic", async () => {
    const before = await scrape(stack.url);
    const powIssuedBefore = stack.sim.state.counters.powIssued;
    const r1 = await chat(stack.url, false);
    expect(r1.status).toBe(200);
    const usage = ((await r1.json()) as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
    const r2 = await chat(stack.url, true);
    expect(r2.status).toBe(200);
    expect(await r2.text()).toContain("[DONE]");
    const bad = await fetch(`${stack.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(bad.status).toBe(401);

    const after = await scrape(stack.url);
    const delta = (name: string, match: Record<string, string> = {}) => sumOf(after, name, match) - sumOf(before, name, match);
    expect(delta("ds2api_http_requests_total", { surface: "openai", method: "POST", status: "200" })).toBe(2);
    expect(delta("ds2api_http_requests_total", { surface: "openai", method: "POST", status: "401" })).toBe(1);
    expect(delta("ds2api_turns_total", { surface: "openai", model: MODEL, status: "200" })).toBe(2);
    expect(delta("ds2api_turn_duration_seconds_count", { surface: "openai", model: MODEL })).toBe(2);
    expect(delta("ds2api_http_request_duration_seconds_count", { surface: "openai" })).toBe(3);
    expect(delta("ds2api_turn_finish_reasons_total", { reason: "stop" })).toBe(2);
    // The non-stream turn alone contributes its usage; the stream turn adds at least as many prompt tokens again.
    expect(delta("ds2api_tokens_total", { surface: "openai", model: MODEL, kind: "prompt" })).toBeGreaterThanOrEqual(usage.prompt_tokens);
    expect(delta("ds2api_tokens_total", { surface: "openai", model: MODEL, kind: "completion" })).toBeGreaterThanOrEqual(usage.completion_tokens);
    // Every challenge the simulator issued was solved by the worker pool.
    const issued = stack.sim.state.counters.powIssued - powIssuedBefore;
    expect(issued).toBeGreaterThanOrEqual(2);
    expect(delta("ds2api_pow_solves_total")).toBe(issued);
    expect(sumOf(after, "ds2api_pow_solve_seconds_total")).toBeGreaterThan(0);
    expect(sumOf(after, "ds2api_pow_workers")).toBe(2); // DS2API_POW_WORKERS in the stack
    expect(sumOf(after, "ds2api_pool_accounts", { state: "usable" })).toBe(2);
    expect(sumOf(after, "ds2api_draining")).toBe(0);
  });

  test("upstream errors are counted by the kind the backend reports", async () => {
    const before = await scrape(stack.url);
    stack.logs.length = 0;
    stack.sim.state.script({ http: { status: 429 } }); // the first account is rate limited; the turn fails over
    const r = await chat(stack.url, false);
    expect(r.status).toBe(200);
    const kinds = stack.logs.filter((l) => l.includes("upstream error")).map((l) => /kind=(\S+)/.exec(l)![1]!);
    expect(kinds.length).toBeGreaterThan(0);
    const after = await scrape(stack.url);
    for (const kind of new Set(kinds)) {
      const n = kinds.filter((k) => k === kind).length;
      expect(sumOf(after, "ds2api_upstream_errors_total", { kind }) - sumOf(before, "ds2api_upstream_errors_total", { kind })).toBe(n);
    }
  });

  test("in flight per account and HTTP in flight during a stream", async () => {
    stack.sim.state.script({ answer: "one two three four five six seven eight", chunking: 4, tokenDelayMs: 80 });
    const pending = chat(stack.url, true);
    const res = await pending;
    const reader = res.body!.getReader();
    await reader.read(); // the head is out: the turn holds a lease
    const during = await scrape(stack.url);
    expect(sumOf(during, "ds2api_account_in_flight")).toBe(1);
    expect(sumOf(during, "ds2api_pool_in_flight")).toBe(1);
    expect(sumOf(during, "ds2api_http_in_flight_requests")).toBe(1);
    while (!(await reader.read()).done);
    await until(async () => sumOf(await scrape(stack.url), "ds2api_account_in_flight") === 0, WAIT_MS, "the lease to come back");
  });
});

describe("/metrics queue depth", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ accounts: 1, env: { DS2API_ACCOUNT_MAX_INFLIGHT: "1", DS2API_ACCOUNT_MAX_QUEUE: "4" } });
  });
  afterAll(() => stack?.stop());

  test("a request waiting for the only account shows in the queue depth", async () => {
    stack.sim.state.script({ answer: "slow answer for the queue test", chunking: 3, tokenDelayMs: 60 });
    const first = chat(stack.url, false, "first");
    await until(() => stack.sim.state.streams.some((s) => s.outcome === "open"), WAIT_MS, "the first stream to open");
    const second = chat(stack.url, false, "second");
    await until(async () => sumOf(await scrape(stack.url), "ds2api_pool_queue_depth") === 1, WAIT_MS, "queue depth 1");
    const m = await scrape(stack.url);
    expect(sumOf(m, "ds2api_pool_queue_capacity")).toBe(4);
    expect(sumOf(m, "ds2api_account_in_flight", { account: "user0@example.com" })).toBe(1);
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect(sumOf(await scrape(stack.url), "ds2api_pool_queue_depth")).toBe(0);
  });
});
