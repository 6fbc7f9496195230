/** The embedded console: the committed generated module matches public/, the page is self-contained, public/ typechecks, client helpers. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildConsolePage, CONSOLE_MODULE_PATH, expectedConsoleModule } from "../scripts/build-console.ts";
import { readableError } from "../public/lib/api.ts";
import { pieceOf, readSse, type SseEvent } from "../public/lib/sse.ts";
import { CONSOLE_CSP, CONSOLE_HTML } from "../src/api/admin-console/assets.generated.ts";
import { runCommand } from "./support/spawn-server.ts";
import { repoRoot } from "./support/test-server.ts";

describe("generated console module", () => {
  test("is up to date with public/ (run `bun run scripts/build-console.ts` after editing public/)", async () => {
    expect(readFileSync(CONSOLE_MODULE_PATH, "utf8")).toBe(await expectedConsoleModule());
  }, 30_000);

  test("the page inlines its script and style and loads nothing from elsewhere", async () => {
    const { html, csp } = await buildConsolePage();
    expect(html.match(/<script\b/g)?.length).toBe(1);
    expect(html.match(/<\/script>/g)?.length).toBe(1);
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+rel="stylesheet"/);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/); // no CDN, fonts or remote calls
    expect(html).not.toContain("__CONSOLE_");
    // The CSP pins the exact inline script and style by hash.
    const script = /<script type="module">([\s\S]*)<\/script>/.exec(html)![1]!;
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const hash = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest("base64");
    expect(csp).toContain(`script-src 'sha256-${hash(script)}'`);
    expect(csp).toContain(`style-src 'sha256-${hash(style)}'`);
    expect(CONSOLE_CSP).toBe(csp);
    expect(CONSOLE_HTML).toBe(html);
  }, 30_000);

  test("public/ typechecks (strict, DOM)", async () => {
    const r = await runCommand([join(repoRoot, "node_modules/.bin/tsc"), "-p", join(repoRoot, "public/tsconfig.json")], { cwd: repoRoot });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  }, 60_000);
});

describe("readableError", () => {
  test("prefers detail, then error.message, then message", () => {
    expect(readableError(400, { detail: "Key 不能为空" })).toBe("Key 不能为空");
    expect(readableError(429, { error: { message: "slow down", type: "rate_limit" } })).toBe("slow down");
    expect(readableError(400, { message: "bad" })).toBe("bad");
    expect(readableError(400, { detail: [{ msg: "a is required" }, { message: "b too long" }] })).toBe("a is required; b too long");
  });
  test("never returns a JSON or HTML dump", () => {
    expect(readableError(500, { unexpected: { nested: true } }, '{"unexpected":{"nested":true}}')).toBe("HTTP 500");
    expect(readableError(502, undefined, "<html><body>Bad gateway</body></html>")).toBe("HTTP 502");
    expect(readableError(503, undefined, "upstream unavailable")).toBe("upstream unavailable");
  });
});

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(enc.encode(ch));
      c.close();
    },
  });
}

async function collect(chunks: string[]): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const ev of readSse(streamOf(chunks))) out.push(ev);
  return out;
}

describe("readSse", () => {
  const text =
    ": keep-alive\n\n" +
    'event: content_block_delta\r\ndata: {"type":"content_block_delta","delta":{"type":"text_delta","text":"  "}}\r\n\r\n' +
    'data: {"choices":[{"delta":{"content":"你好"}}]}\n\n' +
    "data: line one\ndata: line two\n\n" +
    "data: [DONE]\n\n";
  const expected: SseEvent[] = [
    { event: "content_block_delta", data: '{"type":"content_block_delta","delta":{"type":"text_delta","text":"  "}}' },
    { event: "message", data: '{"choices":[{"delta":{"content":"你好"}}]}' },
    { event: "message", data: "line one\nline two" },
    { event: "message", data: "[DONE]" },
  ];

  test("gives the same events however the bytes are split (including inside a UTF-8 character)", async () => {
    const bytes = new TextEncoder().encode(text);
    expect(await collect([text])).toEqual(expected);
    for (let cut = 1; cut < bytes.length; cut++) {
      const parts = [bytes.slice(0, cut), bytes.slice(cut)];
      const events: SseEvent[] = [];
      for await (const ev of readSse(new ReadableStream({ start: (c) => (parts.forEach((p) => c.enqueue(p)), c.close()) }))) events.push(ev);
      expect(events).toEqual(expected);
    }
  });

  test("a final event without a blank line is still delivered", async () => {
    expect(await collect(["data: tail"])).toEqual([{ event: "message", data: "tail" }]);
  });
});

describe("pieceOf", () => {
  const ev = (data: unknown, event = "message"): SseEvent => ({ event, data: typeof data === "string" ? data : JSON.stringify(data) });
  test("openai: reasoning_content and content, [DONE], in-stream error", () => {
    expect(pieceOf("openai", ev({ choices: [{ delta: { reasoning_content: "think" } }] }))).toEqual({ reasoning: "think", answer: undefined });
    expect(pieceOf("openai", ev({ choices: [{ delta: { content: " " } }] }))).toEqual({ reasoning: undefined, answer: " " });
    expect(pieceOf("openai", ev("[DONE]"))).toEqual({ done: true });
    expect(pieceOf("openai", ev({ error: { message: "account pool exhausted" } }))).toEqual({ error: "account pool exhausted" });
  });
  test("anthropic: thinking_delta vs text_delta, message_stop, error event", () => {
    expect(pieceOf("anthropic", ev({ type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "hmm" } }))).toEqual({ reasoning: "hmm" });
    expect(pieceOf("anthropic", ev({ type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "Hi" } }))).toEqual({ answer: "Hi" });
    expect(pieceOf("anthropic", ev({ type: "message_stop" }))).toEqual({ done: true });
    expect(pieceOf("anthropic", ev({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }, "error"))).toEqual({ error: "Overloaded" });
  });
  test("gemini: thought parts are reasoning, other text parts the answer", () => {
    const chunk = { candidates: [{ content: { role: "model", parts: [{ text: "plan", thought: true }, { text: "Answer" }, { text: "!" }] } }] };
    expect(pieceOf("gemini", ev(chunk))).toEqual({ reasoning: "plan", answer: "Answer!" });
  });
});
