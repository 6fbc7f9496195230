/** Admin API against the simulator stack: account tests, self-test, playground, per-key usage counters and quotas per surface. */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { AdminClient, expectDetail } from "./support/admin-client.ts";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";
import { deepseekEngine } from "./support/deepseek-engine.ts";
import { waitUntil } from "./support/wait.ts";

let stack: Stack;
let api: AdminClient;
const createdKeys: string[] = [];

beforeAll(async () => {
  stack = await startStack({ accounts: 2 });
  api = new AdminClient(stack.url);
  api.auth = await api.login("e2e-admin");
});
afterAll(() => stack?.stop());
beforeEach(() => {
  stack.sim.state.clearScripts();
  stack.sim.state.setDefaultReply({ thinking: "pondering deeply", answer: "The answer is forty-two." });
});

async function newKey(quota: { requests_per_minute?: number; tokens_per_day?: number }): Promise<string> {
  const created = await api.post("/admin/keys", { name: "quota" }, { secretBearing: true });
  createdKeys.push(created.json.key);
  expect((await api.put(`/admin/keys/${created.json.key_id}`, { quota })).status).toBe(200);
  return created.json.key;
}

const chat = (key: string, content = "hello") =>
  fetch(`${stack.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "deepseek-v4-flash", messages: [{ role: "user", content }] }),
  });
const claude = (key: string) =>
  fetch(`${stack.url}/anthropic/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": key, "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ model: "deepseek-v4-flash", max_tokens: 100, messages: [{ role: "user", content: "hi" }] }),
  });
const gemini = (key: string) =>
  fetch(`${stack.url}/v1beta/models/deepseek-v4-flash:generateContent`, {
    method: "POST",
    headers: { "x-goog-api-key": key, "content-type": "application/json" },
    body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
  });

describe("account tests", () => {
  test("login + session + message through the simulator; token stored, shown only as a preview", async () => {
    const r = await api.post("/admin/accounts/test", { identifier: "user0@example.com", message: "say it" });
    expect(r.status).toBe(200);
    expect(r.json.success).toBe(true);
    expect(r.json.message).toBe("The answer is forty-two.");
    expect(r.json.thinking).toBe("pondering deeply");
    expect(r.json.session_count).toBeGreaterThanOrEqual(1);
    expect(r.json.response_time).toBeGreaterThanOrEqual(0);
    const token = (await stack.server.ctx.store.accounts.get("user0@example.com"))!.token!;
    expect(stack.sim.state.tokens.has(token)).toBe(true);
    const view = (await api.get("/admin/accounts?q=user0")).json.items[0];
    expect(view.has_token).toBe(true);
    expect(view.token_preview).toBe(`${token.slice(0, 2)}****${token.slice(-2)}`);
    expect(view.test_status).toBe("ok");
    // the test bypassed the pool
    expect(view.inflight).toBe(0);
    expect(deepseekEngine(stack.server.ctx).pool.status().inUse).toBe(0);
  });
  test("test-all tests every account", async () => {
    const r = await api.post("/admin/accounts/test-all", {});
    expect(r.json.total).toBe(2);
    expect(r.json.success).toBe(2);
    expect(r.json.failed).toBe(0);
    expect(r.json.results.map((x: { account: string }) => x.account)).toEqual(["user0@example.com", "user1@example.com"]);
  });
  test("a wrong password is reported, not thrown", async () => {
    await api.post("/admin/accounts", { email: "ghost@example.com", password: "ghost-secret-pw" });
    const r = await api.post("/admin/accounts/test", { identifier: "ghost@example.com" });
    expect(r.json.success).toBe(false);
    expect(r.json.message).toContain("login");
    expect(r.json.message).not.toContain("ghost-secret-pw");
    await api.delete("/admin/accounts/ghost@example.com");
  });
});

