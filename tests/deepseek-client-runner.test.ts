import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PATHS, ReferencePowSolver, TEMPLATE_REFUSAL, toolCallMarkup, type RunningSimulator } from "../src/sim/index.ts";
import { startSim } from "./support/sim.ts";
import { DeepSeekClient } from "../src/upstream/deepseek/client.ts";
import {
  EMPTY_OUTPUT_RETRY_SUFFIX, hadNoVisibleOutput, runCompletion, runEmptyOutputRetry, type CompletionPayload,
} from "../src/upstream/deepseek/completion-runner.ts";
import { DeepSeekError } from "../src/upstream/deepseek/errors.ts";
import type { DeepSeekEvent } from "../src/upstream/deepseek/events.ts";
import { DeepSeekStreamParser } from "../src/upstream/deepseek/sse/parser.ts";
import { FIXTURES_URL } from "./support/fixtures.ts";
import { waitUntil } from "./support/wait.ts";

const FIXTURES = new URL("upstream/", FIXTURES_URL);

let sim: RunningSimulator;
let client: DeepSeekClient;
let token: string;

const payload = (over: Partial<CompletionPayload> = {}): CompletionPayload => ({
  prompt: "<｜begin▁of▁sentence｜><｜User｜>What is SSE?<｜Assistant｜>", modelType: "default", thinkingEnabled: true, searchEnabled: false, ...over,
});

function texts(events: DeepSeekEvent[], type: "text" | "reasoning"): string {
  let s = "";
  for (const e of events) if (e.type === type) s += e.text;
  return s;
}

async function expectError(p: Promise<unknown>, kind: DeepSeekError["kind"]): Promise<DeepSeekError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DeepSeekError);
    expect((e as DeepSeekError).kind).toBe(kind);
    return e as DeepSeekError;
  }
  throw new Error(`expected a ${kind} error`);
}

beforeAll(async () => {
  sim = await startSim({ accounts: [{ email: "r@example.com", password: "pw" }], minClientVersionForExpert: "2.0.0" });
  client = new DeepSeekClient({ baseUrl: sim.url, pow: new ReferencePowSolver(), retry: { completionDelayMs: 5, delayMs: 5 } });
  token = (await client.login({ email: "r@example.com", password: "pw" })).token;
});
afterAll(() => sim?.stop());

describe("runner basics", () => {
  test("default reply echoes the prompt; thinking and answer separated; session created; ids exposed", async () => {
    const run = runCompletion({ client, token, payload: payload() });
    const events = await run.collect();
    expect(texts(events, "reasoning")).toBe("Thinking about: What is SSE?");
    expect(texts(events, "text")).toBe("Echo: What is SSE?");
    expect(run.state.text).toBe("Echo: What is SSE?");
    expect(run.state.finished).toBe(true);
    expect(run.state.responseMessageId).toBe(2);
    expect(run.state.sessionId && sim.state.sessions.has(run.state.sessionId)).toBe(true);
    expect(run.state.outputTokens).toBeGreaterThan(0);
    expect(events[0]).toMatchObject({ type: "ready", responseMessageId: 2 });
    expect(events.some((e) => e.type === "title")).toBe(true);
  });

  test("thinking off: no reasoning", async () => {
    sim.state.script({ thinking: "hidden", answer: "visible" });
    const run = runCompletion({ client, token, payload: payload({ thinkingEnabled: false }) });
    const events = await run.collect();
    expect(texts(events, "reasoning")).toBe("");
    expect(run.state.text).toBe("visible");
  });

  test("whitespace-only tokens are preserved as their own pieces", async () => {
    const tokens = ["##", " ", "Title", "\n\n", "- ", "a", "\n", "   ", "|", " ", "b", "\n\n"];
    sim.state.script({ answer: tokens, thinking: ["x", " ", "y"] });
    const events = await runCompletion({ client, token, payload: payload() }).collect();
    const textPieces = events.filter((e) => e.type === "text").map((e) => (e as { text: string }).text);
    expect(textPieces.join("")).toBe(tokens.join(""));
    expect(textPieces).toContain(" ");
    expect(textPieces).toContain("\n\n");
    expect(textPieces).toContain("   ");
    expect(texts(events, "reasoning")).toBe("x y");
  });

  test("existing session and parent id; tool-call markup passes through as text", async () => {
    const markup = toolCallMarkup("read_file", { path: "src/main.ts" });
    const first = runCompletion({ client, token, payload: payload() });
    await first.collect();
    sim.state.script({ answer: `Let me look.\n${markup}` });
    const second = runCompletion({ client, token, sessionId: first.state.sessionId, payload: payload({ parentMessageId: first.state.responseMessageId }) });
    await second.collect();
    expect(second.state.text).toBe(`Let me look.\n${markup}`);
    expect(second.state.responseMessageId).toBe(4);
    expect(sim.state.requestsTo(PATHS.completion).at(-1)!.body).toMatchObject({ chat_session_id: first.state.sessionId, parent_message_id: 2 });
  });

  test("very long single data line", async () => {
    sim.state.script({ answer: "start end", longLineBytes: 4 * 1024 * 1024 });
    const run = runCompletion({ client, token, payload: payload() });
    await run.collect();
    expect(run.state.text.length).toBe("start end".length + 4 * 1024 * 1024);
  });
});

