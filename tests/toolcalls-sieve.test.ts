/**
 * toolcalls.md §5 streaming-sieve cases (Q01–Q37). Each case is replayed at every 2-way split,
 * char by char and at random k-way splits; all chunkings must give the same outputs (after merging
 * adjacent text) as the one-shot run, and no accepted call's markup may reach the text.
 */
import { describe, expect, test } from "bun:test";
import { ToolCallSieve } from "../src/core/toolcalls/sieve.ts";
import type { ParsedToolCall, SieveOutput, ToolSpec } from "../src/core/toolcalls/types.ts";
import { callsOf, chunkings, mergeText, runSieve, visibleText } from "./toolcalls-helpers.ts";

const str = { type: "string" };
const TOOLS: ToolSpec[] = [
  { name: "read_file", parameters: { type: "object", properties: { path: str } } },
  { name: "Bash", parameters: { type: "object", properties: { command: str, description: str } } },
  { name: "Write", parameters: { type: "object", properties: { file_path: str, content: str } } },
];

const readBlock = (path: string) =>
  `<tool_calls>\n  <invoke name="read_file">\n    <parameter name="path">${path}</parameter>\n  </invoke>\n</tool_calls>`;
const dsmlBash = (...cmds: string[]) =>
  `<|DSML|tool_calls>\n${cmds
    .map((c) => `  <|DSML|invoke name="Bash">\n    <|DSML|parameter name="command"><![CDATA[${c}]]></|DSML|parameter>\n  </|DSML|invoke>`)
    .join("\n")}\n</|DSML|tool_calls>`;

interface Case {
  id: string;
  chunks: string[];
  calls: ParsedToolCall[][];
  /** Expected visible text; default: "" when there are calls, else the whole input. */
  text?: string;
  incomplete?: boolean;
  /** Strings that must not appear in the visible text. */
  absent?: string[];
  note?: string;
}

const read = (path: string): ParsedToolCall => ({ name: "read_file", arguments: { path } });
const bash = (command: string): ParsedToolCall => ({ name: "Bash", arguments: { command } });

const PAYLOAD = Array.from({ length: 4096 }, (_, i) => "abcdefghij\n<>&]"[i % 15]).join("");
const INNER_FENCE = "Example:\n```xml\n<tool_calls><invoke name=\"x\"></invoke></tool_calls>\n```\nend";
const GIT_COMMIT = "git commit -m \"$(cat <<'EOF'\nreview fixes\nEOF\n)\"";
const REVIEW =
  "Review: the parser accepts <dsml|tool_calls>, <|tool_calls>, <｜tool_calls> and <|DSML|tool_calls> as wrappers.\n\n";

