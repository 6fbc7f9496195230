/**
 * Dev capture and raw samples (§12.7) through the real server and the simulator: off by default, the in-memory
 * capture list when on (completion + continue chained by session), a captured simulator turn written as
 * `meta.json` + `upstream.stream.sse` with no credential in it, and that sample replayed as a fixture:
 * read by the fixture reader and served verbatim by the simulator's replay, giving the same answer.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { splitReplayRounds } from "../src/sim/replay.ts";
import { loadSamples, runParser, sseBody, simpleRead } from "./sse-fixture-reader.ts";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";

const ADMIN = "e2e-admin";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.stop());

async function admin(method: string, path: string, body?: unknown) {
  const res = await fetch(stack.url + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
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

async function chat(content: string, extra: Record<string, unknown> = {}) {
  const res = await fetch(`${stack.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "deepseek-v4-flash", messages: [{ role: "user", content }], ...extra }),
  });
  return { status: res.status, json: (await res.json()) as any };
}

/** Every secret the stack knows: the API key, the account passwords, every token the simulator issued. */
function secrets(): string[] {
  return [API_KEY, "pw-0", "pw-1", ...stack.sim.state.tokens.keys()];
}

function expectNoSecret(text: string) {
  for (const s of secrets()) expect(text).not.toContain(s);
  expect(text.toLowerCase()).not.toContain("authorization");
}

