/**
 * Tool calls written inside the reasoning (toolcalls.md §2.9, §4, §6.2 #11).
 *
 * 1. The reasoning sieve, table-driven: every case is replayed at every 2-way split, char by char and at
 *    random k-way splits; the shown reasoning and the recovered calls must be the same for all of them,
 *    and no call markup may ever reach the shown reasoning.
 * 2. Through the server with the simulator: a call block only in the thinking becomes a proper tool call
 *    on OpenAI chat (stream and non-stream), Responses, Anthropic and Gemini, and the reasoning the
 *    client sees holds no markup; the turn rules (answer call wins, last block wins, tool_choice required).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { ReasoningCallSieve } from "../src/core/toolcalls/reasoning-sieve.ts";
import { ToolCallSieve } from "../src/core/toolcalls/sieve.ts";
import type { ParsedToolCall, ToolSpec } from "../src/core/toolcalls/types.ts";
import { toolCallMarkup } from "../src/sim/index.ts";
import { chunkings, mergeText } from "./toolcalls-helpers.ts";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";

const str = { type: "string" };
const TOOLS: ToolSpec[] = [
  { name: "get_weather", parameters: { type: "object", properties: { city: str, days: { type: "integer" } } } },
  { name: "read_file", parameters: { type: "object", properties: { path: str } } },
];

/** A DSML block as DeepSeek writes it (several invokes make one parallel group). */
function dsml(...invokes: Array<[string, Record<string, string>]>): string {
  const body = invokes
    .map(([name, params]) => {
      const ps = Object.entries(params).map(([k, v]) => `    <|DSML|parameter name="${k}"><![CDATA[${v}]]></|DSML|parameter>\n`);
      return `  <|DSML|invoke name="${name}">\n${ps.join("")}  </|DSML|invoke>\n`;
    })
    .join("");
  return `<|DSML|tool_calls>\n${body}</|DSML|tool_calls>`;
}
const weather = (city: string): ParsedToolCall => ({ name: "get_weather", arguments: { city } });
const read = (path: string): ParsedToolCall => ({ name: "read_file", arguments: { path } });

/** Markup that must never be in the shown reasoning (unless a case keeps an example on purpose). */
const MARKUP = ["DSML", "invoke", "tool_calls", "parameter", "CDATA"];

interface Case {
  id: string;
  reasoning: string;
  /** The reasoning the client is shown. */
  shown: string;
  calls: ParsedToolCall[];
  incomplete?: boolean;
  /** Markup strings allowed in `shown` (an example the sieve treats as prose). */
  keeps?: string[];
}