const cases: Case[] = [
  {
    id: "Q01",
    chunks: ["<tool_calls>\n", '  <invoke name="read_file">\n', '<parameter name="path">README.MD</parameter>\n', "  </invoke>\n", "</tool_calls>"],
    calls: [[read("README.MD")]],
    absent: ["<invoke", "read_file"],
  },
  {
    id: "Q02",
    chunks: ["<|DSML|tool", "_calls>\n", '  <|DSML|invoke name="read_file">\n', '    <|DSML|parameter name="path"><![CDATA[a.md]]></|DSML|parameter>\n', "  </|DSML|invoke>\n", "</|DSML|tool_calls>"],
    calls: [[read("a.md")]],
    absent: ["DSML", "dsml"],
  },
  {
    id: "Q03",
    chunks: [`<tool_calls><invoke name="Write"><parameter name="content"><![CDATA[${PAYLOAD.slice(0, 2000)}`, `${PAYLOAD.slice(2000)}]]></parameter></invoke></tool_calls>`],
    calls: [[{ name: "Write", arguments: { content: PAYLOAD } }]],
  },
  {
    id: "Q04",
    chunks: [
      `<tool_calls><invoke name="Write"><parameter name="content"><![CDATA[${INNER_FENCE.slice(0, INNER_FENCE.indexOf("</tool_calls>") + 13)}`,
      `${INNER_FENCE.slice(INNER_FENCE.indexOf("</tool_calls>") + 13)}]]></parameter></invoke></tool_calls>`,
    ],
    calls: [[{ name: "Write", arguments: { content: INNER_FENCE } }]],
  },
  {
    id: "Q05",
    chunks: ['<tool_calls>\n  <invoke name="Write">\n    <parameter name="content"><![CDATA[', "hello world", "</parameter>\n  </invoke>\n</tool_calls>"],
    calls: [[{ name: "Write", arguments: { content: "hello world" } }]],
  },
  { id: "Q06", chunks: ["Let me check the file.\n", readBlock("a.md")], calls: [[read("a.md")]], text: "Let me check the file.\n" },
  { id: "Q07a", chunks: ["<tool><title>示例 XML</title><body>内容</body></tool>"], calls: [] },
  {
    id: "Q07b",
    chunks: ["<tool><title>示例 XML</title><body>内容</body></tool>\n" + readBlock("b.md")],
    calls: [[read("b.md")]],
    text: "<tool><title>示例 XML</title><body>内容</body></tool>\n",
  },
  {
    id: "Q08",
    chunks: ['<tool_calls><invoke name="read_file"><param>{"path":"README.md"}</param></invoke></tool_calls>'],
    calls: [],
    note: "rejected block stays text (Node behaviour; Go's silent drop is §6.2.4)",
  },
  {
    id: "Q09",
    chunks: [`<|DSML|tool_calls>\n<|DSML|invoke name="Bash">\n<|DSML|parameter name="command"><![CDATA[  ]]></|DSML|parameter>\n</|DSML|invoke>\n</|DSML|tool_calls>`],
    calls: [],
    note: "0 calls; the rejected block stays text instead of vanishing",
  },
  {
    id: "Q10",
    chunks: ["Two examples:\n```", "xml\n" + readBlock("x") + "\n```\nand\n```xml\n" + readBlock("y") + "\n```\n"],
    calls: [],
  },
  { id: "Q11", chunks: ["Example:\n```xml\n<tool_ca", 'lls><invoke name="read_file"><parameter name="path">a</parameter></invoke></tool_calls>\n```\n', "Done."], calls: [] },
  { id: "Q12", chunks: ["Hello <too"], calls: [] },
  {
    id: "Q15",
    chunks: ["<", "tool", "_ca", "lls", ">", "\n", "<", "invoke", ' name="', "read_file", '">', "<", "parameter", ' name="path">', "a.md", "</parameter>", "</invoke>", "\n</tool_", "calls>"],
    calls: [[read("a.md")]],
    absent: ["tool_calls>", "invoke"],
  },
  {
    id: "Q16",
    chunks: ["<tool_calls>\n", '  <invoke name="read_file">\n'],
    calls: [],
    incomplete: true,
    note: "reported as incomplete_call rather than plain text",
  },
  {
    id: "Q17",
    chunks: ["Done with task.\n", "<attempt_completion>\n<result>All good</result>\n</attempt_completion>"],
    calls: [],
  },
  { id: "Q18a", chunks: ['<invoke name="read_file"><parameter name="path">a</parameter></invoke>'], calls: [] },
  { id: "Q18b", chunks: ['Use `<invoke name="read_file">` as plain documentation text.'], calls: [] },
  { id: "Q19", chunks: ['Example: <invoke name="read_file"><parameter name="path">README.md</parameter>', "</invoke> then continue."], calls: [] },
  {
    id: "Q20",
    chunks: ['<invoke name="read_file">\n', '<parameter name="path">c.md</parameter>\n', "</invoke>\n", "</tool_calls>"],
    calls: [[read("c.md")]],
    absent: ["<invoke", "</tool_calls>"],
  },
  {
    id: "Q21",
    chunks: ["<｜DSML|tool", "_calls>\n", dsmlBash("ls", "pwd").slice("<|DSML|tool_calls>\n".length, -"</|DSML|tool_calls>".length), "</|DSML|tool_calls>"],
    calls: [[bash("ls"), bash("pwd")]],
  },
  { id: "Q22", chunks: ["一些正文内容\n", "</tool_calls>\n", "后续内容"], calls: [] },
  { id: "Q23", chunks: ["<tool_calls>\n这里没有 invoke 标签\n</tool_calls>\n后续内容"], calls: [], note: "kept as text (Go dropped the wrapper)" },
  { id: "Q24a", chunks: [readBlock("a"), "\n", readBlock("b")], calls: [[read("a")], [read("b")]], text: "\n" },
  { id: "Q24b", chunks: [readBlock("a") + "\n" + readBlock("b")], calls: [[read("a")], [read("b")]], text: "\n", note: "reference defect (v): Go lost the first block" },
  {
    id: "Q25",
    chunks: ["示例：\n```xml\n", readBlock("fake"), "\n```\n", readBlock("real")],
    calls: [[read("real")]],
    text: "示例：\n```xml\n" + readBlock("fake") + "\n```\n",
  },
  { id: "Q26a", chunks: ["~~~\n" + readBlock("x") + "\n~~~\nafter text"], calls: [] },
  { id: "Q26b", chunks: ["````md\n```xml\n" + readBlock("x") + "\n```\n````\nafter text"], calls: [] },
  { id: "Q26c", chunks: ["```\n" + dsmlBash("ls") + "\n```\n"], calls: [] },
  {
    id: "Q27",
    chunks: [REVIEW, dsmlBash("git add -A", GIT_COMMIT)],
    calls: [[bash("git add -A"), bash(GIT_COMMIT)]],
    text: REVIEW,
    absent: ["git add", "review fixes"],
  },
  {
    id: "Q28",
    chunks: ["这里提到 `", "<|DSML|tool_calls>` 这个标签。\n", dsmlBash("ls"), "\n\n补充"],
    calls: [[bash("ls")]],
    text: "这里提到 `<|DSML|tool_calls>` 这个标签。\n\n\n补充",
  },
  { id: "Q30a", chunks: ['{"tool_calls":[{"name":"read_file",', '"input":{"path":"a"}}]}'], calls: [] },
  { id: "Q30b", chunks: ["Before ", "{'tool_calls': [{'name': 'read_file'}]}", " after"], calls: [] },
  { id: "Q31", chunks: ["前置正文H。", '<tool_calls id="x"><invoke name="read_file"><parameter name="path">d</parameter></invoke></tool_calls>', "后置正文I。"], calls: [[read("d")]], text: "前置正文H。后置正文I。" },
  { id: "Q32", chunks: ["The tool_calls field lists tool_calls made."], calls: [] },
  {
    id: "Q33",
    chunks: ["前置说明\n```json\n", "x".repeat(700), '\n{"tool_calls":[{"name":"read_file","input":{"path":"a"}}]}\n```', "\nlater text"],
    calls: [],
  },
  { id: "Q34", chunks: ["I will use <tool_calls> soon", " and more text"], calls: [] },
  {
    id: "Q35a",
    chunks: ["Note <![CDATA[ unclosed\n", readBlock("e")],
    calls: [[read("e")]],
    text: "Note <![CDATA[ unclosed\n",
    note: "reference defect (v): an unclosed CDATA in prose hid the block",
  },
  { id: "Q35b", chunks: ["Note <!-- unclosed\n", readBlock("f")], calls: [[read("f")]], text: "Note <!-- unclosed\n" },
  {
    id: "Q36",
    chunks: ["Example:", "\n", "```xml\n", readBlock("g"), "\n```\n", "done"],
    calls: [],
    note: "reference defect (v): the fence after a newline-only chunk was missed",
  },
  { id: "Q37", chunks: ["\n\n<tool_calls>", '<invoke name="read_file"><parameter name="path">h</parameter></invoke></tool_calls>'], calls: [[read("h")]], text: "\n\n" },
];

