/**
 * toolcalls.md §5 parser (P) and schema (S) regression cases, plus the compat fixtures. Where the
 * doc marks a reference defect, or where our policy differs (undeclared names and rejected blocks
 * stay visible text), the corrected behaviour is expected; those rows say so.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { parseToolCalls } from "../src/core/toolcalls/parse.ts";
import { coerceToSchema } from "../src/core/toolcalls/schema.ts";
import type { ParsedToolCall, ToolSpec } from "../src/core/toolcalls/types.ts";
import { chunkings, runSieve, visibleText, callsOf } from "./toolcalls-helpers.ts";
import { FIXTURES_URL } from "./support/fixtures.ts";

const str = { type: "string" };
const tool = (name: string, properties?: Record<string, unknown>): ToolSpec =>
  properties ? { name, parameters: { type: "object", properties } } : { name };

const T = {
  bash: tool("Bash", { command: str, description: str, timeout: { type: "number" } }),
  read: tool("read_file", { path: str }),
  write: tool("Write", { file_path: str, content: str }),
  todo: tool("update_todo_list"),
  todoWrite: tool("TodoWrite"),
  exec: tool("execute_command"),
  noop: tool("noop"),
  ask: tool("AskUserQuestion"),
  settings: tool("settings", { count: { type: "integer" }, max_tokens: { type: "integer" }, enabled: { type: "boolean" } }),
};
const ALL = Object.values(T);

const P = (s: string) => `<tool_calls><invoke name="Bash">${s}</invoke></tool_calls>`;
const D = (inner: string) => `<|DSML|tool_calls>\n  <|DSML|invoke name="Bash">\n${inner}\n  </|DSML|invoke>\n</|DSML|tool_calls>`;
const dp = (name: string, v: string) => `    <|DSML|parameter name="${name}">${v}</|DSML|parameter>`;

const HEREDOC = `git commit -m "$(cat <<'EOF'\nfix: keep wrapper\n\nCo-Authored-By: Bot <bot@example.com>\nEOF\n)"`;
const TODOS = Array.from({ length: 8 }, (_, i) => `[${i < 3 ? "x" : " "}] step ${i + 1}`).join("\n");
const TOOL_EXAMPLE = `<tool_calls><invoke name="read_file"><parameter name="path">a.md</parameter></invoke></tool_calls>`;
const FENCED_DSML_SCRIPT =
  "cat > doc.md <<'EOF'\n```xml\n<|DSML|tool_calls><|DSML|invoke name=\"x\"><|DSML|parameter name=\"p\"><![CDATA[v]]></|DSML|parameter></|DSML|invoke></|DSML|tool_calls>\n```\nA literal `]]>` must be split.\nEOF";
const FENCED_CONTENT = "```xml\n" + D(dp("command", "<![CDATA[ls]]>")) + "\n```\ntail";

interface Row {
  id: string;
  text: string;
  tools?: ToolSpec[];
  calls: ParsedToolCall[];
  /** Expected remaining text; default: the input when there are no calls. */
  rest?: string;
  note?: string;
}

