/**
 * Hostile request bodies stay cheap: per-route body limits (Content-Length and chunked), the JSON
 * nesting-depth limit, the prompt-size limit, strict UTF-8, and no body parsing for callers without a key.
 * Every refusal comes in the surface's own error shape. No durations are asserted.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rewriteMarkdownImages } from "../src/core/prompt/build.ts";
import { JsonDepthScanner } from "../src/api/json-depth.ts";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";

const MiB = 1024 * 1024;
const PROMPT_LIMIT = 50_000;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    env: { DS2API_MAX_BODY_MB: "3", DS2API_MAX_SMALL_BODY_MB: "1", DS2API_MAX_PROMPT_CHARS: String(PROMPT_LIMIT) },
    config: { embeddings: { provider: "deterministic" } },
  });
  stack.sim.state.setDefaultReply({ answer: "Fine." });
});

afterAll(async () => {
  await stack?.stop();
});

const auth = { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" };
const post = (path: string, body: BodyInit, headers: Record<string, string> = auth) => fetch(`${stack.url}${path}`, { method: "POST", headers, body });
const chat = (content: string, extra: Record<string, unknown> = {}) => JSON.stringify({ model: "deepseek-v4-flash", messages: [{ role: "user", content }], ...extra });
const anthropic = (content: string) => JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 100, messages: [{ role: "user", content }] });
const gemini = (text: string) => JSON.stringify({ contents: [{ role: "user", parts: [{ text }] }] });
const padded = (bytes: number) => "x".repeat(bytes);

async function expectOpenAiError(r: Response, status: number, message: string | RegExp) {
  expect(r.status).toBe(status);
  const body = await r.json();
  expect(body.error.message).toMatch(message);
  expect(typeof body.error.type).toBe("string");
}
async function expectAnthropicError(r: Response, status: number, message: string | RegExp) {
  expect(r.status).toBe(status);
  const body = await r.json();
  expect(body.type).toBe("error");
  expect(body.error.message).toMatch(message);
}
async function expectGeminiError(r: Response, status: number, message: string | RegExp) {
  expect(r.status).toBe(status);
  const body = await r.json();
  expect(body.error.code).toBe(status);
  expect(body.error.message).toMatch(message);
  expect(typeof body.error.status).toBe("string");
}

describe("body limits per route", () => {
  const overSmall = 1 * MiB + 1000;

  test("count_tokens, embeddings and admin have the small limit, in their own shapes", async () => {
    await expectAnthropicError(await post("/v1/messages/count_tokens", anthropic(padded(overSmall))), 413, /DS2API_MAX_SMALL_BODY_MB/);
    await expectAnthropicError(await post("/anthropic/v1/messages/count_tokens", anthropic(padded(overSmall))), 413, /too large/);
    await expectGeminiError(await post("/v1beta/models/gemini-2.5-flash:countTokens", gemini(padded(overSmall))), 413, /DS2API_MAX_SMALL_BODY_MB/);
    await expectOpenAiError(await post("/v1/embeddings", JSON.stringify({ model: "deepseek-v4-flash", input: padded(overSmall) })), 413, /DS2API_MAX_SMALL_BODY_MB/);
    const admin = await post("/admin/login", JSON.stringify({ admin_key: padded(overSmall) }), { "content-type": "application/json" });
    expect(admin.status).toBe(413);
    expect((await admin.json()).detail).toContain("DS2API_MAX_SMALL_BODY_MB");
  });

  test("the conversation routes keep the large limit", async () => {
    // Over the small limit, under the large one: parsed and answered (413 only from the prompt-size limit).
    const body = JSON.stringify({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "hi" }], metadata: { pad: padded(overSmall) } });
    const r = await post("/v1/chat/completions", body);
    expect(r.status).toBe(200);
    expect((await r.json()).choices[0].message.content).toBe("Fine.");
    await expectOpenAiError(await post("/v1/chat/completions", chat("hi", { pad: padded(3 * MiB + 10) })), 413, /DS2API_MAX_BODY_MB/);
    await expectAnthropicError(await post("/v1/messages", JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 10, messages: [{ role: "user", content: "hi" }], pad: padded(3 * MiB + 10) })), 413, /DS2API_MAX_BODY_MB/);
  });

  test("a multipart body is read within the same limits", async () => {
    const form = new FormData();
    form.set("model", "deepseek-v4-flash");
    const ok = await fetch(`${stack.url}/api/show`, { method: "POST", body: form });
    expect(ok.status).toBe(200);
    expect((await ok.json()).capabilities).toContain("tools");
    const big = new FormData();
    big.set("model", "deepseek-v4-flash");
    big.set("pad", padded(overSmall));
    // /api/* is the Ollama surface: its errors are {"error": "…"}
    const tooBig = await fetch(`${stack.url}/api/show`, { method: "POST", body: big });
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { error: string }).error).toMatch(/DS2API_MAX_SMALL_BODY_MB/);
  });

  test("a chunked body stops being read once over the limit", async () => {
    let sent = 0;
    const total = 64 * MiB;
    const piece = new TextEncoder().encode(`{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"${"y".repeat(64 * 1024 - 60)}`);
    const filler = new Uint8Array(64 * 1024).fill(0x79);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= total) return controller.close();
        controller.enqueue(sent === 0 ? piece : filler);
        sent += 64 * 1024;
      },
    });
    const r = await fetch(`${stack.url}/v1/messages/count_tokens`, { method: "POST", headers: auth, body, duplex: "half" } as RequestInit);
    await expectAnthropicError(r, 413, /too large/);
    expect(sent).toBeLessThan(total);
  });
});

describe("JSON nesting depth", () => {
  const nested = (levels: number) => `{"model":"deepseek-v4-flash","messages":[{"role":"user","content":"hi","x":${"[".repeat(levels)}${"]".repeat(levels)}}]}`;

  test("100,000 levels answer 400 in each surface's shape, and /healthz answers meanwhile", async () => {
    const [openai, health] = await Promise.all([post("/v1/chat/completions", nested(100_000)), fetch(`${stack.url}/healthz`)]);
    await expectOpenAiError(openai, 400, "invalid json: nesting deeper than 128 levels");
    expect(health.status).toBe(200);
    const deepAnthropic = `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":${"[".repeat(100_000)}${"]".repeat(100_000)}}]}`;
    await expectAnthropicError(await post("/v1/messages/count_tokens", deepAnthropic), 400, /nesting deeper than 128 levels/);
    await expectGeminiError(await post("/v1beta/models/gemini-2.5-flash:generateContent", `{"contents":${"{\"a\":".repeat(100_000)}1${"}".repeat(100_000)}}`), 400, /nesting deeper/);
    const admin = await post("/admin/login", `{"admin_key":${"[".repeat(50_000)}${"]".repeat(50_000)}}`, { "content-type": "application/json" });
    expect(admin.status).toBe(400);
    expect((await admin.json()).detail).toContain("nesting deeper");
  });

  test("the limit is exact, and brackets inside strings do not count", async () => {
    // Object + messages array + message object = 3 levels around "x".
    const ok = await post("/v1/chat/completions", nested(125));
    expect(ok.status).toBe(200);
    await expectOpenAiError(await post("/v1/chat/completions", nested(126)), 400, /nesting deeper/);
    const brackets = await post("/v1/chat/completions", chat(`${"[{".repeat(5000)} \\" ${"[".repeat(100)}`));
    expect(brackets.status).toBe(200);
  });

  test("the scanner agrees with the parsed depth of random JSON cut into random chunks", () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const tricky = ['"', "\\", "[", "]", "{", "}", "\\\"", "é", "🙂", "a"];
    const value = (depth: number): unknown => {
      const k = rand(depth > 6 ? 2 : 4);
      if (k === 0) return Array.from({ length: rand(4) }, () => tricky[rand(tricky.length)]).join("");
      if (k === 1) return rand(100);
      if (k === 2) return Array.from({ length: rand(3) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: rand(3) }, (_, i) => [`${tricky[rand(tricky.length)]}${i}`, value(depth + 1)]));
    };
    const depthOf = (v: unknown): number => (v !== null && typeof v === "object" ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0);
    for (let n = 0; n < 2000; n++) {
      const v = value(0);
      const bytes = new TextEncoder().encode(JSON.stringify(v));
      const d = depthOf(v);
      const scan = (max: number) => {
        const s = new JsonDepthScanner(max);
        for (let at = 0; at < bytes.length; ) {
          const len = 1 + rand(6);
          s.push(bytes.subarray(at, at + len));
          at += len;
        }
        return s.exceeded;
      };
      expect(scan(d)).toBe(false);
      if (d > 0) expect(scan(d - 1)).toBe(true);
    }
  });

  test("the scanner keeps its state across chunk boundaries", () => {
    const s = new JsonDepthScanner(3);
    const bytes = new TextEncoder().encode('{"a":"[[[[\\"[[[","b":[[1]]}');
    for (const b of bytes) s.push(new Uint8Array([b]));
    expect(s.exceeded).toBe(false);
    const deep = new JsonDepthScanner(3);
    deep.push(new TextEncoder().encode('{"a":[['));
    expect(deep.push(new TextEncoder().encode("["))).toBe(false);
    expect(deep.exceeded).toBe(true);
  });
});

describe("prompt size", () => {
  const big = "word ".repeat(PROMPT_LIMIT / 5 + 100);

  test("each surface answers 413 in its own shape before building the prompt", async () => {
    await expectOpenAiError(await post("/v1/chat/completions", chat(big)), 413, /prompt too large.*DS2API_MAX_PROMPT_CHARS/);
    await expectOpenAiError(await post("/v1/chat/completions", chat(big, { stream: true })), 413, /prompt too large/);
    await expectOpenAiError(await post("/v1/responses", JSON.stringify({ model: "deepseek-v4-flash", input: big })), 413, /prompt too large/);
    await expectAnthropicError(await post("/v1/messages", anthropic(big)), 413, /prompt too large/);
    await expectAnthropicError(await post("/anthropic/v1/messages/count_tokens", anthropic(big)), 413, /prompt too large/);
    await expectGeminiError(await post("/v1beta/models/gemini-2.5-flash:generateContent", gemini(big)), 413, /prompt too large/);
    await expectGeminiError(await post("/v1beta/models/gemini-2.5-flash:countTokens", gemini(big)), 413, /prompt too large/);
  });

  test("the limit counts the whole conversation, tool calls and tool declarations", async () => {
    const third = "word ".repeat(PROMPT_LIMIT / 15 + 10);
    const messages = [
      { role: "user", content: third },
      { role: "assistant", content: "", tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: JSON.stringify({ q: third }) } }] },
      { role: "tool", tool_call_id: "c1", content: third },
      { role: "user", content: "and?" },
    ];
    await expectOpenAiError(await post("/v1/chat/completions", JSON.stringify({ model: "deepseek-v4-flash", messages })), 413, /prompt too large/);
    const tools = [{ type: "function", function: { name: "f", description: big, parameters: { type: "object" } } }];
    await expectOpenAiError(await post("/v1/chat/completions", chat("hi", { tools })), 413, /prompt too large/);
  });

  test("under the limit, count_tokens answers with a count", async () => {
    const r = await post("/v1/messages/count_tokens", anthropic("word ".repeat(1000)));
    expect(r.status).toBe(200);
    expect((await r.json()).input_tokens).toBeGreaterThan(1000);
    const g = await post("/v1beta/models/gemini-2.5-flash:countTokens", gemini("word ".repeat(1000)));
    expect(g.status).toBe(200);
    expect((await g.json()).totalTokens).toBeGreaterThan(1000);
  });
});

describe("other hostile bodies", () => {
  test("a caller without a valid key gets 401, never a parse error: its body is not parsed", async () => {
    const noKey = { "content-type": "application/json" };
    await expectOpenAiError(await post("/v1/chat/completions", "{not json", noKey), 401, /unauthorized/);
    await expectAnthropicError(await post("/v1/messages/count_tokens", "{not json", { ...noKey, "x-api-key": "sk-wrong" }), 401, /invalid API key/);
    await expectGeminiError(await post("/v1beta/models/gemini-2.5-flash:countTokens", nestedDeep(), noKey), 401, /unauthorized/);
  });

  test("invalid UTF-8 is a 400", async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('{"model":"deepseek-v4-flash","messages":[{"role":"user","content":"'), 0xff, 0xfe, ...new TextEncoder().encode('"}]}')]);
    await expectOpenAiError(await post("/v1/chat/completions", bytes), 400, /not valid UTF-8/);
    const truncated = new Uint8Array([...new TextEncoder().encode('{"model":"deepseek-v4-flash","messages":[{"role":"user","content":"é'), 0xe2, 0x82]);
    await expectOpenAiError(await post("/v1/chat/completions", truncated), 400, /not valid UTF-8/);
  });

  test("a multibyte character split across chunks decodes", async () => {
    const text = JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "héllo 🙂 wörld" }] });
    const bytes = new TextEncoder().encode(text);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 3) controller.enqueue(bytes.slice(i, i + 3));
        controller.close();
      },
    });
    const r = await fetch(`${stack.url}/v1/messages/count_tokens`, { method: "POST", headers: auth, body, duplex: "half" } as RequestInit);
    expect(r.status).toBe(200);
    expect((await r.json()).input_tokens).toBeGreaterThan(0);
  });

  test("a long line of '![' in a prompt is answered (markdown image rewrite is linear)", async () => {
    const r = await post("/v1/messages/count_tokens", anthropic("![".repeat(20_000)));
    expect(r.status).toBe(200);
  });

  test("the markdown image rewrite matches the reference regex", () => {
    const reference = (s: string) => s.replace(/!\[([^\]\n]*)\]\(([^)\n]*)\)/g, "[$1]($2)");
    const alphabet = ["!", "[", "]", "(", ")", "\n", "a", "!["];
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let n = 0; n < 20_000; n++) {
      let s = "";
      for (let i = rand(14); i > 0; i--) s += alphabet[rand(alphabet.length)];
      expect(rewriteMarkdownImages(s)).toBe(reference(s));
    }
    expect(rewriteMarkdownImages("see ![a](u) and ![b](v)\n![c\n](x)")).toBe("see [a](u) and [b](v)\n![c\n](x)");
  });
});

function nestedDeep(): string {
  return `{"contents":${"[".repeat(10_000)}${"]".repeat(10_000)}}`;
}
