/** Unit cases for the patch grammar of protocol §4.3–§4.12, built from the spec's own examples. */
import { describe, expect, test } from "bun:test";
import { DeepSeekStreamParser } from "../src/upstream/deepseek/sse/parser.ts";
import type { DeepSeekEvent } from "../src/upstream/deepseek/events.ts";
import { collect } from "./sse-fixture-reader.ts";

type Frame = object | { event: string; data: object | string };

function sse(frames: Frame[]): string {
  return frames
    .map((f) =>
      "event" in f && "data" in f
        ? `event: ${(f as { event: string }).event}\ndata: ${typeof f.data === "string" ? f.data : JSON.stringify(f.data)}\n\n`
        : `data: ${JSON.stringify(f)}\n\n`,
    )
    .join("");
}

function parse(frames: Frame[] | string, thinkingEnabled = true) {
  const parser = new DeepSeekStreamParser({ thinkingEnabled });
  const events = [...parser.push(typeof frames === "string" ? frames : sse(frames)), ...parser.end()];
  return { parser, events, ...collect(events) };
}

const env = (fragments: object[], extra: object = {}) => ({
  v: { response: { message_id: 2, parent_id: 1, status: "WIP", accumulated_token_usage: 0, fragments, ...extra } },
});
const think = (id: number, content: string) => ({ id, type: "THINK", content, references: [], stage_id: 1 });
const resp = (id: number, content: string) => ({ id, type: "RESPONSE", content, references: [], stage_id: 1 });

const only = (events: DeepSeekEvent[], type: DeepSeekEvent["type"]) => events.filter((e) => e.type === type);

describe("sticky path/op, BATCH, negative indices", () => {
  test("bare {v} continues the last path and op; p without o keeps the op", () => {
    const r = parse([
      env([think(2, "我们")]),
      { p: "response/fragments/-1/content", o: "APPEND", v: "被" },
      { v: "要求" },
      { p: "response/fragments/-1/elapsed_secs", o: "SET", v: 1.2 },
      { p: "response/fragments", o: "APPEND", v: [resp(3, "##")] },
      { p: "response/fragments/-1/content", v: " " },
      { v: "比较" },
      { p: "response/fragments", v: [{ id: 4, type: "TIP", content: "本回答由 AI 生成", style: "WARNING" }] },
      { p: "response", o: "BATCH", v: [{ p: "accumulated_token_usage", v: 20 }, { p: "quasi_status", v: "FINISHED" }] },
      { p: "response/status", o: "SET", v: "FINISHED" },
    ]);
    expect(r.reasoning).toBe("我们被要求");
    expect(r.text).toBe("## 比较");
    expect(only(r.events, "usage")).toEqual([{ type: "usage", outputTokens: 20 }]);
    expect(r.parser.state.lastStatus).toBe("FINISHED");
  });

  test("sticky BATCH on response and on a fragment", () => {
    const r = parse([
      env([think(2, "a")]),
      { p: "response", o: "BATCH", v: [{ p: "fragments", o: "APPEND", v: [think(3, "b")] }, { p: "has_pending_fragment", o: "SET", v: false }] },
      { v: [{ p: "fragments", o: "APPEND", v: [resp(4, "c")] }] },
      { p: "response/fragments/-1", o: "BATCH", v: [{ p: "content", o: "APPEND", v: "d" }] },
      { v: [{ p: "content", o: "APPEND", v: "e" }] },
    ]);
    expect(r.reasoning).toBe("ab");
    expect(r.text).toBe("cde");
  });

  test("negative indices address fragments from the end; non-text fragments stay silent", () => {
    const r = parse([
      env([think(2, "t")]),
      { p: "response", o: "BATCH", v: [{ p: "fragments", o: "APPEND", v: [
        { id: 3, type: "TOOL_SEARCH", status: "WIP", content: null, queries: [{ query: "q" }], results: [] },
        { id: 4, type: "TOOL_SEARCH", status: "WIP", content: null, queries: [{ query: "q2" }], results: [] },
      ] }] },
      { p: "response/fragments/-3/content", o: "APPEND", v: "!" }, // THINK (id 2)
      { p: "response/fragments/-2/content", v: "tool" }, // TOOL_SEARCH: not text
      { p: "response/fragments/-2/results", o: "SET", v: [{ url: "https://a.example/1", title: "A" }] },
      { p: "response/fragments/-1/status", v: "FINISHED" }, // per-fragment status: not the end
      { p: "response/fragments", o: "APPEND", v: [resp(5, "x")] },
      { p: "response/fragments/-1/content", v: "y" },
    ]);
    expect(r.reasoning).toBe("t!");
    expect(r.text).toBe("xy");
    expect(r.parser.state.finished).toBe(false);
    expect(only(r.events, "sources")).toEqual([{ type: "sources", sources: [{ url: "https://a.example/1", title: "A" }] }]);
  });

  test("unknown fields, paths, fragment types and events are ignored", () => {
    const r = parse([
      { event: "brand_new", data: { x: 1 } },
      env([{ id: 2, type: "HOLOGRAM", content: "no" }, resp(3, "ok")], { novel: { deep: true } }),
      { p: "response/novel_path", o: "SET", v: "no" },
      { p: "response/fragments/-1/novel", v: "no" },
      { p: "response/search_status", v: "no" },
      { p: "response/fragments/-1/content", o: "APPEND", v: "!" },
    ]);
    expect(r.text).toBe("ok!");
    expect(r.reasoning).toBe("");
  });

  test("whitespace-only tokens are never trimmed", () => {
    const r = parse([env([resp(2, " ")]), { p: "response/fragments/-1/content", o: "APPEND", v: "\n\n" }, { v: "- " }, { v: "| " }, { v: "\t" }]);
    expect(only(r.events, "text").map((e) => (e as { text: string }).text)).toEqual([" ", "\n\n", "- ", "| ", "\t"]);
  });
});

