/**
 * Worked examples for the tool prompt (toolcalls.md §1.2 item 7), built only from tools the request
 * declares: canned argument sets for well-known agent tool names, and a schema-derived example when
 * none of those is declared.
 */
import { renderToolCallHistory } from "./history.ts";
import type { JSONSchema, ToolSpec } from "./types.ts";

type Args = Record<string, unknown>;

const SINGLE: Record<string, Args> = {
  Read: { file_path: "src/app.ts" },
  read_file: { path: "src/app.ts" },
  list_files: { path: "src" },
  Glob: { pattern: "**/*.test.ts", path: "src" },
  search_files: { query: "retry policy" },
  Bash: { command: "git status --short", description: "Show changed files" },
  execute_command: { command: "npm test" },
  exec_command: { cmd: "ls -la" },
  Write: { file_path: "notes/todo.md", content: "- check logs\n- update docs\n" },
  write_to_file: { path: "notes/todo.md", content: "- check logs\n- update docs\n" },
  Edit: { file_path: "src/app.ts", old_string: "const retries = 1;", new_string: "const retries = 3;" },
  MultiEdit: {
    file_path: "src/app.ts",
    edits: [
      { old_string: "let a = 1;", new_string: "let a = 2;" },
      { old_string: "let b = 1;", new_string: "let b = 2;" },
    ],
  },
};

const NESTED: Record<string, Args> = {
  MultiEdit: SINGLE.MultiEdit!,
  Task: { description: "Survey tests", prompt: "List every test file under tests/ and what it covers.", subagent_type: "general-purpose" },
  ask_followup_question: { question: "Which environment should I deploy to?", follow_up: ["staging", "production"] },
};

const SCRIPT = "set -e\ncat > build.sh <<'EOF'\n#!/bin/sh\necho \"building\"\nnpm run build\nEOF\nchmod +x build.sh";
const LONG: Record<string, Args> = {
  Bash: { command: SCRIPT, description: "Create a build script" },
  execute_command: { command: SCRIPT },
  exec_command: { cmd: SCRIPT },
  Write: { file_path: "docs/guide.md", content: "# Guide\n\nRun `npm test` before pushing.\n\n```sh\nnpm test\n```\n" },
  write_to_file: { path: "docs/guide.md", content: "# Guide\n\nRun `npm test` before pushing.\n\n```sh\nnpm test\n```\n" },
};

function placeholder(schema: unknown, key: string): unknown {
  const s = (schema ?? {}) as JSONSchema;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  const t = Array.isArray(s.type) ? s.type.find((x) => x !== "null") : s.type;
  switch (typeof t === "string" ? t.toLowerCase() : "string") {
    case "integer":
    case "number":
      return 1;
    case "boolean":
      return true;
    case "array":
      return [placeholder(s.items, key)];
    case "object":
      return {};
    default:
      return `example ${key}`;
  }
}

/** Arguments for a tool without a canned example: its required (or first) properties, typed placeholders. */
function fromSchema(tool: ToolSpec): Args {
  const props = (tool.parameters?.properties ?? {}) as Record<string, unknown>;
  const required = Array.isArray(tool.parameters?.required) ? (tool.parameters!.required as string[]) : [];
  const keys = (required.length ? required : Object.keys(props).slice(0, 2)).filter((k) => k in props);
  const args: Args = {};
  for (const k of keys) args[k] = placeholder(props[k], k);
  return args;
}

export interface ToolExample {
  title: string;
  block: string;
}

export function buildExamples(tools: readonly ToolSpec[]): ToolExample[] {
  const names = tools.map((t) => t.name);
  const canned = names.filter((n) => n in SINGLE);
  const out: ToolExample[] = [];
  const block = (calls: Array<{ name: string; arguments: Args }>) => renderToolCallHistory(calls);
  if (canned.length) out.push({ title: "A single call", block: block([{ name: canned[0]!, arguments: SINGLE[canned[0]!]! }]) });
  else if (tools.length) out.push({ title: "A single call", block: block([{ name: tools[0]!.name, arguments: fromSchema(tools[0]!) }]) });
  if (canned.length >= 2) {
    out.push({
      title: "Two independent calls in one block",
      block: block(canned.slice(0, 2).map((n) => ({ name: n, arguments: SINGLE[n]! }))),
    });
  }
  const nested = names.find((n) => n in NESTED);
  if (nested) out.push({ title: "Nested values (objects and <item> lists)", block: block([{ name: nested, arguments: NESTED[nested]! }]) });
  const long = names.find((n) => n in LONG);
  if (long) out.push({ title: "A long multi-line value, verbatim inside CDATA", block: block([{ name: long, arguments: LONG[long]! }]) });
  return out;
}