const rows: Row[] = [
  {
    id: "P01",
    text: P(`<parameter name="command">pwd</parameter><parameter name="description">show cwd</parameter>`),
    tools: [tool("bash")],
    calls: [{ name: "bash", arguments: { command: "pwd", description: "show cwd" } }],
    note: "name resolved case-insensitively and returned in the declared spelling",
  },
  { id: "P02", text: D(dp("command", "<![CDATA[pwd]]>")), calls: [{ name: "Bash", arguments: { command: "pwd" } }] },
  {
    id: "P03",
    text: `<dsml-tool-calls>\n<dsml-invoke name="Bash">\n<dsml-parameter name="command"><![CDATA[${HEREDOC}]]></dsml-parameter>\n<dsml-parameter name="description"><![CDATA[commit]]></dsml-parameter>\n</dsml-invoke>\n</dsml-tool-calls>`,
    calls: [{ name: "Bash", arguments: { command: HEREDOC, description: "commit" } }],
  },
  { id: "P04", text: `<tool-calls><invoke name="Bash"><parameter name="command">pwd</parameter></invoke></tool-calls>`, calls: [] },
  {
    id: "P05",
    text: `<|DSML|tool_calls| \n<|DSML|invoke name="Bash">\n<|DSML|parameter name="command"><![CDATA[sleep 1]]></|DSML|parameter>\n<|DSML|parameter name="timeout"><![CDATA[10]]></|DSML|parameter>\n</|DSML|invoke>\n</|DSML|tool_calls>`,
    calls: [{ name: "Bash", arguments: { command: "sleep 1", timeout: 10 } }],
  },
  {
    id: "P06",
    text: `<<|DSML|tool_calls>\n<<|DSML|invoke name="Bash">\n<<|DSML|parameter name="command"><![CDATA[pwd]]></|DSML|parameter>\n</|DSML|invoke>\n</|DSML|tool_calls>`,
    calls: [{ name: "Bash", arguments: { command: "pwd" } }],
  },
  {
    id: "P07",
    text: `<<DSML|DSML|tool_calls>\n<<DSML|DSML|invoke name="Bash">\n<<DSML|DSML|parameter name="command"><![CDATA[git status]]></DSML|DSML|parameter>\n</DSML|DSML|invoke>\n</DSML|DSML|tool_calls>`,
    calls: [{ name: "Bash", arguments: { command: "git status" } }],
  },
  {
    id: "P08a",
    text: `<|DSML tool_calls>\n<|DSML invoke name="Bash">\n<|DSML parameter name="command"><![CDATA[pwd]]></|DSML parameter>\n</|DSML invoke>\n</|DSML tool_calls>`,
    calls: [{ name: "Bash", arguments: { command: "pwd" } }],
  },
  {
    id: "P08b",
    text: `<|DSML tool_calls_extra>\n<|DSML invoke name="Bash">\n<|DSML parameter name="command"><![CDATA[pwd]]></|DSML parameter>\n</|DSML invoke>\n</|DSML tool_calls_extra>`,
    calls: [],
  },
  {
    id: "P09a",
    text: `[]\n<DSMLtool_calls><DSMLinvoke name="update_todo_list"><DSMLparameter name="todos"><![CDATA[${TODOS}]]></DSMLparameter></DSMLinvoke></DSMLtool_calls>`,
    calls: [{ name: "update_todo_list", arguments: { todos: TODOS } }],
    rest: "[]\n",
  },
  {
    id: "P09b",
    text: `<DSMLtool_calls_extra><DSMLinvoke name="update_todo_list"><DSMLparameter name="todos"><![CDATA[x]]></DSMLparameter></DSMLinvoke></DSMLtool_calls_extra>`,
    calls: [],
  },
  {
    id: "P10",
    text: `<|DSML|tool_calls><invoke name="Bash"><|DSML|parameter name="command"><![CDATA[pwd]]></|DSML|parameter></invoke></|DSML|tool_calls>`,
    calls: [{ name: "Bash", arguments: { command: "pwd" } }],
  },
  {
    id: "P11",
    text: `<tool_calls><invoke name="Write"><parameter name="file_path"><![CDATA[doc.md]]></parameter><parameter name="content"><![CDATA[${TOOL_EXAMPLE}]]></parameter></invoke></tool_calls>`,
    calls: [{ name: "Write", arguments: { file_path: "doc.md", content: TOOL_EXAMPLE } }],
  },
  {
    id: "P12",
    text: D(`${dp("command", `<![CDATA[${FENCED_DSML_SCRIPT}]]>`)}\n${dp("description", "<![CDATA[write doc]]>")}`),
    calls: [{ name: "Bash", arguments: { command: FENCED_DSML_SCRIPT, description: "write doc" } }],
  },
  {
    id: "P13",
    text: `<tool_calls><invoke name="Write"><parameter name="content"><![CDATA[${FENCED_CONTENT}]]></parameter></invoke></tool_calls>`,
    calls: [{ name: "Write", arguments: { content: FENCED_CONTENT } }],
  },
  {
    id: "P14",
    text: P(`<parameter name="command">ls</parameter><parameter name="description"><![CDATA[<b>urgent</b>]]></parameter>`),
    calls: [{ name: "Bash", arguments: { command: "ls", description: "<b>urgent</b>" } }],
  },
  {
    id: "P15",
    text: `<tool_calls><invoke name="Write"><parameter name="content"><![CDATA[hello world</parameter></invoke></tool_calls>`,
    calls: [{ name: "Write", arguments: { content: "hello world" } }],
  },
  {
    id: "P16",
    text: `<tool_calls><invoke name="settings"><parameter name="count">123</parameter><parameter name="max_tokens"><![CDATA[256]]></parameter><parameter name="enabled">true</parameter></invoke></tool_calls>`,
    calls: [{ name: "settings", arguments: { count: 123, max_tokens: 256, enabled: true } }],
  },
  {
    id: "P17",
    text: `<tool_calls><invoke name="AskUserQuestion"><parameter name="questions"><item><question>Pick?</question><header>H</header><options><item><label>A</label><description>first</description></item><item><label>B</label><description>second</description></item></options><multiSelect>false</multiSelect></item></parameter></invoke></tool_calls>`,
    calls: [
      {
        name: "AskUserQuestion",
        arguments: {
          questions: [
            {
              question: "Pick?",
              header: "H",
              options: [
                { label: "A", description: "first" },
                { label: "B", description: "second" },
              ],
              multiSelect: false,
            },
          ],
        },
      },
    ],
  },
  {
    id: "P18",
    text: `<tool_calls><invoke name="TodoWrite"><parameter name="todos"><![CDATA[<item><activeForm>Doing A</activeForm><content>A</content><status>in_progress</status></item><br><item><activeForm>Doing B</activeForm><content>B</content><status>pending</status></item>]]></parameter></invoke></tool_calls>`,
    calls: [
      {
        name: "TodoWrite",
        arguments: {
          todos: [
            { activeForm: "Doing A", content: "A", status: "in_progress" },
            { activeForm: "Doing B", content: "B", status: "pending" },
          ],
        },
      },
    ],
  },
  {
    id: "P19",
    text: `<tool_calls><invoke name="TodoWrite"><parameter name="todos"><![CDATA[<item>one</item>]]></parameter></invoke></tool_calls>`,
    calls: [{ name: "TodoWrite", arguments: { todos: ["one"] } }],
  },
  {
    id: "P20a",
    text: `<tool_calls><invoke name="TodoWrite"><parameter name="todos">{"content":"A","status":"completed"}, {"content":"B","status":"pending"}</parameter></invoke></tool_calls>`,
    calls: [{ name: "TodoWrite", arguments: { todos: [{ content: "A", status: "completed" }, { content: "B", status: "pending" }] } }],
  },
  {
    id: "P20b",
    text: `<tool_calls><invoke name="TodoWrite"><parameter name="todos"><![CDATA[{"content":"A","status":"completed"}, {"content":"B","status":"pending"}]]></parameter></invoke></tool_calls>`,
    calls: [{ name: "TodoWrite", arguments: { todos: [{ content: "A", status: "completed" }, { content: "B", status: "pending" }] } }],
  },
  {
    id: "P21",
    text: `<tool_calls><invoke name="TodoWrite"><parameter name="content"><![CDATA[{"a":1}, {"b":2}]]></parameter></invoke></tool_calls>`,
    calls: [{ name: "TodoWrite", arguments: { content: `{"a":1}, {"b":2}` } }],
  },
  {
    id: "P22",
    text: `<tool_calls><invoke name="AskUserQuestion"><parameter name="questions"><![CDATA[<question>Pick one</question><options><item><label>A</label></item><item><label>B</label></item></options>]]></parameter></invoke></tool_calls>`,
    calls: [{ name: "AskUserQuestion", arguments: { questions: { question: "Pick one", options: [{ label: "A" }, { label: "B" }] } } }],
  },
  {
    id: "P23a",
    text: P(`<parameter name="command">echo a &gt; out.txt</parameter>`),
    calls: [{ name: "Bash", arguments: { command: "echo a > out.txt" } }],
  },
  {
    id: "P23b",
    text: P(`<parameter name="command"><![CDATA[make && echo 'done' && test "$x" = 'y']]></parameter>`),
    calls: [{ name: "Bash", arguments: { command: `make && echo 'done' && test "$x" = 'y'` } }],
  },
  {
    id: "P24",
    text: `<tool_calls><invoke name="execute_command"><parameter name="tool_name">file.txt</parameter></invoke></tool_calls>`,
    calls: [{ name: "execute_command", arguments: { tool_name: "file.txt" } }],
  },
  {
    id: "P25",
    text: P(`<parameter name="command"> </parameter><parameter name="description"></parameter>`),
    calls: [],
    note: "0 calls as in the reference; the rejected block stays visible text instead of vanishing (§6.2.4)",
  },
  { id: "P26", text: `<tool_calls><invoke name="noop"></invoke></tool_calls>`, calls: [{ name: "noop", arguments: {} }] },
  {
    id: "P27a",
    text: P(`{"input":{"command":"pwd","description":"show cwd"}}`),
    calls: [{ name: "Bash", arguments: { command: "pwd", description: "show cwd" } }],
  },
  {
    id: "P27b",
    text: `<tool_calls><invoke name="noop">{"a":1}</invoke></tool_calls>`,
    calls: [{ name: "noop", arguments: { a: 1 } }],
    note: "reference defect (v): a JSON body without input/parameters lost its data; we use the object",
  },
  { id: "P28", text: `<tool_calls><invoke name="read_file"><parameter name="path">README.md</function></invoke></tool_calls>`, calls: [] },
  { id: "P29", text: `<tool_calls><invoke><parameter name="path">README.md</parameter></invoke></tool_calls>`, calls: [] },
  {
    id: "P30a",
    text: `<tools><tool_call><tool_name>read_file</tool_name><param>{"path":"a"}</param></tool_call></tools>`,
    calls: [],
  },
  {
    id: "P30b",
    text: `<tool_calls><invoke name="read_file"><tool_name>read_file</tool_name><param>{"path":"a"}</param></invoke></tool_calls>`,
    calls: [],
  },
  { id: "P31", text: `<invoke name="read_file"><parameter name="path">README.md</parameter></invoke>`, calls: [] },
  {
    id: "P32",
    text: `Before it.\n<invoke name="read_file"><parameter name="path">README.md</parameter></invoke>\n</tool_calls>\nafter`,
    calls: [{ name: "read_file", arguments: { path: "README.md" } }],
    rest: "Before it.\n\nafter",
  },
  { id: "P33a", text: "```xml\n" + TOOL_EXAMPLE + "\n```", calls: [] },
  {
    id: "P33b",
    text: "```xml\n" + TOOL_EXAMPLE + "\n```\n" + P(`<parameter name="command">ls</parameter>`),
    calls: [{ name: "Bash", arguments: { command: "ls" } }],
    rest: "```xml\n" + TOOL_EXAMPLE + "\n```\n",
  },
  {
    id: "P33c",
    text: "````md\n```xml\n" + TOOL_EXAMPLE + "\n```\n````\n" + P(`<parameter name="command">ls</parameter>`),
    calls: [{ name: "Bash", arguments: { command: "ls" } }],
    rest: "````md\n```xml\n" + TOOL_EXAMPLE + "\n```\n````\n",
  },
  {
    id: "P34",
    text: "We support canonical `<tool_calls>` and DSML `<|DSML|tool_calls>` wrappers.\n" + D(dp("command", "<![CDATA[ls]]>")),
    calls: [{ name: "Bash", arguments: { command: "ls" } }],
    rest: "We support canonical `<tool_calls>` and DSML `<|DSML|tool_calls>` wrappers.\n",
  },
  { id: "P35", text: `{"tool_calls":[{"name":"read_file","input":{"path":"README.MD"}}]}`, calls: [] },
  {
    id: "P36",
    text: `<tool_calls><invoke name="delete_everything"><parameter name="path">/</parameter></invoke></tool_calls>`,
    calls: [],
    note: "policy: an undeclared name is not executed; the block stays text",
  },
  {
    id: "P37",
    text: `<tool_calls><invoke name="TodoWrite"><parameter name="item">first</parameter><parameter name="item">second</parameter></invoke></tool_calls>`,
    calls: [{ name: "TodoWrite", arguments: { item: ["first", "second"] } }],
  },
  { id: "P38a", text: "Before\n~~~\n" + TOOL_EXAMPLE + "\n~~~\nAfter", calls: [] },
  {
    id: "P38b",
    text: "Before\n```bash\nls\n" + P(`<parameter name="command">ls</parameter>`),
    calls: [{ name: "Bash", arguments: { command: "ls" } }],
    rest: "Before\n```bash\nls\n",
    note: "reference defect (v): an unclosed fence hid the real call; we execute it",
  },
  {
    id: "P39",
    text: `<tool_calls><invoke name="Write">{"input":{"file_path":"D:\\tmp\\new\\readme.txt","content":"line1\\nline2"}}</invoke></tool_calls>`,
    calls: [{ name: "Write", arguments: { file_path: "D:\\tmp\\new\\readme.txt", content: "line1\nline2" } }],
  },
  {
    id: "P40a",
    text: `<tool_calls><invoke name="noop">{name: "search", input: {q: "go"}}</invoke></tool_calls>`,
    calls: [{ name: "noop", arguments: { q: "go" } }],
  },
  {
    id: "P40b",
    text: `<tool_calls><invoke name="TodoWrite">{"todos": {"id":1}, {"id":2}}</invoke></tool_calls>`,
    calls: [{ name: "TodoWrite", arguments: { todos: [{ id: 1 }, { id: 2 }] } }],
  },
  {
    id: "P41",
    text: `<tool_calls><invoke name="noop">{"input":{"dir":"C:\\Users\\name","mark":"\\u2705","bad":"\\u123"}}</invoke></tool_calls>`,
    calls: [{ name: "noop", arguments: { dir: "C:\\Users\name", mark: "\u2705", bad: "\\u123" } }],
  },
  {
    id: "P42",
    text: `<tool_calls><invoke name="Write"><parameter name="content"><![CDATA[a]]]]><![CDATA[>b]]></parameter></invoke></tool_calls>`,
    calls: [{ name: "Write", arguments: { content: "a]]>b" } }],
    note: "reference defect (v): multi-section CDATA is decoded",
  },
  {
    id: "P43",
    text: "Run `" + TOOL_EXAMPLE + "` to read it.",
    calls: [],
    note: "reference defect (v): a complete block in inline code is not executed",
  },
];

