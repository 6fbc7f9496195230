/**
 * Chat history (§12.6) through the real server and the DeepSeek simulator (plus the Volcengine simulator for a
 * second provider): off by default, every surface recorded when on (stream and non-stream, errors, client
 * aborts), limit pruning, ETags, delete one / all, and no secret in any record.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";
import { startVolcStack, VOLC_API_KEY, VOLC_AUTH, volcModel, WEB_IDS } from "./support/volc-stack.ts";
import { waitUntil } from "./support/wait.ts";

const ADMIN = "e2e-admin";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.stop());
beforeEach(() => stack.sim.state.setDefaultReply({ thinking: "Thinking it over.", answer: "The answer is 42." }));

async function admin(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, base = stack.url, key = ADMIN) {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

async function business(path: string, body: unknown, key = API_KEY, base = stack.url): Promise<{ status: number; text: string }> {
  const res = await fetch(base + path, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

async function setLimit(limit: number, base = stack.url, key = ADMIN) {
  const r = await admin("PUT", "/admin/chat-history/settings", { limit }, {}, base, key);
  expect(r.status).toBe(200);
  expect(r.json.limit).toBe(limit);
  return r;
}

async function list(base = stack.url, key = ADMIN) {
  const r = await admin("GET", "/admin/chat-history", undefined, {}, base, key);
  expect(r.status).toBe(200);
  return r.json as { version: number; limit: number; revision: number; items: any[]; path: string };
}

/** Each surface: the route, a body, and whether it streams. */
const SURFACES: { surface: string; path: string; body: (stream: boolean, text: string) => unknown; streamPath?: string }[] = [
  { surface: "openai.chat_completions", path: "/v1/chat/completions", body: (stream, text) => ({ model: "deepseek-v4-flash", stream, messages: [{ role: "system", content: "Be brief." }, { role: "user", content: text }] }) },
  { surface: "openai.responses", path: "/v1/responses", body: (stream, text) => ({ model: "deepseek-v4-flash", stream, input: text }) },
  { surface: "claude.messages", path: "/v1/messages", body: (stream, text) => ({ model: "claude-sonnet-4-5", max_tokens: 256, stream, messages: [{ role: "user", content: text }] }) },
  {
    surface: "gemini.generate_content",
    path: "/v1beta/models/gemini-2.5-pro:generateContent",
    streamPath: "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
    body: (_stream, text) => ({ contents: [{ role: "user", parts: [{ text }] }] }),
  },
  { surface: "ollama.chat", path: "/api/chat", body: (stream, text) => ({ model: "deepseek-v4-flash", stream, messages: [{ role: "user", content: text }] }) },
  { surface: "ollama.generate", path: "/api/generate", body: (stream, text) => ({ model: "deepseek-v4-flash", stream, prompt: text }) },
];

