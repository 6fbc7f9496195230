/** Every client surface in front of the Volcengine console (its simulator), official SDKs as callers. */
import { afterAll, beforeAll, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { toolCallMarkup } from "../src/sim/index.ts";
import { startVolcStack, VOLC_API_KEY, VOLC_AUTH, volcModel, volcPathModel, WEB_IDS, type VolcStack } from "./support/volc-stack.ts";

// Each test may start its own server + simulator: allow for a loaded machine (no test asserts on time).
setDefaultTimeout(30_000);

let stack: VolcStack;
let openai: OpenAI;
let anthropic: Anthropic;
let gemini: GoogleGenAI;
beforeAll(async () => {
  stack = await startVolcStack();
  openai = new OpenAI({ apiKey: VOLC_API_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: VOLC_API_KEY, baseURL: `${stack.url}/anthropic`, maxRetries: 0 });
  gemini = new GoogleGenAI({ apiKey: VOLC_API_KEY, httpOptions: { baseUrl: stack.url } });
});
afterAll(() => stack.stop());
beforeEach(() => stack.sim.state.clearFaults());

const lastChat = () => stack.sim.state.chats().at(-1)!;
const lastPrompt = () => lastChat().messages!.map((m) => m.content).join("\n");

describe("OpenAI chat", () => {
  test("non-stream: reasoning_content from the console's reasoning, answer, usage, echoed model", async () => {
    stack.sim.state.script({ reasoning: "Two plus two is four.", answer: "It is **4**." });
    const r = await openai.chat.completions.create({ model: volcModel("deepseek-r1"), messages: [{ role: "user", content: "2+2?" }] });
    expect(r.model).toBe("volcengine/deepseek-r1");
    expect(r.choices[0]!.message.content).toBe("It is **4**.");
    expect((r.choices[0]!.message as unknown as { reasoning_content: string }).reasoning_content).toBe("Two plus two is four.");
    expect(r.choices[0]!.finish_reason).toBe("stop");
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);
    // what reached the console: the mapped model, PascalCase body, one user message with the prompt
    const req = lastChat();
    const body = req.body as { Model: string; Stream: boolean; Messages: { Role: string; Content: string }[] };
    expect(body.Model).toBe("deepseek-r1-1");
    expect(body.Stream).toBe(true);
    expect(body.Messages.length).toBe(1);
    expect(body.Messages[0]!.Role).toBe("user");
    expect(body.Messages[0]!.Content).toContain("2+2?");
  });

  test("the call carries the web id, the authorization and browser-like headers", async () => {
    await openai.chat.completions.create({ model: volcModel("deepseek-v3-1"), messages: [{ role: "user", content: "x" }] });
    const h = lastChat().headers;
    expect(WEB_IDS).toContain(h["x-web-id"]!);
    expect(h.authorization).toBe(VOLC_AUTH);
    expect(h["user-agent"]).toMatch(/^Mozilla\/5\.0 .*Chrome\//);
    expect(h.origin).toBe("https://exp.volcengine.com");
    expect(h.referer).toBe("https://exp.volcengine.com/");
    expect(h["sec-ch-ua"]).toContain("Chromium");
    expect(h["sec-fetch-mode"]).toBe("cors");
    expect(h.accept).toBe("text/event-stream");
    expect(h["content-type"]).toBe("application/json");
  });

  test("stream: role first, reasoning deltas then content deltas, finish_reason, usage", async () => {
    stack.sim.state.script({ reasoning: "Pondering deeply.", answer: "Streaming works, and whitespace  stays.", chunkChars: 3 });
    const stream = await openai.chat.completions.create({ model: volcModel("deepseek-r1"), messages: [{ role: "user", content: "hi" }], stream: true, stream_options: { include_usage: true } });
    let reasoning = "";
    let content = "";
    let finish: string | null = null;
    let usage: unknown;
    let first = true;
    for await (const chunk of stream) {
      if (first) expect(chunk.choices[0]!.delta.role).toBe("assistant");
      first = false;
      if (chunk.usage) usage = chunk.usage;
      const c = chunk.choices[0];
      if (!c) continue;
      reasoning += (c.delta as { reasoning_content?: string }).reasoning_content ?? "";
      content += c.delta.content ?? "";
      if (c.finish_reason) finish = c.finish_reason;
    }
    expect(reasoning).toBe("Pondering deeply.");
    expect(content).toBe("Streaming works, and whitespace  stays.");
    expect(finish).toBe("stop");
    expect(usage).toBeDefined();
  });

  test("deepseek-v3-1 answers without reasoning (upstream model deepseek-v3-1)", async () => {
    stack.sim.state.script({ answer: "Plain answer." });
    const r = await openai.chat.completions.create({ model: volcModel("deepseek-v3-1"), messages: [{ role: "user", content: "x" }] });
    expect(r.choices[0]!.message.content).toBe("Plain answer.");
    expect((r.choices[0]!.message as unknown as { reasoning_content?: string }).reasoning_content).toBeUndefined();
    expect((lastChat().body as { Model: string }).Model).toBe("deepseek-v3-1");
  });

  test("PascalCase chunks with a Result wrapper and a top-level FinishReason, no [DONE]", async () => {
    stack.sim.state.script({ reasoning: "Pascal thoughts.", answer: "Pascal answer.", casing: "pascal", resultWrapper: true, pascalFinish: true, omitDone: true });
    const r = await openai.chat.completions.create({ model: volcModel("deepseek-r1"), messages: [{ role: "user", content: "x" }] });
    expect(r.choices[0]!.message.content).toBe("Pascal answer.");
    expect((r.choices[0]!.message as unknown as { reasoning_content: string }).reasoning_content).toBe("Pascal thoughts.");
  });

  test("sampling fields go up as Parameters", async () => {
    await openai.chat.completions.create({ model: volcModel("deepseek-v3-1"), messages: [{ role: "user", content: "x" }], temperature: 0.3, max_tokens: 77, top_p: 0.9 });
    expect((lastChat().body as { Parameters: unknown }).Parameters).toEqual({ Temperature: 0.3, MaxTokens: 77, TopP: 0.9 });
  });

  test("a tool call: the DSML tool prompt reaches the console, the answer's markup becomes tool_calls", async () => {
    stack.sim.state.script({ reasoning: "need weather", answer: toolCallMarkup("get_weather", { city: "Paris", days: "3" }) });
    const r = await openai.chat.completions.create({
      model: volcModel("deepseek-r1"),
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [{ type: "function", function: { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" }, days: { type: "integer" } }, required: ["city"] } } }],
    });
    const choice = r.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    const call = choice.message.tool_calls![0]! as { function: { name: string; arguments: string } };
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "Paris", days: 3 });
    expect(lastPrompt()).toContain("get_weather");
    expect(lastPrompt()).toContain("Weather for a city");
  });

  test("a tool result in the history reaches the console inside the prompt", async () => {
    stack.sim.state.script({ answer: "It is sunny in Paris." });
    const r = await openai.chat.completions.create({
      model: volcModel("deepseek-v3-1"),
      messages: [
        { role: "user", content: "Weather in Paris?" },
        { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
        { role: "tool", tool_call_id: "call_1", content: "sunny, 24C" },
      ],
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }],
    });
    expect(r.choices[0]!.message.content).toBe("It is sunny in Paris.");
    expect(lastPrompt()).toContain("sunny, 24C");
  });
});

describe("OpenAI Responses", () => {
  test("non-stream: reasoning item before the message, output_text", async () => {
    stack.sim.state.script({ reasoning: "Responses thinking.", answer: "Responses answer." });
    const r = await openai.responses.create({ model: volcModel("deepseek-r1"), input: "hello", instructions: "Be brief." });
    expect(r.output.map((o) => o.type)).toEqual(["reasoning", "message"]);
    expect(r.output_text).toBe("Responses answer.");
    expect(lastPrompt()).toContain("Be brief.");
  });

  test("stream: text deltas and a completed response", async () => {
    stack.sim.state.script({ reasoning: "stream thinking", answer: "Streamed response." });
    const stream = await openai.responses.create({ model: volcModel("deepseek-r1"), input: "hello", stream: true });
    let text = "";
    let completed = false;
    for await (const ev of stream) {
      if (ev.type === "response.output_text.delta") text += ev.delta;
      if (ev.type === "response.completed") completed = true;
    }
    expect(text).toBe("Streamed response.");
    expect(completed).toBe(true);
  });
});

describe("Anthropic messages", () => {
  test("thinking enabled: thinking block first, then the text", async () => {
    stack.sim.state.script({ reasoning: "step by step", answer: "Done." });
    const m = await anthropic.messages.create({ model: volcModel("deepseek-r1"), max_tokens: 1024, thinking: { type: "enabled", budget_tokens: 1024 }, messages: [{ role: "user", content: "go" }] });
    expect(m.model).toBe("volcengine/deepseek-r1");
    expect(m.content[0]!.type).toBe("thinking");
    expect((m.content[0] as { thinking: string }).thinking).toBe("step by step");
    expect(m.content.at(-1)).toEqual({ type: "text", text: "Done." } as never);
    expect(m.stop_reason).toBe("end_turn");
  });

  test("stream with a system prompt: text deltas, message_stop", async () => {
    stack.sim.state.script({ answer: "Bonjour, le monde!" });
    const stream = anthropic.messages.stream({ model: volcModel("deepseek-v3-1"), max_tokens: 256, system: "Answer in French.", messages: [{ role: "user", content: "Hello world" }] });
    let text = "";
    for await (const ev of stream) if (ev.type === "content_block_delta" && ev.delta.type === "text_delta") text += ev.delta.text;
    const final = await stream.finalMessage();
    expect(text).toBe("Bonjour, le monde!");
    expect(final.stop_reason).toBe("end_turn");
    expect(lastPrompt()).toContain("Answer in French.");
  });
});

describe("Gemini generateContent", () => {
  test("includeThoughts returns the console's reasoning as thought parts", async () => {
    stack.sim.state.script({ reasoning: "visible thoughts", answer: "42" });
    const r = await gemini.models.generateContent({ model: volcPathModel("deepseek-r1"), contents: "q", config: { thinkingConfig: { includeThoughts: true } } });
    const parts = r.candidates![0]!.content!.parts!;
    expect(parts[0]).toEqual({ text: "visible thoughts", thought: true });
    expect(r.text).toBe("42");
  });

  test("stream: text chunks add up to the answer", async () => {
    stack.sim.state.script({ answer: "Gemini streamed through Volcengine." });
    const stream = await gemini.models.generateContentStream({ model: volcPathModel("deepseek-v3-1"), contents: "q" });
    let text = "";
    for await (const chunk of stream) text += chunk.text ?? "";
    expect(text).toBe("Gemini streamed through Volcengine.");
  });
});