describe("toolcalls.md §5 parser cases", () => {
  for (const row of rows) {
    test(`${row.id}${row.note ? ` (${row.note})` : ""}`, () => {
      const tools = row.tools ?? ALL;
      const r = parseToolCalls(row.text, tools);
      expect(r.calls).toEqual(row.calls);
      expect(r.text).toBe(row.rest ?? (row.calls.length ? "" : row.text));
      // The streaming sieve agrees at a sample of chunkings.
      for (const chunks of chunkings(row.text, 3).filter((_, i, all) => i % Math.max(1, Math.floor(all.length / 12)) === 0)) {
        const outs = runSieve(chunks, tools);
        expect(callsOf(outs)).toEqual(row.calls);
        expect(visibleText(outs)).toBe(r.text);
      }
    });
  }

  test("P05 without a schema: CDATA stays a string (CDATA means text)", () => {
    const r = parseToolCalls(D(dp("timeout", "<![CDATA[10]]>")), [tool("Bash")]);
    expect(r.calls).toEqual([{ name: "Bash", arguments: { timeout: "10" } }]);
  });

  test("P16 without a schema: plain literals are sniffed, CDATA is not", () => {
    const r = parseToolCalls(
      `<tool_calls><invoke name="s"><parameter name="count">123</parameter><parameter name="m"><![CDATA[256]]></parameter><parameter name="e">true</parameter></invoke></tool_calls>`,
      [tool("s")],
    );
    expect(r.calls[0]!.arguments).toEqual({ count: 123, m: "256", e: true });
  });

  test("native DeepSeek string attribute and function_calls wrapper", () => {
    const text = `<｜DSML｜function_calls>\n<｜DSML｜invoke name="Bash">\n<｜DSML｜parameter name="command" string="true">007</｜DSML｜parameter>\n<｜DSML｜parameter name="timeout" string="false">5</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜function_calls>`;
    expect(parseToolCalls(text, [tool("Bash")]).calls).toEqual([{ name: "Bash", arguments: { command: "007", timeout: 5 } }]);
  });

  test("a block mixing a declared and an undeclared tool stays text as a whole", () => {
    const text = `<tool_calls><invoke name="Bash"><parameter name="command">ls</parameter></invoke><invoke name="rm_rf"><parameter name="p">/</parameter></invoke></tool_calls>`;
    expect(parseToolCalls(text, ALL)).toEqual({ calls: [], text, incomplete: false });
  });

  test("no tools declared: nothing is a call", () => {
    expect(parseToolCalls(TOOL_EXAMPLE, []).calls).toEqual([]);
  });
});

