import { describe, expect, test } from "bun:test";
import {
  NATIVE_MODEL_IDS,
  anthropicModelList,
  claudeDisplayName,
  geminiModelList,
  modelNotAvailableMessage,
  openAiModelList,
  resolveModel,
} from "./support/deepseek-catalog.ts";

// api-surface §3.1 table, written out from the spec.
const SPEC_TABLE: Array<[string, string, boolean]> = [
  ["deepseek-v4-flash", "default", false],
  ["deepseek-v4-pro", "expert", false],
  ["deepseek-v4-flash-search", "default", true],
  ["deepseek-v4-pro-search", "expert", true],
  ["deepseek-v4-vision", "vision", false],
];

describe("native models", () => {
  test("each base id and its -nothinking twin carry the spec flags", () => {
    for (const [id, type, search] of SPEC_TABLE) {
      const on = resolveModel(id)!;
      expect(on).toMatchObject({ id, modelType: type, search, thinkingDefault: true, thinkingForcedOff: false });
      const off = resolveModel(id + "-nothinking")!;
      expect(off).toMatchObject({ id: id + "-nothinking", modelType: type, search, thinkingDefault: false, thinkingForcedOff: true });
    }
    expect(NATIVE_MODEL_IDS.length).toBe(10);
  });

  test("names are trimmed and matched case-insensitively; requested keeps the client spelling", () => {
    const r = resolveModel("  DeepSeek-V4-Pro-Search ")!;
    expect(r.id).toBe("deepseek-v4-pro-search");
    expect(r.requested).toBe("DeepSeek-V4-Pro-Search");
  });

  test("removed and unknown names fail, with no family heuristics", () => {
    for (const name of ["deepseek-v4-vision-search", "gpt-5.5-pro-search", "claude-2.1", "gpt-3.5-turbo", "", "   ", "x-nothinking"]) {
      expect(resolveModel(name)).toBeNull();
    }
    expect(resolveModel(42)).toBeNull();
  });
});

describe("aliases", () => {
  test("built-in aliases from §3.3 reach their targets", () => {
    const cases: Array<[string, string]> = [
      ["gpt-4o", "deepseek-v4-flash"],
      ["gpt-5.4-nano", "deepseek-v4-flash"],
      ["o3", "deepseek-v4-pro"],
      ["gpt-5.1-codex-max", "deepseek-v4-pro"],
      ["o4-mini-deep-research", "deepseek-v4-pro-search"],
      ["claude-opus-4-6", "deepseek-v4-pro"],
      ["claude-3-opus", "deepseek-v4-pro"],
      ["claude-sonnet-4-6", "deepseek-v4-flash"],
      ["claude-3-haiku-20240307", "deepseek-v4-flash"],
      ["gemini-pro-vision", "deepseek-v4-vision"],
      ["gemini-3.1-pro", "deepseek-v4-pro"],
      ["gemini-2.5-flash-lite", "deepseek-v4-flash"],
      ["qwen-max", "deepseek-v4-flash"],
      ["LLAMA-3.1-70B-INSTRUCT", "deepseek-v4-flash"],
    ];
    for (const [alias, target] of cases) expect(resolveModel(alias)?.id).toBe(target);
  });

  test("an alias takes the -nothinking suffix", () => {
    expect(resolveModel("claude-sonnet-4-6-nothinking")?.id).toBe("deepseek-v4-flash-nothinking");
    expect(resolveModel("o3-deep-research-nothinking")?.id).toBe("deepseek-v4-pro-search-nothinking");
    expect(resolveModel("claude-sonnet-4-6-nothinking")?.thinkingForcedOff).toBe(true);
  });

  test("legacy DeepSeek ids are accepted (upstream-protocol §5.2)", () => {
    const cases: Array<[string, string]> = [
      ["deepseek-chat", "deepseek-v4-flash-nothinking"],
      ["deepseek-reasoner", "deepseek-v4-flash"],
      ["deepseek-chat-search", "deepseek-v4-flash-search-nothinking"],
      ["deepseek-reasoner-search", "deepseek-v4-flash-search"],
      ["deepseek-expert-chat", "deepseek-v4-pro-nothinking"],
      ["deepseek-expert-reasoner", "deepseek-v4-pro"],
      ["deepseek-expert-chat-search", "deepseek-v4-pro-search-nothinking"],
      ["deepseek-expert-reasoner-search", "deepseek-v4-pro-search"],
      ["deepseek-vision-chat", "deepseek-v4-vision-nothinking"],
      ["deepseek-vision-reasoner", "deepseek-v4-vision"],
    ];
    for (const [alias, target] of cases) expect(resolveModel(alias)?.id).toBe(target);
    // A target that is already -nothinking is not suffixed twice.
    expect(resolveModel("deepseek-chat-nothinking")?.id).toBe("deepseek-v4-flash-nothinking");
  });

  test("config aliases overlay the built-ins, lower-cased; non-native targets fail", () => {
    const user = { "My-Model": "DeepSeek-V4-Pro", "gpt-4o": "deepseek-v4-vision", broken: "gpt-4o" };
    expect(resolveModel("my-model", user)?.id).toBe("deepseek-v4-pro");
    expect(resolveModel("MY-MODEL-nothinking", user)?.id).toBe("deepseek-v4-pro-nothinking");
    expect(resolveModel("gpt-4o", user)?.id).toBe("deepseek-v4-vision");
    expect(resolveModel("gpt-4o")?.id).toBe("deepseek-v4-flash");
    expect(resolveModel("broken", user)).toBeNull();
  });

  test("not-available message names the model and the valid ids", () => {
    const msg = modelNotAvailableMessage("gpt-3.5-turbo");
    expect(msg.startsWith('model "gpt-3.5-turbo" is not available')).toBe(true);
    for (const id of NATIVE_MODEL_IDS) expect(msg).toContain(id);
  });
});