function groups(outs: SieveOutput[]): ParsedToolCall[][] {
  return outs.flatMap((o) => (o.type === "tool_calls" ? [o.calls] : []));
}

describe("toolcalls.md §5 sieve cases, every chunking", () => {
  for (const c of cases) {
    test(`${c.id}${c.note ? ` (${c.note})` : ""}`, () => {
      const input = c.chunks.join("");
      const reference = runSieve(c.chunks, TOOLS);
      expect(groups(reference)).toEqual(c.calls);
      const want = c.text ?? (c.calls.length ? "" : input);
      expect(visibleText(reference)).toBe(want);
      expect(reference.some((o) => o.type === "incomplete_call")).toBe(!!c.incomplete);
      for (const a of c.absent ?? []) expect(visibleText(reference)).not.toContain(a);
      const oneShot = runSieve([input], TOOLS);
      expect(oneShot).toEqual(reference);
      for (const chunks of chunkings(input)) expect(runSieve(chunks, TOOLS)).toEqual(reference);
    });
  }
});

describe("latency: what is held back, and for how long", () => {
  const pushed = (chunks: string[]) => {
    const s = new ToolCallSieve(TOOLS);
    return chunks.map((c) => mergeText(s.push(c)));
  };
  const firstText = (outs: SieveOutput[]) => visibleText(outs);

  test("Q12/Q14 partial tag starts are held, everything else is released at once", () => {
    const held: Array<[string, string]> = [
      ["Hello <too", "Hello "],
      ["Hello <tool_ca", "Hello "],
      ["Hello <|DSML|tool_calls|", "Hello "],
      ["Hello <<|DSML|tool_calls", "Hello "],
      ["Hello <inv", "Hello "],
      ["Text <", "Text "],
      ["Hi <|DS", "Hi "],
      ["Hi <｜", "Hi "],
      ["Hello <tool_name", "Hello <tool_name"],
      ["a < b > c", "a < b > c"],
      ["Text <tool_calls>done", "Text <tool_calls>done"],
      ["<tool_cat is fun", "<tool_cat is fun"],
    ];
    for (const [input, now] of held) expect(firstText(pushed([input])[0]!)).toBe(now);
  });

  test("Q04 nothing is emitted until the outer close arrives", () => {
    const c = cases.find((x) => x.id === "Q04")!;
    const [first, second] = pushed(c.chunks);
    expect(first).toEqual([]);
    expect(groups(second!)).toEqual(c.calls);
  });

  test("Q18 an inline invoke mention streams without waiting for the end", () => {
    const text = 'Use `<invoke name="read_file">` as plain documentation text.';
    expect(firstText(pushed([text])[0]!)).toBe(text);
  });

  test("Q34 a wrapper mentioned in prose is released as soon as prose follows (reference stalled to the end)", () => {
    const out = pushed(["I will use <tool_calls>", " soon"]);
    expect(firstText(out[0]!)).toBe("I will use ");
    expect(firstText(out[1]!)).toBe("<tool_calls> soon");
  });

  test("text before a block is released before the block completes; calls come before later text", () => {
    const out = pushed(["Intro.\n<tool_calls><invoke name=\"read_file\">", '<parameter name="path">z</parameter></invoke></tool_calls>Outro']);
    expect(out[0]).toEqual([{ type: "text", text: "Intro.\n" }]);
    expect(out[1]).toEqual([{ type: "tool_calls", calls: [read("z")] }, { type: "text", text: "Outro" }]);
  });

  test("whitespace-only chunks are passed through, never trimmed", () => {
    const all = runSieve(["a", " ", "\n", "\t", "b"], TOOLS);
    expect(visibleText(all)).toBe("a \n\tb");
  });

  test("a stray closing wrapper right after a block is dropped", () => {
    const all = runSieve([readBlock("a") + "\n</tool_calls>\nnext"], TOOLS);
    expect(callsOf(all)).toEqual([read("a")]);
    expect(visibleText(all)).toBe("\nnext");
  });

  test("an unclosed fence that later contains a real block executes it at the end, but holds only that part", () => {
    const out = pushed(["```bash\nls -la\n", readBlock("k")]);
    expect(firstText(out[0]!)).toBe("```bash\nls -la\n");
    expect(out[1]).toEqual([]);
    const s = new ToolCallSieve(TOOLS);
    s.push("```bash\nls -la\n" + readBlock("k"));
    expect(groups(s.end())).toEqual([[read("k")]]);
  });
});

