/**
 * `prompt.markers` (issue 13): native DeepSeek tokens, ASCII lookalikes, or plain role labels. Each style reaches the
 * simulator in its own form, the simulator reads the last user turn back in every style, and tool calling and
 * thinking keep working in each (OpenAI with tools and with reasoning, Anthropic with tools, the history file).
 * The setting comes from config.json, DS2API_PROMPT_MARKERS or the admin API (stored wins over env).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { buildPrompt } from "../src/core/prompt/build.ts";
import { detectMarkerStyle, lastUserBlock, PROMPT_MARKER_STYLES, type PromptMarkerStyle } from "../src/core/prompt/markers.ts";
import { HISTORY_CONTINUE_USER_LINE } from "../src/core/prompt/history-file.ts";
import { parseDs2ApiConfig, ConfigError } from "../src/config/ds2api-config.ts";
import { OptionsError, resolveOptions } from "../src/config/options.ts";
import { toolCallMarkup } from "../src/sim/index.ts";
import { AdminClient } from "./support/admin-client.ts";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";

const FULLWIDTH = "\uFF5C";

const weatherTool = {
  type: "function" as const,
  function: { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
};

/** What a prompt in each style must (and must not) contain. */
function expectStyle(prompt: string, style: PromptMarkerStyle): void {
  expect(detectMarkerStyle(prompt)).toBe(style);
  if (style === "native") {
    expect(prompt.startsWith(`<${FULLWIDTH}begin\u2581of\u2581sentence${FULLWIDTH}>`)).toBe(true);
    expect(prompt).toContain(`<${FULLWIDTH}User${FULLWIDTH}>`);
    expect(prompt.endsWith(`<${FULLWIDTH}Assistant${FULLWIDTH}>`)).toBe(true);
    return;
  }
  // Neither ASCII nor plain carries a single DeepSeek special token.
  expect(prompt).not.toContain(FULLWIDTH);
  expect(prompt).not.toContain("\u2581");
  if (style === "ascii") {
    expect(prompt.startsWith("<|begin_of_sentence|><|System|>")).toBe(true);
    expect(prompt).toContain("<|User|>");
    expect(prompt.endsWith("<|Assistant|>")).toBe(true);
  } else {
    expect(prompt).not.toContain("<|User|>");
    expect(prompt).not.toContain("<|begin");
    expect(prompt.startsWith("System:\n")).toBe(true);
    expect(prompt).toContain("\n\nUser:\n");
    expect(prompt.endsWith("\n\nAssistant:\n")).toBe(true);
  }
}

describe("the prompt builder in each style", () => {
  const messages = [
    { role: "system", text: "Be brief." },
    { role: "user", text: "Hi" },
    { role: "assistant", text: "Hello!" },
    { role: "user", text: "2+2?" },
  ];

  test("the upstream-protocol §6.2 example, written three ways", () => {
    const G = "Output integrity guard: If upstream context, tool output, or parsed text contains garbled, corrupted, partially parsed, repeated, or otherwise malformed fragments, do not imitate or echo them; output only the correct content for the user.";
    const F = FULLWIDTH;
    const B = "\u2581";
    expect(buildPrompt(messages)).toBe(
      `<${F}begin${B}of${B}sentence${F}><${F}System${F}>${G}\n\nBe brief.<${F}end${B}of${B}instructions${F}><${F}User${F}>Hi<${F}Assistant${F}>Hello!<${F}end${B}of${B}sentence${F}><${F}User${F}>2+2?<${F}Assistant${F}>`,
    );
    expect(buildPrompt(messages, { markers: "native" })).toBe(buildPrompt(messages));
    expect(buildPrompt(messages, { markers: "ascii" })).toBe(
      `<|begin_of_sentence|><|System|>${G}\n\nBe brief.<|end_of_instructions|><|User|>Hi<|Assistant|>Hello!<|end_of_sentence|><|User|>2+2?<|Assistant|>`,
    );
    expect(buildPrompt(messages, { markers: "plain" })).toBe(`System:\n${G}\n\nBe brief.\n\nUser:\nHi\n\nAssistant:\nHello!\n\nUser:\n2+2?\n\nAssistant:\n`);
  });

  test("tool results get the style's tool block, and the last user turn reads back in every style", () => {
    const withTool = [...messages, { role: "assistant", text: "", toolCalls: [{ id: "c1", name: "get_weather", arguments: { city: "Oslo" } }] }, { role: "tool", text: "sunny", toolCallId: "c1", toolName: "get_weather" }, { role: "user", text: "And now?" }];
    const render = { renderToolCalls: () => "<|DSML|tool_calls>\n  <|DSML|invoke name=\"get_weather\"></|DSML|invoke>\n</|DSML|tool_calls>" };
    const tool = { native: `<${FULLWIDTH}Tool${FULLWIDTH}>sunny<${FULLWIDTH}end\u2581of\u2581toolresults${FULLWIDTH}>`, ascii: "<|Tool|>sunny<|end_of_toolresults|>", plain: "\n\nTool result:\nsunny\n\n" };
    for (const style of PROMPT_MARKER_STYLES) {
      const p = buildPrompt(withTool, { markers: style, ...render });
      expect(p).toContain(tool[style]);
      // DSML tool tags stay ASCII `<|DSML|…>` in every style and are never taken for a role marker.
      expect(p).toContain("<|DSML|tool_calls>");
      expect(lastUserBlock(p)).toBe("And now?");
      expectStyle(p, style);
    }
    // A user text that mentions a label inside a line does not end the block.
    expect(lastUserBlock(buildPrompt([{ role: "user", text: "Say User: hi\nthen Assistant: bye" }], { markers: "plain" }))).toBe("Say User: hi\nthen Assistant: bye");
  });
});

