/**
 * Bounded upstream streams: a stall after the headers (silent or comments only), a dead upstream that never
 * sends headers, and a turn over the total limit each end with a timeout error in the surface's shape, free
 * the account slot at once (the next request on a one-slot pool is served), and never cool the account down.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { OptionsError, resolveOptions } from "../src/config/options.ts";
import { DEFAULT_TURN_LIMITS, resolveTurnLimits } from "../src/config/runtime-settings.ts";
import { SseActivityScanner } from "../src/upstream/deepseek/sse/activity.ts";
import { startStack, type Stack } from "./support/stack.ts";
import { accountStates, chat, claude, gemini, poolIdle, resetFaults, streamError, streamedText } from "./support/fault-helpers.ts";
import { deepseekEngine } from "./support/deepseek-engine.ts";
import { waitUntil } from "./support/wait.ts";

let stack: Stack;
const ACCOUNT = "user0@example.com";

beforeAll(async () => {
  stack = await startStack({
    accounts: 1,
    env: {
      DS2API_ACCOUNT_MAX_INFLIGHT: "1",
      DS2API_UPSTREAM_IDLE_TIMEOUT_SECONDS: "0.4",
      DS2API_UPSTREAM_HEADER_TIMEOUT_SECONDS: "0.4",
      DS2API_QUEUE_WAIT_SECONDS: "5",
    },
  });
});
afterAll(() => stack.stop());
beforeEach(() => resetFaults(stack));

const pool = () => deepseekEngine(stack.server.ctx).pool;

/** The slot is free, the account is not benched, and the one-slot pool serves the next request. */
async function expectSlotFreeAndAccountFine() {
  await poolIdle(stack);
  expect(pool().status().coolingDown).toBe(0);
  expect((await accountStates(stack))[ACCOUNT]).toBe("ok");
  const next = await chat(stack, "next one");
  expect(next.status).toBe(200);
  expect(next.json.choices[0].message.content).toBe("fine");
}

describe("upstream idle timeout after the headers", () => {
  test("OpenAI stream: a silent stall ends the started stream with an in-stream upstream_timeout error; the upstream is cancelled", async () => {
    stack.sim.state.script({ answer: "one two three four five", stall: { afterTokens: 2, ms: 60_000 } });
    const r = await chat(stack, "stall please", true);
    expect(r.status).toBe(200);
    expect(streamedText(r.text).length).toBeGreaterThan(0);
    const err = streamError(r.text);
    expect(err.error.code).toBe("upstream_timeout");
    expect(err.error.message).toContain("upstream idle timeout");
    expect(err.status_code).toBe(504);
    await waitUntil(() => stack.sim.state.streams.at(-1)!.outcome !== "open", "the simulator to see the upstream cancelled");
    expect(stack.sim.state.streams.at(-1)!.outcome).toBe("cancelled");
    await expectSlotFreeAndAccountFine();
  });

  test("a stall that only sends SSE comments is still a stall (comments are not activity)", async () => {
    stack.sim.state.script({ answer: "one two three four five", stall: { afterTokens: 2, ms: 60_000, keepaliveMs: 50 } });
    const r = await chat(stack, "comments only", true);
    expect(r.status).toBe(200);
    expect(streamError(r.text).error.code).toBe("upstream_timeout");
    await expectSlotFreeAndAccountFine();
  });

  test("a pause shorter than the idle limit is not a stall", async () => {
    stack.sim.state.script({ answer: "slow but steady answer", stall: { afterTokens: 2, ms: 150 } });
    const r = await chat(stack, "short pause", true);
    expect(streamError(r.text)).toBeUndefined();
    expect(streamedText(r.text)).toBe("slow but steady answer");
    await poolIdle(stack);
  });

  test("OpenAI non-stream: 504 upstream_timeout as a JSON error", async () => {
    stack.sim.state.script({ answer: "one two three", stall: { afterTokens: 1, ms: 60_000 } });
    const r = await chat(stack, "stall non-stream");
    expect(r.status).toBe(504);
    expect(r.json.error.code).toBe("upstream_timeout");
    await expectSlotFreeAndAccountFine();
  });

  test("Anthropic stream: the in-stream error event; Gemini non-stream: 504 in Gemini's shape", async () => {
    stack.sim.state.script({ answer: "one two three", stall: { afterTokens: 1, ms: 60_000 } });
    const c = await claude(stack, "stall claude", true);
    expect(c.status).toBe(200);
    expect(c.text).toContain("event: error");
    const ce = streamError(c.text);
    expect(ce.type).toBe("error");
    expect(ce.error.message).toContain("upstream idle timeout");
    await poolIdle(stack);

    stack.sim.state.script({ answer: "one two three", stall: { afterTokens: 1, ms: 60_000 } });
    const g = await gemini(stack, "stall gemini");
    expect(g.status).toBe(504);
    expect(g.json.error.code).toBe(504);
    expect(g.json.error.message).toContain("upstream idle timeout");
    await expectSlotFreeAndAccountFine();
  });
});

