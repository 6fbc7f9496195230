import { describe, expect, test } from "bun:test";
import {
  DEFAULT_THINKING_INSTRUCTION,
  HISTORY_CONTINUE_USER_LINE,
  OUTPUT_INTEGRITY_GUARD,
  buildHistoryTranscript,
  buildPrompt,
  historyContinueMessages,
  injectThinkingInstruction,
  normalizeOpenAiMessages,
  shouldUseHistoryFile,
  type CanonicalMessage,
} from "../src/core/prompt/index.ts";

// Markers spelled out from upstream-protocol §6.1: "｜" is U+FF5C, "▁" is U+2581.
const BAR = String.fromCodePoint(0xff5c);
const LOW = String.fromCodePoint(0x2581);
const mk = (name: string) => `<${BAR}${name.replaceAll(" ", LOW)}${BAR}>`;
const BOS = mk("begin of sentence");
const SYS = mk("System");
const USR = mk("User");
const AST = mk("Assistant");
const TOOL = mk("Tool");
const EOI = mk("end of instructions");
const EOS = mk("end of sentence");
const EOT = mk("end of toolresults");

const GUARD_FROM_SPEC =
  "Output integrity guard: If upstream context, tool output, or parsed text contains garbled, corrupted, partially parsed, " +
  "repeated, or otherwise malformed fragments, do not imitate or echo them; output only the correct content for the user.";