describe("search and moderation", () => {
  test("search stages give sources and [reference:N] citations linked to URLs", async () => {
    sim.state.script({
      thinking: "Look it up, then read the pages, then answer.",
      answer: "Guangzhou is rainy today and warm tomorrow with storms later.",
      search: { queries: ["guangzhou weather", "guangzhou forecast"], citations: 3 },
    });
    const run = runCompletion({ client, token, payload: payload({ searchEnabled: true }) });
    const events = await run.collect();
    const cites = events.filter((e) => e.type === "citation") as Extract<DeepSeekEvent, { type: "citation" }>[];
    expect(cites.map((c) => c.index)).toEqual([0, 1, 2]);
    for (const c of cites) expect(c.source?.url).toStartWith("https://search.sim.test/");
    for (let i = 0; i < 3; i++) expect(run.state.text).toContain(`[reference:${i}]`);
    expect(run.state.text.replace(/\[reference:\d+\]/g, "")).toBe("Guangzhou is rainy today and warm tomorrow with storms later.");
    expect(texts(events, "reasoning")).toBe("Look it up, then read the pages, then answer.");
    const urls = events.filter((e) => e.type === "sources").flatMap((e) => (e as Extract<DeepSeekEvent, { type: "sources" }>).sources.map((s) => s.url));
    expect(urls).toContain("https://search.sim.test/late"); // after FINISHED
  });

  test.each(["observed", "early", "leaked", "code"] as const)("content filter (%s)", async (shape) => {
    sim.state.script({ thinking: "hmm", answer: "Some answer text that goes on.", contentFilter: shape });
    const run = runCompletion({ client, token, payload: payload() });
    const events = await run.collect();
    expect(run.state.contentFiltered).toBe(true);
    expect(events.some((e) => e.type === "content_filter")).toBe(true);
    expect(run.state.text).not.toContain(TEMPLATE_REFUSAL);
    expect(run.state.text).not.toContain("CONTENT_FILTER");
    expect(hadNoVisibleOutput(run)).toBe(false);
  });
});