describe("toolcalls.md §5 schema cases", () => {
  test("S01 nested coercion to strings", () => {
    const schema = {
      type: "object",
      properties: {
        taskId: str,
        payload: { type: "object", properties: { content: str, tags: { type: "array", items: str }, count: { type: "number" } } },
      },
    };
    const out = coerceToSchema({ taskId: 1, payload: { content: { text: "hello" }, tags: [1, true, { k: "v" }], count: 2 } }, schema);
    expect(out).toEqual({ taskId: "1", payload: { content: JSON.stringify({ text: "hello" }), tags: ["1", "true", JSON.stringify({ k: "v" })], count: 2 } });
  });
  test("S02 input_schema string field given an array", () => {
    expect(coerceToSchema({ content: ["a", 1] }, { type: "object", properties: { content: str } })).toEqual({ content: JSON.stringify(["a", 1]) });
  });
  test("S03 ambiguous union left alone", () => {
    expect(coerceToSchema({ taskId: 1 }, { properties: { taskId: { type: ["string", "integer"] } } })).toEqual({ taskId: 1 });
  });
  test("S04 object into string", () => {
    expect(coerceToSchema({ content: { message: "hi" } }, { properties: { content: str } })).toEqual({ content: JSON.stringify({ message: "hi" }) });
  });
  test("S05 array of objects preserved", () => {
    const todos = [{ id: 1, done: false }, { id: 2, done: true }];
    expect(coerceToSchema({ todos }, { properties: { todos: { type: "array", items: { type: "object" } } } })).toEqual({ todos });
  });
  test("S06 enum/const/nullable strings; integer from a numeric string (reference defect: stayed a string)", () => {
    const schema = {
      properties: {
        e: { enum: ["1", "2"] },
        c: { const: "true" },
        n: { type: ["string", "null"] },
        i: { type: "integer" },
        z: str,
      },
    };
    expect(coerceToSchema({ e: 1, c: true, n: 3, i: "5", z: null }, schema)).toEqual({ e: "1", c: "true", n: "3", i: 5, z: null });
  });
  test("string → boolean / number / object / array, lone value → one-element array, anyOf, $ref, Gemini type names", () => {
    const schema = {
      type: "OBJECT",
      $defs: { flag: { type: "boolean" } },
      properties: {
        b: { $ref: "#/$defs/flag" },
        x: { type: "NUMBER" },
        o: { type: "object", properties: { k: { type: "integer" } } },
        a: { type: "array", items: { type: "integer" } },
        one: { type: "array", items: str },
        u: { anyOf: [{ type: "integer" }, { type: "null" }] },
      },
    };
    const out = coerceToSchema({ b: "false", x: "2.5", o: '{"k":"7"}', a: "[1, 2]", one: "solo", u: "9" }, schema);
    expect(out).toEqual({ b: false, x: 2.5, o: { k: 7 }, a: [1, 2], one: ["solo"], u: 9 });
  });
});

describe("compat fixtures", () => {
  for (const name of ["canonical_tool_call", "canonical_nested_param"]) {
    test(name, () => {
      const base = new URL("upstream/compat/", FIXTURES_URL);
      const fx = JSON.parse(readFileSync(new URL(`fixtures/toolcalls/${name}.json`, base), "utf8")) as { text: string; tool_names: string[] };
      const want = JSON.parse(readFileSync(new URL(`expected/toolcalls_${name}.json`, base), "utf8")) as {
        calls: Array<{ name: string; input: Record<string, unknown> }>;
      };
      const r = parseToolCalls(fx.text, fx.tool_names.map((n) => ({ name: n })));
      expect(r.calls).toEqual(want.calls.map((c) => ({ name: c.name, arguments: c.input })));
      expect(r.text).toBe("");
    });
  }
});