describe("self-test and playground", () => {
  test("POST /admin/test calls the real /v1/chat/completions with the first key", async () => {
    const r = await api.post("/admin/test", { message: "ping" });
    expect(r.json.success).toBe(true);
    expect(r.json.status_code).toBe(200);
    expect(r.json.response.choices[0].message.content).toBe("The answer is forty-two.");
    expectDetail(await api.post("/admin/test", { api_key: "sk-not-configured" }), 400);
  });
  test("playground streams each surface's own SSE", async () => {
    const expectations: Record<string, (body: string) => void> = {
      openai: (b) => expect(b).toContain('"content":'),
      anthropic: (b) => expect(b).toContain("event: message_start"),
      gemini: (b) => expect(b).toContain('"candidates"'),
    };
    for (const surface of ["openai", "anthropic", "gemini"] as const) {
      const res = await fetch(`${stack.url}/admin/playground`, {
        method: "POST",
        headers: { authorization: `Bearer ${api.auth}`, "content-type": "application/json" },
        body: JSON.stringify({ surface, model: "deepseek-v4-flash", message: "stream please", stream: true }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/event-stream");
      const body = await res.text();
      expect(body).toContain("data:");
      expectations[surface]!(body);
      const visible = [...body.matchAll(/"(?:content|text)":"([^"]*)"/g)].map((m) => m[1]).join("");
      expect(visible).toContain("forty-two");
    }
    const bad = await api.post("/admin/playground", { surface: "openai", model: "no-such-model", message: "x" });
    expect(bad.status).toBe(400);
    expect(bad.json.detail).toContain("no-such-model");
  });
});

describe("usage counters and quotas", () => {
  test("a real chat is counted for its key with the usage the client saw", async () => {
    const before = (await api.get("/admin/keys")).json.items.find((k: { key_preview: string }) => k.key_preview === `${API_KEY.slice(0, 2)}****${API_KEY.slice(-2)}`);
    const sentAt = Date.now();
    const res = await chat(API_KEY, "count me");
    const body = (await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
    expect(res.status).toBe(200);
    await waitUntil(async () => (await stack.server.ctx.store.keyUsage.usage(stack.server.ctx.store.apiKeys.hashOf(API_KEY))).requests === before.usage.requests + 1);
    const after = (await api.get("/admin/keys")).json.items.find((k: { key_id: string }) => k.key_id === before.key_id);
    expect(after.usage.requests).toBe(before.usage.requests + 1);
    expect(after.usage.prompt_tokens - before.usage.prompt_tokens).toBe(body.usage.prompt_tokens);
    expect(after.usage.completion_tokens - before.usage.completion_tokens).toBe(body.usage.completion_tokens);
    expect(body.usage.completion_tokens).toBeGreaterThan(0);
    expect(after.usage.last_used_at).toBeGreaterThanOrEqual(sentAt);
    expect(after.usage.last_used_at).toBeLessThanOrEqual(Date.now());
    expect(after.usage.tokens_today).toBeGreaterThanOrEqual(body.usage.prompt_tokens + body.usage.completion_tokens);
  });

  test("requests per minute → 429 in the OpenAI shape with Retry-After", async () => {
    const key = await newKey({ requests_per_minute: 1 });
    expect((await chat(key)).status).toBe(200);
    const refused = await chat(key);
    expect(refused.status).toBe(429);
    const retry = Number(refused.headers.get("retry-after"));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    const body = (await refused.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("rate_limit_error");
    expect(body.error.message).toContain("per minute");
    // other keys are not affected
    expect((await chat(API_KEY)).status).toBe(200);
  });

  test("requests per minute → 429 in the Anthropic shape", async () => {
    const key = await newKey({ requests_per_minute: 1 });
    expect((await claude(key)).status).toBe(200);
    const refused = await claude(key);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = (await refused.json()) as { type: string; error: { type: string } };
    expect(body.type).toBe("error");
    expect(body.error.type).toBe("rate_limit_error");
  });

  test("tokens per day → 429 in the Gemini shape, reset time in Retry-After; lifting the quota lets it through", async () => {
    const key = await newKey({ tokens_per_day: 1 });
    expect((await gemini(key)).status).toBe(200);
    await waitUntil(async () => (await stack.server.ctx.store.keyUsage.usage(stack.server.ctx.store.apiKeys.hashOf(key))).requests === 1);
    const askedAt = Date.now();
    const refused = await gemini(key);
    const answeredAt = Date.now();
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as { error: { code: number; status: string; message: string } };
    expect(body.error.code).toBe(429);
    expect(body.error.status).toBe("RESOURCE_EXHAUSTED");
    expect(body.error.message).toContain("daily");
    // Seconds to the next UTC midnight as seen at some moment between asking and the answer (±1 s for rounding).
    const toMidnight = (t: number) => {
      const d = new Date(t);
      return (Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1) - t) / 1000;
    };
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil(toMidnight(askedAt)) + 1);
    expect(retryAfter).toBeGreaterThanOrEqual(Math.floor(toMidnight(answeredAt)) - 1);
    const id = (await api.get("/admin/keys")).json.items.find((k: { key_preview: string; quota: { tokens_per_day: number | null } }) => k.quota.tokens_per_day === 1).key_id;
    expect((await api.put(`/admin/keys/${id}`, { quota: { tokens_per_day: null } })).status).toBe(200);
    expect((await gemini(key)).status).toBe(200);
  });
});

describe("masking with real tokens", () => {
  test("no answer holds an account password, a DeepSeek token, the admin key or an API key", async () => {
    await api.get("/admin/config");
    await api.get("/admin/accounts?page_size=100");
    await api.get("/admin/errors/recent");
    await api.get("/admin/audit?limit=1000");
    await api.get("/admin/config/export");
    const secrets = [...stack.sim.state.tokens.keys(), "pw-0", "pw-1", "ghost-secret-pw", API_KEY, "e2e-admin", ...createdKeys];
    expect(api.expectNoSecrets(secrets)).toBeGreaterThan(10);
  });
});
