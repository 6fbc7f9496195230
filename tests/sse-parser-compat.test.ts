/**
 * The reference's single-chunk compat cases (fixtures/upstream/compat/fixtures/sse_chunks + expected/sse_*.json),
 * mapped onto DeepSeekStreamParser: parts ← reasoning/text events ("thinking" = reasoning),
 * finished ← state.finished, new_type ← state.currentChannel, content_filter ← state.contentFiltered,
 * output_tokens ← state.outputTokens ?? 0, error_message ← state.error ?? "".
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { DeepSeekStreamParser } from "../src/upstream/deepseek/sse/parser.ts";
import { UPSTREAM_FIXTURES } from "./sse-fixture-reader.ts";

const dir = `${UPSTREAM_FIXTURES}compat/`;
const names = readdirSync(`${dir}fixtures/sse_chunks`)
  .filter((f) => f.endsWith(".json"))
  .map((f) => f.slice(0, -5))
  .sort();

const typeName = (c: "reasoning" | "text") => (c === "reasoning" ? "thinking" : "text");

describe("compat sse_chunks", () => {
  test("all five reference cases are present", () => {
    expect(names).toEqual(
      ["content_filter_status", "fragments_append", "leaked_content_filter", "nested_finished", "split_tool_json"].sort(),
    );
  });

  for (const name of names) {
    test(name, () => {
      const fx = JSON.parse(readFileSync(`${dir}fixtures/sse_chunks/${name}.json`, "utf8"));
      const want = JSON.parse(readFileSync(`${dir}expected/sse_${name}.json`, "utf8"));
      const parser = new DeepSeekStreamParser({ thinkingEnabled: fx.thinking_enabled });
      expect(typeName(parser.state.currentChannel)).toBe(fx.current_type);

      const events = parser.handleFrame({ event: "message", data: JSON.stringify(fx.chunk) });
      const parts = events.flatMap((e) =>
        e.type === "reasoning" || e.type === "text" ? [{ text: e.text, type: typeName(e.type) }] : [],
      );
      expect(parts).toEqual(want.parts);
      expect(parser.state.finished).toBe(want.finished);
      expect(typeName(parser.state.currentChannel)).toBe(want.new_type);
      expect(parser.state.contentFiltered).toBe(want.content_filter ?? false);
      expect(events.some((e) => e.type === "content_filter")).toBe(want.content_filter ?? false);
      if ("output_tokens" in want) expect(parser.state.outputTokens ?? 0).toBe(want.output_tokens);
      if ("error_message" in want) expect(parser.state.error ?? "").toBe(want.error_message);
    });
  }
});