describe("legacy paths and envelope variants", () => {
  test("response/thinking_content and response/content, with {text}/{content} values", () => {
    const r = parse([
      { p: "response/thinking_content", o: "APPEND", v: "r1" },
      { v: "r2" },
      { p: "response/content", v: { text: "a" } },
      { v: { content: "b" } },
      { v: "c" },
    ]);
    expect(r.reasoning).toBe("r1r2");
    expect(r.text).toBe("abc");
  });

  test("{message:{response}} and a top-level response_message_id", () => {
    const a = parse([{ message: { response: { message_id: 7, parent_id: 6, status: "WIP", fragments: [resp(2, "hi")] } } }]);
    expect(a.text).toBe("hi");
    expect(a.parser.state.responseMessageId).toBe(7);
    expect(a.parser.state.requestMessageId).toBe(6);
    expect(only(a.events, "ready")).toEqual([{ type: "ready", responseMessageId: 7, requestMessageId: 6 }]);

    const b = parse([{ response_message_id: 9, v: { response: { status: "WIP", fragments: [think(2, "t")] } } }]);
    expect(b.parser.state.responseMessageId).toBe(9);
    expect(b.reasoning).toBe("t");
  });

  test("envelope fragment text is flagged as snapshot, later appends are not", () => {
    const r = parse([env([think(2, "我们")]), { p: "response/fragments/-1/content", o: "APPEND", v: "被" }]);
    expect(only(r.events, "reasoning")).toEqual([
      { type: "reasoning", text: "我们", snapshot: true },
      { type: "reasoning", text: "被" },
    ]);
  });

  test("fragments APPEND with THINK and RESPONSE switches the current channel", () => {
    const r = parse([{ p: "response/fragments", o: "APPEND", v: [{ type: "THINK", content: "x" }, { type: "RESPONSE", content: "y" }] }, { p: "response/fragments/-1/content", v: "z" }], true);
    expect(r.reasoning).toBe("x");
    expect(r.text).toBe("yz");
    expect(r.parser.state.currentChannel).toBe("text");
  });

  test("thinking disabled: THINK is still reported as reasoning; bare text starts on the text channel", () => {
    const off = parse([env([think(2, "t")]), { p: "response/fragments", o: "APPEND", v: [resp(3, "a")] }], false);
    expect(off.reasoning).toBe("t");
    expect(off.text).toBe("a");
    expect(parse([{ v: "plain" }], false).text).toBe("plain");
    expect(parse([{ v: "plain" }], true).reasoning).toBe("plain");
  });
});

