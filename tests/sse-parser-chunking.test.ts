/**
 * Chunk boundaries must not change the parse: splitting a captured stream anywhere (also inside UTF-8
 * sequences and CRLF pairs) gives the same events, compared after merging adjacent same-type text events.
 */
import { describe, expect, test } from "bun:test";
import { DeepSeekStreamParser } from "../src/upstream/deepseek/sse/parser.ts";
import type { DeepSeekEvent } from "../src/upstream/deepseek/events.ts";
import { collect, loadSample, normalizeEvents, runParser } from "./sse-fixture-reader.ts";

const enc = new TextEncoder();

/** Small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function splitAt(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const cuts = [...new Set(offsets)].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of cuts) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  out.push(bytes.subarray(prev));
  return out;
}

function normalized(chunks: Uint8Array[]): DeepSeekEvent[] {
  return normalizeEvents(runParser(chunks).events);
}

describe("chunking invariance", () => {
  test("markdown sample: every single split offset, LF and CRLF", () => {
    const lf = loadSample("markdown-format-example-20260405").bytes;
    const crlf = enc.encode(new TextDecoder().decode(lf).replaceAll("\n", "\r\n"));
    for (const bytes of [lf, crlf]) {
      const want = normalized([bytes]);
      expect(collect(want).text.length).toBeGreaterThan(100);
      for (let i = 1; i < bytes.length; i++) {
        const got = normalized([bytes.subarray(0, i), bytes.subarray(i)]);
        if (JSON.stringify(got) !== JSON.stringify(want)) expect({ offset: i, got }).toEqual({ offset: i, got: want });
      }
    }
    // CRLF and LF bodies parse the same.
    expect(normalized([crlf])).toEqual(normalized([lf]));
  });

  test("markdown sample: one byte at a time and as string pieces", () => {
    const bytes = loadSample("markdown-format-example-20260405").bytes;
    const want = normalized([bytes]);
    expect(normalized(Array.from(bytes, (b) => Uint8Array.of(b)))).toEqual(want);
    const text = new TextDecoder().decode(bytes);
    const pieces: string[] = [];
    for (let i = 0; i < text.length; i += 3) pieces.push(text.slice(i, i + 3));
    expect(normalizeEvents(runParser(pieces).events)).toEqual(want);
  });

  for (const name of [
    "guangzhou-weather",
    "content-filter-trigger",
    "longtext-",
    "continue-thinking-snapshot-replay",
  ]) {
    test(`${name}: random single splits and multi-splits`, () => {
      const bytes = loadSample(name).bytes;
      const want = normalized([bytes]);
      const rand = rng(0xc0ffee ^ bytes.length);
      const singles = name.startsWith("continue") ? 40 : 300;
      for (let k = 0; k < singles; k++) {
        const at = 1 + Math.floor(rand() * (bytes.length - 1));
        const got = normalized(splitAt(bytes, [at]));
        if (JSON.stringify(got) !== JSON.stringify(want)) expect({ at }).toEqual({ at: -1 });
      }
      for (let k = 0; k < 8; k++) {
        const n = 20 + Math.floor(rand() * 400);
        const offsets = Array.from({ length: n }, () => 1 + Math.floor(rand() * (bytes.length - 1)));
        expect(normalized(splitAt(bytes, offsets))).toEqual(want);
      }
    });
  }
});

describe("multi-MB single data line", () => {
  test("a 4 MB text token split in many chunks (UTF-8 split points included)", () => {
    const unit = "长文本 with ascii ";
    const big = unit.repeat(Math.ceil((4 << 20) / enc.encode(unit).length));
    const head =
      'event: ready\ndata: {"request_message_id":1,"response_message_id":2,"model_type":"default"}\n\n' +
      'data: {"v":{"response":{"message_id":2,"status":"WIP","fragments":[{"id":2,"type":"RESPONSE","content":"A"}]}}}\n\n';
    const line = `data: ${JSON.stringify({ p: "response/fragments/-1/content", o: "APPEND", v: big })}\n\n`;
    const tail = 'data: {"v":"Z"}\n\ndata: {"p":"response/status","o":"SET","v":"FINISHED"}\n\n';
    const bytes = enc.encode(head + line + tail);
    expect(bytes.length).toBeGreaterThan(4 << 20);

    for (const size of [65536, 4093]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      const t0 = performance.now();
      const run = runParser(chunks, { thinkingEnabled: false });
      const ms = performance.now() - t0;
      console.log(`  4 MB line, ${chunks.length} chunks of ${size} B: ${ms.toFixed(1)} ms`);
      expect(run.text).toBe("A" + big + "Z");
      expect(run.parser.state.finished).toBe(true);
    }
  });

  test("handleFrame takes one decoded frame directly", () => {
    const p = new DeepSeekStreamParser({ thinkingEnabled: false });
    expect(p.handleFrame({ event: "message", data: '{"p":"response/content","v":"hi"}' })).toEqual([
      { type: "text", text: "hi" },
    ]);
  });
});
