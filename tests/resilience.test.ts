/** Issue-4 failure paths through the real server, the simulator and the official SDKs; the pool must recover each time. */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { SIM_ERRORS } from "../src/sim/index.ts";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";
import { deepseekEngine } from "./support/deepseek-engine.ts";
import { waitUntil } from "./support/wait.ts";

let stack: Stack;
let client: OpenAI;
beforeAll(async () => {
  stack = await startStack({ accounts: 2 });
  client = new OpenAI({ apiKey: API_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
});
afterAll(() => stack?.stop());
beforeEach(() => {
  stack.sim.state.clearScripts();
  stack.sim.state.setDefaultReply({ thinking: "ok", answer: "fine" });
});

const pool = () => deepseekEngine(stack.server.ctx).pool;
async function expectPoolIdle() {
  await waitUntil(() => pool().status().inUse === 0);
  expect(pool().status().inUse).toBe(0);
  expect(pool().status().waiting).toBe(0);
}
/** Write one setting the way the admin API does: store, then the change event, answered once the views follow it. */
async function changeSetting(key: string, value: unknown): Promise<void> {
  if (value === undefined) await stack.server.ctx.store.settings.delete(key);
  else await stack.server.ctx.store.settings.set(key, value);
  stack.server.ctx.changes.publish({ topic: "settings.changed", ids: [key] });
  await stack.server.ctx.changes.settled();
}
const ask = (content: string, model = "deepseek-v4-flash") => client.chat.completions.create({ model, messages: [{ role: "user", content }] });

describe("search, content filter, continue", () => {
  test("search: non-stream renders [N](url); stream strips the markers", async () => {
    const sources = [
      { url: "https://one.example/a", title: "One" },
      { url: "https://two.example/b", title: "Two" },
      { url: "https://three.example/c", title: "Three" },
    ];
    stack.sim.state.script({ search: { sources, citations: 2 }, answer: "Guangzhou is warm today and humid later." });
    const r = await ask("weather in guangzhou", "deepseek-v4-flash-search");
    const text = r.choices[0]!.message.content!;
    expect(text).not.toMatch(/\[reference:\d+\]/);
    expect(text).toMatch(/\[\d\]\(https:\/\/(one|two|three)\.example\/[abc]\)/);
    const body = stack.sim.state.requestsTo("/api/v0/chat/completion").at(-1)!.body as Record<string, unknown>;
    expect(body.search_enabled).toBe(true);

    stack.sim.state.script({ search: { sources, citations: 2 }, answer: "Guangzhou is warm today and humid later." });
    const stream = await client.chat.completions.create({ model: "deepseek-v4-flash-search", messages: [{ role: "user", content: "weather" }], stream: true });
    let streamed = "";
    for await (const c of stream) streamed += c.choices[0]?.delta.content ?? "";
    expect(streamed).not.toContain("[reference:");
    expect(streamed.replace(/\s+/g, " ")).toContain("Guangzhou is warm today");
    await expectPoolIdle();
  });

  test("content filter → finish_reason content_filter, refusal text hidden", async () => {
    stack.sim.state.script({ answer: "Some partial answer", contentFilter: "observed" });
    const r = await ask("forbidden");
    expect(r.choices[0]!.finish_reason).toBe("content_filter");
    expect(r.choices[0]!.message.content).not.toContain("你好，这个问题我暂时无法回答");
    await expectPoolIdle();
  });

  test("INCOMPLETE → continue rounds give the whole answer exactly once", async () => {
    const answer = "This answer is long enough that the simulator cuts it into several rounds, each replayed as a snapshot.";
    stack.sim.state.script({ thinking: "long thinking here", answer, continueRounds: 2 });
    const before = stack.sim.state.counters.continues;
    const r = await ask("long please");
    expect(r.choices[0]!.message.content).toBe(answer);
    expect(stack.sim.state.counters.continues - before).toBe(2);
    await expectPoolIdle();
  });
});

describe("tokens, faults, empty output", () => {
  test("an expired token is renewed transparently (one re-login)", async () => {
    await ask("warm up both accounts");
    await ask("warm up both accounts");
    for (const a of deepseekEngine(stack.server.ctx).accounts.list()) if (a.token) stack.sim.state.expireToken(a.token);
    const logins = stack.sim.state.counters.logins;
    const r = await ask("after expiry");
    expect(r.choices[0]!.message.content).toBe("fine");
    expect(stack.sim.state.counters.logins - logins).toBe(1);
    await expectPoolIdle();
  });

  test("upstream 5xx before any output is retried; the client sees a normal answer", async () => {
    stack.sim.state.failCompletions(2, 502);
    const r = await ask("flaky upstream");
    expect(r.choices[0]!.message.content).toBe("fine");
    await expectPoolIdle();
  });

  test("mid-stream upstream disconnect ends the stream with an error chunk, never a 5xx status", async () => {
    stack.sim.state.script({ answer: "one two three four five six seven", disconnectAfterTokens: 4, tokenDelayMs: 5 });
    const stream = await client.chat.completions.create({ model: "deepseek-v4-flash-nothinking", messages: [{ role: "user", content: "cut" }], stream: true });
    let text = "";
    const err = await (async () => {
      for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
    })().catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(text.length).toBeGreaterThan(0);
    await expectPoolIdle();
  });

  test("empty output: one retry with parent_message_id, then 502 upstream_empty_output; the account is not benched", async () => {
    stack.sim.state.script({ thinking: "only thinking", answer: "" }, { times: 2 });
    const err = await ask("nothing comes back").catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(502);
    expect(err.code).toBe("upstream_empty_output");
    expect(err.message).toContain("the account is fine");
    const completions = stack.sim.state.requestsTo("/api/v0/chat/completion").slice(-2).map((r) => r.body as Record<string, unknown>);
    expect(completions[1]!.parent_message_id).toBe(2);
    expect(String(completions[1]!.prompt)).toContain("Previous reply had no visible output");
    expect(pool().status().coolingDown).toBe(0);
    expect((await ask("still works")).choices[0]!.message.content).toBe("fine");
    await expectPoolIdle();
  });

  test("a single empty first attempt is rescued by the retry", async () => {
    stack.sim.state.script({ answer: "" });
    stack.sim.state.script({ answer: "second time lucky" });
    expect((await ask("retry me")).choices[0]!.message.content).toBe("second time lucky");
    await expectPoolIdle();
  });
});

describe("client disconnect and concurrency", () => {
  test("client abort cancels the upstream stream and frees the slot at once", async () => {
    stack.sim.state.script({ answer: "slow ".repeat(200), tokenDelayMs: 20 });
    const ac = new AbortController();
    const stream = await client.chat.completions.create({ model: "deepseek-v4-flash-nothinking", messages: [{ role: "user", content: "slow" }], stream: true }, { signal: ac.signal });
    let n = 0;
    const reading = (async () => {
      for await (const _ of stream) if (++n === 3) ac.abort();
    })().catch(() => {});
    await reading;
    await waitUntil(() => stack.sim.state.streams.at(-1)!.outcome !== "open");
    expect(stack.sim.state.streams.at(-1)!.outcome).toBe("cancelled");
    await expectPoolIdle();
  });

  test("3× capacity of parallel slow streams: never more than the limit per account, excess waits or gets 429, no 5xx", async () => {
    stack.sim.state.setDefaultReply({ answer: "a b c d e f g h", tokenDelayMs: 15 });
    const limit = pool().status().maxInflightPerAccount;
    const capacity = pool().status().total * limit;
    const results = await Promise.all(
      Array.from({ length: capacity * 3 }, async (_, i) => {
        const r = await fetch(`${stack.url}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "deepseek-v4-flash-nothinking", stream: true, messages: [{ role: "user", content: `n${i}` }] }),
        });
        const text = await r.text();
        return { status: r.status, retryAfter: r.headers.get("retry-after"), text };
      }),
    );
    for (const a of await stack.server.ctx.store.accounts.list()) expect(stack.sim.state.concurrency(a.identifier).max).toBeLessThanOrEqual(limit);
    expect(results.every((r) => r.status === 200 || r.status === 429)).toBe(true);
    const ok = results.filter((r) => r.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(capacity * 2); // in flight + queue
    expect(ok.every((r) => r.text.includes("[DONE]"))).toBe(true);
    for (const r of results.filter((x) => x.status === 429)) expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    await expectPoolIdle();
  });

  test("Anthropic: a full pool is 429 rate_limit_error with Retry-After (not 401)", async () => {
    stack.sim.state.setDefaultReply({ answer: "x y z", tokenDelayMs: 60 });
    const s = pool().status();
    const hold = Array.from({ length: s.total * s.maxInflightPerAccount + s.maxQueue }, (_, i) =>
      fetch(`${stack.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "deepseek-v4-flash-nothinking", messages: [{ role: "user", content: `h${i}` }] }),
      }),
    );
    await waitUntil(() => pool().status().waiting === s.maxQueue);
    const anthropic = new Anthropic({ apiKey: API_KEY, baseURL: stack.url, maxRetries: 0 });
    const err = await anthropic.messages.create({ model: "claude-sonnet-4-6", max_tokens: 10, messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(Number(err.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    await Promise.all(hold);
    await expectPoolIdle();
  });
});

describe("long conversations go as DS2API_HISTORY.txt", () => {
  test("over the threshold the transcript is uploaded, attached first, and the prompt only points at it", async () => {
    await changeSetting("section.current_input_file", { enabled: true, prompt_chars: 2000 });
    try {
      stack.sim.state.script({ answer: "read the file" });
      const long = "Here is a long message. ".repeat(200);
      const r = await client.chat.completions.create({
        model: "deepseek-v4-flash",
        messages: [
          { role: "system", content: "sys rules" },
          { role: "user", content: long },
        ],
      });
      expect(r.choices[0]!.message.content).toBe("read the file");
      const body = stack.sim.state.requestsTo("/api/v0/chat/completion").at(-1)!.body as { prompt: string; ref_file_ids: string[] };
      expect(body.prompt).toContain("DS2API_HISTORY.txt");
      expect(body.prompt).not.toContain("Here is a long message.");
      expect(body.ref_file_ids.length).toBe(1);
      const file = stack.sim.state.files.get(body.ref_file_ids[0]!)!;
      const text = new TextDecoder().decode(file.bytes);
      expect(text).toContain("=== 1. SYSTEM ===\nsys rules");
      expect(text).toContain("=== 2. USER ===\nHere is a long message.");
      expect(file.name).toBe("DS2API_HISTORY.txt");
      // short prompts stay inline
      stack.sim.state.script({ answer: "inline" });
      await ask("short");
      const inline = stack.sim.state.requestsTo("/api/v0/chat/completion").at(-1)!.body as { prompt: string; ref_file_ids: string[] };
      expect(inline.ref_file_ids).toEqual([]);
      expect(inline.prompt).toContain("short");
    } finally {
      await changeSetting("section.current_input_file", undefined);
    }
    await expectPoolIdle();
  });
});

describe("protocol changes are loud", () => {
  test("CLIENT_VERSION_TOO_LOW: a clear error naming the setting, a log line, and /readyz reports it until a turn succeeds", async () => {
    stack.sim.state.injectError("/api/v0/chat/create_pow_challenge", SIM_ERRORS.clientVersionTooLow, { times: 5 });
    const err = await ask("version gate").catch((e) => e);
    expect(err.status).toBe(502);
    expect(err.message).toContain("client_identity.version");
    expect(stack.logs.some((l) => l.includes("upstream error") && l.includes("client_version"))).toBe(true);
    const ready = await (await fetch(`${stack.url}/readyz`)).json();
    expect(ready.status).toBe("ready");
    expect(ready.upstream_problem.kind).toBe("client_version");
    stack.sim.state.clearScripts();
    for (const a of deepseekEngine(stack.server.ctx).accounts.list()) pool().markHealthy(a.identifier);
    // once DeepSeek accepts us again the warning clears
    let ok = false;
    for (let i = 0; i < 5 && !ok; i++) ok = await ask("again").then(() => true, () => false);
    expect(ok).toBe(true);
    expect((await (await fetch(`${stack.url}/readyz`)).json()).upstream_problem).toBeUndefined();
    await expectPoolIdle();
  });
});

describe("auto_delete", () => {
  test("single with delay 0 deletes the session a turn used right after it (as the Go ds2api); none keeps it", async () => {
    const before = stack.sim.state.counters.sessionsDeleted;
    await ask("keep my session");
    await Bun.sleep(50);
    expect(stack.sim.state.counters.sessionsDeleted).toBe(before);
    await changeSetting("section.auto_delete", { mode: "single", delay_seconds: 0 });
    try {
      await ask("delete my session");
      await waitUntil(() => stack.sim.state.counters.sessionsDeleted === before + 1);
      const deleted = stack.sim.state.requestsTo("/api/v0/chat_session/delete").at(-1)!.body as { chat_session_id: string };
      const used = stack.sim.state.requestsTo("/api/v0/chat/completion").at(-1)!.body as { chat_session_id: string };
      expect(deleted.chat_session_id).toBe(used.chat_session_id);
    } finally {
      await changeSetting("section.auto_delete", undefined);
    }
    await expectPoolIdle();
  });
});
