/** Ollama `/api/chat` and `/api/generate` through the server with the simulator upstream, the `ollama` npm client as the caller. */
import { afterAll, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Ollama, type ChatResponse, type GenerateResponse, type Tool } from "ollama";
import { describeRefFiles, toolCallMarkup } from "../src/sim/index.ts";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";

// The first turn logs in and solves a PoW; on a busy machine that can take longer than bun's 5 s default.
setDefaultTimeout(30_000);

let stack: Stack;
let ollama: Ollama;
beforeAll(async () => {
  stack = await startStack();
  ollama = new Ollama({ host: stack.url, headers: { Authorization: `Bearer ${API_KEY}` } });
});
afterAll(() => stack.stop());
beforeEach(() => stack.sim.state.setDefaultReply({ thinking: "Let me think.", answer: "Hello there, friend!" }));

const lastUpstream = () => stack.sim.state.requestsTo("/api/v0/chat/completion").at(-1)!.body as { prompt: string; thinking_enabled: boolean; model_type: string };

/** Ollama's status fields on a final line: counts and nanosecond durations, all numbers. */
function expectFinalStats(r: ChatResponse | GenerateResponse) {
  expect(r.done).toBe(true);
  expect(r.prompt_eval_count).toBeGreaterThan(0);
  expect(r.eval_count).toBeGreaterThan(0);
  for (const k of ["total_duration", "load_duration", "prompt_eval_duration", "eval_duration"] as const) expect(Number.isInteger(r[k])).toBe(true);
  expect(r.total_duration).toBeGreaterThan(0);
  expect(r.eval_duration).toBeGreaterThan(0);
  expect(r.total_duration).toBeGreaterThanOrEqual(r.prompt_eval_duration + r.eval_duration - 2);
  expect(Number.isNaN(Date.parse(String(r.created_at)))).toBe(false);
}

const weatherTool: Tool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string", description: "city" }, days: { type: "integer", description: "days" } }, required: ["city"] },
  },
};