const cases: Case[] = [
  { id: "RS01 no markup passes through", reasoning: "Just thinking about a < b and <b>bold</b>.", shown: "Just thinking about a < b and <b>bold</b>.", calls: [] },
  {
    id: "RS02 prose, a DSML block, more prose",
    reasoning: `I need the weather.\n${dsml(["get_weather", { city: "Paris" }])}\nThat should do it.`,
    shown: "I need the weather.\n\nThat should do it.",
    calls: [weather("Paris")],
  },
  { id: "RS03 the block ends the reasoning", reasoning: `Reading it.\n\n${dsml(["read_file", { path: "a.md" }])}`, shown: "Reading it.\n\n", calls: [read("a.md")] },
  { id: "RS04 the canonical (non-DSML) markup", reasoning: `Check.\n${toolCallMarkup("get_weather", { city: "Oslo" })}`, shown: "Check.\n", calls: [weather("Oslo")] },
  {
    id: "RS05 a draft then a revision: the last block wins",
    reasoning: `Draft:\n${dsml(["get_weather", { city: "Pariss" }])}\nWait, the spelling is wrong. Again:\n${dsml(["get_weather", { city: "Paris" }])}`,
    shown: "Draft:\n\nWait, the spelling is wrong. Again:\n",
    calls: [weather("Paris")],
  },
  {
    id: "RS06 adjacent blocks (whitespace only between) are one group",
    reasoning: `Both:\n${dsml(["get_weather", { city: "Paris" }])}\n\n${dsml(["read_file", { path: "b.md" }])}`,
    shown: "Both:\n\n\n",
    calls: [weather("Paris"), read("b.md")],
  },
  {
    id: "RS07 one block with two invokes",
    reasoning: `Parallel.\n${dsml(["get_weather", { city: "Rome" }], ["get_weather", { city: "Lima" }])}`,
    shown: "Parallel.\n",
    calls: [weather("Rome"), weather("Lima")],
  },
  {
    id: "RS08 an unfinished block: withheld, nothing recovered",
    reasoning: `Let me call it.\n<|DSML|tool_calls>\n  <|DSML|invoke name="get_weather">\n    <|DSML|parameter name="city"><![CDATA[Par`,
    shown: "Let me call it.\n",
    calls: [],
    incomplete: true,
  },
  {
    id: "RS09 a complete block, then an unfinished one: the complete one is recovered",
    reasoning: `First:\n${dsml(["get_weather", { city: "Paris" }])}\nAnd also <|DSML|tool_calls>\n<|DSML|invoke name="read_file">`,
    shown: "First:\n\nAnd also ",
    calls: [weather("Paris")],
    incomplete: true,
  },
  {
    id: "RS10 a complete block calling an undeclared tool: withheld, no call",
    reasoning: `Maybe:\n${dsml(["launch_rocket", { target: "moon" }])}\nNo, not that.`,
    shown: "Maybe:\n\nNo, not that.",
    calls: [],
  },
  {
    id: "RS11 a fenced example stays (it is prose), no call",
    reasoning: "The format is:\n```xml\n" + dsml(["get_weather", { city: "X" }]) + "\n```\nOK.",
    shown: "The format is:\n```xml\n" + dsml(["get_weather", { city: "X" }]) + "\n```\nOK.",
    calls: [],
    keeps: MARKUP,
  },
  {
    id: "RS12 a wrapper mentioned in prose stays",
    reasoning: "I must use the <|DSML|tool_calls> wrapper, then answer.",
    shown: "I must use the <|DSML|tool_calls> wrapper, then answer.",
    calls: [],
    keeps: ["DSML", "tool_calls"],
  },
  {
    id: "RS13 an example in inline code, then the real call",
    reasoning: `The wrapper is \`<|DSML|tool_calls>\`. So:\n${dsml(["read_file", { path: "c.md" }])}\n`,
    shown: "The wrapper is `<|DSML|tool_calls>`. So:\n\n",
    calls: [read("c.md")],
    keeps: ["DSML", "tool_calls"],
  },
  { id: "RS14 a possible tag start at the very end is released", reasoning: "Compare x <", shown: "Compare x <", calls: [] },
];

function replay(chunks: string[]): { shown: string; steps: string[]; calls: ParsedToolCall[]; incomplete: boolean } {
  const rs = new ReasoningCallSieve(TOOLS);
  const steps: string[] = [];
  for (const c of chunks) steps.push(rs.push(c));
  steps.push(rs.end());
  expect(rs.end()).toBe(""); // idempotent
  return { shown: steps.join(""), steps, calls: rs.calls, incomplete: rs.incomplete };
}

