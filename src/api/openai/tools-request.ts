/** OpenAI `tools` / `tool_choice` → canonical tool declarations and choice. */
import type { ToolChoice, ToolSpec } from "../../core/toolcalls/types.ts";
import { HttpError } from "../http-error.ts";

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const SCHEMA_KEYS = ["parameters", "input_schema", "inputSchema", "schema"] as const;

/** `{type:"function", function:{name, description, parameters}}` or a flat `{name, description, parameters|input_schema|…}`. */
export function toolSpecFrom(raw: unknown, where: string): ToolSpec | undefined {
  if (!isObj(raw)) throw new HttpError(400, `${where} must be an object`);
  const fn = isObj(raw.function) ? raw.function : raw;
  const name = typeof fn.name === "string" ? fn.name.trim() : "";
  if (!name) {
    if (raw.type && raw.type !== "function") return undefined; // built-in tool types (web_search, …) are not offered to the model
    throw new HttpError(400, `${where} has no function name`);
  }
  let parameters: Record<string, unknown> | undefined;
  for (const k of SCHEMA_KEYS) {
    const s = fn[k] ?? raw[k];
    if (isObj(s)) {
      parameters = s;
      break;
    }
  }
  return { name, description: typeof fn.description === "string" ? fn.description : undefined, parameters };
}

export function openAiTools(raw: unknown): ToolSpec[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new HttpError(400, "'tools' must be an array");
  const out: ToolSpec[] = [];
  raw.forEach((t, i) => {
    const spec = toolSpecFrom(t, `tools[${i}]`);
    if (spec) out.push(spec);
  });
  return out;
}

/** `none | auto | required | {type:"function", function:{name}}` (also `{name}` / `{function:{name}}`). */
export function openAiToolChoice(raw: unknown, tools: ToolSpec[]): ToolChoice {
  if (raw === undefined || raw === null || raw === "auto") return { mode: "auto" };
  if (raw === "none") return { mode: "none" };
  if (raw === "required" || raw === "any") {
    if (!tools.length) throw new HttpError(400, "tool_choice 'required' needs at least one tool in 'tools'");
    return { mode: "required" };
  }
  if (isObj(raw)) {
    const fn = isObj(raw.function) ? raw.function : raw;
    const name = typeof fn.name === "string" ? fn.name : undefined;
    if (name) {
      if (!tools.some((t) => t.name === name)) throw new HttpError(400, `tool_choice names ${JSON.stringify(name)}, which is not declared in 'tools'`);
      return { mode: "tool", name };
    }
  }
  throw new HttpError(400, `unsupported tool_choice ${JSON.stringify(raw)}; use "none", "auto", "required" or {"type":"function","function":{"name":…}}`);
}