describe("model lists", () => {
  test("OpenAI: ten native ids in spec order, then legacy ids and config aliases", () => {
    const list = openAiModelList({ "team-fast": "deepseek-v4-flash", bad: "nope" });
    expect(list.object).toBe("list");
    const ids = list.data.map((m) => m.id);
    expect(ids.slice(0, 10)).toEqual([
      "deepseek-v4-flash", "deepseek-v4-flash-nothinking", "deepseek-v4-pro", "deepseek-v4-pro-nothinking",
      "deepseek-v4-flash-search", "deepseek-v4-flash-search-nothinking", "deepseek-v4-pro-search",
      "deepseek-v4-pro-search-nothinking", "deepseek-v4-vision", "deepseek-v4-vision-nothinking",
    ]);
    expect(ids).toContain("deepseek-chat");
    expect(ids).toContain("deepseek-reasoner");
    expect(ids).toContain("team-fast");
    expect(ids).not.toContain("bad");
    expect(ids).not.toContain("gpt-4o");
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of list.data) {
      expect(m).toEqual({ id: m.id, object: "model", created: 1677610602, owned_by: "deepseek", permission: [] });
    }
  });

  test("Anthropic: 44 entries, pairs with -nothinking twins, official fields added", () => {
    const list = anthropicModelList();
    expect(list.data.length).toBe(44);
    expect(list.first_id).toBe("claude-opus-4-6");
    expect(list.last_id).toBe("claude-3-haiku-20240307-nothinking");
    expect(list.has_more).toBe(false);
    for (let i = 0; i < list.data.length; i += 2) {
      expect(list.data[i + 1]!.id).toBe(list.data[i]!.id + "-nothinking");
    }
    const ids = list.data.map((m) => m.id);
    for (const undated of ["claude-3-7-sonnet", "claude-3-5-sonnet", "claude-3-5-haiku", "claude-3-opus", "claude-3-sonnet", "claude-3-haiku"]) {
      expect(ids).not.toContain(undated);
    }
    for (const m of list.data) {
      expect(m.object).toBe("model");
      expect(m.type).toBe("model");
      expect(m.created).toBe(1715635200);
      expect(m.owned_by).toBe("anthropic");
      expect(Number.isNaN(Date.parse(m.created_at))).toBe(false);
      expect(m.display_name.startsWith("Claude ")).toBe(true);
      // Every listed id must also resolve.
      expect(resolveModel(m.id)).not.toBeNull();
    }
    const opus = list.data.find((m) => m.id === "claude-opus-4-1-20250805")!;
    expect(opus.created_at).toBe("2025-08-05T00:00:00Z");
    expect(claudeDisplayName("claude-opus-4-1-20250805")).toBe("Claude Opus 4.1");
    expect(claudeDisplayName("claude-3-5-sonnet-20241022")).toBe("Claude 3.5 Sonnet");
  });

  test("Gemini: official models.list shape with native ids and Gemini aliases", () => {
    const { models } = geminiModelList();
    const names = models.map((m) => m.name);
    for (const id of NATIVE_MODEL_IDS) expect(names).toContain(`models/${id}`);
    for (const alias of ["gemini-2.5-pro", "gemini-pro-vision", "gemini-2.0-flash"]) expect(names).toContain(`models/${alias}`);
    expect(names).not.toContain("models/gpt-4o");
    for (const m of models) {
      expect(m.supportedGenerationMethods).toEqual(["generateContent", "streamGenerateContent", "countTokens"]);
      expect(m.inputTokenLimit).toBeGreaterThan(0);
      expect(m.outputTokenLimit).toBeGreaterThan(0);
      const resolved = resolveModel(m.name.slice("models/".length))!;
      expect(resolved).not.toBeNull();
      expect(m.baseModelId).toBe(resolved.id);
      expect(m.thinking === true).toBe(!resolved.thinkingForcedOff);
    }
  });
});
