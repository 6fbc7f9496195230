/** Prompt-side rendering (toolcalls.md §1, R01–R09), history → parse round trips, and the normalisers. */
import { describe, expect, test } from "bun:test";
import {
  normalizeToolChoice,
  normalizeTools,
  parseToolCalls,
  renderToolCallHistory,
  renderToolPrompt,
  renderToolResult,
  selectTools,
  toolChoiceViolation,
} from "../src/core/toolcalls/index.ts";
import type { ToolSpec } from "../src/core/toolcalls/types.ts";

describe("history rendering (R01–R05)", () => {
  test("R01 exact layout", () => {
    expect(renderToolCallHistory([{ name: "search_web", arguments: '{"query":"latest"}' }])).toBe(
      '<|DSML|tool_calls>\n  <|DSML|invoke name="search_web">\n    <|DSML|parameter name="query"><![CDATA[latest]]></|DSML|parameter>\n  </|DSML|invoke>\n</|DSML|tool_calls>',
    );
  });
  test("R02 attribute escaped, CDATA raw", () => {
    const out = renderToolCallHistory([{ name: "search<&>", arguments: '{"q":"a < b && c > d"}' }]);
    expect(out).toContain('name="search&lt;&amp;&gt;"');
    expect(out).toContain("<![CDATA[a < b && c > d]]>");
  });
  test("R03 keys sorted, multi-line content kept", () => {
    const out = renderToolCallHistory([{ name: "Write", arguments: { path: "a.txt", content: "l1\nl2" } }]);
    expect(out.indexOf('name="content"')).toBeLessThan(out.indexOf('name="path"'));
    expect(out).toContain("<![CDATA[l1\nl2]]>");
  });
  test("R04 concatenated JSON preserved verbatim", () => {
    expect(renderToolCallHistory([{ name: "s", arguments: '{}{"query":"测试"}' }])).toContain('<![CDATA[{}{"query":"测试"}]]>');
  });
  test("R05 nameless calls are dropped; no-argument form", () => {
    expect(renderToolCallHistory([{ name: "", arguments: "{}" }])).toBe("");
    expect(renderToolCallHistory([{ name: "x", arguments: "{}" }])).toContain('<|DSML|invoke name="x"></|DSML|invoke>');
  });
  test("numbers, booleans and null are plain text, not CDATA (fix of §6.2.9)", () => {
    const out = renderToolCallHistory([{ name: "x", arguments: { n: 5, b: false, z: null } }]);
    expect(out).toContain('name="n">5<');
    expect(out).toContain('name="b">false<');
    expect(out).toContain('name="z">null<');
  });
});

describe("history → parse round trip", () => {
  const samples: Array<Record<string, unknown>> = [
    { text: "ends with ]]> and ]]]]> and <![CDATA[ inside", lt: "a < b && c > d </parameter>", uni: "日本語 🎉 ｜DSML｜" },
    { nested: { list: [["a", "b"], ["c"]], deep: { k: "v", n: 1.5, t: true, nil: null } }, one: ["solo"], empty: [], obj: {} },
    { code: "```xml\n<tool_calls><invoke name=\"x\"></invoke></tool_calls>\n```\n", spaces: "  padded  ", nl: "\n\nlead" },
    { num: 0, neg: -3, big: 12345678901, f: false },
    { "odd key": { "a b": 1 }, item: "named item", parameter: { invoke: "x" } },
    { arr: [{ a: 1, b: ["x", "y"] }, { a: 2, b: [] }], str: "007" },
  ];
  test.each(samples.map((s, i) => [i, s] as const))("sample %d round-trips (no schema)", (_i, args) => {
    const tools: ToolSpec[] = [{ name: "t" }];
    const text = renderToolCallHistory([{ name: "t", arguments: args }]);
    const r = parseToolCalls(text, tools);
    expect(r.text).toBe("");
    expect(r.calls).toEqual([{ name: "t", arguments: args }]);
  });
  test("JSON-looking strings round-trip when the schema says string", () => {
    const args = { a: '{"k":1}', b: "[1,2]", c: "123", d: "true", e: "<x>1</x><y>2</y>" };
    const props = Object.fromEntries(Object.keys(args).map((k) => [k, { type: "string" }]));
    const tools: ToolSpec[] = [{ name: "t", parameters: { type: "object", properties: props } }];
    const r = parseToolCalls(renderToolCallHistory([{ name: "t", arguments: args }]), tools);
    expect(r.calls).toEqual([{ name: "t", arguments: args }]);
  });
  test("several calls keep their order", () => {
    const calls = [
      { name: "a", arguments: { x: "1" } },
      { name: "b", arguments: { y: ["2"] } },
    ];
    const r = parseToolCalls(renderToolCallHistory(calls), [{ name: "a" }, { name: "b" }]);
    expect(r.calls).toEqual(calls);
  });
});

describe("tool results", () => {
  test("carry name and call id", () => {
    const out = renderToolResult({ name: "read_file", callId: "call_1", content: "hello" });
    expect(out).toContain("read_file");
    expect(out).toContain("call_1");
    expect(out).toContain("hello");
  });
  test("empty content becomes null", () => {
    expect(renderToolResult({ content: "" })).toBe("null");
  });
});

