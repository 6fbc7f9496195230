import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";

let stack: Stack;
let client: Anthropic;
beforeAll(async () => {
  stack = await startStack();
  client = new Anthropic({ apiKey: API_KEY, baseURL: `${stack.url}/anthropic`, maxRetries: 0 });
});
afterAll(() => stack?.stop());

const lastPrompt = () => (stack.sim.state.requestsTo("/api/v0/chat/completion").at(-1)!.body as { prompt: string }).prompt;

describe("Anthropic messages through the official SDK", () => {
  test("non-stream with array system: text block, end_turn, usage, no thinking unless asked", async () => {
    stack.sim.state.script({ thinking: "hidden reasoning", answer: "Bonjour!" });
    const m = await client.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 1024,
      system: [{ type: "text", text: "You are terse.", cache_control: { type: "ephemeral" } }],
      messages: [{ role: "user", content: "Say hi in French" }],
    });
    expect(m.type).toBe("message");
    expect(m.model).toBe("claude-sonnet-4-6");
    expect(m.content).toEqual([{ type: "text", text: "Bonjour!" }] as never);
    expect(m.stop_reason).toBe("end_turn");
    expect(m.usage.input_tokens).toBeGreaterThan(0);
    expect(m.usage.output_tokens).toBeGreaterThan(0);
    expect(lastPrompt()).toContain("You are terse.");
  });

  test("thinking enabled: thinking block first, with a signature", async () => {
    stack.sim.state.script({ thinking: "step by step", answer: "Done." });
    const m = await client.messages.create({
      model: "claude-opus-4-6",
      max_tokens: 2048,
      thinking: { type: "adaptive" } as never,
      messages: [{ role: "user", content: "think" }],
    });
    expect(m.content[0]!.type).toBe("thinking");
    expect((m.content[0] as { thinking: string }).thinking).toBe("step by step");
    expect(typeof (m.content[0] as { signature: string }).signature).toBe("string");
    expect(m.content[1]).toEqual({ type: "text", text: "Done." } as never);
    const body = stack.sim.state.requestsTo("/api/v0/chat/completion").at(-1)!.body as Record<string, unknown>;
    expect(body.model_type).toBe("expert");
  });

  test("messages.stream(): events assemble into the final message", async () => {
    stack.sim.state.script({ thinking: "pondering the stream", answer: "Streamed answer, with  spaces." });
    const stream = client.messages.stream({
      model: "claude-haiku-4-5",
      max_tokens: 512,
      thinking: { type: "adaptive" } as never,
      messages: [{ role: "user", content: "stream please" }],
    });
    const texts: string[] = [];
    stream.on("text", (t) => texts.push(t));
    const final = await stream.finalMessage();
    expect(texts.join("")).toBe("Streamed answer, with  spaces.");
    expect(final.content.map((b) => b.type)).toEqual(["thinking", "text"]);
    expect((final.content[0] as { thinking: string }).thinking).toBe("pondering the stream");
    expect(final.stop_reason).toBe("end_turn");
    expect(final.usage.output_tokens).toBeGreaterThan(0);
  });

  test("count_tokens returns a real count that grows with the input", async () => {
    const short = await client.messages.countTokens({ model: "claude-sonnet-4-6", messages: [{ role: "user", content: "hi" }] });
    const long = await client.messages.countTokens({ model: "claude-sonnet-4-6", messages: [{ role: "user", content: "hello world ".repeat(200) }] });
    expect(short.input_tokens).toBeGreaterThan(0);
    expect(long.input_tokens - short.input_tokens).toBeGreaterThan(300);
  });

  test("errors use the official shape", async () => {
    const bad = new Anthropic({ apiKey: "wrong", baseURL: `${stack.url}/anthropic`, maxRetries: 0 });
    const err = await bad.messages.create({ model: "claude-sonnet-4-6", max_tokens: 10, messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    const unknown = await client.messages.create({ model: "gpt-3.5-turbo", max_tokens: 10, messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    expect(unknown).toBeInstanceOf(Anthropic.BadRequestError);
    expect(unknown.error.type).toBe("error");
  });
});
