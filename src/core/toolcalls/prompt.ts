/**
 * The tool section of the system prompt (toolcalls.md §1.2, §1.5; upstream-protocol §6.4): tool
 * declarations, the DSML call format, rules, value shapes, wrong patterns, worked examples from the
 * declared tools only, the read-tool cache guard, and tool_choice lines continuing the numbering.
 */
import { buildExamples } from "./prompt-examples.ts";
import { selectTools } from "./normalize.ts";
import type { ToolChoice, ToolSpec } from "./types.ts";

function declarations(tools: readonly ToolSpec[]): string {
  const blocks = tools.map(
    (t) =>
      `Tool: ${t.name}\nDescription: ${t.description?.trim() || "No description available"}\nParameters: ${JSON.stringify(t.parameters ?? { type: "object", properties: {} })}`,
  );
  return `You have access to these tools:\n\n${blocks.join("\n\n")}`;
}

const FORMAT = `TOOL CALL FORMAT — FOLLOW EXACTLY
To call tools, write one block like this:

<|DSML|tool_calls>
  <|DSML|invoke name="TOOL_NAME">
    <|DSML|parameter name="ARGUMENT_NAME"><![CDATA[argument value]]></|DSML|parameter>
  </|DSML|invoke>
</|DSML|tool_calls>`;

const RULES = [
  "Use the <|DSML|tool_calls> wrapper. Put one or more <|DSML|invoke> elements inside a single wrapper; several invokes in one block run as parallel calls.",
  'Write the tool\'s exact name in the invoke\'s name attribute, e.g. name="TOOL_NAME".',
  "Wrap every string value in CDATA, even a short one: <![CDATA[value]]>. Text inside CDATA is taken verbatim, so never escape it.",
  "Give each top-level argument its own <|DSML|parameter> element.",
  "Write an object as child elements named after its keys, and an array as repeated <item> children.",
  "Write numbers, true, false and null as plain text without CDATA.",
  "Use only parameter names that the tool's schema declares.",
  "Do not put the block in a markdown code fence, and do not add role markers or commentary inside it.",
  "The first non-blank characters of a tool block must be the opening <|DSML|tool_calls> tag. Never leave it out, and always close the block with </|DSML|tool_calls>.",
  "The plain <tool_calls>, <invoke> and <parameter> tags are understood too, but prefer the DSML form.",
  "If you do not need a tool, answer normally without any tool markup. Never mention or imitate tool markup in ordinary text.",
  "After the block, stop and wait: the tool results come back in the next message.",
];

const SHAPES = `PARAMETER SHAPES
- string: <|DSML|parameter name="path"><![CDATA[src/main.ts]]></|DSML|parameter>
- number / boolean / null: <|DSML|parameter name="limit">20</|DSML|parameter>
- object: <|DSML|parameter name="options"><depth>2</depth><label><![CDATA[fast]]></label></|DSML|parameter>
- array: <|DSML|parameter name="files"><item><![CDATA[a.ts]]></item><item><![CDATA[b.ts]]></item></|DSML|parameter>`;

function wrongExamples(name: string): string {
  const call = `  <|DSML|invoke name="${name}">…</|DSML|invoke>`;
  return `WRONG — never do these:
1. Writing more text after the block, such as "Let me know if this works."
2. Putting the block inside a \`\`\`xml code fence.
3. Leaving out the opening wrapper:
${call}
</|DSML|tool_calls>`;
}

const ANCHOR = "The only valid way to call a tool is one <|DSML|tool_calls> block, placed at the end of your reply.";

const READ_GUARD = `READ RESULTS: if a file-reading tool answers that the content is unchanged, already in the history, or that you should see earlier context, treat the content as missing. Do not repeat the same read; ask for a full read (e.g. with an offset or a different range) or tell the user what is missing.`;

function isReadTool(name: string): boolean {
  const n = name.toLowerCase().replace(/[^a-z]/g, "");
  return n === "read" || n === "readfile";
}

/** The tool prompt for the system message, or "" when no tool may be called (none / no tools). */
export function renderToolPrompt(tools: readonly ToolSpec[], choice: ToolChoice = { mode: "auto" }): string {
  const sel = selectTools(tools, choice);
  const shown = sel.ok ? sel.tools : [];
  if (!shown.length) return "";
  const rules = [...RULES];
  if (choice.mode === "required") rules.push("For this reply you MUST call at least one of the tools listed above.");
  if (choice.mode === "tool") {
    rules.push(`For this reply you MUST call exactly this tool: ${choice.name}.`);
    rules.push("Do not call any other tool.");
  }
  const parts = [
    declarations(shown),
    FORMAT,
    "RULES\n" + rules.map((r, i) => `${i + 1}) ${r}`).join("\n"),
    SHAPES,
    wrongExamples(shown[0]!.name),
    ANCHOR,
  ];
  const examples = buildExamples(shown);
  if (examples.length) {
    parts.push(
      "CORRECT EXAMPLES\n\n" + examples.map((e, i) => `Example ${String.fromCharCode(65 + i)} — ${e.title}:\n${e.block}`).join("\n\n"),
    );
  }
  if (shown.some((t) => isReadTool(t.name))) parts.push(READ_GUARD);
  return parts.join("\n\n");
}