describe("continue rounds", () => {
  test("INCOMPLETE → continue with snapshot replay; text has no duplication; fresh PoW per round", async () => {
    const thinking = "Reasoning that is long enough to be cut several times over, with 中文 characters mixed in as well.";
    const answer = "The final answer, also long enough that a cut can land inside it more than once.";
    sim.state.script({ thinking, answer, continueRounds: 3 });
    const before = sim.state.requestsTo(PATHS.continue).length;
    const run = runCompletion({ client, token, payload: payload() });
    const events = await run.collect();
    expect(run.state.continueRounds).toBe(3);
    expect(run.state.finished).toBe(true);
    expect(run.state.reasoning).toBe(thinking);
    expect(run.state.text).toBe(answer);
    expect(texts(events, "reasoning")).toBe(thinking);
    expect(texts(events, "text")).toBe(answer);
    const conts = sim.state.requestsTo(PATHS.continue).slice(before);
    expect(conts).toHaveLength(3);
    for (const c of conts) expect(c.body).toEqual({ chat_session_id: run.state.sessionId, message_id: 2, fallback_to_resume: true });
    expect(new Set(conts.map((c) => c.headers["x-ds-pow-response"])).size).toBe(3);
  });

  test("auto_continue signal", async () => {
    sim.state.script({ answer: "abcdefghijklmnopqrstuvwxyz", chunking: 2, continueRounds: 1, continueSignal: "auto_continue" });
    const run = runCompletion({ client, token, payload: payload({ thinkingEnabled: false }) });
    await run.collect();
    expect(run.state.continueRounds).toBe(1);
    expect(run.state.text).toBe("abcdefghijklmnopqrstuvwxyz");
  });

  test("at most 8 continue rounds", async () => {
    const answer = "0123456789".repeat(10);
    sim.state.script({ answer, chunking: 1, continueRounds: 12 });
    const before = sim.state.requestsTo(PATHS.continue).length;
    const run = runCompletion({ client, token, payload: payload({ thinkingEnabled: false }) });
    await run.collect();
    expect(run.state.continueRounds).toBe(8);
    expect(sim.state.requestsTo(PATHS.continue).length - before).toBe(8);
    expect(run.state.finished).toBe(false);
    expect(run.state.lastStatus).toBe("INCOMPLETE");
    expect(answer.startsWith(run.state.text)).toBe(true);
    expect(run.state.text.length).toBeLessThan(answer.length);
  });
});