describe("chat history", () => {
  test("off by default: turns are served but nothing is recorded; GET /admin/chat-history is the API, not the console", async () => {
    const before = await list();
    expect(before.limit).toBe(0);
    expect(before.items).toEqual([]);
    expect(before.version).toBe(2);
    const r = await business("/v1/chat/completions", { model: "deepseek-v4-flash", messages: [{ role: "user", content: "not recorded" }] });
    expect(r.status).toBe(200);
    expect((await list()).items).toEqual([]);
    const unauth = await fetch(`${stack.url}/admin/chat-history`);
    expect(unauth.status).toBe(401);
    expect(unauth.headers.get("content-type")).toContain("application/json");
  });

  test("on: every surface, stream and non-stream, recorded with the §12.6 fields and success status", async () => {
    await setLimit(50);
    await admin("DELETE", "/admin/chat-history");
    for (const s of SURFACES) {
      for (const stream of [false, true]) {
        const marker = `q-${s.surface}-${stream ? "stream" : "plain"}`;
        const path = stream && s.streamPath ? s.streamPath : s.path;
        const r = await business(path, s.body(stream, marker));
        expect(r.status, `${s.surface} stream=${stream}: ${r.text.slice(0, 200)}`).toBe(200);
      }
    }
    const { items } = await list();
    expect(items.length).toBe(SURFACES.length * 2);
    for (const s of SURFACES) {
      for (const stream of [false, true]) {
        const marker = `q-${s.surface}-${stream ? "stream" : "plain"}`;
        const it = items.find((i) => i.user_input === marker);
        expect(it, marker).toBeDefined();
        expect(it.surface).toBe(s.surface);
        expect(it.status).toBe("success");
        expect(it.stream).toBe(stream);
        expect(it.status_code).toBe(200);
        expect(it.finish_reason).toBe("stop");
        expect(it.provider).toBe("deepseek");
        expect(it.account_id).toMatch(/^user\d@example\.com$/);
        expect(it.caller_id).toMatch(/^caller:[0-9a-f]{16}$/);
        expect(it.preview).toBe("The answer is 42.");
        expect(typeof it.elapsed_ms).toBe("number");
        expect(it.completed_at).toBeGreaterThanOrEqual(it.created_at);
        expect(typeof it.model).toBe("string");
      }
    }
    // one conversation in full: prompt, reasoning, answer, usage, timing
    const one = items.find((i) => i.user_input === "q-openai.chat_completions-plain");
    const detail = await admin("GET", `/admin/chat-history/${one.id}`);
    expect(detail.status).toBe(200);
    const item = detail.json.item;
    expect(item.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "q-openai.chat_completions-plain" },
    ]);
    expect(item.history_text).toContain("Be brief.");
    expect(item.final_prompt).toContain("q-openai.chat_completions-plain");
    expect(item.reasoning_content).toBe("Thinking it over.");
    expect(item.content).toBe("The answer is 42.");
    expect(item.error).toBe("");
    expect(item.usage.prompt_tokens).toBeGreaterThan(0);
    expect(item.usage.completion_tokens).toBeGreaterThan(0);
    expect(item.usage.total_tokens).toBe(item.usage.prompt_tokens + item.usage.completion_tokens);
    expect(item.detail_revision).toBe(item.revision);
    expect(item.first_output_ms).toBeGreaterThanOrEqual(0);
  });

  test("tool calls are recorded", async () => {
    await setLimit(50);
    stack.sim.state.script({ answer: '<|DSML|tool_calls><|DSML|invoke name="get_weather"><|DSML|parameter name="city">Paris</|DSML|parameter></|DSML|invoke></|DSML|tool_calls>' });
    const r = await business("/v1/chat/completions", {
      model: "deepseek-v4-flash",
      messages: [{ role: "user", content: "weather-call" }],
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }],
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).choices[0].finish_reason).toBe("tool_calls");
    const it = (await list()).items.find((i) => i.user_input === "weather-call");
    expect(it.finish_reason).toBe("tool_calls");
    const item = (await admin("GET", `/admin/chat-history/${it.id}`)).json.item;
    expect(item.tool_calls.length).toBe(1);
    expect(item.tool_calls[0].name).toBe("get_weather");
  });

  test("an upstream failure is recorded as error with its status and message; a client abort as stopped", async () => {
    await setLimit(50);
    stack.sim.state.script({ http: { status: 503, body: "down" } }, { times: 20 });
    const bad = await business("/v1/chat/completions", { model: "deepseek-v4-flash", messages: [{ role: "user", content: "will-fail" }] });
    stack.sim.state.clearScripts();
    expect(bad.status).toBeGreaterThanOrEqual(400);
    const failed = (await list()).items.find((i) => i.user_input === "will-fail");
    expect(failed.status).toBe("error");
    expect(failed.status_code).toBe(bad.status);
    const detail = (await admin("GET", `/admin/chat-history/${failed.id}`)).json.item;
    expect(detail.error.length).toBeGreaterThan(0);

    // a stream that stalls; the client goes away mid-answer
    stack.sim.state.script({ answer: "one two three four five six seven", chunking: 4, stall: { afterTokens: 2, ms: 20_000 } });
    const ac = new AbortController();
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "deepseek-v4-flash-nothinking", stream: true, messages: [{ role: "user", content: "will-abort" }] }),
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    let seen = "";
    while (!seen.includes("one")) seen += new TextDecoder().decode((await reader.read()).value);
    await waitUntil(async () => (await list()).items.find((i) => i.user_input === "will-abort")?.status === "streaming", "the entry in streaming state");
    ac.abort();
    await reader.cancel().catch(() => {});
    await waitUntil(async () => (await list()).items.find((i) => i.user_input === "will-abort")?.status === "stopped", "the entry to be stopped");

    // the same for a non-stream request: the client gives up while the upstream is silent
    stack.sim.state.script({ answer: "never finished", stall: { afterTokens: 1, ms: 20_000 } });
    const ac2 = new AbortController();
    const pending = fetch(`${stack.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "deepseek-v4-flash-nothinking", messages: [{ role: "user", content: "will-abort-plain" }] }),
      signal: ac2.signal,
    }).catch((e: unknown) => e);
    await waitUntil(async () => (await list()).items.find((i) => i.user_input === "will-abort-plain")?.status === "streaming", "the non-stream entry in streaming state");
    ac2.abort();
    await pending;
    await waitUntil(async () => (await list()).items.find((i) => i.user_input === "will-abort-plain")?.status === "stopped", "the non-stream entry to be stopped");
    const stopped = (await list()).items.find((i) => i.user_input === "will-abort-plain");
    expect(stopped.stream).toBe(false);
    // The client may leave before the upstream call took its script: the next test must not get the stall.
    stack.sim.state.clearScripts();
  });

  test("limit prunes the oldest entries; 0 turns recording off and empties the list", async () => {
    await admin("DELETE", "/admin/chat-history");
    await setLimit(10);
    for (let i = 0; i < 12; i++) {
      const r = await business("/v1/chat/completions", { model: "deepseek-v4-flash", messages: [{ role: "user", content: `n-${i}` }] });
      expect(r.status).toBe(200);
    }
    let items = (await list()).items;
    expect(items.length).toBe(10);
    expect(items.map((i) => i.user_input)).toEqual(Array.from({ length: 10 }, (_, i) => `n-${11 - i}`)); // newest first
    // larger limits than the Go project's 50 are fine
    await setLimit(200);
    expect((await list()).limit).toBe(200);
    // lowering the limit prunes at once
    const lowered = await setLimit(10);
    expect(lowered.json.items.length).toBe(10);
    await setLimit(0);
    items = (await list()).items;
    expect(items).toEqual([]);
    await business("/v1/chat/completions", { model: "deepseek-v4-flash", messages: [{ role: "user", content: "off again" }] });
    expect((await list()).items).toEqual([]);
    // bad limits are a 400 in the admin shape
    for (const limit of [-1, 1.5, "ten", 10_000_000]) {
      const r = await admin("PUT", "/admin/chat-history/settings", { limit });
      expect(r.status).toBe(400);
      expect(typeof r.json.detail).toBe("string");
    }
  });

  test("ETags: 304 while nothing changed, a new tag after a change; detail ETag per entry", async () => {
    await setLimit(20);
    await business("/v1/chat/completions", { model: "deepseek-v4-flash", messages: [{ role: "user", content: "etag-1" }] });
    const first = await admin("GET", "/admin/chat-history");
    const tag = first.headers.get("etag")!;
    expect(tag).toBe(`W/"chat-history-list-${first.json.revision}"`);
    const again = await admin("GET", "/admin/chat-history", undefined, { "if-none-match": tag });
    expect(again.status).toBe(304);
    expect(again.text).toBe("");
    await business("/v1/chat/completions", { model: "deepseek-v4-flash", messages: [{ role: "user", content: "etag-2" }] });
    const changed = await admin("GET", "/admin/chat-history", undefined, { "if-none-match": tag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(tag);

    const id = changed.json.items[0].id;
    const d1 = await admin("GET", `/admin/chat-history/${id}`);
    const dtag = d1.headers.get("etag")!;
    expect(dtag).toBe(`W/"chat-history-detail-${id}-${d1.json.item.revision}"`);
    expect((await admin("GET", `/admin/chat-history/${id}`, undefined, { "if-none-match": dtag })).status).toBe(304);
    expect((await admin("GET", "/admin/chat-history/chat_nope")).status).toBe(404);
  });

  test("delete one, then all", async () => {
    await setLimit(20);
    await business("/v1/chat/completions", { model: "deepseek-v4-flash", messages: [{ role: "user", content: "del-1" }] });
    await business("/v1/chat/completions", { model: "deepseek-v4-flash", messages: [{ role: "user", content: "del-2" }] });
    const items = (await list()).items;
    const victim = items.find((i) => i.user_input === "del-1");
    const r = await admin("DELETE", `/admin/chat-history/${victim.id}`);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ success: true });
    expect((await admin("DELETE", `/admin/chat-history/${victim.id}`)).status).toBe(404);
    expect((await list()).items.some((i) => i.id === victim.id)).toBe(false);
    expect((await admin("DELETE", "/admin/chat-history")).json).toEqual({ success: true });
    expect((await list()).items).toEqual([]);
  });

  test("no secret in any record: API key, account passwords and tokens never stored", async () => {
    await setLimit(20);
    for (const s of SURFACES) await business(s.path, s.body(false, `secret-check ${s.surface}`));
    const all = [JSON.stringify(await list())];
    for (const it of (await list()).items) all.push((await admin("GET", `/admin/chat-history/${it.id}`)).text);
    const text = all.join("\n");
    expect(text).not.toContain(API_KEY);
    for (const pw of ["pw-0", "pw-1"]) expect(text).not.toContain(`"${pw}"`);
    const tokens = [...stack.sim.state.tokens.keys()];
    expect(tokens.length).toBeGreaterThan(0);
    for (const tok of tokens) expect(text).not.toContain(tok);
    // The raw rows, through a connection of the test's own (what is at rest in the file).
    const file = new Database(stack.server.ctx.store.location, { readonly: true });
    let rows: unknown[];
    try {
      rows = file.query("SELECT * FROM chat_history").all();
    } finally {
      file.close();
    }
    expect(JSON.stringify(rows)).not.toContain(API_KEY);
  });

  test("the limit is also a field of /admin/settings", async () => {
    const put = await admin("PUT", "/admin/settings", { chat_history: { limit: 20 } });
    expect(put.status).toBe(200);
    expect((await admin("GET", "/admin/settings")).json.chat_history).toEqual({ limit: 20 });
    expect((await list()).limit).toBe(20);
  });
});

describe("settings in config.json", () => {
  test("chat_history.limit and dev_capture.enabled are read from config.json and exported again", async () => {
    const other = await startStack({ accounts: 1, config: { chat_history: { limit: 10 }, dev_capture: { enabled: true } } });
    try {
      expect((await list(other.url)).limit).toBe(10);
      const caps = await admin("GET", "/admin/dev/captures", undefined, {}, other.url);
      expect(caps.json.enabled).toBe(true);
      const r = await business("/v1/chat/completions", { model: "deepseek-v4-flash", messages: [{ role: "user", content: "from config" }] }, API_KEY, other.url);
      expect(r.status).toBe(200);
      expect((await list(other.url)).items.map((i) => i.user_input)).toEqual(["from config"]);
      const exported = await admin("GET", "/admin/config/export", undefined, {}, other.url);
      expect(exported.json.config.chat_history).toEqual({ limit: 10 });
      expect(exported.json.config.dev_capture).toEqual({ enabled: true });
      // out of range in config.json: the config is refused with a clear problem
      const bad = await admin("POST", "/admin/config/import", { config: { chat_history: { limit: -5 } }, mode: "merge" }, {}, other.url);
      expect(bad.status).toBe(400);
      expect(bad.json.detail).toContain("chat_history.limit");
    } finally {
      await other.stop();
    }
  });
});

describe("chat history on another provider", () => {
  test("a Volcengine turn is recorded with its provider, no web id or authorization in it", async () => {
    const volc = await startVolcStack();
    try {
      await setLimit(20, volc.url, volc.adminKey);
      for (const stream of [false, true]) {
        const res = await fetch(`${volc.url}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${VOLC_API_KEY}`, "content-type": "application/json" },
          body: JSON.stringify({ model: volcModel("deepseek-v3-1"), stream, messages: [{ role: "user", content: `volc-${stream}` }] }),
        });
        expect(res.status).toBe(200);
        await res.text();
      }
      const { items } = await list(volc.url, volc.adminKey);
      expect(items.length).toBe(2);
      for (const it of items) {
        expect(it.provider).toBe("volcengine");
        expect(it.status).toBe("success");
        expect(it.surface).toBe("openai.chat_completions");
      }
      const texts = [JSON.stringify(items)];
      for (const it of items) texts.push((await admin("GET", `/admin/chat-history/${it.id}`, undefined, {}, volc.url, volc.adminKey)).text);
      const text = texts.join("\n");
      expect(text).not.toContain(VOLC_AUTH.slice("Bearer ".length));
      for (const w of WEB_IDS) expect(text).not.toContain(w);
      expect(text).not.toContain(VOLC_API_KEY);
    } finally {
      await volc.stop();
    }
  });
});