describe("POST /api/chat", () => {
  test("non-stream: content, thinking, done_reason, counts and durations, model echoed with its tag", async () => {
    stack.sim.state.script({ thinking: "Two plus two.", answer: "It is 4." });
    const r = await ollama.chat({ model: "deepseek-v4-flash:latest", messages: [{ role: "user", content: "2+2?" }], stream: false });
    expect(r.model).toBe("deepseek-v4-flash:latest");
    expect(r.message.role).toBe("assistant");
    expect(r.message.content).toBe("It is 4.");
    expect(r.message.thinking).toBe("Two plus two.");
    expect(r.done_reason).toBe("stop");
    expectFinalStats(r);
    expect(lastUpstream().prompt).toContain("2+2?");
    expect(lastUpstream().thinking_enabled).toBe(true);
  });

  test("stream: thinking then content parts, one final done line", async () => {
    stack.sim.state.script({ thinking: "Pondering deeply about this.", answer: "Streaming works fine, and whitespace  stays." });
    const parts: ChatResponse[] = [];
    for await (const part of await ollama.chat({ model: "gpt-4o:latest", messages: [{ role: "user", content: "hi" }], stream: true })) parts.push(part);
    expect(parts.map((p) => p.message.thinking ?? "").join("")).toBe("Pondering deeply about this.");
    expect(parts.map((p) => p.message.content).join("")).toBe("Streaming works fine, and whitespace  stays.");
    expect(parts.filter((p) => p.done).length).toBe(1);
    const last = parts.at(-1)!;
    expect(last.done_reason).toBe("stop");
    expect(last.model).toBe("gpt-4o:latest");
    expectFinalStats(last);
  });

  test("streams NDJSON by default (no `stream` field), as the Ollama server does", async () => {
    stack.sim.state.script({ answer: "Line by line." });
    const res = await fetch(`${stack.url}/api/chat`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "deepseek-v4-flash-nothinking", messages: [{ role: "user", content: "x" }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("application/x-ndjson");
    const lines = (await res.text()).split("\n").filter((l) => l !== "");
    const objs = lines.map((l) => JSON.parse(l) as { done: boolean; message: { content: string } });
    expect(objs.at(-1)!.done).toBe(true);
    expect(objs.map((o) => o.message.content).join("")).toBe("Line by line.");
  });

  test("think:false turns thinking off upstream and returns no thinking", async () => {
    stack.sim.state.script({ thinking: "hidden", answer: "Plain." });
    const r = await ollama.chat({ model: "deepseek-v4-pro", messages: [{ role: "user", content: "x" }], think: false });
    expect(r.message.content).toBe("Plain.");
    expect(r.message.thinking).toBeUndefined();
    expect(lastUpstream().thinking_enabled).toBe(false);
    expect(lastUpstream().model_type).toBe("expert");
  });

  test("think:'high' on a thinking model returns message.thinking", async () => {
    stack.sim.state.script({ thinking: "Deep thought.", answer: "42" });
    const r = await ollama.chat({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "meaning?" }], think: "high" });
    expect(r.message.thinking).toBe("Deep thought.");
    expect(r.message.content).toBe("42");
  });

  test("tools: tool_calls with object arguments, then the tool result goes back into the prompt", async () => {
    stack.sim.state.script({ thinking: "need weather", answer: toolCallMarkup("get_weather", { city: "Paris", days: "3" }) });
    const messages: Parameters<Ollama["chat"]>[0]["messages"] = [{ role: "user", content: "Weather in Paris?" }];
    const first = await ollama.chat({ model: "deepseek-v4-flash", messages, tools: [weatherTool] });
    expect(first.message.content).toBe("");
    expect(first.message.tool_calls?.length).toBe(1);
    const call = first.message.tool_calls![0]!;
    expect(call.function.name).toBe("get_weather");
    expect(call.function.arguments).toEqual({ city: "Paris", days: 3 });
    expect(first.done_reason).toBe("stop");
    expect(lastUpstream().prompt).toContain("get_weather");

    stack.sim.state.script({ answer: "Sunny, 21°C in Paris." });
    messages!.push(first.message, { role: "tool", content: '{"temp_c": 21, "sky": "sunny"}', tool_name: "get_weather" });
    const second = await ollama.chat({ model: "deepseek-v4-flash", messages, tools: [weatherTool] });
    expect(second.message.content).toBe("Sunny, 21°C in Paris.");
    expect(second.message.tool_calls).toBeUndefined();
    const prompt = lastUpstream().prompt;
    expect(prompt).toContain('"temp_c": 21');
    expect(prompt).toContain("Paris");
  });

  test("tools while streaming: the call arrives in a part before the done line", async () => {
    stack.sim.state.script({ answer: toolCallMarkup("get_weather", { city: "Oslo" }) });
    const parts: ChatResponse[] = [];
    for await (const p of await ollama.chat({ model: "deepseek-v4-flash-nothinking", messages: [{ role: "user", content: "Oslo?" }], tools: [weatherTool], stream: true })) parts.push(p);
    const calls = parts.flatMap((p) => p.message.tool_calls ?? []);
    expect(calls.map((c) => [c.function.name, c.function.arguments])).toEqual([["get_weather", { city: "Oslo" }]]);
    expect(parts.map((p) => p.message.content).join("")).not.toContain("tool_calls");
    expect(parts.at(-1)!.done).toBe(true);
  });

  test("no messages: answers done_reason 'load' without calling upstream, as Ollama does", async () => {
    const before = stack.sim.state.requestsTo("/api/v0/chat/completion").length;
    const r = await ollama.chat({ model: "deepseek-v4-flash", messages: [] });
    expect(r.done).toBe(true);
    expect(r.done_reason).toBe("load");
    expect(stack.sim.state.requestsTo("/api/v0/chat/completion").length).toBe(before);
  });
});

describe("POST /api/generate", () => {
  test("non-stream with system: response, thinking, stats", async () => {
    stack.sim.state.script({ thinking: "Haiku time.", answer: "Old pond, frog jumps in." });
    const r = await ollama.generate({ model: "deepseek-v4-flash:latest", prompt: "Write a haiku", system: "You are a poet." });
    expect(r.response).toBe("Old pond, frog jumps in.");
    expect(r.thinking).toBe("Haiku time.");
    expect(r.done_reason).toBe("stop");
    expect(r.model).toBe("deepseek-v4-flash:latest");
    expectFinalStats(r);
    const prompt = lastUpstream().prompt;
    expect(prompt).toContain("You are a poet.");
    expect(prompt).toContain("Write a haiku");
  });

  test("stream: response parts then a done line", async () => {
    stack.sim.state.script({ answer: "Counting one two three." });
    const parts: GenerateResponse[] = [];
    for await (const p of await ollama.generate({ model: "deepseek-v4-flash", prompt: "count", stream: true, think: false })) parts.push(p);
    expect(parts.map((p) => p.response).join("")).toBe("Counting one two three.");
    expect(parts.some((p) => p.thinking)).toBe(false);
    expect(parts.at(-1)!.done).toBe(true);
    expectFinalStats(parts.at(-1)!);
  });
});