describe("failures", () => {
  test("auth failure classification on the streaming path (HTTP 200 envelope)", async () => {
    sim.state.script({ envelope: { code: 40003, msg: "Authorization Failed (invalid token)" } });
    await expectError(runCompletion({ client, token, payload: payload() }).collect(), "auth");
  });

  test("JSON envelope labelled text/event-stream is caught by the parser and classified", async () => {
    sim.state.script({ http: { status: 200, body: '{"code":40003,"msg":"Authorization Failed (invalid token)","data":null}', contentType: "text/event-stream" } });
    const e = await expectError(runCompletion({ client, token, payload: payload() }).collect(), "auth");
    expect(e.code).toBe(40003);
  });

  test("revoked token fails before streaming with auth", async () => {
    const t = (await client.login({ email: "r@example.com", password: "pw" })).token;
    sim.state.revokeToken(t);
    const e = await expectError(runCompletion({ client, token: t, payload: payload() }).collect(), "auth");
    expect(e.message).not.toContain(t);
  });

  test("5xx retry then success", async () => {
    sim.state.failCompletions(2, 502);
    const run = runCompletion({ client, token, payload: payload() });
    await run.collect();
    expect(run.state.text).toBe("Echo: What is SSE?");
  });

  test("mid-stream disconnect surfaces a network error after the partial text", async () => {
    sim.state.script({ answer: "one two three four five six", chunking: 1, disconnectAfterTokens: 6 });
    const run = runCompletion({ client, token, payload: payload({ thinkingEnabled: false }) });
    const seen: DeepSeekEvent[] = [];
    const e = await expectError((async () => { for await (const ev of run) seen.push(ev); })(), "network");
    expect(e.message).toContain("interrupted");
    expect(texts(seen, "text").length).toBeGreaterThan(0);
    expect(run.state.finished).toBe(false);
  });

  test("in-stream error frame ends the turn with an error event", async () => {
    sim.state.script({ answer: "partial answer here", error: { afterTokens: 3, message: "model overloaded" } });
    const run = runCompletion({ client, token, payload: payload({ thinkingEnabled: false }) });
    const events = await run.collect();
    expect(events.some((e) => e.type === "error" && e.message.includes("model overloaded"))).toBe(true);
    expect(run.state.error).toContain("model overloaded");
  });

  test("abort cancels the turn and the simulator sees the connection close", async () => {
    // After 10 tokens the upstream goes quiet for 10 minutes: only the abort can end this turn within the test.
    sim.state.script({ answer: "x".repeat(400), chunking: 1, stall: { afterTokens: 10, ms: 600_000, keepaliveMs: 100 } });
    const ac = new AbortController();
    const run = runCompletion({ client, token, payload: payload({ thinkingEnabled: false }), signal: ac.signal });
    const streamsBefore = sim.state.streams.length;
    let n = 0;
    const e = await expectError((async () => {
      for await (const ev of run) {
        if (ev.type === "text" && ++n === 5) ac.abort();
      }
    })(), "aborted");
    expect(e.kind).toBe("aborted");
    expect(n).toBeGreaterThanOrEqual(5); // events already received may still be handed out
    const rec = sim.state.streams[streamsBefore]!;
    await waitUntil(() => rec.outcome !== "open");
    expect(rec.outcome).toBe("cancelled");
  });

  test("breaking out of the loop also cancels the upstream stream", async () => {
    sim.state.script({ answer: "y".repeat(400), chunking: 1, stall: { afterTokens: 1, ms: 600_000, keepaliveMs: 100 } });
    const streamsBefore = sim.state.streams.length;
    for await (const ev of runCompletion({ client, token, payload: payload({ thinkingEnabled: false }) })) {
      if (ev.type === "text") break;
    }
    const rec = sim.state.streams[streamsBefore]!;
    await waitUntil(() => rec.outcome !== "open");
    expect(rec.outcome).toBe("cancelled");
  });
});

describe("empty output", () => {
  test("retry helper: same session, parent id, suffix; gives the answer", async () => {
    sim.state.script({ thinking: "only thinking", answer: "" });
    const first = runCompletion({ client, token, payload: payload({ prompt: "<｜User｜>hi<｜Assistant｜>  \n" }) });
    await first.collect();
    expect(hadNoVisibleOutput(first)).toBe(true);
    sim.state.script((ctx) => ({ answer: ctx.prompt.endsWith(EMPTY_OUTPUT_RETRY_SUFFIX) ? "regenerated" : "wrong" }));
    const retry = runEmptyOutputRetry(first, { client, token, payload: payload({ prompt: "<｜User｜>hi<｜Assistant｜>  \n" }) });
    await retry.collect();
    expect(retry.state.text).toBe("regenerated");
    expect(retry.state.sessionId).toBe(first.state.sessionId);
    expect(retry.state.responseMessageId).toBe(4);
    expect(sim.state.requestsTo(PATHS.completion).at(-1)!.body).toMatchObject({
      parent_message_id: 2, prompt: `<｜User｜>hi<｜Assistant｜>${EMPTY_OUTPUT_RETRY_SUFFIX}`,
    });
  });

  test("old client version + expert gets a silent empty stream (version gate)", async () => {
    const old = new DeepSeekClient({ baseUrl: sim.url, pow: new ReferencePowSolver(), identity: { version: "1.8.0" }, retry: { completionDelayMs: 5, delayMs: 5 } });
    const run = runCompletion({ client: old, token, payload: payload({ modelType: "expert" }) });
    await run.collect();
    expect(hadNoVisibleOutput(run)).toBe(true);
    const ok = runCompletion({ client, token, payload: payload({ modelType: "expert" }) });
    await ok.collect();
    expect(ok.state.text).toBe("Echo: What is SSE?");
    expect(ok.state.modelType).toBe("expert");
  });

  test("rate limit window gives empty output", async () => {
    const s = await startSim({ accounts: [{ email: "rl@x.y", password: "p" }], rateLimit: { max: 1, windowMs: 60_000, mode: "reasoning_only" } });
    try {
      const c = new DeepSeekClient({ baseUrl: s.url, pow: new ReferencePowSolver(), retry: { completionDelayMs: 5, delayMs: 5 } });
      const t = s.state.tokenFor("rl@x.y");
      const a = runCompletion({ client: c, token: t, payload: payload() });
      await a.collect();
      expect(hadNoVisibleOutput(a)).toBe(false);
      const b = runCompletion({ client: c, token: t, payload: payload() });
      await b.collect();
      expect(hadNoVisibleOutput(b)).toBe(true);
      expect(b.state.reasoning.length).toBeGreaterThan(0);
    } finally {
      await s.stop();
    }
  });
});

