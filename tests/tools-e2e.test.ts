/** Tool calling through the server with the simulator emitting tool-call markup, via each official SDK. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { toolCallMarkup } from "../src/sim/index.ts";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";

let stack: Stack;
let openai: OpenAI;
let anthropic: Anthropic;
let gemini: GoogleGenAI;
beforeAll(async () => {
  stack = await startStack();
  openai = new OpenAI({ apiKey: API_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: API_KEY, baseURL: stack.url, maxRetries: 0 });
  gemini = new GoogleGenAI({ apiKey: API_KEY, httpOptions: { baseUrl: stack.url } });
});
afterAll(() => stack?.stop());

const weatherTool = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" }, days: { type: "integer" } }, required: ["city"] },
  },
};
const lastPrompt = () => (stack.sim.state.requestsTo("/api/v0/chat/completion").at(-1)!.body as { prompt: string }).prompt;
const twoCalls = "I'll check both.\n\n" + toolCallMarkup("get_weather", { city: "Paris", days: "3" }).replace("</tool_calls>", "") + toolCallMarkup("get_weather", { city: "Oslo" }).replace("<tool_calls>\n", "");

describe("OpenAI tool calls", () => {
  test("non-stream: tool_calls with coerced arguments, finish_reason tool_calls, tool prompt sent", async () => {
    stack.sim.state.script({ thinking: "need weather", answer: toolCallMarkup("get_weather", { city: "Paris", days: "3" }) });
    const r = await openai.chat.completions.create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "Weather in Paris?" }], tools: [weatherTool] });
    const choice = r.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls!.length).toBe(1);
    const call = choice.message.tool_calls![0]! as { id: string; function: { name: string; arguments: string } };
    expect(call.id).toMatch(/^call_[0-9a-f]{24}$/);
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "Paris", days: 3 });
    expect(lastPrompt()).toContain("get_weather");
  });

  test("stream: parallel calls with stable, growing indices and no markup in content", async () => {
    stack.sim.state.script({ answer: twoCalls });
    const stream = await openai.chat.completions.create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "Paris and Oslo?" }], tools: [weatherTool], stream: true });
    let content = "";
    const calls: { index: number; id?: string; name?: string; args: string }[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      const c = chunk.choices[0];
      if (!c) continue;
      content += c.delta.content ?? "";
      for (const tc of c.delta.tool_calls ?? []) {
        calls[tc.index] ??= { index: tc.index, args: "" };
        if (tc.id) calls[tc.index]!.id = tc.id;
        if (tc.function?.name) calls[tc.index]!.name = tc.function.name;
        calls[tc.index]!.args += tc.function?.arguments ?? "";
      }
      if (c.finish_reason) finish = c.finish_reason;
    }
    expect(content).not.toContain("<");
    expect(content).toContain("I'll check both.");
    expect(calls.map((c) => c.index)).toEqual([0, 1]);
    expect(calls.map((c) => JSON.parse(c.args).city)).toEqual(["Paris", "Oslo"]);
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);
    expect(finish).toBe("tool_calls");
  });

  test("a full loop: call → tool result (with name and id in the prompt) → final answer", async () => {
    stack.sim.state.script({ answer: toolCallMarkup("get_weather", { city: "Paris" }) });
    const first = await openai.chat.completions.create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "Weather?" }], tools: [weatherTool] });
    const call = first.choices[0]!.message.tool_calls![0]! as { id: string; function: { name: string; arguments: string } };
    stack.sim.state.script({ answer: "It is sunny in Paris." });
    const second = await openai.chat.completions.create({
      model: "deepseek-v4-flash",
      tools: [weatherTool],
      messages: [
        { role: "user", content: "Weather?" },
        first.choices[0]!.message as never,
        { role: "tool", tool_call_id: call.id, content: "sunny, 24C" },
      ],
    });
    expect(second.choices[0]!.message.content).toBe("It is sunny in Paris.");
    const p = lastPrompt();
    expect(p).toContain("sunny, 24C");
    expect(p).toContain(call.id);
    expect(p).toContain('invoke name="get_weather"');
  });

  test("tool_choice none offers no tools and leaves markup as text", async () => {
    stack.sim.state.script({ answer: "plain" });
    await openai.chat.completions.create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "x" }], tools: [weatherTool], tool_choice: "none" });
    expect(lastPrompt()).not.toContain("get_weather");
  });
});

describe("tool_choice enforcement", () => {
  test("required: a reply without a call gets one corrective retry, and the held text never leaks", async () => {
    stack.sim.state.script({ answer: "I think it is sunny." });
    stack.sim.state.script({ answer: toolCallMarkup("get_weather", { city: "Paris" }) });
    const stream = await openai.chat.completions.create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "Weather?" }], tools: [weatherTool], tool_choice: "required", stream: true });
    let content = "";
    let names: string[] = [];
    for await (const c of stream) {
      content += c.choices[0]?.delta.content ?? "";
      names = names.concat((c.choices[0]?.delta.tool_calls ?? []).map((t) => t.function?.name ?? ""));
    }
    expect(content).toBe("");
    expect(names).toEqual(["get_weather"]);
    expect(lastPrompt()).toContain("You must call at least one of the available tools now");
  });

  test("forced tool ignored twice → 422 tool_choice_violation", async () => {
    stack.sim.state.script({ answer: "no tools for you" }, { times: 2 });
    const err = await openai.chat.completions
      .create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "x" }], tools: [weatherTool], tool_choice: { type: "function", function: { name: "get_weather" } } })
      .catch((e) => e);
    expect(err.status).toBe(422);
    expect(err.code).toBe("tool_choice_violation");
  });

  test("a forced tool that is not declared is a 400", async () => {
    const err = await openai.chat.completions
      .create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "x" }], tools: [weatherTool], tool_choice: { type: "function", function: { name: "nope" } } })
      .catch((e) => e);
    expect(err.status).toBe(400);
    expect(err.message).toContain("nope");
  });
});

describe("Anthropic and Gemini tool calls", () => {
  test("Anthropic: tool_use blocks, stop_reason tool_use, unique toolu ids, streamed input_json_delta", async () => {
    const tools = [{ name: "get_weather", description: "Weather", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } }];
    stack.sim.state.script({ answer: toolCallMarkup("get_weather", { city: "Rome" }) });
    const m = await anthropic.messages.create({ model: "claude-sonnet-4-6", max_tokens: 100, tools, messages: [{ role: "user", content: "Rome?" }] });
    expect(m.stop_reason).toBe("tool_use");
    const block = m.content.find((b) => b.type === "tool_use") as { id: string; name: string; input: unknown };
    expect(block.id).toMatch(/^toolu_/);
    expect(block.input).toEqual({ city: "Rome" });

    stack.sim.state.script({ answer: twoCalls });
    const final = await anthropic.messages.stream({ model: "claude-sonnet-4-6", max_tokens: 100, tools, messages: [{ role: "user", content: "two" }] }).finalMessage();
    const uses = final.content.filter((b) => b.type === "tool_use") as { id: string; input: { city: string } }[];
    expect(uses.map((u) => u.input.city)).toEqual(["Paris", "Oslo"]);
    expect(new Set([block.id, ...uses.map((u) => u.id)]).size).toBe(3);
    expect(final.stop_reason).toBe("tool_use");
  });

  test("Gemini: functionCall parts", async () => {
    stack.sim.state.script({ answer: toolCallMarkup("get_weather", { city: "Lima" }) });
    const r = await gemini.models.generateContent({
      model: "gemini-2.5-flash",
      contents: "Lima?",
      config: { tools: [{ functionDeclarations: [{ name: "get_weather", description: "Weather", parametersJsonSchema: { type: "object", properties: { city: { type: "string" } } } }] }] },
    });
    expect(r.functionCalls?.[0]?.name).toBe("get_weather");
    expect(r.functionCalls?.[0]?.args).toEqual({ city: "Lima" });

    // the loop: the functionResponse goes back with the call's id and name, and the model answers
    const call = r.functionCalls![0]!;
    stack.sim.state.script({ answer: "Lima is cloudy." });
    const final = await gemini.models.generateContent({
      model: "gemini-2.5-flash",
      contents: [
        { role: "user", parts: [{ text: "Lima?" }] },
        { role: "model", parts: [{ functionCall: call }] },
        { role: "user", parts: [{ functionResponse: { id: call.id, name: call.name, response: { sky: "cloudy" } } }] },
      ],
      config: { tools: [{ functionDeclarations: [{ name: "get_weather", description: "Weather", parametersJsonSchema: { type: "object", properties: { city: { type: "string" } } } }] }] },
    });
    expect(final.text).toBe("Lima is cloudy.");
    const p = lastPrompt();
    expect(p).toContain('"sky":"cloudy"');
    expect(p).toContain(call.id!);
  });
});
