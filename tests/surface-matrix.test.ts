/**
 * The same upstream situations through all three official SDKs, stream and non-stream: plain, thinking,
 * search, content filter, INCOMPLETE → continue, expired token, mid-stream disconnect, empty output.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import type { ReplyScript } from "../src/sim/index.ts";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";
import { deepseekEngine } from "./support/deepseek-engine.ts";
import { waitUntil } from "./support/wait.ts";

interface Outcome {
  text: string;
  reasoning: string;
  finish: string;
}

type Runner = (prompt: string, opts: { stream: boolean; model: "plain" | "search" | "nothink" }) => Promise<Outcome>;

let stack: Stack;
const runners: Record<string, Runner> = {};

beforeAll(async () => {
  stack = await startStack({ accounts: 2 });
  const openai = new OpenAI({ apiKey: API_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
  const anthropic = new Anthropic({ apiKey: API_KEY, baseURL: stack.url, maxRetries: 0 });
  const gemini = new GoogleGenAI({ apiKey: API_KEY, httpOptions: { baseUrl: stack.url } });
  const models = {
    openai: { plain: "deepseek-v4-flash", search: "deepseek-v4-flash-search", nothink: "deepseek-v4-flash-nothinking" },
    anthropic: { plain: "claude-sonnet-4-6", search: "deepseek-v4-flash-search", nothink: "claude-sonnet-4-6-nothinking" },
    gemini: { plain: "gemini-2.5-flash", search: "deepseek-v4-flash-search", nothink: "gemini-2.5-flash-nothinking" },
  };
  runners.openai = async (prompt, { stream, model }) => {
    const params = { model: models.openai[model], messages: [{ role: "user" as const, content: prompt }] };
    if (!stream) {
      const r = await openai.chat.completions.create(params);
      const m = r.choices[0]!.message as { content: string | null; reasoning_content?: string };
      return { text: m.content ?? "", reasoning: m.reasoning_content ?? "", finish: r.choices[0]!.finish_reason };
    }
    const s = await openai.chat.completions.create({ ...params, stream: true });
    const o: Outcome = { text: "", reasoning: "", finish: "" };
    for await (const c of s) {
      const ch = c.choices[0];
      if (!ch) continue;
      o.text += ch.delta.content ?? "";
      o.reasoning += (ch.delta as { reasoning_content?: string }).reasoning_content ?? "";
      if (ch.finish_reason) o.finish = ch.finish_reason;
    }
    return o;
  };
  runners.anthropic = async (prompt, { stream, model }) => {
    const params = { model: models.anthropic[model], max_tokens: 1024, thinking: { type: "enabled" as const, budget_tokens: 1024 }, messages: [{ role: "user" as const, content: prompt }] };
    const m = stream ? await anthropic.messages.stream(params).finalMessage() : await anthropic.messages.create(params);
    return {
      text: m.content.filter((b) => b.type === "text").map((b) => (b as { text: string }).text).join(""),
      reasoning: m.content.filter((b) => b.type === "thinking").map((b) => (b as { thinking: string }).thinking).join(""),
      finish: m.stop_reason ?? "",
    };
  };
  runners.gemini = async (prompt, { stream, model }) => {
    const params = { model: models.gemini[model], contents: prompt, config: { thinkingConfig: { includeThoughts: true } } };
    const chunks = stream ? [] : [await gemini.models.generateContent(params)];
    if (stream) for await (const c of await gemini.models.generateContentStream(params)) chunks.push(c);
    const o: Outcome = { text: "", reasoning: "", finish: "" };
    for (const c of chunks) {
      for (const p of c.candidates?.[0]?.content?.parts ?? []) {
        if (p.thought) o.reasoning += p.text ?? "";
        else o.text += p.text ?? "";
      }
      if (c.candidates?.[0]?.finishReason) o.finish = String(c.candidates[0].finishReason);
    }
    return o;
  };
});
afterAll(() => stack?.stop());
beforeEach(async () => {
  stack.sim.state.clearScripts();
  for (const a of await stack.server.ctx.store.accounts.list()) deepseekEngine(stack.server.ctx).pool.markHealthy(a.identifier);
});

const FINISH = {
  stop: { openai: "stop", anthropic: "end_turn", gemini: "STOP" },
  filter: { openai: "content_filter", anthropic: "refusal", gemini: "SAFETY" },
} as const;

async function poolIdle() {
  await waitUntil(() => deepseekEngine(stack.server.ctx).pool.status().inUse === 0);
}

for (const surface of ["openai", "anthropic", "gemini"] as const) {
  for (const stream of [false, true]) {
    const label = `${surface} ${stream ? "stream" : "non-stream"}`;
    const run = (prompt: string, model: "plain" | "search" | "nothink" = "plain") => runners[surface]!(prompt, { stream, model });
    const script = (s: ReplyScript, times = 1) => stack.sim.state.script(s, { times });

    describe(label, () => {
      test("plain + thinking", async () => {
        script({ thinking: "a chain of thought", answer: "The answer,  with spaces." });
        const o = await run("q");
        expect(o.text).toBe("The answer,  with spaces.");
        expect(o.reasoning).toBe("a chain of thought");
        expect(o.finish).toBe(FINISH.stop[surface]);
        await poolIdle();
      });

      test("search: no raw markers reach the client", async () => {
        script({ search: { sources: [{ url: "https://a.example/x", title: "A" }, { url: "https://b.example/y", title: "B" }], citations: 2 }, answer: "Sunny all week in the city." });
        const o = await run("weather", "search");
        expect(o.text).not.toMatch(/\[(reference|citation):\d+\]/);
        expect(o.text.replace(/\[\d+\]\([^)]*\)/g, "").replace(/\s+/g, " ")).toContain("Sunny all week");
        if (!stream) expect(o.text).toMatch(/\[\d\]\(https:\/\/[ab]\.example\/[xy]\)/);
        await poolIdle();
      });

      test("content filter → the surface's filter finish, refusal text hidden", async () => {
        script({ answer: "partial", contentFilter: "observed" });
        const o = await run("bad");
        expect(o.finish).toBe(FINISH.filter[surface]);
        expect(o.text).not.toContain("暂时无法回答");
        await poolIdle();
      });

      test("INCOMPLETE → continue rounds, no duplicated text", async () => {
        const answer = "A reply long enough to be cut twice by the simulator and resumed with a snapshot.";
        script({ thinking: "long", answer, continueRounds: 2 });
        const o = await run("long");
        expect(o.text).toBe(answer);
        await poolIdle();
      });

      test("expired token → transparent re-login", async () => {
        await run("warm");
        await run("warm");
        for (const a of await stack.server.ctx.store.accounts.list()) if (a.token) stack.sim.state.expireToken(a.token);
        script({ answer: "still here" });
        expect((await run("after expiry")).text).toBe("still here");
        await poolIdle();
      });

      test("mid-stream upstream disconnect → an error the SDK raises", async () => {
        script({ answer: "one two three four five six", disconnectAfterTokens: 3, tokenDelayMs: 5 });
        const err = await run("cut", "nothink").catch((e) => e);
        expect(err).toBeInstanceOf(Error);
        await poolIdle();
      });

      test("empty output twice → a 502-class error the SDK raises (request-attributable, not a rate limit)", async () => {
        script({ answer: "" }, 2);
        const err = await run("nothing", "nothink").catch((e) => e);
        expect(err).toBeInstanceOf(Error);
        expect(String(err.message ?? err)).toMatch(/no visible output|502/i);
        expect(String(err.message ?? err)).not.toMatch(/rate limit|429/i);
        await poolIdle();
      });
    });
  }
}