describe("upstream header timeout", () => {
  test("no response headers within the limit: 504 at once, one completion call (not retried), account not benched", async () => {
    const before = stack.sim.state.requestsTo("/api/v0/chat/completion").length;
    stack.sim.state.script({ answer: "never", headerDelayMs: 60_000 });
    const r = await chat(stack, "dead upstream");
    expect(r.status).toBe(504);
    expect(r.json.error.code).toBe("upstream_timeout");
    expect(r.json.error.message).toContain("upstream header timeout");
    expect(stack.sim.state.requestsTo("/api/v0/chat/completion").length - before).toBe(1);
    await expectSlotFreeAndAccountFine();
  });
});

describe("total turn limit", () => {
  test("a stream that keeps sending but runs past turn_timeout_seconds ends with turn_timeout; the slot is freed", async () => {
    const admin = { authorization: "Bearer e2e-admin", "content-type": "application/json" };
    const set = (runtime: Record<string, number>) => fetch(`${stack.url}/admin/settings`, { method: "PUT", headers: admin, body: JSON.stringify({ runtime }) });
    expect((await set({ turn_timeout_seconds: 1 })).status).toBe(200);
    try {
      const view = await (await fetch(`${stack.url}/admin/settings`, { headers: admin })).json();
      expect(view.runtime.turn_timeout_seconds).toBe(1);
      expect(view.runtime.upstream_idle_timeout_seconds).toBe(0.4);
      // 60 tokens, one every 50 ms: never idle, but 3 s in all.
      stack.sim.state.script({ answer: Array.from({ length: 60 }, (_, i) => `t${i} `), tokenDelayMs: 50 });
      const r = await chat(stack, "long one", true);
      expect(r.status).toBe(200);
      expect(streamedText(r.text).length).toBeGreaterThan(0);
      const err = streamError(r.text);
      expect(err.error.code).toBe("turn_timeout");
      expect(err.error.message).toContain("turn_timeout_seconds");
      await expectSlotFreeAndAccountFine();
    } finally {
      expect((await set({ turn_timeout_seconds: 0 })).status).toBe(200);
    }
  });

  test("settings validation: a negative or non-integer limit is a 400 {detail}", async () => {
    const admin = { authorization: "Bearer e2e-admin", "content-type": "application/json" };
    for (const bad of [{ upstream_idle_timeout_seconds: -1 }, { max_account_attempts: 1.5 }, { queue_wait_seconds: "x" }]) {
      const r = await fetch(`${stack.url}/admin/settings`, { method: "PUT", headers: admin, body: JSON.stringify({ runtime: bad }) });
      expect(r.status).toBe(400);
      expect(typeof (await r.json()).detail).toBe("string");
    }
  });
});

describe("settings from the environment", () => {
  test("seconds accept fractions, attempts must be whole; a bad value names the variable; stored settings win", () => {
    const o = resolveOptions([], { DS2API_UPSTREAM_IDLE_TIMEOUT_SECONDS: "0.25", DS2API_MAX_ACCOUNT_ATTEMPTS: "5", DS2API_QUEUE_WAIT_SECONDS: "2" });
    const limits = resolveTurnLimits({}, o.turnLimits);
    expect(limits.upstreamIdleTimeoutMs).toBe(250);
    expect(limits.maxAccountAttempts).toBe(5);
    expect(limits.queueWaitMs).toBe(2000);
    expect(limits.turnTimeoutMs).toBe(DEFAULT_TURN_LIMITS.turnTimeoutMs);
    expect(resolveTurnLimits({ upstream_idle_timeout_seconds: 90 }, o.turnLimits).upstreamIdleTimeoutMs).toBe(90_000);
    expect(() => resolveOptions([], { DS2API_TURN_TIMEOUT_SECONDS: "soon" })).toThrow(OptionsError);
    expect(() => resolveOptions([], { DS2API_TURN_TIMEOUT_SECONDS: "soon" })).toThrow(/DS2API_TURN_TIMEOUT_SECONDS/);
    expect(() => resolveOptions([], { DS2API_MAX_ACCOUNT_ATTEMPTS: "1.5" })).toThrow(/DS2API_MAX_ACCOUNT_ATTEMPTS/);
  });
});

describe("what counts as upstream activity", () => {
  test("comment lines and blank lines do not; any other line does, across chunk boundaries", () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    const s = new SseActivityScanner();
    expect(s.push(enc(": keep-alive\n\n"))).toBe(false);
    expect(s.push(enc(":"))).toBe(false);
    expect(s.push(enc(" a comment split over chunks data: not a field\n"))).toBe(false);
    expect(s.push(enc("\r\n\r\n"))).toBe(false);
    expect(s.push(enc("da"))).toBe(true);
    expect(s.push(enc('ta: {"v":"x"}\n\n'))).toBe(true);
    expect(s.push(enc("event: update_session\n"))).toBe(true);
    expect(s.push(enc(": only a comment\n"))).toBe(false);
  });
});