describe("</think> repair", () => {
  test("text after </think> becomes answer, later reasoning too, stray tags removed", () => {
    const r = parse([
      { p: "response/thinking_content", o: "APPEND", v: "<think>abc" },
      { v: "def</think>ghi" },
      { v: "jkl" },
      { p: "response/content", v: "m</think>n" },
    ]);
    expect(r.reasoning).toBe("abcdef");
    expect(r.text).toBe("ghijklm</think>n");
  });

  test("a new THINK fragment resets the repair", () => {
    const r = parse([
      env([think(2, "a</think>b")]),
      { p: "response/fragments", o: "APPEND", v: [think(3, "c")] },
      { p: "response/fragments/-1/content", v: "d" },
    ]);
    expect(r.reasoning).toBe("acd");
    expect(r.text).toBe("b");
  });
});

describe("content filter", () => {
  test("status CONTENT_FILTER nested in a batch: event once, nothing after it", () => {
    const r = parse([
      env([resp(2, "ok")]),
      { p: "response", o: "BATCH", v: [{ p: "quasi_status", v: "FINISHED" }] },
      { v: [{ p: "ban_regenerate", v: true }, { p: "status", v: "CONTENT_FILTER" }, { p: "fragments", v: [{ id: 9, type: "TEMPLATE_RESPONSE", content: "canned" }] }, { p: "quasi_status", v: "CONTENT_FILTER" }] },
      { p: "response/fragments/-1/content", o: "APPEND", v: "late" },
    ]);
    expect(r.text).toBe("ok");
    expect(only(r.events, "content_filter").length).toBe(1);
    expect(r.events[r.events.length - 1]).toEqual({ type: "content_filter" });
    expect(r.parser.state).toMatchObject({ contentFiltered: true, finished: true, lastStatus: "CONTENT_FILTER" });
  });

  test("batch inside batch, quasi_status form", () => {
    const r = parse([env([resp(2, "a")]), { p: "response", o: "BATCH", v: [{ p: "fragments/-1", o: "BATCH", v: [{ p: "content", o: "APPEND", v: "b" }] }, { p: "quasi_status", v: "CONTENT_FILTER" }] }]);
    expect(r.text).toBe("ab");
    expect(r.parser.state.contentFiltered).toBe(true);
  });

  test('{"code":"content_filter"} and a TEMPLATE_RESPONSE fragment', () => {
    const a = parse([env([resp(2, "a")]), { code: "content_filter" }, { p: "response/fragments/-1/content", o: "APPEND", v: "b" }]);
    expect(a.text).toBe("a");
    expect(a.parser.state.contentFiltered).toBe(true);
    const b = parse([env([resp(2, "a")]), { p: "response/fragments", o: "APPEND", v: [{ id: 3, type: "TEMPLATE_RESPONSE", content: "canned" }] }]);
    expect(b.text).toBe("a");
    expect(only(b.events, "content_filter").length).toBe(1);
  });

  test("leaked CONTENT_FILTER marker: cut, trailing spaces/tabs trimmed, empty dropped, newline kept", () => {
    const r = parse([
      env([resp(2, "")]),
      { p: "response/fragments/-1/content", o: "APPEND", v: "正常输出 \tCONTENT_FILTER你好" },
      { v: " \tCONTENT_FILTER" },
      { v: "\nCONTENT_FILTERx" },
      { v: "  " },
    ]);
    expect(only(r.events, "text").map((e) => (e as { text: string }).text)).toEqual(["正常输出", "\n", "  "]);
    expect(r.parser.state.contentFiltered).toBe(false);
  });
});