describe("dev capture", () => {
  test("off by default: nothing is captured and the capture routes refuse", async () => {
    stack.sim.state.setDefaultReply({ answer: "plain" });
    expect((await chat("not captured")).status).toBe(200);
    const list = await admin("GET", "/admin/dev/captures");
    expect(list.status).toBe(200);
    expect(list.json.enabled).toBe(false);
    expect(list.json.items).toEqual([]);
    const cap = await admin("POST", "/admin/dev/raw-samples/capture", { message: "x" });
    expect(cap.status).toBe(409);
    expect(typeof cap.json.detail).toBe("string");
    expect((await admin("POST", "/admin/dev/raw-samples/save", { capture_id: "nope" })).status).toBe(409);
  });

  test("on: a completion and its continue are captured, chained by session, without the token", async () => {
    const root = join(stack.dir, "samples");
    const put = await admin("PUT", "/admin/settings", { dev_capture: { enabled: true, sample_root: root } });
    expect(put.status).toBe(200);
    expect((await admin("GET", "/admin/settings")).json.dev_capture).toMatchObject({ enabled: true, sample_root: root });
    stack.sim.state.script({ thinking: "Chained thought.", answer: "First half and the second half.", continueRounds: 1 });
    const r = await chat("continue me");
    expect(r.status).toBe(200);
    expect(r.json.choices[0].message.content).toBe("First half and the second half.");
    const list = await admin("GET", "/admin/dev/captures");
    expect(list.json.enabled).toBe(true);
    const [cont, first] = list.json.items; // newest first
    expect(first.label).toBe("deepseek_completion");
    expect(cont.label).toBe("deepseek_continue");
    expect(first.url).toBe(`${stack.sim.url}/api/v0/chat/completion`);
    expect(first.status_code).toBe(200);
    expect(first.request_body.prompt).toContain("continue me");
    expect(first.response_body).toContain("event: ready");
    expect(cont.chat_session_id).toBe(first.chat_session_id);
    expectNoSecret(list.text);

    const q = await admin("GET", "/admin/dev/raw-samples/query?q=continue%20me");
    expect(q.json.count).toBe(1);
    const chain = q.json.items[0];
    expect(chain.round_count).toBe(2);
    expect(chain.initial_label).toBe("deepseek_completion");
    expect(chain.latest_label).toBe("deepseek_continue");

    const saved = await admin("POST", "/admin/dev/raw-samples/save", { chain_key: chain.chain_key, sample_id: "saved-chain" });
    expect(saved.status).toBe(200);
    expect(saved.json.round_count).toBe(2);
    expect(existsSync(saved.json.upstream_path)).toBe(true);
    const upstream = readFileSync(saved.json.upstream_path, "utf8");
    expect(splitReplayRounds(upstream).length).toBe(2);
    expectNoSecret(readFileSync(saved.json.meta_path, "utf8") + upstream);

    expect((await admin("POST", "/admin/dev/raw-samples/save", { chain_key: "session:none" })).status).toBe(400);
    expect((await admin("POST", "/admin/dev/raw-samples/save", { chain_key: chain.chain_key, sample_id: "../escape" })).status).toBe(400);
    expect(await admin("DELETE", "/admin/dev/captures")).toMatchObject({ status: 200, json: { success: true, detail: "capture logs cleared" } });
    expect((await admin("GET", "/admin/dev/captures")).json.items).toEqual([]);
  });

  test("capture → sample → replay: a captured simulator turn becomes a fixture in one step", async () => {
    const root = join(stack.dir, "samples");
    await admin("PUT", "/admin/settings", { dev_capture: { enabled: true, sample_root: root } });
    stack.sim.state.script({ thinking: "Weighing the options carefully.", answer: "Captured answer, with  two spaces and 中文." });
    const res = await fetch(`${stack.url}/admin/dev/raw-samples/capture`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ message: "capture me", sample_id: "sim-capture-1", api_key: API_KEY }),
    });
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain("data: [DONE]"); // the chat response itself (stream by default)
    expect(res.headers.get("x-ds2-sample-id")).toBe("sim-capture-1");
    const dir = res.headers.get("x-ds2-sample-dir")!;
    expect(dir).toBe(join(root, "sim-capture-1"));
    expect(res.headers.get("x-ds2-sample-meta")).toBe(join(dir, "meta.json"));
    expect(res.headers.get("x-ds2-sample-upstream")).toBe(join(dir, "upstream.stream.sse"));

    const metaText = readFileSync(join(dir, "meta.json"), "utf8");
    const upstreamText = readFileSync(join(dir, "upstream.stream.sse"), "utf8");
    expectNoSecret(metaText + upstreamText);
    const meta = JSON.parse(metaText);
    expect(meta.sample_id).toBe("sim-capture-1");
    expect(meta.source).toBe("admin/dev/raw-samples/capture");
    expect(meta.request.messages).toEqual([{ role: "user", content: "capture me" }]);
    expect(meta.request.api_key).toBeUndefined();
    expect(meta.capture.label).toBe("deepseek_completion");
    expect(meta.capture.status_code).toBe(200);
    expect(meta.capture.response_bytes).toBe(Buffer.byteLength(upstreamText));
    expect(meta.capture.contains_finished_token).toBe(true);

    // the fixture reader reads the raw-sample root exactly like the vendored fixtures
    const sample = loadSamples(root).find((s) => s.name === "sim-capture-1")!;
    expect(sample.meta.sample_id).toBe("sim-capture-1");
    const rounds = simpleRead(sseBody(sample));
    expect(rounds.map((r) => r.answer).join("")).toContain("Captured answer, with  two spaces and 中文.");
    const parsed = runParser([sample.bytes], { thinkingEnabled: true });
    expect(parsed.text).toContain("Captured answer, with  two spaces and 中文.");
    expect(parsed.reasoning).toBe("Weighing the options carefully.");

    // the simulator serves the sample verbatim: the same answer comes back through the server
    stack.sim.state.script({ replay: { file: join(dir, "upstream.stream.sse"), chunkBytes: 7 } });
    const replayed = await chat("something else entirely");
    expect(replayed.status).toBe(200);
    expect(replayed.json.choices[0].message.content).toBe("Captured answer, with  two spaces and 中文.");
    expect(replayed.json.choices[0].message.reasoning_content).toBe("Weighing the options carefully.");
  });

  test("a missing capture is a 500 in the admin shape; a bad sample id a 400", async () => {
    await admin("PUT", "/admin/settings", { dev_capture: { enabled: true } });
    // an unknown model fails before any upstream exchange
    const none = await admin("POST", "/admin/dev/raw-samples/capture", { model: "no-such-model-xyz", sample_id: "never" });
    expect(none.status).toBe(500);
    expect(none.json).toEqual({ detail: "no upstream capture was recorded" });
    expect((await admin("POST", "/admin/dev/raw-samples/capture", { sample_id: "bad/id" })).status).toBe(400);
    await admin("PUT", "/admin/settings", { dev_capture: { enabled: false } });
  });
});
