/**
 * OnDemand faults through the server: each failure class gets its answer (upstream-wide 503 + Retry-After with no
 * key cooled, protocol 502, timeouts 504, in-stream errors on a started stream), and bounded streams.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { OD_API_KEY, OD_KEYS, odModel, startOdStack, type OdStack } from "./support/ondemand-stack.ts";
import { setStoredSetting } from "./support/stored-settings.ts";

setDefaultTimeout(30_000);

let stack: OdStack;
beforeAll(async () => {
  stack = await startOdStack({
    keys: OD_KEYS.slice(0, 2),
    env: { DS2API_UPSTREAM_IDLE_TIMEOUT_SECONDS: "0.5", DS2API_UPSTREAM_HEADER_TIMEOUT_SECONDS: "0.5" },
  });
});
afterAll(() => stack.stop());
beforeEach(async () => {
  stack.sim.state.reset();
  await stack.server.ctx.providers.get("ondemand")!.credentials!.resetUsage();
});

function chat(stream: boolean, text = "hi"): Promise<Response> {
  return fetch(`${stack.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${OD_API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: odModel("gpt-4o"), messages: [{ role: "user", content: text }], stream }),
  });
}

async function errorOf(r: Response): Promise<{ code: string; message: string }> {
  return ((await r.json()) as { error: { code: string; message: string } }).error;
}

async function keyStates(): Promise<string[]> {
  return (await stack.server.ctx.providers.get("ondemand")!.credentials!.list()).map((v) => v.state);
}

describe("upstream-wide failures never cool a key", () => {
  for (const status of [500, 502, 503]) {
    test(`HTTP ${status}: 503 upstream_unavailable with Retry-After, one key tried, no key cooled`, async () => {
      stack.sim.state.setOutage({ on: "query", status });
      const r = await chat(false);
      expect(r.status).toBe(503);
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
      expect((await errorOf(r)).code).toBe("upstream_unavailable");
      expect(new Set(stack.sim.state.queries().map((q) => q.apikey)).size).toBe(1);
      expect(await keyStates()).toEqual(["ok", "ok"]);
    });
  }

  test("an HTML error page is upstream-wide too", async () => {
    stack.sim.state.setOutage({ on: "session", status: 502, html: true });
    const r = await chat(false);
    expect(r.status).toBe(503);
    expect((await errorOf(r)).message).toContain("HTML page");
    expect(await keyStates()).toEqual(["ok", "ok"]);
  });

  test("504 plugin_execution_timeout is a 504", async () => {
    stack.sim.state.setOutage({ on: "query", status: 504 });
    const r = await chat(false);
    expect(r.status).toBe(504);
    expect(await keyStates()).toEqual(["ok", "ok"]);
  });

  test("an inactive endpoint (503 resource_unavailable) is a 503, not a bad key", async () => {
    stack.sim.state.inactiveEndpoints.add("predefined-openai-gpt4o");
    const r = await chat(false);
    expect(r.status).toBe(503);
    expect((await errorOf(r)).message).toContain("inactive");
    expect(await keyStates()).toEqual(["ok", "ok"]);
  });

  test("context_length_exceeded is the caller's 400", async () => {
    stack.sim.state.setOutage({ on: "query", status: 400, errorCode: "context_length_exceeded", message: "too long" });
    const r = await chat(false);
    expect(r.status).toBe(400);
    expect((await errorOf(r)).code).toBe("context_length_exceeded");
  });
});

describe("streams", () => {
  test("in-stream [ERROR] after deltas: the started stream ends with an error frame; non-stream 502", async () => {
    stack.sim.state.script({ answer: "Partial answer that goes on", deltaChars: 4, errorAfterDeltas: { after: 3, message: "model crashed", errorCode: "model_error" }, delayMs: 50 });
    const r = await chat(true);
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text).toContain("model crashed");
    expect(text).toContain("[DONE]");
    stack.sim.state.script({ answer: "abc def", errorAfterDeltas: { after: 1, message: "model crashed" } });
    const n = await chat(false);
    expect(n.status).toBe(502);
    expect((await errorOf(n)).message).toContain("model crashed");
    expect(await keyStates()).toEqual(["ok", "ok"]);
  });

  test("a stall with heartbeats only runs into the idle limit: 504 upstream_timeout", async () => {
    stack.sim.state.script({ answer: "never finished", stall: { afterDeltas: 1, ms: 3000, heartbeatMs: 100 } });
    const r = await chat(false);
    expect(r.status).toBe(504);
    const e = await errorOf(r);
    expect(e.code).toBe("upstream_timeout");
    expect(e.message).toContain("idle");
    expect(await keyStates()).toEqual(["ok", "ok"]);
  });

  test("a stream that keeps sending but runs past the turn limit: 504 turn_timeout, in-stream when started; the key is freed", async () => {
    const ctx = stack.server.ctx;
    await setStoredSetting(ctx, "runtime", { turn_timeout_seconds: 1 });
    try {
      stack.sim.state.script({ answer: "x".repeat(60), deltaChars: 1, delayMs: 100 });
      const r = await chat(false);
      expect(r.status).toBe(504);
      expect((await errorOf(r)).code).toBe("turn_timeout");
      stack.sim.state.script({ answer: "y".repeat(60), deltaChars: 1, delayMs: 100 });
      const s = await chat(true);
      expect(s.status).toBe(200);
      expect(await s.text()).toContain('"code":"turn_timeout"');
    } finally {
      await setStoredSetting(ctx, "runtime", {});
    }
    expect(stack.server.ctx.providers.get("ondemand")!.credentials!.status().inUse).toBe(0);
    expect(await keyStates()).toEqual(["ok", "ok"]);
  });

  test("upstream errors reach the listeners under the provider's name, never as a bare DeepSeek kind", async () => {
    stack.sim.state.script({ answer: "x", malformed: true });
    await chat(false);
    const text = await (await fetch(`${stack.url}/metrics`, { headers: { authorization: "Bearer od-admin" } })).text();
    expect(text).toContain('kind="ondemand.protocol"');
    const ready = (await (await fetch(`${stack.url}/readyz`)).json()) as { upstream_problem?: unknown };
    expect(ready.upstream_problem).toBeUndefined();
  });

  test("a pause shorter than the idle limit is fine", async () => {
    stack.sim.state.script({ answer: "slow but fine", stall: { afterDeltas: 1, ms: 150 } });
    const r = await chat(false);
    expect(r.status).toBe(200);
  });

  test("no response headers in time: 504 naming the header limit", async () => {
    stack.sim.state.script({ answer: "late", headerDelayMs: 1500 });
    const r = await chat(false);
    expect(r.status).toBe(504);
    expect((await errorOf(r)).message).toContain("header");
  });

  test("a stream cut mid-way: in-stream error after the text already sent", async () => {
    stack.sim.state.script({ answer: "Some words before the cut happen here", cutAfterDeltas: 3, delayMs: 50 });
    const r = await chat(true);
    const text = await r.text();
    expect(text).toContain("Some");
    expect(text).toContain('"code":"upstream_unreachable"');
    expect(await keyStates()).toEqual(["ok", "ok"]);
  });

  test("a stream that ends without [DONE]: 502 upstream_truncated_stream", async () => {
    stack.sim.state.script({ answer: "abc def ghi", truncateAfterDeltas: 1 });
    const r = await chat(false);
    expect(r.status).toBe(502);
    expect((await errorOf(r)).code).toBe("upstream_truncated_stream");
  });

  test("garbage lines: 502 upstream_malformed_stream; a data line over 64 KiB is fine", async () => {
    stack.sim.state.script({ answer: "x", malformed: true });
    const r = await chat(false);
    expect(r.status).toBe(502);
    expect((await errorOf(r)).code).toBe("upstream_malformed_stream");
    stack.sim.state.script({ answer: "after a long line", longLineChars: 70_000 });
    const ok = await chat(false);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe("after a long line");
  });

  test("an empty answer is the request's 502 (no key cooled)", async () => {
    stack.sim.state.script({ answer: "" });
    const r = await chat(false);
    expect(r.status).toBe(502);
    expect((await errorOf(r)).code).toBe("upstream_empty_output");
    expect(await keyStates()).toEqual(["ok", "ok"]);
  });

  test("connection refused: 503 upstream_unreachable with Retry-After", async () => {
    const ctx = stack.server.ctx;
    const section = (await ctx.store.settings.get<Record<string, unknown>>("section.ondemand")) ?? {};
    // settings.changed reloads the settings cache, then every provider (OnDemand drops its client and sessions).
    await setStoredSetting(ctx, "section.ondemand", { ...section, api_base: "http://127.0.0.1:9/chat/v1" });
    try {
      const r = await chat(false);
      expect(r.status).toBe(503);
      expect((await errorOf(r)).code).toBe("upstream_unreachable");
      expect(await keyStates()).toEqual(["ok", "ok"]);
    } finally {
      await setStoredSetting(ctx, "section.ondemand", section);
    }
  });
});
