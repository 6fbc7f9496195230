/** Every error form of the Volcengine console (other-providers §A.2) classified onto the failure classes. */
import { afterAll, beforeAll, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import { errorOf, startVolcStack, viewOf, VOLC_API_KEY, VOLC_AUTH, volcAdmin, volcChat, volcModel, WEB_IDS, type VolcStack } from "./support/volc-stack.ts";

// Each test may start its own server + simulator: allow for a loaded machine (no test asserts on time).
setDefaultTimeout(30_000);

const [A, B] = WEB_IDS as [string, string, string];

let stack: VolcStack;
beforeAll(async () => {
  stack = await startVolcStack({
    volcengine: { authorization: VOLC_AUTH, web_ids: [A, B] },
    env: { DS2API_UPSTREAM_IDLE_TIMEOUT_SECONDS: "1", DS2API_UPSTREAM_HEADER_TIMEOUT_SECONDS: "1", DS2API_TURN_TIMEOUT_SECONDS: "3" },
  });
});
afterAll(() => stack.stop());
beforeEach(async () => {
  stack.sim.state.clearFaults();
  stack.sim.state.requests.length = 0;
  await volcAdmin(stack).resetUsage();
});

/** No entry was benched and no other entry was tried. */
function poolUntouched(tries = 1): void {
  expect(stack.sim.state.chats().length).toBe(tries);
  expect(new Set(stack.sim.state.chats().map((r) => r.webId)).size).toBe(1);
  expect(volcAdmin(stack).status()).toMatchObject({ usable: 2, bad: 0, cooling: 0, exhausted: 0 });
}

/** The in-stream error frame of an OpenAI chat stream. */
function streamError(raw: string): { status_code?: number; error?: { code?: string; message?: string } } | undefined {
  for (const line of raw.split("\n")) {
    if (!line.startsWith("data: {")) continue;
    const v = JSON.parse(line.slice(6)) as { error?: unknown };
    if (v.error) return v as never;
  }
  return undefined;
}

describe("upstream-wide: 503 with Retry-After, nothing benched, no other web id", () => {
  test("a WAF / risk-control HTML page with status 200", async () => {
    stack.sim.state.injectFault({ kind: "waf", status: 200 });
    const r = await volcChat(stack);
    expect(r.status).toBe(503);
    expect(errorOf(r).code).toBe("upstream_waf");
    expect(r.retryAfter).toBe("60");
    poolUntouched();
  });

  test("a WAF page with status 403 (Anthropic: overloaded_error)", async () => {
    stack.sim.state.injectFault({ kind: "waf", status: 403 });
    const anthropic = new Anthropic({ apiKey: VOLC_API_KEY, baseURL: `${stack.url}/anthropic`, maxRetries: 0 });
    const err = (await anthropic.messages.create({ model: volcModel("deepseek-v3-1"), max_tokens: 64, messages: [{ role: "user", content: "x" }] }).catch((e) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(err.status).toBe(503);
    expect((err.error as { error: { type: string } }).error.type).toBe("overloaded_error");
    poolUntouched();
  });

  test("a 5xx storm is retried once on the same web id, then 503 upstream_unavailable", async () => {
    stack.sim.state.injectFault({ kind: "http", status: 502, body: "Bad Gateway" });
    const r = await volcChat(stack);
    expect(r.status).toBe(503);
    expect(errorOf(r).code).toBe("upstream_unavailable");
    expect(r.retryAfter).toBe("30");
    poolUntouched(2);
  });

  test("a single 5xx blip is absorbed", async () => {
    stack.sim.state.injectFault({ kind: "http", status: 503, body: "busy" }, 1);
    expect((await volcChat(stack)).status).toBe(200);
  });

  test("an envelope with HTTP 200 but x-real-status 500 is a 5xx", async () => {
    stack.sim.state.injectFault({ kind: "envelope", code: "InternalError", message: "internal error", httpStatus: 200, realStatus: 500 });
    const r = await volcChat(stack);
    expect(r.status).toBe(503);
    expect(errorOf(r).code).toBe("upstream_unavailable");
    expect(errorOf(r).message).toContain("x-real-status 500");
  });

  test("a connection dropped before any answer", async () => {
    stack.sim.state.injectFault({ kind: "drop" });
    const r = await volcChat(stack);
    expect(r.status).toBe(503);
    expect(errorOf(r).code).toBe("upstream_unreachable");
    poolUntouched(2);
  });

  test("a connection cut mid-stream: in-stream 503 after the text already sent", async () => {
    stack.sim.state.script({ answer: "first part of the answer then nothing", chunkChars: 4, cutAfterChunks: 3, tokenDelayMs: 10 });
    const r = await volcChat(stack, { stream: true });
    expect(r.status).toBe(200);
    expect(r.raw).toContain(`"content":"firs"`);
    const e = streamError(r.raw)!;
    expect(e.status_code).toBe(503);
    expect(e.error!.code).toBe("upstream_unreachable");
    expect(r.raw.trimEnd().endsWith("data: [DONE]")).toBe(true);
    poolUntouched();
  });
});

describe("protocol: 502, nothing benched", () => {
  test("garbage data lines", async () => {
    stack.sim.state.script({ malformed: true });
    const r = await volcChat(stack);
    expect(r.status).toBe(502);
    expect(errorOf(r).code).toBe("upstream_malformed_stream");
    expect(r.retryAfter).toBeNull();
    poolUntouched();
  });

  test("an empty 200 event stream", async () => {
    stack.sim.state.script({ emptyBody: true });
    const r = await volcChat(stack);
    expect(r.status).toBe(502);
    expect(errorOf(r).code).toBe("upstream_empty_stream");
  });

  test("a stream that ends cleanly without a finish reason or [DONE] is truncated", async () => {
    stack.sim.state.script({ answer: "half an answer and", truncateAfterChunks: 2 });
    const r = await volcChat(stack);
    expect(r.status).toBe(502);
    expect(errorOf(r).code).toBe("upstream_truncated_stream");
  });

  test("JSON of an unknown shape instead of a stream", async () => {
    stack.sim.state.injectFault({ kind: "http", status: 200, body: '{"Result":{"Something":"else"}}', contentType: "application/json" });
    const r = await volcChat(stack);
    expect(r.status).toBe(502);
    expect(errorOf(r).code).toBe("upstream_protocol");
  });

  test("a very long data line is read and ignored", async () => {
    stack.sim.state.script({ answer: "long line survived", longLineBytes: 300_000 });
    const r = await volcChat(stack);
    expect(r.status).toBe(200);
    expect((r.body.choices as { message: { content: string } }[])[0]!.message.content).toBe("long line survived");
  });

  test("a replayed stream is served verbatim (capture mode)", async () => {
    const capture = ['data: {"choices":[{"delta":{"reasoning_content":"r"},"index":0}]}', 'data: {"choices":[{"delta":{"content":"replayed"},"index":0,"finish_reason":"stop"}]}', "data: [DONE]", ""].join("\n\n");
    stack.sim.state.script({ replay: capture });
    const r = await volcChat(stack);
    expect((r.body.choices as { message: { content: string } }[])[0]!.message.content).toBe("replayed");
  });
});

describe("request: 502, nothing benched", () => {
  test("an envelope refusal of this request (x-real-status 400)", async () => {
    stack.sim.state.injectFault({ kind: "envelope", code: "InvalidParameter.Prompt", message: "the prompt was refused", httpStatus: 200, realStatus: 400 });
    const r = await volcChat(stack);
    expect(r.status).toBe(502);
    expect(errorOf(r).code).toBe("upstream_rejected");
    expect(errorOf(r).message).toContain("InvalidParameter.Prompt");
    poolUntouched();
  });

  test("an error line inside a started stream (OpenAI-style error object)", async () => {
    stack.sim.state.script({ answer: "some text before the error", streamError: { afterChunks: 2, code: "ContentSecurityDetectionError", message: "sensitive content", form: "error" } });
    const r = await volcChat(stack, { stream: true });
    const e = streamError(r.raw)!;
    expect(e.status_code).toBe(502);
    expect(e.error!.code).toBe("upstream_rejected");
    expect(e.error!.message).toContain("sensitive content");
    poolUntouched();
  });

  test("no visible output: 502 upstream_empty_output naming Volcengine", async () => {
    stack.sim.state.script({ answer: "" });
    const r = await volcChat(stack);
    expect(r.status).toBe(502);
    expect(errorOf(r).code).toBe("upstream_empty_output");
    expect(errorOf(r).message).toContain("Volcengine");
    poolUntouched();
  });
});

describe("timeouts: 504, nothing benched", () => {
  test("a silent stall after the headers", async () => {
    stack.sim.state.script({ answer: "starts then stalls forever", stall: { afterChunks: 1, ms: 5000 } });
    const r = await volcChat(stack);
    expect(r.status).toBe(504);
    expect(errorOf(r).code).toBe("upstream_timeout");
    expect(errorOf(r).message).toContain("idle timeout");
    poolUntouched();
  });

  test("a stall that only sends SSE comments is as stuck as a silent one", async () => {
    stack.sim.state.script({ answer: "keepalive only", stall: { afterChunks: 1, ms: 5000, keepaliveMs: 100 } });
    const r = await volcChat(stack, { stream: true });
    const e = streamError(r.raw);
    expect(r.status === 504 || e?.status_code === 504).toBe(true);
    poolUntouched();
  });

  test("a pause shorter than the idle limit is fine", async () => {
    stack.sim.state.script({ answer: "a short pause is fine", stall: { afterChunks: 1, ms: 200 } });
    expect((await volcChat(stack)).status).toBe(200);
  });

  test("no response headers in time: 504, one call, not retried", async () => {
    stack.sim.state.script({ answer: "late", headerDelayMs: 3000 });
    const r = await volcChat(stack);
    expect(r.status).toBe(504);
    expect(errorOf(r).message).toContain("header timeout");
    poolUntouched();
  });

  test("a stream that keeps sending past the turn limit", async () => {
    stack.sim.state.script({ answer: "x".repeat(400), chunkChars: 1, tokenDelayMs: 20 });
    const r = await volcChat(stack, { stream: true });
    const e = streamError(r.raw);
    expect(r.status === 504 || e?.status_code === 504).toBe(true);
    expect(r.raw).toContain("turn_timeout");
    poolUntouched();
  });
});

describe("client disconnects", () => {
  test("the upstream stream is cancelled and the web id is free again", async () => {
    stack.sim.state.script({ answer: "a long slow answer ".repeat(40), chunkChars: 3, tokenDelayMs: 30 });
    const ctl = new AbortController();
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${VOLC_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: volcModel("deepseek-v3-1"), stream: true, messages: [{ role: "user", content: "go" }] }),
      signal: ctl.signal,
    });
    const reader = res.body!.getReader();
    let seen = "";
    while (!seen.includes('"content":"a l')) seen += new TextDecoder().decode((await reader.read()).value);
    expect(volcAdmin(stack).status().inUse).toBe(1);
    ctl.abort();
    await reader.cancel().catch(() => {});
    for (let i = 0; i < 500 && volcAdmin(stack).status().inUse > 0; i++) await Bun.sleep(10);
    expect(volcAdmin(stack).status().inUse).toBe(0);
    const upstream = stack.sim.state.chats()[0]!;
    for (let i = 0; i < 500 && upstream.streamEnd === undefined; i++) await Bun.sleep(10);
    expect(upstream.streamEnd).toBe("cancelled");
    poolUntouched();
  });
});

describe("account-attributable", () => {
  test("InvalidCSRFToken rests that web id (cooling) and another one answers", async () => {
    stack.sim.state.injectFault({ kind: "envelope", code: "InvalidCSRFToken", message: "csrf token is invalid", httpStatus: 200, realStatus: 403 }, 1);
    const r = await volcChat(stack);
    expect(r.status).toBe(200);
    const [first, second] = stack.sim.state.chats();
    expect(first!.outcome).toBe("InvalidCSRFToken");
    expect(second!.outcome).toBe("stream");
    expect((await viewOf(stack, first!.webId!)).state).toBe("cooling");
    expect((await viewOf(stack, second!.webId!)).state).toBe("ok");
    expect([A, B]).toContain(first!.webId!);
  });
});