describe("the setting's sources", () => {
  test("DS2API_PROMPT_MARKERS is checked; config.json prompt.markers is validated", () => {
    expect(resolveOptions([], { DS2API_PROMPT_MARKERS: "ASCII" }).promptMarkers).toBe("ascii");
    expect(resolveOptions([], {}).promptMarkers).toBeUndefined();
    expect(() => resolveOptions([], { DS2API_PROMPT_MARKERS: "fancy" })).toThrow(OptionsError);
    expect(parseDs2ApiConfig({ prompt: { markers: "plain" } }).config.sections.prompt).toEqual({ markers: "plain" });
    expect(() => parseDs2ApiConfig({ prompt: { markers: "tags" } })).toThrow(ConfigError);
    expect(() => parseDs2ApiConfig({ prompt: { markers: "tags" } })).toThrow(/prompt\.markers must be one of native, ascii, plain/);
  });
});

let stack: Stack;
let admin: AdminClient;
let openai: OpenAI;
let anthropic: Anthropic;
const completions = () => stack.sim.state.requestsTo("/api/v0/chat/completion");
const lastPrompt = () => (completions().at(-1)!.body as { prompt: string }).prompt;

beforeAll(async () => {
  // config.json says plain; the env says ascii: the stored (config) value wins.
  stack = await startStack({ accounts: 1, config: { prompt: { markers: "plain" } }, env: { DS2API_PROMPT_MARKERS: "ascii" } });
  admin = new AdminClient(stack.url);
  admin.auth = await admin.login("e2e-admin");
  openai = new OpenAI({ apiKey: API_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: API_KEY, baseURL: stack.url, maxRetries: 0 });
});
afterAll(() => stack?.stop());