describe("tool prompt (R07–R09, §1.5)", () => {
  const bash: ToolSpec = { name: "Bash", description: "Run a command", parameters: { type: "object", properties: { command: { type: "string" } } } };
  const read: ToolSpec = { name: "read_file" };
  const custom: ToolSpec = { name: "lookup_order", parameters: { type: "object", properties: { order_id: { type: "integer" } }, required: ["order_id"] } };

  test("R07 format heading, anchor, no-fence rule; no json fence", () => {
    const p = renderToolPrompt([bash], { mode: "auto" });
    expect(p).toContain("TOOL CALL FORMAT");
    expect(p).toContain("The only valid way to call a tool");
    expect(p).toContain("code fence");
    expect(p).not.toContain("```json");
    expect(p).toContain("Tool: Bash\nDescription: Run a command\nParameters: " + JSON.stringify(bash.parameters));
  });
  test("R08 read guard only with a read tool", () => {
    expect(renderToolPrompt([read])).toContain("READ RESULTS");
    expect(renderToolPrompt([{ name: "search" }])).not.toContain("READ RESULTS");
  });
  test("R09 examples use only declared names and the right keys", () => {
    const p = renderToolPrompt([{ name: "exec_command" }, { name: "Write" }]);
    expect(p).toContain('name="cmd"');
    expect(p).toContain('name="file_path"');
    expect(p).not.toContain('name="Read"');
    expect(p).not.toContain('invoke name="Bash"');
  });
  test("every example block in the prompt parses back against the declared tools", () => {
    for (const tools of [[bash, read], [custom], [{ name: "MultiEdit" }, { name: "Task" }, { name: "Write" }]] as ToolSpec[][]) {
      const p = renderToolPrompt(tools);
      const examples = p.slice(p.indexOf("CORRECT EXAMPLES"));
      const r = parseToolCalls(examples, tools);
      expect(r.calls.length).toBeGreaterThan(0);
      expect(r.text).not.toContain("invoke");
    }
  });
  test("schema-derived example for a tool without a canned one", () => {
    const p = renderToolPrompt([custom]);
    expect(p).toContain('<|DSML|invoke name="lookup_order">');
    expect(p).toContain('name="order_id">1<');
  });
  test("tool_choice: none → no prompt; required line; forced tool lists only it; numbering continues", () => {
    expect(renderToolPrompt([bash], { mode: "none" })).toBe("");
    const req = renderToolPrompt([bash], { mode: "required" });
    expect(req).toContain("13) For this reply you MUST call at least one");
    const forced = renderToolPrompt([bash, read], { mode: "tool", name: "read_file" });
    expect(forced).toContain("MUST call exactly this tool: read_file");
    expect(forced).toContain("Do not call any other tool");
    expect(forced).not.toContain("Tool: Bash");
  });
});

describe("normalisers", () => {
  const schema = { type: "object", properties: { q: { type: "string" } } };
  test("all declaration shapes", () => {
    const tools = normalizeTools([
      { type: "function", function: { name: "a", description: "A", parameters: schema } },
      { type: "function", name: "b", parameters: schema },
      { name: "c", description: "C", input_schema: schema },
      { name: "d", inputSchema: schema },
      { name: "e", schema },
      { functionDeclarations: [{ name: "f", description: "F", parameters: schema }, { name: "g", parametersJsonSchema: schema }] },
      { type: "web_search_20250305", name: "web_search" },
      { type: "function", function: { name: "a", description: "dup" } },
      { description: "nameless" },
    ]);
    expect(tools).toEqual([
      { name: "a", description: "A", parameters: schema },
      { name: "b", parameters: schema },
      { name: "c", description: "C", parameters: schema },
      { name: "d", parameters: schema },
      { name: "e", parameters: schema },
      { name: "f", description: "F", parameters: schema },
      { name: "g", parameters: schema },
    ]);
  });
  test("tool_choice shapes", () => {
    expect(normalizeToolChoice(undefined)).toEqual({ mode: "auto" });
    expect(normalizeToolChoice("none")).toEqual({ mode: "none" });
    expect(normalizeToolChoice("required")).toEqual({ mode: "required" });
    expect(normalizeToolChoice({ type: "function", function: { name: "x" } })).toEqual({ mode: "tool", name: "x" });
    expect(normalizeToolChoice({ type: "function", name: "x" })).toEqual({ mode: "tool", name: "x" });
    expect(normalizeToolChoice({ type: "tool", name: "x" })).toEqual({ mode: "tool", name: "x" });
    expect(normalizeToolChoice({ type: "any" })).toEqual({ mode: "required" });
    expect(normalizeToolChoice({ type: "allowed_tools", mode: "required", tools: [{ type: "function", name: "x" }] })).toEqual({ mode: "required", allowed: ["x"] });
    expect(normalizeToolChoice({ functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["x", "y"] } })).toEqual({ mode: "required", allowed: ["x", "y"] });
    expect(normalizeToolChoice({ functionCallingConfig: { mode: "NONE" } })).toEqual({ mode: "none" });
  });
  test("selectTools and violations", () => {
    const tools: ToolSpec[] = [{ name: "a" }, { name: "b" }];
    expect(selectTools(tools, { mode: "tool", name: "b" })).toEqual({ ok: true, tools: [{ name: "b" }] });
    expect(selectTools(tools, { mode: "tool", name: "z" }).ok).toBe(false);
    expect(selectTools([], { mode: "required" }).ok).toBe(false);
    expect(selectTools(tools, { mode: "auto", allowed: ["zz"] }).ok).toBe(false);
    expect(selectTools(tools, { mode: "auto", allowed: ["a"] })).toEqual({ ok: true, tools: [{ name: "a" }] });
    expect(toolChoiceViolation(0, { mode: "required" })).toBeDefined();
    expect(toolChoiceViolation(1, { mode: "required" })).toBeUndefined();
    expect(toolChoiceViolation(0, { mode: "auto" })).toBeUndefined();
  });
});