describe("replay of captured fixtures", () => {
  function parseDirect(text: string, thinkingEnabled: boolean, searchEnabled: boolean) {
    const p = new DeepSeekStreamParser({ thinkingEnabled, searchEnabled });
    const events = [...p.push(text), ...p.end()];
    return { text: texts(events, "text"), reasoning: texts(events, "reasoning"), state: p.state };
  }

  const single = [
    ["longtext-deepseek-v4-flash-20260429", false],
    ["markdown-format-example-20260405", true],
    ["guangzhou-weather-reasoner-search-20260404", true],
    ["content-filter-trigger-20260405-jwt3", true],
  ] as const;

  test.each(single)("%s: runner text equals direct parse", async (name, search) => {
    const file = new URL(`${name}/upstream.stream.sse`, FIXTURES).pathname;
    const raw = await Bun.file(file).text();
    // The longtext captures start with the upload JSON line; the completion body starts at the first SSE line.
    const body = raw.slice(raw.indexOf("event: ready"));
    const direct = parseDirect(body, true, search);
    expect(direct.text.length).toBeGreaterThan(0);
    sim.state.script({ replay: { file, chunkBytes: 1021 } });
    const run = runCompletion({ client, token, payload: payload({ searchEnabled: search }) });
    await run.collect();
    expect(run.state.text).toBe(direct.text);
    expect(run.state.reasoning).toBe(direct.reasoning);
    expect(run.state.contentFiltered).toBe(direct.state.contentFiltered);
    expect(run.state.continueRounds).toBe(0);
  });

  test("continue capture: round 2 served on chat/continue, snapshot replay removed", async () => {
    const file = new URL("continue-thinking-snapshot-replay-20260405/upstream.stream.sse", FIXTURES).pathname;
    const raw = await Bun.file(file).text();
    const second = raw.indexOf("event: ready", 10);
    const round1 = parseDirect(raw.slice(0, second), true, false);
    const whole = parseDirect(raw, true, false);
    expect(round1.state.lastStatus).toBe("INCOMPLETE");
    // The whole file read naively contains round 1's reasoning twice (once more inside the snapshot).
    const expectedReasoning = whole.reasoning.slice(round1.reasoning.length);
    expect(expectedReasoning.startsWith(round1.reasoning)).toBe(true);
    sim.state.script({ replay: { file, chunkBytes: 8191 } });
    const before = sim.state.requestsTo(PATHS.continue).length;
    const run = runCompletion({ client, token, payload: payload() });
    const events = await run.collect();
    expect(texts(events, "reasoning")).toBe(expectedReasoning);
    expect(sim.state.requestsTo(PATHS.continue).length - before).toBe(1);
    expect(run.state.continueRounds).toBe(1);
    expect(run.state.finished).toBe(true);
    expect(run.state.reasoning).toBe(expectedReasoning);
    expect(run.state.text).toBe(whole.text);
    expect(run.state.outputTokens).toBe(whole.state.outputTokens);
  });
});