describe("Ollama errors", () => {
  const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: { status_code?: number; error?: string; message?: string }) => e);

  test("bad key → 401 in Ollama's {error} shape", async () => {
    const bad = new Ollama({ host: stack.url, headers: { Authorization: "Bearer sk-wrong" } });
    const e = await errorOf(bad.chat({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "x" }] }));
    expect(e?.status_code).toBe(401);
    expect(e?.error).toContain("invalid API key");
    const res = await fetch(`${stack.url}/api/generate`, { method: "POST", body: JSON.stringify({ model: "deepseek-v4-flash", prompt: "x" }) });
    expect(res.status).toBe(401);
    expect(Object.keys((await res.json()) as object)).toEqual(["error"]);
  });

  test("unknown model → 404 naming the available models", async () => {
    const e = await errorOf(ollama.chat({ model: "llama3:8b", messages: [{ role: "user", content: "x" }] }));
    expect(e?.status_code).toBe(404);
    expect(e?.error).toContain('model "llama3:8b" not found');
    expect(e?.error).toContain("deepseek-v4-flash");
    const g = await errorOf(ollama.generate({ model: "nope", prompt: "x" }));
    expect(g?.status_code).toBe(404);
  });

  test("images (base64) are uploaded for the vision model; bytes that are no image → 400, nothing sent", async () => {
    stack.sim.state.setDefaultReply((ctx) => ({ answer: `${describeRefFiles(ctx)}ok` }));
    const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    const r = await ollama.chat({ model: "deepseek-v4-flash", stream: false, messages: [{ role: "user", content: "what is this?", images: [png] }] });
    expect(r.message.content).toContain("I see an image named image-1.png of 70 bytes (model vision).");
    expect(lastUpstream().model_type).toBe("vision");
    const g = await ollama.generate({ model: "deepseek-v4-flash", stream: false, prompt: "what?", images: [png] });
    expect(g.response).toContain("I see an image named image-1.png of 70 bytes");
    const before = stack.sim.state.requestsTo("/api/v0/chat/completion").length;
    const notPng = Buffer.from("not really a png").toString("base64");
    const e = await errorOf(ollama.chat({ model: "deepseek-v4-vision", messages: [{ role: "user", content: "what is this?", images: [notPng] }] }));
    expect(e?.status_code).toBe(400);
    expect(e?.error).toContain("images must be one of");
    expect(stack.sim.state.requestsTo("/api/v0/chat/completion").length).toBe(before);
  });

  test("bad body → 400 {error}; format (structured output) → 400 naming it", async () => {
    const res = await fetch(`${stack.url}/api/chat`, { method: "POST", headers: { authorization: `Bearer ${API_KEY}` }, body: JSON.stringify({ messages: "x" }) });
    expect(res.status).toBe(400);
    expect(typeof ((await res.json()) as { error: unknown }).error).toBe("string");
    const e = await errorOf(ollama.chat({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "x" }], format: "json" }));
    expect(e?.status_code).toBe(400);
    expect(e?.error).toContain("format");
  });

  test("an upstream failure after the stream started arrives as an {error} line the client raises", async () => {
    stack.sim.state.script({ answer: "This answer is cut short by an error in the middle of it all.", error: { afterTokens: 4, message: "boom" } });
    const run = async () => {
      for await (const _ of await ollama.chat({ model: "deepseek-v4-flash-nothinking", messages: [{ role: "user", content: "x" }], stream: true })) void _;
    };
    const e = await errorOf(run());
    expect(e?.message).toContain("boom");
  });
});

test("Ollama turns are counted under their own surface in /metrics", async () => {
  await ollama.chat({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "count me" }] });
  const text = await (await fetch(`${stack.url}/metrics`, { headers: { authorization: "Bearer e2e-admin" } })).text();
  expect(text).toMatch(/ds2api_turns_total\{[^}]*surface="ollama"[^}]*\} [1-9]/);
});

describe("DS2API_OLLAMA_LOOPBACK_OPEN", () => {
  let open: Stack;
  beforeAll(async () => {
    open = await startStack({ accounts: 1, env: { DS2API_OLLAMA_LOOPBACK_OPEN: "true" } });
    open.sim.state.setDefaultReply({ answer: "open door" });
  });
  afterAll(() => open.stop());

  test("a loopback caller without a key may chat; a forwarded request may not; other routes still need a key", async () => {
    const keyless = new Ollama({ host: open.url });
    const r = await keyless.chat({ model: "deepseek-v4-flash-nothinking", messages: [{ role: "user", content: "x" }] });
    expect(r.message.content).toBe("open door");
    const g = await keyless.generate({ model: "deepseek-v4-flash-nothinking", prompt: "x" });
    expect(g.response).toBe("open door");
    const forwarded = await fetch(`${open.url}/api/chat`, { method: "POST", headers: { "x-forwarded-for": "203.0.113.9" }, body: JSON.stringify({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "x" }] }) });
    expect(forwarded.status).toBe(401);
    const openai = await fetch(`${open.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "x" }] }) });
    expect(openai.status).toBe(401);
  });

  test("closed by default: the main stack refuses a keyless loopback caller", async () => {
    const e = await new Ollama({ host: stack.url }).chat({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "x" }] }).then(
      () => undefined,
      (err: { status_code?: number }) => err,
    );
    expect(e?.status_code).toBe(401);
  });
});