describe("reasoning sieve: every chunking gives the same shown reasoning and calls", () => {
  for (const c of cases) {
    test(c.id, () => {
      const all = chunkings(c.reasoning);
      for (const chunks of all) {
        const r = replay(chunks);
        const where = `chunks ${JSON.stringify(chunks.length <= 3 ? chunks : chunks.length)}`;
        expect(r.shown, where).toBe(c.shown);
        expect(r.calls, where).toEqual(c.calls);
        expect(r.incomplete, where).toBe(!!c.incomplete);
        // No step, however the text was cut, shows a piece of markup the final text does not hold.
        let sofar = "";
        for (const s of r.steps) {
          sofar += s;
          expect(c.shown.startsWith(sofar), where).toBe(true);
        }
      }
      for (const m of MARKUP) if (!c.keeps?.includes(m)) expect(c.shown).not.toContain(m);
    });
  }

  test("the sieve's markRejected mode: a complete block without a valid call is rejected_call (default: text)", () => {
    const block = dsml(["launch_rocket", { target: "moon" }]);
    const input = `a ${block} b`;
    for (const chunks of chunkings(input, 4)) {
      const marked = new ToolCallSieve(TOOLS, { markRejected: true });
      const out = mergeText([...chunks.flatMap((c) => marked.push(c)), ...marked.end()]);
      expect(out).toEqual([
        { type: "text", text: "a " },
        { type: "rejected_call", text: block },
        { type: "text", text: " b" },
      ]);
      const plain = new ToolCallSieve(TOOLS);
      expect(mergeText([...chunks.flatMap((c) => plain.push(c)), ...plain.end()])).toEqual([{ type: "text", text: input }]);
    }
  });

  test("reasoning pushed after end() is a new segment; the last block still wins", () => {
    const rs = new ReasoningCallSieve(TOOLS);
    expect(rs.push(`a\n${dsml(["get_weather", { city: "Paris" }])}`)).toBe("a\n");
    expect(rs.end()).toBe("");
    expect(rs.push(`b\n${dsml(["read_file", { path: "z" }])}`)).toBe("b\n");
    expect(rs.end()).toBe("");
    expect(rs.calls).toEqual([read("z")]);
  });
});

// ---------------------------------------------------------------------------------------------------
// Through the server.

// A first request (logins, PoW) on a loaded machine can take longer than bun's 5 s default; no test here is about time.
setDefaultTimeout(60_000);

let stack: Stack;
let openai: OpenAI;
let anthropic: Anthropic;
let gemini: GoogleGenAI;
beforeAll(async () => {
  stack = await startStack();
  openai = new OpenAI({ apiKey: API_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: API_KEY, baseURL: stack.url, maxRetries: 0 });
  gemini = new GoogleGenAI({ apiKey: API_KEY, httpOptions: { baseUrl: stack.url } });
});
afterAll(() => stack?.stop());

