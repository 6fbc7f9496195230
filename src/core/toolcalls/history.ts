/**
 * Rendering earlier assistant calls and tool results into the prompt (toolcalls.md §1.3–§1.4,
 * upstream-protocol §6.3), in exactly the DSML our parser reads back: keys sorted, strings in CDATA
 * (split at `]]>`), numbers / booleans / null as plain text, objects as child elements, arrays as
 * `<item>` children. Results carry the tool name and call id so parallel results pair by id.
 */
import { cdata, escapeXmlAttr, escapeXmlText, matchToolTag } from "./tags.ts";
import type { ToolCallHistoryEntry, ToolResultEntry } from "./types.ts";

const OPEN = "<|DSML|tool_calls>";
const CLOSE = "</|DSML|tool_calls>";
const XML_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** A key we can write as a child element and read back as the same key. */
function usableElementName(key: string): boolean {
  if (!XML_NAME.test(key) || key === "item" || key === "_text" || /^br$/i.test(key)) return false;
  return matchToolTag(`<${key}>`, 0, true) === null;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Whether every nested object key can be written as an element. */
function renderable(v: unknown): boolean {
  if (Array.isArray(v)) return v.every(renderable);
  if (isObj(v)) return Object.keys(v).every((k) => usableElementName(k) && renderable(v[k]));
  return true;
}

function scalar(v: unknown): string {
  if (typeof v === "string") return cdata(v);
  if (v === undefined) return "null";
  return escapeXmlText(JSON.stringify(v));
}

/** The body of one value; multi-line bodies are indented under `indent`. */
function valueBody(v: unknown, indent: string): string {
  if (Array.isArray(v)) {
    if (!v.length) return "[]";
    return "\n" + v.map((x) => `${indent}  <item>${valueBody(x, indent + "  ")}</item>`).join("\n") + "\n" + indent;
  }
  if (isObj(v)) {
    const keys = Object.keys(v).sort();
    if (!keys.length) return "{}";
    if (!renderable(v)) return escapeXmlText(JSON.stringify(v));
    return "\n" + keys.map((k) => `${indent}  <${k}>${valueBody(v[k], indent + "  ")}</${k}>`).join("\n") + "\n" + indent;
  }
  return scalar(v);
}

function parameter(name: string, value: unknown): string {
  const indent = "    ";
  return `${indent}<|DSML|parameter name="${escapeXmlAttr(name)}">${valueBody(value, indent)}</|DSML|parameter>`;
}

/** Arguments as given (JSON string or value) → an object, or the raw text when it is not one. */
function argumentsObject(args: unknown): { obj: Record<string, unknown> } | { raw: string } | null {
  if (args === undefined || args === null || args === "") return null;
  if (typeof args === "string") {
    try {
      const v: unknown = JSON.parse(args);
      if (isObj(v)) return { obj: v };
      if (v === null) return null;
    } catch {
      // not JSON: kept verbatim below
    }
    return { raw: args };
  }
  if (isObj(args)) return { obj: args };
  return { raw: JSON.stringify(args) };
}

function invoke(call: ToolCallHistoryEntry): string {
  const id = call.id ? ` id="${escapeXmlAttr(call.id)}"` : "";
  const head = `  <|DSML|invoke name="${escapeXmlAttr(call.name)}"${id}>`;
  const args = argumentsObject(call.arguments);
  let params: string[] = [];
  if (args && "obj" in args) {
    params = Object.keys(args.obj).sort().map((k) => parameter(k, args.obj[k]));
  } else if (args) params = [parameter("content", args.raw)];
  if (!params.length) return `${head}</|DSML|invoke>`;
  return `${head}\n${params.join("\n")}\n  </|DSML|invoke>`;
}

/** One DSML block for an assistant turn's calls; calls without a name are skipped ("" when none remain). */
export function renderToolCallHistory(calls: readonly ToolCallHistoryEntry[]): string {
  const named = calls.filter((c) => c && typeof c.name === "string" && c.name.trim() !== "");
  if (!named.length) return "";
  return `${OPEN}\n${named.map(invoke).join("\n")}\n${CLOSE}`;
}

/** A tool result for the live prompt, labelled with the tool name and call id. */
export function renderToolResult(result: ToolResultEntry): string {
  const content = result.content === "" ? "null" : result.content;
  const attrs: string[] = [];
  if (result.name) attrs.push(`name="${escapeXmlAttr(result.name)}"`);
  if (result.callId) attrs.push(`call_id="${escapeXmlAttr(result.callId)}"`);
  if (!attrs.length) return content;
  return `[tool_result ${attrs.join(" ")}]\n${content}\n[/tool_result]`;
}
