import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GoogleGenAI } from "@google/genai";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";

let stack: Stack;
let ai: GoogleGenAI;
beforeAll(async () => {
  stack = await startStack();
  ai = new GoogleGenAI({ apiKey: API_KEY, httpOptions: { baseUrl: stack.url } });
});
afterAll(() => stack?.stop());

describe("Gemini through @google/genai", () => {
  test("generateContent: text, usage, system instruction, no thoughts unless asked", async () => {
    stack.sim.state.script({ thinking: "secret thoughts", answer: "Paris." });
    const r = await ai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: "Capital of France?",
      config: { systemInstruction: "Answer in one word." },
    });
    expect(r.text).toBe("Paris.");
    expect(r.candidates![0]!.finishReason).toBe("STOP" as never);
    expect(r.candidates![0]!.content!.parts!.some((p) => p.thought)).toBe(false);
    expect(r.usageMetadata!.promptTokenCount).toBeGreaterThan(0);
    const prompt = (stack.sim.state.requestsTo("/api/v0/chat/completion").at(-1)!.body as { prompt: string }).prompt;
    expect(prompt).toContain("Answer in one word.");
    expect(prompt).toContain("Capital of France?");
  });

  test("includeThoughts returns thought parts; thinkingBudget 0 turns thinking off upstream", async () => {
    stack.sim.state.script({ thinking: "visible thoughts", answer: "42" });
    const r = await ai.models.generateContent({ model: "gemini-2.5-pro", contents: "q", config: { thinkingConfig: { includeThoughts: true } } });
    const parts = r.candidates![0]!.content!.parts!;
    expect(parts[0]).toEqual({ text: "visible thoughts", thought: true });
    expect(r.text).toBe("42");
    stack.sim.state.script({ answer: "no think" });
    await ai.models.generateContent({ model: "gemini-2.5-pro", contents: "q", config: { thinkingConfig: { thinkingBudget: 0 } } });
    const body = stack.sim.state.requestsTo("/api/v0/chat/completion").at(-1)!.body as Record<string, unknown>;
    expect(body.thinking_enabled).toBe(false);
    expect(body.model_type).toBe("expert");
  });

  test("generateContentStream: deltas concatenate, final chunk has finishReason and usage", async () => {
    stack.sim.state.script({ thinking: "t", answer: "Streaming from Gemini, token by token." });
    const stream = await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "go" });
    let text = "";
    let last: unknown;
    for await (const chunk of stream) {
      text += chunk.text ?? "";
      last = chunk;
    }
    expect(text).toBe("Streaming from Gemini, token by token.");
    const l = last as { candidates: { finishReason: string }[]; usageMetadata: { totalTokenCount: number } };
    expect(l.candidates[0]!.finishReason).toBe("STOP");
    expect(l.usageMetadata.totalTokenCount).toBeGreaterThan(0);
  });

  test("countTokens and models.list", async () => {
    const c = await ai.models.countTokens({ model: "gemini-2.5-flash", contents: "hello world" });
    expect(c.totalTokens).toBeGreaterThan(0);
    const pager = await ai.models.list();
    const names: string[] = [];
    for await (const m of pager) names.push(m.name!);
    expect(names).toContain("models/gemini-2.5-pro");
  });

  test("errors: unknown model 400, wrong key 401, in Gemini's shape", async () => {
    const e1 = await ai.models.generateContent({ model: "gemini-0-nope", contents: "x" }).catch((e) => e);
    expect(String(e1.message)).toContain("not available");
    expect(e1.status).toBe(400);
    const bad = new GoogleGenAI({ apiKey: "wrong", httpOptions: { baseUrl: stack.url } });
    const e2 = await bad.models.generateContent({ model: "gemini-2.5-flash", contents: "x" }).catch((e) => e);
    expect(e2.status).toBe(401);
  });
});
