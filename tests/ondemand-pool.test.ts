/**
 * The OnDemand key pool through the real server and the simulator: rotation, sessions per key, failover,
 * the circuit breaker (open → cooled → probed → closed), every key bad, reset, persistence across a restart,
 * and keys never showing in answers or logs.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import OpenAI from "openai";
import type { CredentialPoolAdmin, CredentialView } from "../src/core/upstream/provider.ts";
import { OD_API_KEY, OD_KEYS, odModel, startOdStack, type OdStack } from "./support/ondemand-stack.ts";

setDefaultTimeout(30_000);

let stack: OdStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

function pool(s: OdStack): CredentialPoolAdmin {
  const p = s.server.ctx.providers.get("ondemand")?.credentials;
  if (!p) throw new Error("no ondemand credential pool");
  return p;
}

async function viewOf(s: OdStack, secret: string): Promise<CredentialView> {
  const v = (await (await pool(s).list())).find((x) => secret.startsWith(x.preview.split("****")[0]!) && secret.endsWith(x.preview.split("****")[1]!));
  if (!v) throw new Error("key not in the pool");
  return v;
}

function client(s: OdStack): OpenAI {
  return new OpenAI({ apiKey: OD_API_KEY, baseURL: `${s.url}/v1`, maxRetries: 0 });
}

async function ask(s: OdStack, text = "hi", stream = false): Promise<string> {
  if (!stream) {
    const r = await client(s).chat.completions.create({ model: odModel("gpt-4o"), messages: [{ role: "user", content: text }] });
    return r.choices[0]!.message.content ?? "";
  }
  let out = "";
  for await (const c of await client(s).chat.completions.create({ model: odModel("gpt-4o"), messages: [{ role: "user", content: text }], stream: true })) out += c.choices[0]?.delta.content ?? "";
  return out;
}

async function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

describe("rotation and sessions", () => {
  test("requests rotate over the keys; each key creates one session and reuses it", async () => {
    stack = await startOdStack();
    for (let i = 0; i < 6; i++) expect(await ask(stack, `q${i}`)).toContain(`q${i}`);
    const queries = stack.sim.state.queries();
    expect(queries.map((q) => q.apikey)).toEqual([...OD_KEYS, ...OD_KEYS]);
    const creates = stack.sim.state.sessionCreates();
    expect(creates.map((c) => c.apikey).sort()).toEqual([...OD_KEYS].sort());
    // every query used the session its own key created
    for (const q of queries) expect(stack.sim.state.sessions.get(q.sessionId!)!.key).toBe(q.apikey!);
    expect((await pool(stack).list()).map((v) => v.usage)).toEqual([2, 2, 2]);
  });

  test("a session idle longer than session_ttl_seconds is replaced; 0 means a new session per request", async () => {
    stack = await startOdStack({ keys: [OD_KEYS[0]!], ondemand: { session_ttl_seconds: 0.3 } });
    await ask(stack);
    await ask(stack);
    expect(stack.sim.state.sessionCreates()).toHaveLength(1);
    await Bun.sleep(450);
    await ask(stack);
    expect(stack.sim.state.sessionCreates()).toHaveLength(2);
    const ids = new Set(stack.sim.state.queries().map((q) => q.sessionId));
    expect(ids.size).toBe(2);
  });

  test("a transient 404 on session create is retried once; a query 404 for a forgotten session gets a new session", async () => {
    stack = await startOdStack({ keys: [OD_KEYS[0]!] });
    stack.sim.state.sessionCreate404 = 1;
    expect(await ask(stack, "first")).toContain("first");
    expect(stack.sim.state.sessionCreates().map((r) => r.status)).toEqual([404, 201]);
    stack.sim.state.sessions.clear(); // OnDemand forgot the session
    expect(await ask(stack, "second")).toContain("second");
    expect(stack.sim.state.queries().map((q) => q.status)).toEqual([200, 404, 200]);
    expect(stack.sim.state.sessionCreates()).toHaveLength(3);
    expect((await viewOf(stack, OD_KEYS[0]!)).state).toBe("ok");
  });
});

describe("failover and the circuit breaker", () => {
  test("a rejected key (401) fails over to the next key and is marked bad; the others keep serving", async () => {
    stack = await startOdStack();
    stack.sim.state.failKey(OD_KEYS[0]!, { on: "any", status: 401, errorCode: "unauthenticated" });
    expect(await ask(stack, "one")).toContain("one");
    const bad = (await viewOf(stack, OD_KEYS[0]!));
    expect(bad.state).toBe("bad");
    expect(bad.cooldownUntil).toBeGreaterThan(Date.now());
    expect(bad.lastError).toContain("401");
    for (let i = 0; i < 4; i++) await ask(stack, `n${i}`);
    // the bad key is not used again while it rests
    const after = stack.sim.state.requests.slice(1);
    expect(after.some((r) => r.apikey === OD_KEYS[0])).toBe(false);
  });

  test("the breaker: open on 403 → rests → probed by a session create → closed again", async () => {
    stack = await startOdStack({ keys: OD_KEYS.slice(0, 2), ondemand: { bad_key_probe_seconds: 0.4 } });
    stack.sim.state.failKey(OD_KEYS[0]!, { on: "session", status: 403, errorCode: "unauthorized", times: 1 });
    await ask(stack);
    expect((await viewOf(stack, OD_KEYS[0]!)).state).toBe("bad");
    const until = (await viewOf(stack, OD_KEYS[0]!)).cooldownUntil!;
    await waitFor(() => Date.now() > until, "the rest to end");
    const before = stack.sim.state.requests.length;
    await ask(stack, "probe");
    const probe = stack.sim.state.requests.slice(before);
    expect(probe[0]).toMatchObject({ apikey: OD_KEYS[0], path: "/chat/v1/sessions", status: 201 });
    const v = (await viewOf(stack, OD_KEYS[0]!));
    expect(v.state).toBe("ok");
    expect(v.cooldownUntil).toBeUndefined();
  });

  test("a probe that fails again opens the breaker for longer (the rest doubles)", async () => {
    stack = await startOdStack({ keys: OD_KEYS.slice(0, 2), ondemand: { bad_key_probe_seconds: 0.3 } });
    stack.sim.state.failKey(OD_KEYS[0]!, { on: "session", status: 401, times: 2 });
    await ask(stack);
    const first = (await viewOf(stack, OD_KEYS[0]!)).cooldownUntil!;
    await waitFor(() => Date.now() > first, "the first rest to end");
    const t = Date.now();
    await ask(stack, "again"); // probes key 0 (401 again), then key 1 answers
    const v = (await viewOf(stack, OD_KEYS[0]!));
    expect(v.state).toBe("bad");
    expect(v.cooldownUntil! - t).toBeGreaterThan(450); // 2 × 0.3 s
  });

  test("every key rejected: 503 with Retry-After naming the failures; then an honest 503 while they all rest", async () => {
    stack = await startOdStack();
    for (const k of OD_KEYS) stack.sim.state.failKey(k, { on: "any", status: 401 });
    const r = await fetch(`${stack.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${OD_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: odModel("gpt-4o"), messages: [{ role: "user", content: "x" }] }),
    });
    expect(r.status).toBe(503);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = (await r.json()) as { error: { message: string; code: string } };
    expect(body.error.message).toContain("3 accounts tried");
    expect(body.error.code).toBe("upstream_auth");
    const n = stack.sim.state.requests.length;
    const again = await fetch(`${stack.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${OD_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: odModel("gpt-4o"), messages: [{ role: "user", content: "x" }] }),
    });
    expect(again.status).toBe(503);
    expect(Number(again.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("accounts_unavailable");
    expect(stack.sim.state.requests.length).toBe(n); // nothing reached OnDemand
  });

  test("at most max_account_attempts keys per request", async () => {
    stack = await startOdStack({ env: { DS2API_MAX_ACCOUNT_ATTEMPTS: "2" } });
    for (const k of OD_KEYS) stack.sim.state.failKey(k, { on: "any", status: 403 });
    const err = await ask(stack).catch((e) => e);
    expect(err.status).toBe(503);
    expect(new Set(stack.sim.state.requests.map((r) => r.apikey)).size).toBe(2);
    expect((await pool(stack).list()).filter((v) => v.state === "bad")).toHaveLength(2);
  });

  test("a quota (429 after N queries) rests only that key; Retry-After is honoured; all rate limited → 429", async () => {
    stack = await startOdStack({ keys: OD_KEYS.slice(0, 2) });
    stack.sim.state.setQuota(OD_KEYS[0]!, 1);
    await ask(stack, "a"); // key 0
    await ask(stack, "b"); // key 1
    expect(await ask(stack, "c")).toContain("c"); // key 0 → 429 → key 1
    const v = (await viewOf(stack, OD_KEYS[0]!));
    expect(v.state).toBe("cooling");
    expect(v.cooldownUntil! - Date.now()).toBeGreaterThan(30_000); // no Retry-After: cooldown_seconds (60 s)
    stack.sim.state.failKey(OD_KEYS[1]!, { on: "query", status: 429, retryAfter: "120" });
    const err = await ask(stack, "d").catch((e) => e);
    expect(err.status).toBe(429);
    expect((await viewOf(stack, OD_KEYS[1]!)).cooldownUntil! - Date.now()).toBeGreaterThan(100_000);
  });

  test("reset closes open breakers and zeroes usage", async () => {
    stack = await startOdStack({ keys: OD_KEYS.slice(0, 2) });
    stack.sim.state.failKey(OD_KEYS[0]!, { on: "any", status: 401, times: 1 });
    await ask(stack);
    expect((await viewOf(stack, OD_KEYS[0]!)).state).toBe("bad");
    expect(await pool(stack).resetUsage()).toBe(2);
    expect((await pool(stack).list()).map((v) => [v.state, v.usage])).toEqual([["ok", 0], ["ok", 0]]);
    expect(pool(stack).status()).toMatchObject({ total: 2, usable: 2, bad: 0 });
  });
});

describe("persistence and secrets", () => {
  test("state, rest end, failures and usage survive a restart on the same sqlite; keys are not duplicated", async () => {
    stack = await startOdStack({ keys: OD_KEYS.slice(0, 2) });
    stack.sim.state.failKey(OD_KEYS[0]!, { on: "any", status: 401 });
    await ask(stack);
    await ask(stack);
    const before = (await pool(stack).list());
    await stack.restart();
    const after = (await pool(stack).list());
    expect(after).toHaveLength(2);
    expect(after.map((v) => [v.id, v.state, v.cooldownUntil, v.usage])).toEqual(before.map((v) => [v.id, v.state, v.cooldownUntil, v.usage]));
    const n = stack.sim.state.requests.length;
    await ask(stack, "after restart");
    expect(stack.sim.state.requests.slice(n).every((r) => r.apikey === OD_KEYS[1])).toBe(true);
  });

  test("keys never appear in answers, pool views or logs, even when OnDemand echoes one back", async () => {
    stack = await startOdStack({ keys: OD_KEYS.slice(0, 2) });
    stack.sim.state.failKey(OD_KEYS[0]!, { on: "any", status: 401, message: `Invalid key ${OD_KEYS[0]}` });
    stack.sim.state.failKey(OD_KEYS[1]!, { on: "any", status: 500, message: `boom for ${OD_KEYS[1]}` });
    const texts: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${stack.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${OD_API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: odModel("gpt-4o"), messages: [{ role: "user", content: "x" }], stream: i === 1 }),
      });
      texts.push(await r.text());
    }
    texts.push(JSON.stringify((await pool(stack).list())), JSON.stringify(stack.server.ctx.providers.status()), stack.logs.join("\n"));
    const adminStatus = await fetch(`${stack.url}/admin/queue/status`, { headers: { authorization: "Bearer od-admin" } });
    texts.push(await adminStatus.text());
    for (const k of OD_KEYS) for (const t of texts) expect(t).not.toContain(k);
    expect(texts[0]).toContain("****");
  });
});

describe("concurrency and cancellation", () => {
  test("concurrent requests on a cold key create one session; in-flight counts come back to zero", async () => {
    stack = await startOdStack({ keys: [OD_KEYS[0]!] });
    stack.sim.state.setDefaultReply({ answer: "together", delayMs: 20 });
    const answers = await Promise.all(Array.from({ length: 4 }, (_, i) => ask(stack!, `c${i}`)));
    expect(answers).toEqual(["together", "together", "together", "together"]);
    expect(stack.sim.state.sessionCreates()).toHaveLength(1);
    expect(pool(stack).status().inUse).toBe(0);
  });

  test("a client that goes away frees the key and cancels the upstream stream", async () => {
    stack = await startOdStack({ keys: [OD_KEYS[0]!] });
    stack.sim.state.script({ answer: "a long answer that keeps coming for quite a while", deltaChars: 1, delayMs: 100 });
    const ac = new AbortController();
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${OD_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: odModel("gpt-4o"), messages: [{ role: "user", content: "x" }], stream: true }),
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    await waitFor(() => pool(stack!).status().inUse === 1, "the key to be in use");
    ac.abort();
    await waitFor(() => pool(stack!).status().inUse === 0, "the key to be freed");
    await waitFor(() => stack!.sim.state.queries().at(-1)!.cancelled === true, "the upstream stream to be cancelled");
    expect((await viewOf(stack, OD_KEYS[0]!)).state).toBe("ok");
  });
});
