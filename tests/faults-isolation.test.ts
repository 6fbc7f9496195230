/**
 * Failure isolation: each upstream outcome is classified once (account / request / upstream-wide / protocol),
 * only account faults cool an account down, a request tries at most N accounts, and nobody waits on a
 * cool-down or in the queue past the queue-wait limit. Checked through the HTTP surfaces against the simulator.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { SIM_ERRORS } from "../src/sim/index.ts";
import { startStack, type Stack } from "./support/stack.ts";
import { accountStates, chat, claude, gemini, poolIdle, resetFaults, streamError, streamedText } from "./support/fault-helpers.ts";
import { deadPort } from "./support/proxy-servers.ts";
import { deepseekEngine } from "./support/deepseek-engine.ts";
import { waitUntil } from "./support/wait.ts";

const COMPLETION = "/api/v0/chat/completion";
const LOGIN = "/api/v0/users/login";
const IDS = ["user0@example.com", "user1@example.com", "user2@example.com"];

let stack: Stack;
const pinnedChat = (id: string) =>
  fetch(`${stack.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer sk-e2e-test-key", "content-type": "application/json", "x-ds2-target-account": id },
    body: JSON.stringify({ model: "deepseek-v4-flash-nothinking", messages: [{ role: "user", content: "pinned" }] }),
  });
beforeAll(async () => {
  stack = await startStack({ accounts: 3, env: { DS2API_MAX_ACCOUNT_ATTEMPTS: "2", DS2API_QUEUE_WAIT_SECONDS: "0.5" } });
  // Log every account in once, so later faults hit tokens that work.
  for (const id of IDS) expect((await pinnedChat(id)).status).toBe(200);
});
afterAll(() => stack.stop());
beforeEach(() => resetFaults(stack));

const pool = () => deepseekEngine(stack.server.ctx).pool;
const completions = () => stack.sim.state.requestsTo(COMPLETION).length;

async function expectNoAccountBenched() {
  await poolIdle(stack);
  expect(pool().status().coolingDown + pool().status().failing).toBe(0);
  expect(Object.values(await accountStates(stack)).every((s) => s === "ok")).toBe(true);
}

describe("upstream-wide failures: no cool-down, no failover, 503 with Retry-After", () => {
  test("a WAF / challenge page says so, names the client identity and TLS stack, and benches nobody", async () => {
    const before = completions();
    stack.sim.state.script({ waf: { vendor: "cloudflare" } });
    const r = await chat(stack, "behind a WAF");
    expect(r.status).toBe(503);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(r.json.error.code).toBe("upstream_waf");
    expect(r.json.error.message).toContain("WAF/challenge page (HTTP 403, HTML)");
    expect(r.json.error.message).toContain("client identity DeepSeek/2.0.4");
    expect(r.json.error.message).toContain("TLS profile: okhttp (impersonating okhttp4)");
    expect(r.json.error.message).not.toContain("rejected the client identity");
    expect(completions() - before).toBe(1);
    await expectNoAccountBenched();
    // /readyz shows it until a turn succeeds
    expect((await (await fetch(`${stack.url}/readyz`)).json()).upstream_problem.kind).toBe("waf");
    expect((await chat(stack, "after the WAF")).status).toBe(200);
  });

  test("Anthropic: an Aliyun WAF block is a 503 in Anthropic's error shape", async () => {
    stack.sim.state.script({ waf: { vendor: "aliyun" } });
    const r = await claude(stack, "aliyun waf");
    expect(r.status).toBe(503);
    expect(r.json.type).toBe("error");
    expect(r.json.error.message).toContain("WAF/challenge page (HTTP 405, HTML)");
    await expectNoAccountBenched();
  });

  test("a WAF in front of every call (session create included): Gemini stream gets a plain 503, one account tried", async () => {
    stack.sim.state.setOutage(SIM_ERRORS.cloudflareChallenge);
    const before = stack.sim.state.requests.length;
    const r = await gemini(stack, "waf everywhere", true);
    expect(r.status).toBe(503);
    expect(r.json.error.status).toBe("UNAVAILABLE");
    expect(r.json.error.message).toContain("WAF/challenge page (HTTP 403, HTML)");
    const seen = stack.sim.state.requests.slice(before);
    expect(new Set(seen.map((q) => q.headers.authorization)).size).toBe(1);
    expect(seen.length).toBe(1); // a challenge is not retried
    stack.sim.state.setOutage(undefined);
    await expectNoAccountBenched();
  });

  test("a 5xx storm on every account: 503 upstream_unavailable after one account, no cool-down", async () => {
    stack.sim.state.setOutage(SIM_ERRORS.badGateway);
    const before = stack.sim.state.requests.length;
    const r = await chat(stack, "storm");
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe("upstream_unavailable");
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // one account, three attempts at the failing call (session create), nothing else
    const seen = stack.sim.state.requests.slice(before);
    expect(new Set(seen.map((q) => q.headers.authorization)).size).toBe(1);
    stack.sim.state.setOutage(undefined);
    await expectNoAccountBenched();
  });

  test("connection refused on the direct route: 503 upstream_unreachable, no cool-down", async () => {
    await stack.sim.refuseConnections();
    try {
      const r = await gemini(stack, "nobody home");
      expect(r.status).toBe(503);
      expect(r.json.error.status).toBe("UNAVAILABLE");
      expect(r.json.error.message).toContain("DeepSeek cannot be reached");
    } finally {
      stack.sim.acceptConnections();
    }
    await expectNoAccountBenched();
    expect((await gemini(stack, "back again")).status).toBe(200);
  });
});

describe("protocol failures: 502, no cool-down, no failover", () => {
  for (const [name, script, code] of [
    ["malformed SSE (garbage lines)", { malformed: true }, "upstream_malformed_stream"],
    ["an empty 200 body", { emptyBody: true }, "upstream_empty_stream"],
    ["a truncated stream (ends mid-event without FINISHED)", { answer: "cut short here", truncateAfterTokens: 2 }, "upstream_truncated_stream"],
  ] as const) {
    test(`${name} → 502 ${code}`, async () => {
      const before = completions();
      stack.sim.state.script(script);
      const r = await chat(stack, name);
      expect(r.status).toBe(502);
      expect(r.json.error.code).toBe(code);
      expect(r.headers.get("retry-after")).toBeNull();
      expect(completions() - before).toBe(1);
      await expectNoAccountBenched();
    });
  }

  test("a truncated stream after visible text ends the started stream with an in-stream 502 error", async () => {
    stack.sim.state.script({ answer: "one two three four five six", truncateAfterTokens: 4 });
    const r = await chat(stack, "truncated stream", true);
    expect(r.status).toBe(200);
    expect(streamedText(r.text).length).toBeGreaterThan(0);
    const err = streamError(r.text);
    expect(err.status_code).toBe(502);
    expect(err.error.code).toBe("upstream_truncated_stream");
    await expectNoAccountBenched();
  });
});

describe("request-attributable failures never bench accounts", () => {
  test("empty output twice: 502 with a clear message, no Retry-After, no cool-down (Gemini)", async () => {
    stack.sim.state.script({ answer: "" }, { times: 2 });
    const r = await gemini(stack, "say nothing");
    expect(r.status).toBe(502);
    expect(r.json.error.message).toContain("no visible output");
    expect(r.headers.get("retry-after")).toBeNull();
    await expectNoAccountBenched();
  });

  test("a prompt DeepSeek refuses (business error on the completion) fails once and leaves every account serving", async () => {
    const poison = (ctx: { lastUserText: string }) => (ctx.lastUserText.includes("poison") ? { envelope: { bizCode: 40901, bizMsg: "content not allowed" } } : { answer: "fine" });
    stack.sim.state.setDefaultReply(poison);
    const before = completions();
    for (let i = 0; i < 3; i++) {
      const r = await chat(stack, `poison ${i}`);
      expect(r.status).toBe(502);
      expect(r.json.error.code).toBe("upstream_rejected");
      expect(r.json.error.message).toContain("content not allowed");
    }
    expect(completions() - before).toBe(3);
    await expectNoAccountBenched();
    // every account still serves at once
    const ok = await Promise.all(IDS.map((_, i) => chat(stack, `clean ${i}`)));
    expect(ok.map((r) => r.status)).toEqual([200, 200, 200]);
  });
});

describe("account-attributable failures: that account cools down, the request moves on", () => {
  test("an auth failure on one account cools only it; the request is served by another", async () => {
    // Use user1 and user2 (pinned) so that user0 is the least recently used account, the next one picked.
    for (const id of IDS.slice(1)) expect((await pinnedChat(id)).status).toBe(200);
    const victim = IDS[0]!;
    stack.sim.state.failAccount(victim, SIM_ERRORS.authBiz);
    const r = await chat(stack, "who serves me");
    expect(r.status).toBe(200);
    expect(r.json.choices[0].message.content).toBe("fine");
    await poolIdle(stack);
    const states = await accountStates(stack);
    expect(states[victim]).not.toBe("ok");
    expect(Object.entries(states).filter(([id]) => id !== victim).every(([, s]) => s === "ok")).toBe(true);
  });

  test("at most N accounts are tried (N = 2 here): the third stays untouched and the answer is an honest 503", async () => {
    for (const id of IDS) stack.sim.state.failAccount(id, SIM_ERRORS.authBiz);
    const logins = stack.sim.state.requestsTo(LOGIN).length;
    const r = await chat(stack, "everyone is broken");
    expect(r.status).toBe(503);
    expect(r.json.error.message).toContain("2 accounts tried");
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    await poolIdle(stack);
    const states = Object.values(await accountStates(stack));
    expect(states.filter((s) => s !== "ok").length).toBe(2);
    expect(states.filter((s) => s === "ok").length).toBe(1);
    expect(stack.sim.state.requestsTo(LOGIN).length - logins).toBe(2); // one re-login per tried account
  });

  test("a per-account rate limit on every tried account is a 429 with Retry-After", async () => {
    for (const id of IDS) stack.sim.state.failAccount(id, { status: 429, code: 42900, msg: "rate limit" });
    const r = await claude(stack, "slow down");
    expect(r.status).toBe(429);
    expect(r.json.error.type).toBe("rate_limit_error");
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });
});

describe("queue wait is capped", () => {
  test("every account cooling down longer than the queue wait: 503 at once with Retry-After, never a wait on the cool-down", async () => {
    for (const id of IDS) pool().markFailing(id, "auth", "test: benched");
    const r = await chat(stack, "anyone?");
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe("accounts_unavailable");
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(pool().status().waiting).toBe(0);
  });

  test("every account cooling down after a rate limit: 429 (a real capacity limit)", async () => {
    for (const id of IDS) pool().markFailing(id, "rate_limited", "test: rate limited");
    const r = await chat(stack, "anyone?");
    expect(r.status).toBe(429);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });

  test("all busy: a waiter gives up after the queue wait with 429 and Retry-After", async () => {
    stack.sim.state.setDefaultReply({ answer: "hold", stall: { afterTokens: 1, ms: 60_000, keepaliveMs: 20 } });
    const s = pool().status();
    const holders = Array.from({ length: s.total * s.maxInflightPerAccount }, (_, i) => {
      const ac = new AbortController();
      const done = fetch(`${stack.url}/v1/chat/completions`, {
        method: "POST",
        signal: ac.signal,
        headers: { authorization: "Bearer sk-e2e-test-key", "content-type": "application/json" },
        body: JSON.stringify({ model: "deepseek-v4-flash-nothinking", stream: true, messages: [{ role: "user", content: `hold ${i}` }] }),
      }).then((r) => r.text(), () => "").catch(() => "");
      return { ac, done };
    });
    try {
      await waitUntil(() => pool().status().inUse === s.total * s.maxInflightPerAccount, "every slot to be taken");
      const r = await chat(stack, "one too many");
      expect(r.status).toBe(429);
      expect(r.json.error.code).toBe("rate_limit_exceeded");
      expect(r.json.error.message).toContain("queue wait limit");
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    } finally {
      for (const h of holders) h.ac.abort();
      await Promise.all(holders.map((h) => h.done));
    }
    await poolIdle(stack);
  });
});

describe("a dead per-account proxy affects only that account", () => {
  let proxied: Stack;
  beforeAll(async () => {
    const accounts = IDS.slice(0, 2).map((email, i) => ({ email, password: `pw-${i}` }));
    proxied = await startStack({
      accounts: 2,
      config: {
        proxies: [{ id: "px-dead", name: "dead", type: "socks5", host: "127.0.0.1", port: deadPort() }],
        accounts: [{ ...accounts[0], proxy_id: "px-dead" }, accounts[1]],
      },
    });
  });
  afterAll(() => proxied.stop());

  test("the proxied account is benched, the request is served by the direct one, which stays fine", async () => {
    proxied.sim.state.setDefaultReply({ answer: "via the direct account" });
    for (let i = 0; i < 3; i++) {
      const r = await chat(proxied, `through ${i}`);
      expect(r.status).toBe(200);
      expect(r.json.choices[0].message.content).toBe("via the direct account");
    }
    await poolIdle(proxied);
    const states = await accountStates(proxied);
    expect(states[IDS[0]!]).toBe("login_failed");
    expect(states[IDS[1]!]).toBe("ok");
    const views = (await (await fetch(`${proxied.url}/admin/accounts?page_size=10`, { headers: { authorization: "Bearer e2e-admin" } })).json()).items as { identifier: string; status_reason: string }[];
    expect(views.find((v) => v.identifier === IDS[0])!.status_reason).toContain("proxy");
  });
});
