import { describe, expect, test } from "bun:test";
import { SseLineDecoder, type SseFrame } from "../src/upstream/deepseek/sse/line-decoder.ts";

function decodeAll(chunks: Array<Uint8Array | string>): SseFrame[] {
  const d = new SseLineDecoder();
  const out: SseFrame[] = [];
  for (const c of chunks) out.push(...d.push(c));
  out.push(...d.end());
  return out;
}

const enc = new TextEncoder();

describe("SseLineDecoder", () => {
  test("events, default event name, comments, unknown fields", () => {
    const text = 'event: ready\ndata: {"a":1}\n\n: \n:keepalive\ndata: {"v":"x"}\nid: 7\nretry: 10\n\nevent: close\ndata: {}\n\n';
    expect(decodeAll([text])).toEqual([
      { event: "ready", data: '{"a":1}' },
      { event: "message", data: '{"v":"x"}' },
      { event: "close", data: "{}" },
    ]);
  });

  test("event name resets after dispatch; events without data are not dispatched", () => {
    expect(decodeAll(["event: a\n\ndata: 1\n\n"])).toEqual([{ event: "message", data: "1" }]);
  });

  test("multiple data lines are joined with \\n; 'data:' without a space; bare 'data'", () => {
    expect(decodeAll(["data:x\ndata:  y\ndata\n\n"])).toEqual([{ event: "message", data: "x\n y\n" }]);
  });

  test("CRLF, lone CR, and a CR/LF pair split across chunks", () => {
    const want = [
      { event: "e", data: "1" },
      { event: "message", data: "2" },
    ];
    expect(decodeAll(["event: e\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n"])).toEqual(want);
    expect(decodeAll(["event: e\rdata: 1\r\rdata: 2\r\r"])).toEqual(want);
    expect(decodeAll(["event: e\r", "\ndata: 1\r", "\n\r", "\ndata: 2\r\n\r", "\n"])).toEqual(want);
  });

  test("final event without a trailing blank line is flushed by end()", () => {
    const d = new SseLineDecoder();
    expect(d.push('data: {"v":"a"}\n\ndata: {"v":"b"}')).toEqual([{ event: "message", data: '{"v":"a"}' }]);
    expect(d.end()).toEqual([{ event: "message", data: '{"v":"b"}' }]);
  });

  test("UTF-8 sequences split across byte chunks", () => {
    const text = 'data: {"v":"你好🙂世界"}\n\n';
    const bytes = enc.encode(text);
    for (let i = 1; i < bytes.length; i++) {
      const frames = decodeAll([bytes.subarray(0, i), bytes.subarray(i)]);
      expect(frames).toEqual([{ event: "message", data: '{"v":"你好🙂世界"}' }]);
    }
    const oneByOne = Array.from(bytes, (b) => Uint8Array.of(b));
    expect(decodeAll(oneByOne)).toEqual([{ event: "message", data: '{"v":"你好🙂世界"}' }]);
  });

  test("a long line delivered in many pieces is kept whole", () => {
    const big = "x".repeat(200_000);
    const text = `data: ${big}\n\n`;
    const pieces: string[] = [];
    for (let i = 0; i < text.length; i += 7) pieces.push(text.slice(i, i + 7));
    const frames = decodeAll(pieces);
    expect(frames.length).toBe(1);
    expect(frames[0]!.data.length).toBe(big.length);
    expect(frames[0]!.data).toBe(big);
  });
});