const weatherTool = {
  type: "function" as const,
  function: { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" }, days: { type: "integer" } }, required: ["city"] } },
};
const completionBodies = () => stack.sim.state.requestsTo("/api/v0/chat/completion").map((r) => r.body as { prompt: string; parent_message_id?: number | null });
const completions = () => completionBodies().length;
/** Empty-output retries (§4.15: the same session, parent_message_id set, the "no visible output" suffix) sent since `from`. */
const emptyOutputRetries = (from: number) => completionBodies().slice(from).filter((b) => b.prompt.includes("Previous reply had no visible output")).length;
const THINK = `The user wants the weather in Paris. I'll call the tool.\n${dsml(["get_weather", { city: "Paris", days: "2" }])}\n`;
const noMarkup = (s: string) => {
  for (const m of MARKUP) expect(s).not.toContain(m);
};

type Msg = { content: string | null; reasoning_content?: string; tool_calls?: Array<{ id: string; type: string; function: { name: string; arguments: string } }> };

describe("OpenAI chat: a call only in the reasoning", () => {
  test("non-stream: tool_calls, finish tool_calls, content null, reasoning without markup, no empty-output retry", async () => {
    stack.sim.state.script({ thinking: THINK, answer: "" });
    const before = completions();
    const r = await openai.chat.completions.create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "Weather in Paris?" }], tools: [weatherTool] });
    const choice = r.choices[0]!;
    const msg = choice.message as unknown as Msg;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(msg.content).toBeNull();
    expect(msg.tool_calls!.length).toBe(1);
    expect(msg.tool_calls![0]!.id).toMatch(/^call_[0-9a-f]{24}$/);
    expect(msg.tool_calls![0]!.function.name).toBe("get_weather");
    expect(JSON.parse(msg.tool_calls![0]!.function.arguments)).toEqual({ city: "Paris", days: 2 });
    expect(msg.reasoning_content).toContain("I'll call the tool.");
    noMarkup(msg.reasoning_content!);
    // A reasoning-only reply with a call is an answer: DeepSeek is not asked again for visible output.
    expect(emptyOutputRetries(before)).toBe(0);
  });

  test("reasoning only, with an unfinished block: the empty-output retry still runs", async () => {
    stack.sim.state.script({ thinking: `Hmm <|DSML|tool_calls>\n<|DSML|invoke name="get_weather">`, answer: "" });
    stack.sim.state.script({ answer: "Sunny." });
    const before = completions();
    const r = await openai.chat.completions.create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "Weather?" }], tools: [weatherTool] });
    expect(emptyOutputRetries(before)).toBe(1);
    expect(r.choices[0]!.message.content).toBe("Sunny.");
    expect(r.choices[0]!.finish_reason).toBe("stop");
    noMarkup((r.choices[0]!.message as unknown as Msg).reasoning_content ?? "");
  });

  test("stream (one character per token): a tool_calls delta, finish tool_calls, reasoning deltas without markup", async () => {
    stack.sim.state.script({ thinking: THINK, answer: "", chunking: 1 });
    const stream = await openai.chat.completions.create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "Weather?" }], tools: [weatherTool], stream: true });
    let reasoning = "";
    let content = "";
    const calls: { name?: string; args: string; id?: string }[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      const c = chunk.choices[0];
      if (!c) continue;
      reasoning += (c.delta as { reasoning_content?: string }).reasoning_content ?? "";
      content += c.delta.content ?? "";
      for (const tc of c.delta.tool_calls ?? []) {
        calls[tc.index] ??= { args: "" };
        if (tc.id) calls[tc.index]!.id = tc.id;
        if (tc.function?.name) calls[tc.index]!.name = tc.function.name;
        calls[tc.index]!.args += tc.function?.arguments ?? "";
      }
      if (c.finish_reason) finish = c.finish_reason;
    }
    expect(finish).toBe("tool_calls");
    expect(calls.length).toBe(1);
    expect(calls[0]!.name).toBe("get_weather");
    expect(JSON.parse(calls[0]!.args)).toEqual({ city: "Paris", days: 2 });
    expect(content).toBe("");
    expect(reasoning).toContain("I'll call the tool.");
    noMarkup(reasoning);
  });

  test("answer prose without a call: the reasoning's call is still returned, with the prose", async () => {
    stack.sim.state.script({ thinking: THINK, answer: "Let me check the weather." });
    const r = await openai.chat.completions.create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "Weather?" }], tools: [weatherTool] });
    const msg = r.choices[0]!.message as unknown as Msg;
    expect(r.choices[0]!.finish_reason).toBe("tool_calls");
    expect(msg.tool_calls!.map((t) => t.function.name)).toEqual(["get_weather"]);
    noMarkup(msg.reasoning_content!);
  });

  test("a call in both places: the answer's call wins, the reasoning's markup is still hidden", async () => {
    stack.sim.state.script({ thinking: THINK, answer: toolCallMarkup("get_weather", { city: "Oslo" }) });
    const r = await openai.chat.completions.create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "Weather?" }], tools: [weatherTool] });
    const msg = r.choices[0]!.message as unknown as Msg;
    expect(msg.tool_calls!.map((t) => JSON.parse(t.function.arguments).city)).toEqual(["Oslo"]);
    noMarkup(msg.reasoning_content!);
  });

  test("a draft and a revision in the reasoning: only the last block is called", async () => {
    const thinking = `Draft: ${dsml(["get_weather", { city: "Pari" }])}\nNo — fix the city.\n${dsml(["get_weather", { city: "Paris" }])}`;
    stack.sim.state.script({ thinking, answer: "" });
    const r = await openai.chat.completions.create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "Weather?" }], tools: [weatherTool] });
    const msg = r.choices[0]!.message as unknown as Msg;
    expect(msg.tool_calls!.map((t) => JSON.parse(t.function.arguments).city)).toEqual(["Paris"]);
    expect(msg.reasoning_content).toContain("No — fix the city.");
    noMarkup(msg.reasoning_content!);
  });

  test("an unfinished block in the reasoning: no call, no markup, the answer stands", async () => {
    const thinking = `Calling <|DSML|tool_calls>\n<|DSML|invoke name="get_weather">\n<|DSML|parameter name="city"><![CDATA[Par`;
    stack.sim.state.script({ thinking, answer: "I cannot tell." });
    const r = await openai.chat.completions.create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "Weather?" }], tools: [weatherTool] });
    const msg = r.choices[0]!.message as unknown as Msg;
    expect(r.choices[0]!.finish_reason).toBe("stop");
    expect(msg.tool_calls).toBeUndefined();
    expect(msg.content).toBe("I cannot tell.");
    expect(msg.reasoning_content).toBe("Calling ");
  });

  test("tool_choice required: a call in the reasoning counts (no corrective retry)", async () => {
    stack.sim.state.script({ thinking: THINK, answer: "Checking." });
    const before = completions();
    const stream = await openai.chat.completions.create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "Weather?" }], tools: [weatherTool], tool_choice: "required", stream: true });
    const names: string[] = [];
    let finish: string | null = null;
    for await (const c of stream) {
      for (const t of c.choices[0]?.delta.tool_calls ?? []) names.push(t.function?.name ?? "");
      if (c.choices[0]?.finish_reason) finish = c.choices[0].finish_reason;
    }
    expect(names).toEqual(["get_weather"]);
    expect(finish).toBe("tool_calls");
    // No corrective retry was asked for.
    expect(completionBodies().slice(before).some((b) => b.prompt.includes("You must call at least one of the available tools now"))).toBe(false);
  });

  test("a forced tool_choice: a call in the reasoning counts (no corrective retry)", async () => {
    stack.sim.state.script({ thinking: THINK, answer: "" });
    const before = completions();
    const r = await openai.chat.completions.create({
      model: "deepseek-v4-flash",
      messages: [{ role: "user", content: "Weather?" }],
      tools: [weatherTool],
      tool_choice: { type: "function", function: { name: "get_weather" } },
    });
    expect(r.choices[0]!.finish_reason).toBe("tool_calls");
    expect((r.choices[0]!.message as unknown as Msg).tool_calls!.map((t) => t.function.name)).toEqual(["get_weather"]);
    expect(completionBodies().slice(before).some((b) => b.prompt.includes('did not call the tool "get_weather"'))).toBe(false);
  });

  test("without tools, reasoning is shown as it came", async () => {
    stack.sim.state.script({ thinking: THINK, answer: "ok" });
    const r = await openai.chat.completions.create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "x" }] });
    expect((r.choices[0]!.message as unknown as Msg).reasoning_content).toBe(THINK);
  });
});

