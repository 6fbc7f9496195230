/** Every client surface in front of OnDemand (the simulator), official SDKs as callers. */
import { afterAll, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { OD_API_KEY, odModel, startOdStack, type OdStack } from "./support/ondemand-stack.ts";

setDefaultTimeout(30_000);

let stack: OdStack;
let openai: OpenAI;
beforeAll(async () => {
  // Gemini puts the model in the URL path, where "ondemand/gpt-4o" cannot go: a user alias routes a plain id there.
  stack = await startOdStack({ config: { model_aliases: { "od-gpt-4o": odModel("gpt-4o") } } });
  openai = new OpenAI({ apiKey: OD_API_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
});
afterAll(() => stack.stop());
beforeEach(() => stack.sim.state.reset());

describe("OnDemand behind the OpenAI surface", () => {
  test("chat non-stream: the answer, the endpointId of the model, the prompt as query", async () => {
    stack.sim.state.script({ answer: "It is **4**." });
    const r = await openai.chat.completions.create({ model: odModel("gpt-4o"), messages: [{ role: "system", content: "Be terse." }, { role: "user", content: "2+2?" }] });
    expect(r.choices[0]!.message.content).toBe("It is **4**.");
    expect(r.choices[0]!.finish_reason).toBe("stop");
    expect(r.model).toBe(odModel("gpt-4o"));
    const q = stack.sim.state.queries().at(-1)!;
    const body = q.body as Record<string, unknown>;
    expect(body.endpointId).toBe("predefined-openai-gpt4o");
    expect(body.responseMode).toBe("stream");
    expect(body.pluginIds).toEqual([]);
    expect(String(body.query)).toContain("2+2?");
    expect(String(body.query)).toContain("Be terse.");
  });

  test("chat stream: deltas in order, finish_reason stop; CJK and emoji split across writes survive", async () => {
    const answer = "你好，世界！🌍 Streaming works 👍🏽 fine.";
    stack.sim.state.script({ answer, deltaChars: 3, writes: "split", dataSpace: true, eventLines: false, heartbeats: 3 });
    const stream = await openai.chat.completions.create({ model: odModel("gpt-4o-mini"), messages: [{ role: "user", content: "hi" }], stream: true });
    let content = "";
    const finishes: (string | null)[] = [];
    for await (const chunk of stream) {
      const c = chunk.choices[0];
      if (!c) continue;
      content += c.delta.content ?? "";
      finishes.push(c.finish_reason);
    }
    expect(content).toBe(answer);
    expect(finishes.at(-1)).toBe("stop");
  });

  test("reasoning frames (thinking.delta objects) become reasoning_content; sampling fields become modelConfigs", async () => {
    stack.sim.state.script({ thinking: "Two and two.", answer: "Four.", writes: "coalesced" });
    const r = await openai.chat.completions.create({
      model: odModel("deepseek-r1"),
      messages: [{ role: "user", content: "2+2?" }],
      reasoning_effort: "high",
      temperature: 0.2,
      max_tokens: 50,
      stop: "END",
    });
    expect(r.choices[0]!.message.content).toBe("Four.");
    expect((r.choices[0]!.message as unknown as { reasoning_content?: string }).reasoning_content).toBe("Two and two.");
    const body = stack.sim.state.queries().at(-1)!.body as Record<string, unknown>;
    expect(body.endpointId).toBe("predefined-deepseek-r1");
    expect(body.modelConfigs).toEqual({ temperature: 0.2, maxTokens: 50, stopSequences: ["END"] });
  });

  test("a missing tail is recovered from statusLog fulfillment_completed", async () => {
    stack.sim.state.script({ answer: "The complete answer, every word.", dropLastDeltas: 2 });
    const r = await openai.chat.completions.create({ model: odModel("gpt-4o"), messages: [{ role: "user", content: "x" }] });
    expect(r.choices[0]!.message.content).toBe("The complete answer, every word.");
  });

  test("Responses API", async () => {
    stack.sim.state.script({ answer: "Responses through OnDemand." });
    const r = await openai.responses.create({ model: odModel("gpt-4.1"), input: "hello" });
    expect(r.output_text).toBe("Responses through OnDemand.");
    expect((stack.sim.state.queries().at(-1)!.body as Record<string, unknown>).endpointId).toBe("predefined-openai-gpt4.1");
  });

  test("tool calling through core's DSML prompt and sieve", async () => {
    stack.sim.state.setDefaultReply(({ query }) => {
      // The DSML tool prompt reached OnDemand in the query; answer with a call in the format it asks for.
      expect(query).toContain("get_weather");
      return { answer: '<|DSML|tool_calls>\n<|DSML|invoke name="get_weather">\n<|DSML|parameter name="city"><![CDATA[Paris]]></|DSML|parameter>\n</|DSML|invoke>\n</|DSML|tool_calls>', deltaChars: 7 };
    });
    const tools = [{ type: "function" as const, function: { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }];
    const r = await openai.chat.completions.create({ model: odModel("gpt-4o"), messages: [{ role: "user", content: "Weather in Paris?" }], tools });
    expect(r.choices[0]!.finish_reason).toBe("tool_calls");
    const call = r.choices[0]!.message.tool_calls![0]!;
    expect(call.type).toBe("function");
    expect((call as { function: { name: string; arguments: string } }).function.name).toBe("get_weather");
    expect(JSON.parse((call as { function: { arguments: string } }).function.arguments)).toEqual({ city: "Paris" });
  });

  test("an unknown OnDemand model is a 400 naming the mapped ones; the map is a setting", async () => {
    const err = await openai.chat.completions.create({ model: odModel("gpt-9"), messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(400);
    expect(err.message).toContain("gpt-4o");
    expect(stack.sim.state.queries()).toHaveLength(0);
  });
});

describe("OnDemand behind the Anthropic and Gemini surfaces", () => {
  test("Anthropic messages, non-stream and stream", async () => {
    const client = new Anthropic({ apiKey: OD_API_KEY, baseURL: `${stack.url}/anthropic`, maxRetries: 0 });
    stack.sim.state.script({ answer: "Claude-shaped answer." }, { answer: "Streamed for Anthropic." });
    const r = await client.messages.create({ model: odModel("claude-4-sonnet"), max_tokens: 100, messages: [{ role: "user", content: "hi" }] });
    expect(r.content[0]).toMatchObject({ type: "text", text: "Claude-shaped answer." });
    expect(r.stop_reason).toBe("end_turn");
    expect((stack.sim.state.queries().at(-1)!.body as Record<string, unknown>).endpointId).toBe("predefined-claude-4-sonnet");
    const stream = client.messages.stream({ model: odModel("claude-4-sonnet"), max_tokens: 100, messages: [{ role: "user", content: "hi" }] });
    let text = "";
    for await (const ev of stream) if (ev.type === "content_block_delta" && ev.delta.type === "text_delta") text += ev.delta.text;
    expect(text).toBe("Streamed for Anthropic.");
  });

  test("Gemini generateContent and stream", async () => {
    const ai = new GoogleGenAI({ apiKey: OD_API_KEY, httpOptions: { baseUrl: stack.url } });
    stack.sim.state.script({ answer: "Gemini via OnDemand." }, { answer: "Gemini streamed." });
    const r = await ai.models.generateContent({ model: "od-gpt-4o", contents: "hi" });
    expect(r.text).toBe("Gemini via OnDemand.");
    expect((stack.sim.state.queries().at(-1)!.body as Record<string, unknown>).endpointId).toBe("predefined-openai-gpt4o");
    let text = "";
    for await (const chunk of await ai.models.generateContentStream({ model: "od-gpt-4o", contents: "hi" })) text += chunk.text ?? "";
    expect(text).toBe("Gemini streamed.");
  });
});
