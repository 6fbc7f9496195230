/** core/citations: non-stream rendering, streaming stripping (split markers), final list. Spec §4.10. */
import { describe, expect, test } from "bun:test";
import {
  StreamingCitationStripper,
  buildCitationList,
  renderCitations,
  stripCitationMarkers,
} from "../src/core/citations.ts";
import { collect, loadSample, runParser } from "./sse-fixture-reader.ts";
import type { DeepSeekEvent } from "../src/upstream/deepseek/events.ts";

const sources = [{ url: "https://a/" }, { url: "https://b/", title: "B" }, { url: "https://c/" }];

describe("renderCitations", () => {
  test("zero-based [reference:N] series is shifted by one; unknown markers stay", () => {
    const text = "x[reference:0] y[reference:1][reference:7] z";
    expect(renderCitations(text, { sources })).toBe("x[1](https://a/) y[2](https://b/)[reference:7] z");
  });

  test("[reference:N] without a [reference:0] in the text is one-based", () => {
    expect(renderCitations("x[reference:2]", { sources })).toBe("x[2](https://b/)");
  });

  test("[citation:N] is one-based; cite_index wins over position", () => {
    expect(renderCitations("[citation:1][citation:3]", { sources })).toBe("[1](https://a/)[3](https://c/)");
    const withIdx = [{ url: "https://a/" }, { url: "https://z/", citeIndex: 1 }];
    expect(renderCitations("[citation:1]", { sources: withIdx })).toBe("[1](https://z/)");
  });

  test("exact links win over the heuristic; text without markers is returned as is", () => {
    const links = [{ marker: "[reference:0]", source: { url: "https://exact/" } }];
    expect(renderCitations("a[reference:0]", { links, sources })).toBe("a[1](https://exact/)");
    const plain = "  no markers [ref] \n";
    expect(renderCitations(plain, { sources })).toBe(plain);
  });

  test("weather sample: every marker becomes [N](url) with the URL of its parser citation event", () => {
    const run = runParser([loadSample("guangzhou-weather").bytes]);
    const cites = run.events.filter((e): e is Extract<DeepSeekEvent, { type: "citation" }> => e.type === "citation");
    const rendered = renderCitations(run.text, { links: cites, sources: run.parser.allSources });
    expect(rendered).not.toMatch(/\[reference:\d+\]/);
    for (const c of cites) expect(rendered).toContain(`[${c.index + 1}](${c.source!.url})`);
  });
});

describe("stripping", () => {
  test("stripCitationMarkers removes complete markers only", () => {
    expect(stripCitationMarkers("a[reference:0]b[citation:12] [reference:x] [ref")).toBe("ab [reference:x] [ref");
  });

  test("streaming: markers split at every position are removed, other text passes unchanged", () => {
    const text = "晴天[reference:0]，多云[citation:12]。数组 a[1] 和 [reference 与 [x]\n";
    const want = "晴天，多云。数组 a[1] 和 [reference 与 [x]\n";
    for (let i = 0; i <= text.length; i++) {
      for (const j of [i, Math.min(text.length, i + 3), Math.min(text.length, i + 9)]) {
        const s = new StreamingCitationStripper();
        const out = s.push(text.slice(0, i)) + s.push(text.slice(i, j)) + s.push(text.slice(j)) + s.flush();
        expect(out).toBe(want);
      }
    }
  });

  test("streaming: one character at a time; only a possible marker prefix is held back", () => {
    const s = new StreamingCitationStripper();
    let out = "";
    for (const ch of "ab[reference:12]c[") out += s.push(ch);
    expect(out).toBe("abc");
    expect(s.push("citat")).toBe("");
    expect(s.push("ion:9]")).toBe("");
    expect(s.push(" [x")).toBe(" [x");
    expect(s.push("[ref")).toBe("");
    expect(s.flush()).toBe("[ref");
  });

  test("whitespace-only deltas pass through untouched", () => {
    const s = new StreamingCitationStripper();
    expect(s.push(" ")).toBe(" ");
    expect(s.push("\n\n")).toBe("\n\n");
  });

  test("content-filter sample: streaming the parser's text deltas removes all 29 markers", () => {
    const run = runParser([loadSample("content-filter-trigger").bytes]);
    const s = new StreamingCitationStripper();
    let out = "";
    for (const e of run.events) if (e.type === "text") out += s.push(e.text);
    out += s.flush();
    expect(run.text.match(/\[reference:\d+\]/g)!.length).toBe(29);
    expect(out).toBe(run.text.replace(/\[reference:\d+\]/g, ""));
  });
});

describe("buildCitationList", () => {
  test("distinct display numbers with known URLs, in order of first appearance", () => {
    const text = "[reference:2] x [reference:0][reference:2] [reference:9]";
    expect(buildCitationList(text, { sources })).toEqual([
      { number: 3, url: "https://c/", marker: "[reference:2]" },
      { number: 1, url: "https://a/", marker: "[reference:0]" },
    ]);
    expect(buildCitationList("[citation:2]", { sources })).toEqual([
      { number: 2, url: "https://b/", title: "B", marker: "[citation:2]" },
    ]);
    expect(buildCitationList("none", { sources })).toEqual([]);
  });

  test("weather sample: 13 markers, one entry per distinct marker, URLs from the stream", () => {
    const run = runParser([loadSample("guangzhou-weather").bytes]);
    const cites = run.events.filter((e): e is Extract<DeepSeekEvent, { type: "citation" }> => e.type === "citation");
    const list = buildCitationList(collect(run.events).text, { links: cites, sources: run.parser.allSources });
    expect(list.map((c) => c.number)).toEqual(cites.map((c) => c.index + 1));
    expect(list.map((c) => c.url)).toEqual(cites.map((c) => c.source!.url));
  });
});