describe("long texts", () => {
  test("a long prose stream with many tags is linear enough to stream char by char", () => {
    const unit = "Some prose with a < b, `code`, <b>bold</b> and a <tool_name> tag.\n";
    const text = unit.repeat(2000) + readBlock("end");
    const s = new ToolCallSieve(TOOLS);
    const outs: SieveOutput[] = [];
    for (let i = 0; i < text.length; i += 3) outs.push(...s.push(text.slice(i, i + 3)));
    outs.push(...s.end());
    const merged = mergeText(outs);
    expect(callsOf(merged)).toEqual([read("end")]);
    expect(visibleText(merged)).toBe(unit.repeat(2000));
  });

  test("a long CDATA call streamed in small chunks keeps its payload exactly", () => {
    const body = Array.from({ length: 3000 }, (_, i) => (i % 97 === 0 ? "```\n</tool_calls>\n```\n" : `line ${i} ]] > <x>\n`)).join("");
    const text = `pre\n<tool_calls><invoke name="Write"><parameter name="content"><![CDATA[${body}]]></parameter></invoke></tool_calls>post`;
    for (const size of [1, 7, 64]) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      const outs = runSieve(chunks, TOOLS);
      expect(outs).toEqual([
        { type: "text", text: "pre\n" },
        { type: "tool_calls", calls: [{ name: "Write", arguments: { content: body } }] },
        { type: "text", text: "post" },
      ]);
    }
  });
});
