import { describe, expect, test } from "bun:test";
import { resolveModel } from "./support/deepseek-catalog.ts";
import { requestedThinking, resolveGeminiThinking, resolveThinking } from "../src/core/thinking.ts";

const flash = resolveModel("deepseek-v4-flash")!;
const flashOff = resolveModel("deepseek-v4-flash-nothinking")!;

describe("resolveThinking", () => {
  test("model default applies when the request says nothing", () => {
    expect(resolveThinking({}, flash)).toBe(true);
    expect(resolveThinking({}, flashOff)).toBe(false);
  });

  test("-nothinking beats every request field", () => {
    expect(resolveThinking({ thinking: true, reasoning_effort: "high" }, flashOff)).toBe(false);
    expect(resolveThinking({ thinking: { type: "enabled", budget_tokens: 2048 } }, flashOff)).toBe(false);
  });

  test("thinking: bool, strings, {type}", () => {
    expect(resolveThinking({ thinking: false }, flash)).toBe(false);
    for (const s of ["disabled", "disable", "off", "false", "none", " OFF "]) expect(resolveThinking({ thinking: s }, flash)).toBe(false);
    for (const s of ["enabled", "enable", "on", "true"]) expect(requestedThinking({ thinking: s })).toBe(true);
    expect(resolveThinking({ thinking: { type: "disabled" } }, flash)).toBe(false);
    expect(requestedThinking({ thinking: { type: "enabled", budget_tokens: 1024 } })).toBe(true);
  });

  test("reasoning: bool, effort string, {effort|type|enabled}", () => {
    expect(resolveThinking({ reasoning: false }, flash)).toBe(false);
    expect(resolveThinking({ reasoning: "none" }, flash)).toBe(false);
    expect(requestedThinking({ reasoning: "minimal" })).toBe(true);
    expect(resolveThinking({ reasoning: { effort: "none" } }, flash)).toBe(false);
    expect(resolveThinking({ reasoning: { type: "disabled" } }, flash)).toBe(false);
    expect(resolveThinking({ reasoning: { enabled: false } }, flash)).toBe(false);
    expect(requestedThinking({ reasoning: { effort: "xhigh" } })).toBe(true);
  });

  test("order: thinking, reasoning, extra_body.*, reasoning_effort", () => {
    expect(resolveThinking({ thinking: "off", reasoning: "high" }, flash)).toBe(false);
    expect(resolveThinking({ reasoning: "none", reasoning_effort: "high" }, flash)).toBe(false);
    expect(resolveThinking({ extra_body: { thinking: false }, reasoning_effort: "high" }, flash)).toBe(false);
    expect(resolveThinking({ extra_body: { reasoning: { effort: "off" } } }, flash)).toBe(false);
    expect(resolveThinking({ extra_body: { reasoning_effort: "disabled" } }, flash)).toBe(false);
    expect(resolveThinking({ extra_body: { thinking: { type: "disabled" }, reasoning_effort: "high" } }, flash)).toBe(false);
    expect(resolveThinking({ reasoning_effort: "false" }, flash)).toBe(false);
    for (const e of ["minimal", "low", "medium", "high", "xhigh"]) expect(requestedThinking({ reasoning_effort: e })).toBe(true);
  });

  test("unrecognised values fall through to the next source", () => {
    expect(resolveThinking({ thinking: "banana", reasoning_effort: "none" }, flash)).toBe(false);
    expect(resolveThinking({ thinking: null, reasoning: 3 }, flash)).toBe(true);
    expect(requestedThinking({ extra_body: "x" })).toBeUndefined();
  });
});

describe("resolveGeminiThinking", () => {
  test("thinkingBudget 0 → off, > 0 or -1 → on, absent → model default", () => {
    expect(resolveGeminiThinking({ thinkingConfig: { thinkingBudget: 0 } }, flash).enabled).toBe(false);
    expect(resolveGeminiThinking({ thinkingConfig: { thinkingBudget: 512 } }, flash).enabled).toBe(true);
    expect(resolveGeminiThinking({ thinkingConfig: { thinkingBudget: -1 } }, flash).enabled).toBe(true);
    expect(resolveGeminiThinking({}, flash).enabled).toBe(true);
    expect(resolveGeminiThinking(undefined, flashOff).enabled).toBe(false);
    expect(resolveGeminiThinking({ thinkingConfig: { thinkingBudget: 512 } }, flashOff).enabled).toBe(false);
    expect(resolveGeminiThinking({ thinking_config: { thinking_budget: 0 } }, flash).enabled).toBe(false);
  });

  test("thought parts only with includeThoughts and thinking on", () => {
    expect(resolveGeminiThinking({ thinkingConfig: { includeThoughts: true } }, flash)).toEqual({ enabled: true, includeThoughts: true });
    expect(resolveGeminiThinking({ thinkingConfig: { thinkingBudget: 100 } }, flash).includeThoughts).toBe(false);
    expect(resolveGeminiThinking({ thinkingConfig: { thinkingBudget: 0, includeThoughts: true } }, flash).includeThoughts).toBe(false);
  });
});