describe("status, continue signals, usage, title, errors", () => {
  test("INCOMPLETE keeps the round open; auto_continue counts as AUTO_CONTINUE", () => {
    const a = parse([env([think(2, "t")]), { p: "response", o: "BATCH", v: [{ p: "accumulated_token_usage", v: 5 }, { p: "quasi_status", v: "INCOMPLETE" }] }, { p: "response/status", v: "INCOMPLETE" }]);
    expect(a.parser.state).toMatchObject({ lastStatus: "INCOMPLETE", finished: false, outputTokens: 5 });
    const b = parse([env([think(2, "t")], { auto_continue: true })]);
    expect(b.parser.state.lastStatus).toBe("AUTO_CONTINUE");
    const c = parse([env([think(2, "t")]), { p: "response/auto_continue", o: "SET", v: true }, { v: "x" }]);
    expect(c.parser.state.lastStatus).toBe("AUTO_CONTINUE");
  });

  test("frames without status leave the last status; FINISHED ends text but late sources are still read", () => {
    const r = parse([
      env([resp(2, "a")]),
      { p: "response/status", o: "SET", v: "FINISHED" },
      { p: "response/fragments/-1/content", o: "APPEND", v: "late text" },
      { p: "response/fragments/-1/results", o: "SET", v: [{ url: "https://late.example/", title: "L" }] },
    ]);
    expect(r.text).toBe("a");
    expect(r.parser.state.lastStatus).toBe("FINISHED");
    expect(only(r.events, "sources")).toEqual([{ type: "sources", sources: [{ url: "https://late.example/", title: "L" }] }]);
  });

  test("a bare FINISHED before any path ends the stream (reference rule)", () => {
    const r = parse([{ v: "FINISHED" }]);
    expect(r.parser.state.finished).toBe(true);
    expect(r.text + r.reasoning).toBe("");
  });

  test("ready and title events", () => {
    const r = parse([
      { event: "ready", data: { request_message_id: 3, response_message_id: 4, model_type: "expert" } },
      { event: "update_session", data: { updated_at: 1 } },
      { event: "title", data: { content: "标题" } },
      { event: "close", data: { click_behavior: "none" } },
    ]);
    expect(r.events).toEqual([
      { type: "ready", requestMessageId: 3, responseMessageId: 4, modelType: "expert" },
      { type: "title", title: "标题" },
    ]);
    expect(r.parser.state.modelType).toBe("expert");
  });

  test("in-stream error frames (string and object) stop the stream", () => {
    const a = parse([env([resp(2, "a")]), { error: "boom" }, { p: "response/fragments/-1/content", o: "APPEND", v: "b" }]);
    expect(only(a.events, "error")).toEqual([{ type: "error", message: "boom" }]);
    expect(a.text).toBe("a");
    expect(a.parser.state.error).toBe("boom");
    expect(only(parse([{ error: { message: "m", code: 1 } }]).events, "error")).toEqual([{ type: "error", message: "m" }]);
    expect(only(parse([{ error: { code: 1 } }]).events, "error")).toEqual([{ type: "error", message: '{"code":1}' }]);
  });

  test("[DONE] and non-JSON data lines are ignored", () => {
    const r = parse("data: [DONE]\n\ndata: not json\n\n" + sse([env([resp(2, "a")])]));
    expect(r.text).toBe("a");
  });
});

describe("JSON envelope body instead of SSE", () => {
  const body = '{"code":40003,"msg":"Authorization Failed (invalid token)","data":null}';

  test("detected at end(), in any chunking, also pretty-printed and after whitespace", () => {
    const pretty = "\n  " + JSON.stringify(JSON.parse(body), null, 2);
    for (const text of [body, pretty]) {
      const bytes = new TextEncoder().encode(text);
      for (const size of [1, 5, bytes.length]) {
        const p = new DeepSeekStreamParser({ thinkingEnabled: true });
        const events: DeepSeekEvent[] = [];
        for (let i = 0; i < bytes.length; i += size) events.push(...p.push(bytes.subarray(i, i + size)));
        events.push(...p.end());
        expect(p.state.sawAnyFrame).toBe(false);
        expect(p.state.envelopeError).toEqual({ code: 40003, msg: "Authorization Failed (invalid token)" });
        expect(events).toEqual([{ type: "error", message: "Authorization Failed (invalid token)", code: 40003 }]);
      }
    }
  });

  test("biz_code of a wrapped envelope is kept", () => {
    const p = new DeepSeekStreamParser({ thinkingEnabled: true });
    p.push('{"code":0,"msg":"","data":{"biz_code":40301,"biz_msg":"quota exceeded","biz_data":null}}');
    expect(p.end()).toEqual([{ type: "error", message: "quota exceeded", code: 0 }]);
    expect(p.state.envelopeError).toEqual({ code: 0, msg: "", bizCode: 40301, bizMsg: "quota exceeded" });
  });

  test("an empty SSE body is not an envelope; an envelope as a data frame is", () => {
    const empty = parse(": \n\n");
    expect(empty.parser.state.sawAnyFrame).toBe(false);
    expect(empty.parser.state.envelopeError).toBeUndefined();
    const framed = parse(`data: ${body}\n\n`);
    expect(framed.parser.state.envelopeError?.code).toBe(40003);
    expect(only(framed.events, "error").length).toBe(1);
  });
});