describe("through the server, with the simulator as upstream", () => {
  test("config.json's value is in use, and the admin view shows it with the env default beside it", async () => {
    const s = (await admin.get("/admin/settings")).json;
    expect(s.prompt).toEqual({ markers: "plain" });
    expect(s.prompt_effective).toEqual({ markers: "plain" });
    expect(s.prompt_defaults).toEqual({ markers: "ascii" });
    await openai.chat.completions.create({ model: "deepseek-v4-flash-nothinking", messages: [{ role: "user", content: "hello plain" }] });
    expectStyle(lastPrompt(), "plain");
    // Exported with the rest of the config, so it moves with it.
    expect((await admin.get("/admin/config/export")).json.config.prompt).toEqual({ markers: "plain" });
  });

  test("a bad value is refused with 400 {detail}, and null clears back to the env default", async () => {
    const bad = await admin.put("/admin/settings", { prompt: { markers: "tags" } });
    expect(bad.status).toBe(400);
    expect(typeof bad.json.detail).toBe("string");
    expect((await admin.put("/admin/settings", { prompt: { markers: null } })).status).toBe(200);
    expect((await admin.get("/admin/settings")).json.prompt_effective).toEqual({ markers: "ascii" });
    await openai.chat.completions.create({ model: "deepseek-v4-flash-nothinking", messages: [{ role: "user", content: "hello env" }] });
    expectStyle(lastPrompt(), "ascii");
  });

  for (const style of PROMPT_MARKER_STYLES) {
    describe(`markers: ${style}`, () => {
      beforeAll(async () => {
        expect((await admin.put("/admin/settings", { prompt: { markers: style } })).status).toBe(200);
      });

      test("OpenAI with tools: the prompt arrives in this style and the call comes back", async () => {
        stack.sim.state.script({ answer: toolCallMarkup("get_weather", { city: "Paris" }) });
        const r = await openai.chat.completions.create({ model: "deepseek-v4-flash-nothinking", messages: [{ role: "system", content: "You are terse." }, { role: "user", content: "Weather in Paris?" }], tools: [weatherTool] });
        expect(r.choices[0]!.finish_reason).toBe("tool_calls");
        const call = r.choices[0]!.message.tool_calls![0]! as { function: { name: string; arguments: string } };
        expect(call.function.name).toBe("get_weather");
        expect(JSON.parse(call.function.arguments)).toEqual({ city: "Paris" });
        const prompt = lastPrompt();
        expectStyle(prompt, style);
        expect(prompt).toContain("<|DSML|tool_calls>");
        expect(lastUserBlock(prompt)).toBe("Weather in Paris?");
      });

      test("OpenAI, the tool result turn: the result goes in this style's tool block and the answer streams back", async () => {
        stack.sim.state.script({ answer: "Sunny in Paris." });
        const stream = await openai.chat.completions.create({
          model: "deepseek-v4-flash-nothinking",
          tools: [weatherTool],
          stream: true,
          messages: [
            { role: "user", content: "Weather in Paris?" },
            { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
            { role: "tool", tool_call_id: "call_1", content: "sunny, 21 C" },
          ],
        });
        let text = "";
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
        expect(text).toBe("Sunny in Paris.");
        const prompt = lastPrompt();
        expectStyle(prompt, style);
        const toolOpen = { native: `<${FULLWIDTH}Tool${FULLWIDTH}>`, ascii: "<|Tool|>", plain: "\n\nTool result:\n" }[style];
        expect(prompt).toContain(toolOpen);
        expect(prompt).toContain("sunny, 21 C");
      });

      test("OpenAI with reasoning: thinking is on upstream, reasoning comes back, and the simulator read the user turn", async () => {
        const r = await openai.chat.completions.create({ model: "deepseek-v4-flash", reasoning_effort: "high", messages: [{ role: "user", content: `What is 2+2 (${style})?` }] });
        const msg = r.choices[0]!.message as { content: string | null; reasoning_content?: string };
        expect((completions().at(-1)!.body as { thinking_enabled: boolean }).thinking_enabled).toBe(true);
        // The default simulator reply echoes the last user block it parsed out of the prompt.
        expect(msg.reasoning_content).toStartWith(`Thinking about: What is 2+2 (${style})?`);
        expect(msg.content).toStartWith(`Echo: What is 2+2 (${style})?`);
        expect(msg.content).not.toContain("Assistant");
        expectStyle(lastPrompt(), style);
      });

      test("Anthropic with tools and thinking: a tool_use block, the prompt in this style", async () => {
        stack.sim.state.script({ thinking: "I need the weather.", answer: toolCallMarkup("get_weather", { city: "Rome" }) });
        const m = await anthropic.messages.create({
          model: "claude-sonnet-4-6",
          max_tokens: 1024,
          thinking: { type: "enabled", budget_tokens: 1024 },
          tools: [{ name: "get_weather", description: "Weather for a city", input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } }],
          messages: [{ role: "user", content: "Rome?" }],
        });
        expect(m.stop_reason).toBe("tool_use");
        const use = m.content.find((b) => b.type === "tool_use") as { name: string; input: unknown } | undefined;
        expect(use?.name).toBe("get_weather");
        expect(use?.input).toEqual({ city: "Rome" });
        expect(m.content.some((b) => b.type === "thinking")).toBe(true);
        expectStyle(lastPrompt(), style);
        expect(lastUserBlock(lastPrompt())).toBe("Rome?");
      });

      test("a long conversation goes as DS2API_HISTORY.txt; the live prompt pointing at it is in this style", async () => {
        expect((await admin.put("/admin/settings", { current_input_file: { enabled: true, prompt_chars: 1000 } })).status).toBe(200);
        try {
          const r = await openai.chat.completions.create({ model: "deepseek-v4-flash-nothinking", messages: [{ role: "user", content: `long ${"words ".repeat(400)}` }] });
          expect(r.choices[0]!.message.content).toContain(HISTORY_CONTINUE_USER_LINE);
          const body = completions().at(-1)!.body as { prompt: string; ref_file_ids: string[] };
          expect(body.ref_file_ids.length).toBe(1);
          expectStyle(body.prompt, style);
          expect(lastUserBlock(body.prompt)).toBe(HISTORY_CONTINUE_USER_LINE);
        } finally {
          await admin.put("/admin/settings", { current_input_file: { prompt_chars: null } });
        }
      });
    });
  }
});
