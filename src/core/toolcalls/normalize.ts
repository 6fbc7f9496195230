/**
 * Client tool declarations and tool_choice → our provider-neutral forms. Accepts OpenAI Chat
 * (`{type:"function", function:{…}}`), flat forms (Responses / MCP: `parameters`, `input_schema`,
 * `inputSchema`, `schema`, `parametersJsonSchema`), Anthropic `{name, description, input_schema}`,
 * and Gemini `{functionDeclarations:[…]}` entries.
 */
import type { JSONSchema, ToolChoice, ToolSpec } from "./types.ts";

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const SCHEMA_KEYS = ["parameters", "input_schema", "inputSchema", "schema", "parametersJsonSchema", "parameters_json_schema"];

function schemaOf(...sources: Record<string, unknown>[]): JSONSchema | undefined {
  for (const src of sources) {
    for (const key of SCHEMA_KEYS) if (isObj(src[key])) return src[key] as JSONSchema;
  }
  return undefined;
}

function specFrom(obj: Record<string, unknown>): ToolSpec | undefined {
  const fn = isObj(obj.function) ? obj.function : undefined;
  const name = (fn && typeof fn.name === "string" ? fn.name : typeof obj.name === "string" ? obj.name : "").trim();
  if (!name) return undefined;
  const description = fn && typeof fn.description === "string" ? fn.description : typeof obj.description === "string" ? obj.description : undefined;
  const parameters = fn ? schemaOf(fn, obj) : schemaOf(obj);
  const spec: ToolSpec = { name };
  if (description !== undefined) spec.description = description;
  if (parameters) spec.parameters = parameters;
  return spec;
}

/** Tool types that are hosted by the client's provider, not callable functions. */
function isHostedTool(obj: Record<string, unknown>): boolean {
  const t = obj.type;
  return typeof t === "string" && t !== "function" && t !== "custom" && !isObj(obj.function);
}

/** Any mix of supported declarations → de-duplicated specs (first declaration of a name wins). */
export function normalizeTools(input: unknown): ToolSpec[] {
  const list = Array.isArray(input) ? input : input === undefined || input === null ? [] : [input];
  const out: ToolSpec[] = [];
  const seen = new Set<string>();
  const add = (spec: ToolSpec | undefined) => {
    if (spec && !seen.has(spec.name)) {
      seen.add(spec.name);
      out.push(spec);
    }
  };
  for (const item of list) {
    if (!isObj(item)) continue;
    const decls = item.functionDeclarations ?? item.function_declarations;
    if (Array.isArray(decls)) {
      for (const d of decls) if (isObj(d)) add(specFrom(d));
      continue;
    }
    if (isHostedTool(item)) continue;
    add(specFrom(item));
  }
  return out;
}

function nameOf(v: unknown): string | undefined {
  if (!isObj(v)) return undefined;
  if (isObj(v.function) && typeof v.function.name === "string") return v.function.name;
  return typeof v.name === "string" ? v.name : undefined;
}

/**
 * OpenAI (`"auto"|"none"|"required"`, `{type:"function", function:{name}}`, Responses
 * `{type:"allowed_tools", mode, tools}`), Anthropic (`{type:"auto"|"any"|"none"|"tool", name}`) and
 * Gemini (`{functionCallingConfig:{mode, allowedFunctionNames}}`, also as the whole toolConfig).
 * Missing or unknown → auto.
 */
export function normalizeToolChoice(raw: unknown): ToolChoice {
  if (typeof raw === "string") {
    const w = raw.trim().toLowerCase();
    if (w === "none") return { mode: "none" };
    if (w === "required" || w === "any") return { mode: "required" };
    return { mode: "auto" };
  }
  if (!isObj(raw)) return { mode: "auto" };
  const gem = isObj(raw.functionCallingConfig) ? raw.functionCallingConfig : isObj(raw.function_calling_config) ? raw.function_calling_config : undefined;
  if (gem) {
    const mode = typeof gem.mode === "string" ? gem.mode.toLowerCase() : "auto";
    const names = gem.allowedFunctionNames ?? gem.allowed_function_names;
    const allowed = Array.isArray(names) ? names.filter((n): n is string => typeof n === "string") : undefined;
    if (mode === "none") return { mode: "none" };
    if (mode === "any" || mode === "validated") {
      if (allowed && allowed.length === 1 && mode === "any") return { mode: "tool", name: allowed[0]!, allowed };
      return allowed ? { mode: "required", allowed } : { mode: "required" };
    }
    return allowed ? { mode: "auto", allowed } : { mode: "auto" };
  }
  const type = typeof raw.type === "string" ? raw.type.toLowerCase() : "";
  if (type === "allowed_tools" || isObj(raw.allowed_tools)) {
    const spec = isObj(raw.allowed_tools) ? raw.allowed_tools : raw;
    const allowed = (Array.isArray(spec.tools) ? spec.tools : []).map(nameOf).filter((n): n is string => !!n);
    const mode = spec.mode === "required" ? "required" : "auto";
    return { mode, allowed };
  }
  if (type === "none") return { mode: "none" };
  if (type === "any" || type === "required") return { mode: "required" };
  if (type === "auto") return { mode: "auto" };
  const forced = nameOf(raw);
  if (forced && (type === "" || type === "function" || type === "tool" || type === "custom")) return { mode: "tool", name: forced };
  return { mode: "auto" };
}

export type ToolSelection = { ok: true; tools: ToolSpec[] } | { ok: false; error: string };

/**
 * The tools a choice exposes (described in the prompt and accepted from the output). Errors:
 * required/forced without tools, a forced or allowed name that is not declared.
 */
export function selectTools(tools: readonly ToolSpec[], choice: ToolChoice): ToolSelection {
  let pool = [...tools];
  if (choice.allowed) {
    const missing = choice.allowed.filter((n) => !tools.some((t) => t.name === n));
    if (missing.length) return { ok: false, error: `tool_choice names undeclared tools: ${missing.join(", ")}` };
    pool = pool.filter((t) => choice.allowed!.includes(t.name));
  }
  if (choice.mode === "none") return { ok: true, tools: [] };
  if (choice.mode === "tool") {
    const t = pool.find((x) => x.name === choice.name);
    if (!t) return { ok: false, error: `tool_choice forces an undeclared tool: ${choice.name}` };
    return { ok: true, tools: [t] };
  }
  if (choice.mode === "required" && !pool.length) return { ok: false, error: "tool_choice requires a tool but none is declared" };
  return { ok: true, tools: pool };
}

/** A message when the output breaks the choice (required/forced with no call), else undefined. */
export function toolChoiceViolation(callCount: number, choice: ToolChoice): string | undefined {
  if ((choice.mode === "required" || choice.mode === "tool") && callCount === 0) {
    return choice.mode === "tool" ? `tool_choice requires a call to ${choice.name}` : "tool_choice requires at least one tool call";
  }
  return undefined;
}