describe("search sources and citations", () => {
  const search = (id: number, urls: string[]) => ({
    id, type: "TOOL_SEARCH", status: "WIP", content: null, queries: [{ query: "q" }],
    results: urls.map((u, i) => ({ url: u, title: `T${u}`, cite_index: null, query_indexes: [i] })),
  });

  test("exact linkage from the marker batch: TOOL_OPEN result.url, TOOL_SEARCH first result", () => {
    const r = parse([
      env([think(2, "t")]),
      { p: "response", o: "BATCH", v: [{ p: "fragments", o: "APPEND", v: [search(3, ["https://s/1", "https://s/2", "ftp://no"])] }] },
      { p: "response", o: "BATCH", v: [{ p: "fragments", o: "APPEND", v: [{ id: 4, type: "TOOL_OPEN", status: "WIP", result: { url: "https://s/2", title: "dup" }, reference: { id: 3, type: "TOOL_SEARCH" } }] }] },
      { p: "response/fragments", o: "APPEND", v: [resp(5, "A")] },
      { p: "response/fragments/-1", o: "BATCH", v: [{ p: "content", o: "APPEND", v: "[reference:0]" }, { p: "references", o: "SET", v: [{ id: 4, type: "TOOL_OPEN" }] }] },
      { v: [{ p: "content", o: "APPEND", v: "[reference:1]" }, { p: "references", v: [{ id: 3, type: "TOOL_SEARCH" }] }] },
    ]);
    expect(r.text).toBe("A[reference:0][reference:1]");
    expect(only(r.events, "sources")).toEqual([
      { type: "sources", sources: [{ url: "https://s/1", title: "Thttps://s/1" }, { url: "https://s/2", title: "Thttps://s/2" }] },
    ]);
    expect(only(r.events, "citation")).toEqual([
      { type: "citation", marker: "[reference:0]", index: 0, source: { url: "https://s/2", title: "Thttps://s/2" } },
      { type: "citation", marker: "[reference:1]", index: 1, source: { url: "https://s/1", title: "Thttps://s/1" } },
    ]);
    // text event comes before its citation event
    const ti = r.events.findIndex((e) => e.type === "text" && e.text === "[reference:0]");
    const ci = r.events.findIndex((e) => e.type === "citation");
    expect(ci).toBeGreaterThan(ti);
  });

  test("heuristic without linkage: [citation:N] one-based, cite_index preferred", () => {
    const r = parse([
      env([search(3, ["https://a/", "https://b/", "https://c/"]) as object, resp(4, "")]),
      { p: "response/fragments/-1/content", o: "APPEND", v: "x[citation:2]" },
      { p: "response/fragments/-2/results", o: "SET", v: [{ url: "https://d/", cite_index: 1 }] },
      { p: "response/fragments/-1/content", o: "APPEND", v: "[citation:1]" },
      { v: "[citation:9]" },
    ]);
    const cites = only(r.events, "citation") as Array<Extract<DeepSeekEvent, { type: "citation" }>>;
    expect(cites.map((c) => [c.marker, c.source?.url])).toEqual([
      ["[citation:2]", "https://b/"],
      ["[citation:1]", "https://d/"],
      ["[citation:9]", undefined],
    ]);
  });

  test("beginContinueRound resets round state but keeps ids and seen sources", () => {
    const p = new DeepSeekStreamParser({ thinkingEnabled: true });
    p.push(sse([{ event: "ready", data: { request_message_id: 1, response_message_id: 2 } }, env([search(3, ["https://a/"]) as object, think(4, "t")]), { p: "response/status", v: "INCOMPLETE" }]));
    p.end();
    expect(p.state.lastStatus).toBe("INCOMPLETE");
    p.beginContinueRound();
    expect(p.state.lastStatus).toBeUndefined();
    const evs = [...p.push(sse([env([search(3, ["https://a/", "https://b/"]) as object, think(4, "tu")]), { p: "response/fragments/-1/content", o: "APPEND", v: "v" }, { p: "response/status", v: "FINISHED" }])), ...p.end()];
    expect(only(evs, "sources")).toEqual([{ type: "sources", sources: [{ url: "https://b/", title: "Thttps://b/" }] }]);
    expect(collect(evs).reasoning).toBe("tuv");
    expect(p.state).toMatchObject({ responseMessageId: 2, lastStatus: "FINISHED", finished: true });
  });
});
