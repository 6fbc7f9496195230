import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";

let stack: Stack;
let client: OpenAI;
beforeAll(async () => {
  stack = await startStack();
  client = new OpenAI({ apiKey: API_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
});
afterAll(() => stack?.stop());
beforeEach(() => stack.sim.state.setDefaultReply({ thinking: "Let me think.", answer: "Hello there, friend!" }));

describe("OpenAI chat completions through the official SDK", () => {
  test("non-stream: content, reasoning_content, usage, echoed model", async () => {
    stack.sim.state.script({ thinking: "Two plus two.", answer: "It is **4**." });
    const r = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "2+2?" }] });
    expect(r.object).toBe("chat.completion");
    expect(r.id).toMatch(/^chatcmpl-/);
    expect(r.model).toBe("gpt-4o");
    expect(r.choices[0]!.message.content).toBe("It is **4**.");
    expect((r.choices[0]!.message as unknown as { reasoning_content: string }).reasoning_content).toBe("Two plus two.");
    expect(r.choices[0]!.finish_reason).toBe("stop");
    expect(r.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(r.usage!.completion_tokens).toBeGreaterThan(r.usage!.completion_tokens_details!.reasoning_tokens!);
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);
    // the prompt reached DeepSeek in the web format
    const req = stack.sim.state.requestsTo("/api/v0/chat/completion").at(-1)!;
    const body = req.body as Record<string, unknown>;
    expect(body.prompt).toContain("<｜User｜>2+2?");
    expect(body.model_type).toBe("default");
    expect(body.thinking_enabled).toBe(true);
  });

  test("stream: role first, reasoning then content deltas, finish_reason, [DONE]", async () => {
    stack.sim.state.script({ thinking: "Pondering deeply about this.", answer: "Streaming works fine, and whitespace  stays." });
    const stream = await client.chat.completions.create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "hi" }], stream: true, stream_options: { include_usage: true } });
    let reasoning = "";
    let content = "";
    const finishes: (string | null)[] = [];
    let usage: unknown;
    let first = true;
    for await (const chunk of stream) {
      if (first) {
        expect(chunk.choices[0]!.delta.role).toBe("assistant");
        first = false;
      }
      if (chunk.usage) usage = chunk.usage;
      const c = chunk.choices[0];
      if (!c) continue;
      reasoning += (c.delta as { reasoning_content?: string }).reasoning_content ?? "";
      content += c.delta.content ?? "";
      finishes.push(c.finish_reason);
    }
    expect(reasoning).toBe("Pondering deeply about this.");
    expect(content).toBe("Streaming works fine, and whitespace  stays.");
    expect(finishes.at(-1)).toBe("stop");
    expect(finishes.slice(0, -1).every((f) => f === null)).toBe(true);
    expect(usage).toBeDefined();
  });

  test("-nothinking model sends thinking_enabled=false and returns no reasoning", async () => {
    stack.sim.state.script({ answer: "Plain answer." });
    const r = await client.chat.completions.create({ model: "deepseek-v4-pro-nothinking", messages: [{ role: "user", content: "x" }] });
    expect(r.choices[0]!.message.content).toBe("Plain answer.");
    expect((r.choices[0]!.message as unknown as { reasoning_content?: string }).reasoning_content).toBeUndefined();
    const body = stack.sim.state.requestsTo("/api/v0/chat/completion").at(-1)!.body as Record<string, unknown>;
    expect(body.thinking_enabled).toBe(false);
    expect(body.model_type).toBe("expert");
  });

  test("unknown model → 400 naming valid models", async () => {
    const err = await client.chat.completions.create({ model: "gpt-3.5-turbo", messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(400);
    expect(err.message).toContain("deepseek-v4-flash");
  });
});