describe("buildPrompt", () => {
  test("§6.2 example: system, user, assistant, user, no tools", () => {
    const msgs = normalizeOpenAiMessages([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello!" },
      { role: "user", content: "2+2?" },
    ]);
    const expected =
      BOS + SYS + GUARD_FROM_SPEC + "\n\n" + "Be brief." + EOI + USR + "Hi" + AST + "Hello!" + EOS + USR + "2+2?" + AST;
    expect(OUTPUT_INTEGRITY_GUARD).toBe(GUARD_FROM_SPEC);
    expect(buildPrompt(msgs)).toBe(expected);
  });

  test("guard is not added twice, and can be turned off", () => {
    const msgs: CanonicalMessage[] = [{ role: "system", text: GUARD_FROM_SPEC }, { role: "user", text: "x" }];
    expect(buildPrompt(msgs)).toBe(BOS + SYS + GUARD_FROM_SPEC + EOI + USR + "x" + AST);
    expect(buildPrompt([{ role: "user", text: "x" }], { guard: false })).toBe(BOS + USR + "x" + AST);
  });

  test("tool prompt goes into the first system message, or a new leading one", () => {
    const withSys = buildPrompt(
      [{ role: "user", text: "a" }, { role: "system", text: " S1 " }, { role: "system", text: "S2" }],
      { toolPrompt: "TOOLS", guard: false },
    );
    // The first system message gets the tools; the two adjacent systems then merge.
    expect(withSys).toBe(BOS + USR + "a" + SYS + "S1\n\nTOOLS\n\nS2" + EOI + AST);
    const noSys = buildPrompt([{ role: "user", text: "a" }], { toolPrompt: "TOOLS" });
    expect(noSys).toBe(BOS + SYS + GUARD_FROM_SPEC + "\n\nTOOLS" + EOI + USR + "a" + AST);
  });

  test("assistant: reasoning block, trimmed text, tool-call history; empty assistant dropped", () => {
    const msgs = normalizeOpenAiMessages([
      { role: "user", content: "q" },
      {
        role: "assistant",
        content: "  answer \n",
        reasoning_content: "think",
        tool_calls: [{ id: "c1", type: "function", function: { name: "read_file", arguments: '{"path":"a"}' } }],
      },
      { role: "tool", tool_call_id: "c1", content: "" },
      { role: "assistant", content: "   " },
      { role: "user", content: "next" },
    ]);
    const seen: unknown[] = [];
    const out = buildPrompt(msgs, {
      guard: false,
      renderToolCalls: (calls) => {
        seen.push(calls);
        return `<CALLS ${calls.map((c) => c.name).join(",")}>`;
      },
    });
    expect(seen).toEqual([[{ id: "c1", name: "read_file", arguments: '{"path":"a"}' }]]);
    expect(out).toBe(
      BOS + USR + "q" + AST + "[reasoning_content]\nthink\n[/reasoning_content]\n\nanswer\n\n<CALLS read_file>" + EOS +
        TOOL + "null" + EOT + USR + "next" + AST,
    );
  });

  test("tool results: adjacent ones merge; renderToolResult sees name and call id", () => {
    const msgs = normalizeOpenAiMessages([
      { role: "assistant", content: null, tool_calls: [{ id: "a", function: { name: "f", arguments: {} } }, { id: "b", function: { name: "g", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "a", content: "A" },
      { role: "function", tool_call_id: "b", content: [{ type: "text", text: "B1" }, { type: "text", text: "B2" }] },
    ]);
    expect(msgs[1]!.toolName).toBe("f");
    expect(msgs[2]!.toolName).toBe("g");
    const plain = buildPrompt(msgs, { guard: false });
    expect(plain).toBe(BOS + TOOL + "A\n\nB1\nB2" + EOT + AST);
    const named = buildPrompt(msgs, { guard: false, renderToolResult: (r) => `${r.name}/${r.callId}:${r.content}` });
    expect(named).toBe(BOS + TOOL + "f/a:A\n\ng/b:B1\nB2" + EOT + AST);
  });

  test("last block assistant: no trailing assistant marker (prefill)", () => {
    const out = buildPrompt([{ role: "user", text: "u" }, { role: "assistant", text: "pre" }], { guard: false });
    expect(out).toBe(BOS + USR + "u" + AST + "pre" + EOS);
  });

  test("same-role merge, empty system skipped, unknown role raw, user text untrimmed", () => {
    const out = buildPrompt(
      [
        { role: "system", text: "  " },
        { role: "user", text: " a " },
        { role: "user", text: "b" },
        { role: "narrator", text: "raw" },
      ],
      { guard: false },
    );
    expect(out).toBe(BOS + USR + " a \n\nb" + "raw" + AST);
  });

  test("markdown images become links", () => {
    const out = buildPrompt([{ role: "user", text: "see ![cat pic](http://x/c.png) and ![](y)" }], { guard: false });
    expect(out).toBe(BOS + USR + "see [cat pic](http://x/c.png) and [](y)" + AST);
  });
});

describe("normalizeOpenAiMessages", () => {
  test("roles: developer→system, function→tool, missing→user, empty unknown dropped", () => {
    const msgs = normalizeOpenAiMessages([
      { role: "developer", content: "d" },
      { content: "u" },
      { role: "function", name: "f", content: "r" },
      { role: "critic", content: "  " },
      { role: "Critic", content: "keep" },
      "not an object",
    ]);
    expect(msgs.map((m) => [m.role, m.text])).toEqual([
      ["system", "d"],
      ["user", "u"],
      ["tool", "r"],
      ["critic", "keep"],
    ]);
    expect(msgs[2]!.toolName).toBe("f");
  });

  test("content parts: text kinds joined by newline, others dropped, images collected, objects JSON-encoded", () => {
    const [a, b, c] = normalizeOpenAiMessages([
      {
        role: "user",
        content: [
          { type: "text", text: "one" },
          { type: "image_url", image_url: { url: "data:image/png;base64,AAA" } },
          { type: "input_text", text: "two" },
          { type: "output_text", content: "three" },
          { type: "file", file: { file_id: "f" } },
        ],
      },
      { role: "tool", content: { ok: true, n: 1 } },
      { role: "user", content: null },
    ]);
    expect(a!.text).toBe("one\ntwo\nthree");
    expect(a!.attachments).toEqual([
      { kind: "image", source: { type: "url", url: "data:image/png;base64,AAA" } },
      { kind: "file", source: { type: "file_id", id: "f" }, filename: undefined },
    ]);
    expect(b!.text).toBe(JSON.stringify({ ok: true, n: 1 }));
    expect(c!.text).toBe("");
  });

  test("assistant reasoning from parts, legacy function_call, nameless calls dropped", () => {
    const [m] = normalizeOpenAiMessages([
      {
        role: "assistant",
        content: [{ type: "thinking", thinking: "hmm" }, { type: "text", text: "ok" }],
        tool_calls: [{ id: "x", function: { arguments: "{}" } }],
        function_call: { name: "legacy", arguments: '{"a":1}' },
      },
    ]);
    expect(m!.reasoning).toBe("hmm");
    expect(m!.text).toBe("ok");
    expect(m!.toolCalls).toEqual([{ name: "legacy", arguments: '{"a":1}' }]);
  });
});

describe("thinking injection", () => {
  test("appends to the latest user message once", () => {
    const msgs: CanonicalMessage[] = [
      { role: "user", text: "first" },
      { role: "assistant", text: "a" },
      { role: "user", text: "second" },
      { role: "tool", text: "t" },
    ];
    const once = injectThinkingInstruction(msgs);
    expect(DEFAULT_THINKING_INSTRUCTION.startsWith("Reasoning Effort: Absolute maximum with no shortcuts permitted.")).toBe(true);
    expect(once[0]!.text).toBe("first");
    expect(once[2]!.text).toBe("second\n\n" + DEFAULT_THINKING_INSTRUCTION);
    expect(msgs[2]!.text).toBe("second");
    expect(injectThinkingInstruction(once)).toBe(once);
  });

  test("custom text; no user message leaves the list unchanged", () => {
    const out = injectThinkingInstruction([{ role: "user", text: "q" }], "Think hard.");
    expect(out[0]!.text).toBe("q\n\nThink hard.");
    expect(injectThinkingInstruction(out, "Think hard.")).toBe(out);
    const none: CanonicalMessage[] = [{ role: "system", text: "s" }];
    expect(injectThinkingInstruction(none)).toBe(none);
  });
});

describe("history file (DS2API_HISTORY.txt)", () => {
  test("transcript layout per §6.6", () => {
    const msgs = normalizeOpenAiMessages([
      { role: "developer", content: " sys " },
      { role: "user", content: "hello" },
      { role: "assistant", content: "", reasoning_content: "r", tool_calls: [{ id: "call_1", function: { name: "read_file", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "call_1", content: "file body\n" },
      { role: "user", content: "   " },
      { role: "user", content: "next" },
    ]);
    const text = buildHistoryTranscript(msgs, { renderToolCalls: () => "<DSML>" });
    const expected = [
      "# DS2API_HISTORY.txt",
      "Prior conversation history and tool progress.",
      "",
      "=== 1. SYSTEM ===",
      "sys",
      "",
      "=== 2. USER ===",
      "hello",
      "",
      "=== 3. ASSISTANT ===",
      "[reasoning_content]\nr\n[/reasoning_content]\n\n<DSML>",
      "",
      "=== 4. TOOL ===",
      "[name=read_file tool_call_id=call_1]",
      "file body",
      "",
      "=== 5. USER ===",
      "next",
    ].join("\n") + "\n";
    expect(text).toBe(expected);
    expect(text.includes(GUARD_FROM_SPEC)).toBe(false);
  });

  test("replacement message and live prompt", () => {
    expect(HISTORY_CONTINUE_USER_LINE).toBe(
      "Continue from the latest state in the attached DS2API_HISTORY.txt context. Treat it as the current working state and answer the latest user request directly.",
    );
    const live = buildPrompt(historyContinueMessages(), { toolPrompt: "TOOLS" });
    expect(live).toBe(BOS + SYS + GUARD_FROM_SPEC + "\n\nTOOLS" + EOI + USR + HISTORY_CONTINUE_USER_LINE + AST);
  });

  test("applies when the latest user text is non-empty and long enough", () => {
    expect(shouldUseHistoryFile([{ role: "user", text: "hi" }])).toBe(true);
    expect(shouldUseHistoryFile([{ role: "user", text: "hi" }, { role: "user", text: "  " }])).toBe(false);
    expect(shouldUseHistoryFile([{ role: "system", text: "s" }])).toBe(false);
    expect(shouldUseHistoryFile([{ role: "user", text: "hi" }], 3)).toBe(false);
    expect(shouldUseHistoryFile([{ role: "user", text: "hey" }, { role: "tool", text: "t" }], 3)).toBe(true);
  });
});
