/** Stream mechanics shared by the surfaces: keep-alives while waiting, delta coalescing, head-start errors. */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";
import { deepseekEngine } from "./support/deepseek-engine.ts";
import { WAIT_MS } from "./support/wait.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ accounts: 1 });
});
afterAll(() => stack?.stop());
beforeEach(() => {
  stack.server.ctx.streamHeadStartMs = 1500;
  stack.server.ctx.keepAliveMs = 5000;
  const engine = deepseekEngine(stack.server.ctx);
  for (const a of engine.accounts.list()) engine.pool.markHealthy(a.identifier);
});

async function rawStream(path: string, body: unknown): Promise<{ status: number; text: string }> {
  const r = await fetch(stack.url + path, { method: "POST", headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: r.status, text: await r.text() };
}

/**
 * A stream whose upstream reply is held until the client has read `marker`: the upstream answers only after the
 * keep-alive arrived, whatever the machine's load. If no marker ever comes, the reply is let go after WAIT_MS
 * and the caller's ordering assertion fails.
 */
async function streamHeldUntil(marker: string, path: string, body: unknown): Promise<{ status: number; text: string }> {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  stack.sim.state.script(async () => {
    await released;
    return { answer: "late" };
  });
  const safety = setTimeout(release, WAIT_MS);
  try {
    const r = await fetch(stack.url + path, { method: "POST", headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of r.body!) {
      text += decoder.decode(chunk, { stream: true });
      if (text.includes(marker)) release();
    }
    return { status: r.status, text };
  } finally {
    clearTimeout(safety);
    release();
  }
}

describe("keep-alives", () => {
  test("a slow upstream gets keep-alive frames before the first token, on every surface", async () => {
    stack.server.ctx.streamHeadStartMs = 50;
    stack.server.ctx.keepAliveMs = 60;
    const openai = await streamHeldUntil(": keep-alive", "/v1/chat/completions", { model: "deepseek-v4-flash-nothinking", stream: true, messages: [{ role: "user", content: "x" }] });
    expect(openai.status).toBe(200);
    const firstContent = openai.text.indexOf('"content":"l');
    expect(firstContent).toBeGreaterThan(0);
    expect(openai.text.indexOf(": keep-alive")).toBeGreaterThanOrEqual(0);
    expect(openai.text.indexOf(": keep-alive")).toBeLessThan(firstContent);

    const claude = await streamHeldUntil("event: ping", "/anthropic/v1/messages", { model: "claude-sonnet-4-6", max_tokens: 10, stream: true, messages: [{ role: "user", content: "x" }] });
    expect(claude.text.indexOf("event: ping")).toBeGreaterThanOrEqual(0);
    expect(claude.text.indexOf("event: ping")).toBeLessThan(claude.text.indexOf('"text":"l'));
    expect(claude.text).toContain("event: message_stop");

    const gemini = await streamHeldUntil(": keep-alive", "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", { contents: [{ role: "user", parts: [{ text: "x" }] }] });
    expect(gemini.text.indexOf(": keep-alive")).toBeGreaterThanOrEqual(0);
    expect(gemini.text.indexOf(": keep-alive")).toBeLessThan(gemini.text.indexOf('"text":"l'));
    expect(gemini.text).toContain('"finishReason":"STOP"');
  });

  test("a failure inside the head start is a plain HTTP error, not a 200 stream", async () => {
    // A head start longer than any retry can take on a loaded machine: the failure always lands inside it.
    stack.server.ctx.streamHeadStartMs = WAIT_MS;
    stack.sim.state.script({ answer: "" }, { times: 2 });
    const r = await rawStream("/v1/chat/completions", { model: "deepseek-v4-flash-nothinking", stream: true, messages: [{ role: "user", content: "x" }] });
    expect(r.status).toBe(502);
    expect(JSON.parse(r.text).error.code).toBe("upstream_empty_output");
  });
});

describe("coalescing", () => {
  test("one-character upstream tokens are merged, the first token goes out alone, nothing is lost", async () => {
    const answer = "abcdefghijklmnopqrstuvwxyz ".repeat(8);
    stack.sim.state.script({ answer, chunking: 1 });
    const r = await rawStream("/v1/chat/completions", { model: "deepseek-v4-flash-nothinking", stream: true, messages: [{ role: "user", content: "x" }] });
    const deltas = r.text
      .split("\n")
      .filter((l) => l.startsWith("data: {"))
      .map((l) => JSON.parse(l.slice(6)).choices[0]?.delta?.content)
      .filter((c): c is string => typeof c === "string" && c.length > 0);
    expect(deltas.join("")).toBe(answer);
    expect(deltas[0]!.length).toBe(1);
    expect(deltas.length).toBeLessThan(answer.length / 4);
  });
});
