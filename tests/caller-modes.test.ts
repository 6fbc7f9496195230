/** Direct DeepSeek tokens (opt-in) and pinning a request to one account. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";
import { deepseekEngine } from "./support/deepseek-engine.ts";

describe("direct-token mode", () => {
  let off: Stack;
  let on: Stack;
  beforeAll(async () => {
    off = await startStack({ accounts: 1 });
    on = await startStack({ accounts: 1, env: { DS2API_ALLOW_DIRECT_TOKEN: "true" } });
  });
  afterAll(async () => {
    await off?.stop();
    await on?.stop();
  });

  test("off by default: an unknown credential is a 401, even if it is a valid DeepSeek token", async () => {
    const token = off.sim.state.tokenFor("user0@example.com");
    const client = new OpenAI({ apiKey: token, baseURL: `${off.url}/v1`, maxRetries: 0 });
    const err = await client.chat.completions.create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    expect(err.status).toBe(401);
    expect(off.sim.state.requestsTo("/api/v0/chat/completion").length).toBe(0);
  });

  test("on: the caller's token is used upstream directly, without touching the pool", async () => {
    on.sim.state.script({ answer: "direct works" });
    const token = on.sim.state.tokenFor("user0@example.com");
    const client = new OpenAI({ apiKey: token, baseURL: `${on.url}/v1`, maxRetries: 0 });
    const r = await client.chat.completions.create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "x" }] });
    expect(r.choices[0]!.message.content).toBe("direct works");
    const req = on.sim.state.requestsTo("/api/v0/chat/completion").at(-1)!;
    expect(req.headers.authorization).toBe(`Bearer ${token}`);
    expect(on.sim.state.counters.logins).toBe(0);
    expect(deepseekEngine(on.server.ctx).pool.status().inUse).toBe(0);
    const bad = new OpenAI({ apiKey: "not-a-deepseek-token", baseURL: `${on.url}/v1`, maxRetries: 0 });
    const err = await bad.chat.completions.create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    expect(err.status).toBe(401);
  });
});

describe("X-Ds2-Target-Account", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ accounts: 3 });
  });
  afterAll(() => stack?.stop());

  test("pins every request to the named account; an unknown account is a clear error that names no account", async () => {
    const client = new OpenAI({ apiKey: API_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0, defaultHeaders: { "X-Ds2-Target-Account": "USER2@example.com" } });
    for (let i = 0; i < 3; i++) await client.chat.completions.create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: `p${i}` }] });
    const accounts = new Set(stack.sim.state.requestsTo("/api/v0/chat/completion").map((r) => r.accountId));
    expect(accounts.size).toBe(1);
    const tokenOwner = (await stack.server.ctx.store.accounts.get("user2@example.com"))!;
    expect(tokenOwner.requestCount).toBe(3);
    const nobody = new OpenAI({ apiKey: API_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0, defaultHeaders: { "X-Ds2-Target-Account": "nobody@example.com" } });
    const err = await nobody.chat.completions.create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    // the same answer as for a disabled account (tests/admin-hardening.test.ts): no account enumeration
    expect(err.status).toBe(503);
    expect(err.message).toContain("the requested account (X-Ds2-Target-Account) is not available");
    expect(err.message).not.toContain("nobody@example.com");
  });
});