describe("Responses, Anthropic and Gemini: a call only in the reasoning", () => {
  test("Responses non-stream: a function_call item, no markup in the reasoning", async () => {
    stack.sim.state.script({ thinking: THINK, answer: "" });
    const r = await openai.responses.create({
      model: "deepseek-v4-flash",
      input: "Weather in Paris?",
      tools: [{ type: "function", name: "get_weather", description: "Weather", parameters: weatherTool.function.parameters, strict: false }],
    });
    const fc = r.output.filter((o) => o.type === "function_call") as Array<{ name: string; arguments: string }>;
    expect(fc.map((f) => f.name)).toEqual(["get_weather"]);
    expect(JSON.parse(fc[0]!.arguments)).toEqual({ city: "Paris", days: 2 });
    noMarkup(JSON.stringify(r.output.filter((o) => o.type === "reasoning")));
  });

  test("Responses stream: reasoning_text deltas without markup, a function_call item, response.completed", async () => {
    stack.sim.state.script({ thinking: THINK, answer: "", chunking: 1 });
    const stream = await openai.responses.create({
      model: "deepseek-v4-flash",
      input: "Weather in Paris?",
      tools: [{ type: "function", name: "get_weather", description: "Weather", parameters: weatherTool.function.parameters, strict: false }],
      stream: true,
    });
    let reasoning = "";
    const done: Array<{ type: string; name?: string; arguments?: string }> = [];
    let completed: { output: Array<{ type: string; name?: string }> } | undefined;
    for await (const ev of stream) {
      if (ev.type === "response.reasoning_text.delta") reasoning += ev.delta;
      if (ev.type === "response.output_item.done") done.push(ev.item as { type: string; name?: string; arguments?: string });
      if (ev.type === "response.completed") completed = ev.response as unknown as typeof completed;
    }
    const calls = done.filter((i) => i.type === "function_call");
    expect(calls.map((c) => c.name)).toEqual(["get_weather"]);
    expect(JSON.parse(calls[0]!.arguments!)).toEqual({ city: "Paris", days: 2 });
    expect(completed!.output.filter((o) => o.type === "function_call").map((o) => o.name)).toEqual(["get_weather"]);
    expect(reasoning).toContain("I'll call the tool.");
    noMarkup(reasoning);
  });

  test("Anthropic stream with thinking: thinking block without markup, then a tool_use block, stop_reason tool_use", async () => {
    stack.sim.state.script({ thinking: THINK, answer: "", chunking: 3 });
    const tools = [{ name: "get_weather", description: "Weather", input_schema: { type: "object" as const, properties: { city: { type: "string" }, days: { type: "integer" } } } }];
    const final = await anthropic.messages
      .stream({ model: "claude-sonnet-4-6", max_tokens: 1024, thinking: { type: "adaptive" } as never, tools, messages: [{ role: "user", content: "Paris?" }] })
      .finalMessage();
    expect(final.stop_reason).toBe("tool_use");
    const thinking = final.content.find((b) => b.type === "thinking") as { thinking: string };
    expect(thinking.thinking).toContain("I'll call the tool.");
    noMarkup(thinking.thinking);
    const use = final.content.find((b) => b.type === "tool_use") as { id: string; name: string; input: unknown };
    expect(use.id).toMatch(/^toolu_/);
    expect(use.input).toEqual({ city: "Paris", days: 2 });
  });

  test("Anthropic non-stream, thinking not requested: the hidden reasoning's call is still recovered", async () => {
    stack.sim.state.script({ thinking: THINK, answer: "" });
    const tools = [{ name: "get_weather", description: "Weather", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } }];
    const m = await anthropic.messages.create({ model: "claude-opus-4-6", max_tokens: 1024, tools, messages: [{ role: "user", content: "Paris?" }] });
    expect(m.stop_reason).toBe("tool_use");
    expect(m.content.some((b) => b.type === "thinking")).toBe(false);
    const use = m.content.find((b) => b.type === "tool_use") as { name: string; input: { city: string } };
    expect(use.name).toBe("get_weather");
    expect(use.input.city).toBe("Paris");
  });

  const geminiTools = [{ functionDeclarations: [{ name: "get_weather", description: "Weather", parametersJsonSchema: { type: "object", properties: { city: { type: "string" }, days: { type: "integer" } } } }] }];

  test("Gemini generateContent with thoughts: a functionCall part, thought parts without markup", async () => {
    stack.sim.state.script({ thinking: THINK, answer: "" });
    const r = await gemini.models.generateContent({ model: "gemini-2.5-pro", contents: "Paris?", config: { tools: geminiTools, thinkingConfig: { includeThoughts: true } } });
    expect(r.functionCalls?.map((c) => c.name)).toEqual(["get_weather"]);
    expect(r.functionCalls?.[0]?.args).toEqual({ city: "Paris", days: 2 });
    const thoughts = r.candidates![0]!.content!.parts!.filter((p) => p.thought).map((p) => p.text ?? "").join("");
    expect(thoughts).toContain("I'll call the tool.");
    noMarkup(thoughts);
  });

  test("Gemini generateContentStream: the call arrives, no streamed thought carries markup", async () => {
    stack.sim.state.script({ thinking: THINK, answer: "", chunking: 2 });
    const stream = await gemini.models.generateContentStream({ model: "gemini-2.5-pro", contents: "Paris?", config: { tools: geminiTools, thinkingConfig: { includeThoughts: true } } });
    let thoughts = "";
    const names: string[] = [];
    for await (const chunk of stream) {
      for (const p of chunk.candidates?.[0]?.content?.parts ?? []) {
        if (p.thought) thoughts += p.text ?? "";
        if (p.functionCall) names.push(p.functionCall.name ?? "");
      }
    }
    expect(names).toEqual(["get_weather"]);
    expect(thoughts).toContain("I'll call the tool.");
    noMarkup(thoughts);
  });
});
