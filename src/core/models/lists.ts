/**
 * Model list bodies per surface (api-surface §3.4): OpenAI `/v1/models`, Anthropic `/anthropic/v1/models`,
 * Gemini `/v1beta/models` (official `models.list` shape).
 */
import { CLAUDE_ALIASES, GEMINI_ALIASES, LEGACY_ALIASES } from "./aliases.ts";
import { NATIVE_MODEL_IDS, NATIVE_MODELS, NOTHINKING_SUFFIX, nativeModel } from "./native.ts";
import type { UserAliases } from "./resolve.ts";

// ---- OpenAI -------------------------------------------------------------------------------

export const OPENAI_MODEL_CREATED = 1677610602;

export interface OpenAiModel {
  id: string;
  object: "model";
  created: number;
  owned_by: "deepseek";
  permission: never[];
}

export function openAiModelObject(id: string): OpenAiModel {
  return { id, object: "model", created: OPENAI_MODEL_CREATED, owned_by: "deepseek", permission: [] };
}

/**
 * The ten native ids in spec order, then (our addition) the legacy DeepSeek ids and the config aliases,
 * each listed under its own name. Built-in OpenAI/Claude/Gemini aliases are not listed.
 */
export function openAiModelList(userAliases?: UserAliases | null): { object: "list"; data: OpenAiModel[] } {
  const seen = new Set<string>();
  const data: OpenAiModel[] = [];
  const add = (id: string) => {
    if (!id || seen.has(id)) return;
    seen.add(id);
    data.push(openAiModelObject(id));
  };
  for (const id of NATIVE_MODEL_IDS) add(id);
  for (const [id] of LEGACY_ALIASES) add(id);
  if (userAliases) {
    for (const [k, v] of Object.entries(userAliases)) {
      if (typeof v === "string" && nativeModel(v.trim().toLowerCase())) add(k.trim().toLowerCase());
    }
  }
  return { object: "list", data };
}

// ---- Anthropic ----------------------------------------------------------------------------

export const ANTHROPIC_MODEL_CREATED = 1715635200;

export interface AnthropicModel {
  id: string;
  object: "model";
  created: number;
  owned_by: "anthropic";
  type: "model";
  display_name: string;
  created_at: string;
}

export interface AnthropicModelList {
  object: "list";
  data: AnthropicModel[];
  first_id: string | null;
  last_id: string | null;
  has_more: false;
}

/** Un-dated Claude aliases that resolve but are not listed. */
const CLAUDE_UNLISTED = new Set([
  "claude-3-7-sonnet", "claude-3-5-sonnet", "claude-3-5-haiku", "claude-3-opus", "claude-3-sonnet", "claude-3-haiku",
]);

const FAMILIES = new Set(["opus", "sonnet", "haiku"]);

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** "claude-opus-4-1-20250805" → "Claude Opus 4.1"; "claude-3-5-sonnet-latest" → "Claude 3.5 Sonnet". */
export function claudeDisplayName(id: string): string {
  let base = id;
  let suffix = "";
  if (base.endsWith(NOTHINKING_SUFFIX)) {
    base = base.slice(0, -NOTHINKING_SUFFIX.length);
    suffix = " (no thinking)";
  }
  const parts = base.split("-").filter((p) => p !== "claude" && p !== "latest" && !/^\d{8}$/.test(p));
  const family = parts.find((p) => FAMILIES.has(p));
  const version = parts.filter((p) => /^\d+$/.test(p)).join(".");
  if (!family) return `Claude ${version}`.trim() + suffix;
  // Claude 4 and later put the family first ("Claude Opus 4.1"); Claude 3.x put the version first.
  const familyFirst = parts.indexOf(family) === 0;
  const name = familyFirst ? `Claude ${capitalize(family)} ${version}` : `Claude ${version} ${capitalize(family)}`;
  return name.trim() + suffix;
}

/** RFC 3339 date taken from a YYYYMMDD suffix in the id, else the ds2api `created` time. */
function claudeCreatedAt(id: string): string {
  const m = /-(\d{4})(\d{2})(\d{2})(?:-|$)/.exec(id);
  if (m) return `${m[1]}-${m[2]}-${m[3]}T00:00:00Z`;
  return new Date(ANTHROPIC_MODEL_CREATED * 1000).toISOString().replace(".000Z", "Z");
}

function anthropicModelObject(id: string): AnthropicModel {
  return {
    id,
    object: "model",
    created: ANTHROPIC_MODEL_CREATED,
    owned_by: "anthropic",
    type: "model",
    display_name: claudeDisplayName(id),
    created_at: claudeCreatedAt(id),
  };
}

/** 22 Claude ids, each followed by its `-nothinking` twin (44 entries). */
export function anthropicModelList(): AnthropicModelList {
  const data: AnthropicModel[] = [];
  for (const [id] of CLAUDE_ALIASES) {
    if (CLAUDE_UNLISTED.has(id)) continue;
    data.push(anthropicModelObject(id));
    data.push(anthropicModelObject(id + NOTHINKING_SUFFIX));
  }
  return {
    object: "list",
    data,
    first_id: data.length ? data[0]!.id : null,
    last_id: data.length ? data[data.length - 1]!.id : null,
    has_more: false,
  };
}

// ---- Gemini -------------------------------------------------------------------------------

/** Nominal limits advertised to Gemini clients (the upstream does not publish them). */
export const GEMINI_INPUT_TOKEN_LIMIT = 1_048_576;
export const GEMINI_OUTPUT_TOKEN_LIMIT = 65_536;

export interface GeminiModel {
  name: string;
  baseModelId?: string;
  version: string;
  displayName: string;
  description: string;
  inputTokenLimit: number;
  outputTokenLimit: number;
  supportedGenerationMethods: string[];
  thinking?: boolean;
}

const GEMINI_METHODS = ["generateContent", "streamGenerateContent", "countTokens"];

function describe(target: string): string {
  const spec = nativeModel(target);
  if (!spec) return "";
  const parts = [`DeepSeek web chat, model_type ${spec.modelType}`];
  parts.push(spec.thinkingForcedOff ? "thinking off" : "thinking on by default");
  if (spec.search) parts.push("web search");
  return parts.join(", ");
}

/** One Gemini model entry: `id` is the listed name, `target` the native id it runs on. */
export function geminiModelObject(id: string, target: string = id): GeminiModel {
  const spec = nativeModel(target);
  const entry: GeminiModel = {
    name: `models/${id}`,
    baseModelId: target,
    version: "v4",
    displayName: id === target ? id : `${id} (${target})`,
    description: describe(target),
    inputTokenLimit: GEMINI_INPUT_TOKEN_LIMIT,
    outputTokenLimit: GEMINI_OUTPUT_TOKEN_LIMIT,
    supportedGenerationMethods: [...GEMINI_METHODS],
  };
  if (spec && spec.thinkingDefault) entry.thinking = true;
  return entry;
}

/** Native ids, then the Gemini aliases. */
export function geminiModelList(): { models: GeminiModel[] } {
  const models: GeminiModel[] = [];
  for (const m of NATIVE_MODELS) models.push(geminiModelObject(m.id));
  for (const [id, target] of GEMINI_ALIASES) models.push(geminiModelObject(id, target));
  return { models };
}
