/**
 * Model list bodies per surface (api-surface §3.4): OpenAI `/v1/models`, Anthropic `/anthropic/v1/models`,
 * Gemini `/v1beta/models` (official `models.list` shape). Each lists what the catalog serves: the primary
 * provider's models (DeepSeek) and the aliases of today under their bare ids, then every other configured
 * provider's models as `provider/model` (issue 12 §4), each naming its provider.
 */
import { CLAUDE_ALIASES, GEMINI_ALIASES, LEGACY_ALIASES } from "./aliases.ts";
import type { ModelCatalog, UserAliases } from "./catalog.ts";
import { NOTHINKING_SUFFIX, type ModelSpec } from "./native.ts";

// ---- OpenAI -------------------------------------------------------------------------------

export const OPENAI_MODEL_CREATED = 1677610602;

export interface OpenAiModel {
  id: string;
  object: "model";
  created: number;
  /** The provider serving it ("deepseek", "volcengine", ...). */
  owned_by: string;
  permission: never[];
}

export function openAiModelObject(id: string, ownedBy: string): OpenAiModel {
  return { id, object: "model", created: OPENAI_MODEL_CREATED, owned_by: ownedBy, permission: [] };
}

/**
 * The primary provider's ids in spec order, then (our addition) the legacy DeepSeek ids and the config aliases,
 * each listed under its own name, then every other provider's models as `provider/model`. Built-in
 * OpenAI/Claude/Gemini aliases are not listed.
 */
export function openAiModelList(catalog: ModelCatalog, userAliases?: UserAliases | null): { object: "list"; data: OpenAiModel[] } {
  const seen = new Set<string>();
  const data: OpenAiModel[] = [];
  const add = (id: string, target: ModelSpec | null | undefined) => {
    if (!id || !target || seen.has(id)) return;
    seen.add(id);
    data.push(openAiModelObject(id, target.provider));
  };
  for (const m of catalog.primaryModels()) add(m.id, m);
  for (const [id] of LEGACY_ALIASES) add(id, catalog.resolve(id));
  if (userAliases) {
    for (const [k, v] of Object.entries(userAliases)) {
      if (typeof v === "string") add(k.trim().toLowerCase(), catalog.resolve(v));
    }
  }
  for (const m of catalog.otherModels()) add(catalog.listedId(m), m);
  return { object: "list", data };
}

// ---- Anthropic ----------------------------------------------------------------------------

export const ANTHROPIC_MODEL_CREATED = 1715635200;

export interface AnthropicModel {
  id: string;
  object: "model";
  created: number;
  /** "anthropic" for the Claude ids; the provider for other providers' models. */
  owned_by: string;
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

function anthropicModelObject(id: string, ownedBy = "anthropic", displayName = claudeDisplayName(id)): AnthropicModel {
  return {
    id,
    object: "model",
    created: ANTHROPIC_MODEL_CREATED,
    owned_by: ownedBy,
    type: "model",
    display_name: displayName,
    created_at: claudeCreatedAt(id),
  };
}

/** 22 Claude ids, each followed by its `-nothinking` twin (44 entries), then other providers' models as `provider/model`. */
export function anthropicModelList(catalog: ModelCatalog): AnthropicModelList {
  const data: AnthropicModel[] = [];
  for (const [id] of CLAUDE_ALIASES) {
    if (CLAUDE_UNLISTED.has(id) || !catalog.resolve(id)) continue;
    data.push(anthropicModelObject(id));
    data.push(anthropicModelObject(id + NOTHINKING_SUFFIX));
  }
  for (const m of catalog.otherModels()) {
    const id = catalog.listedId(m);
    data.push(anthropicModelObject(id, m.provider, `${m.displayName ?? m.id} (${catalog.displayName(m.provider)})`));
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

function describe(catalog: ModelCatalog, spec: ModelSpec): string {
  const parts = [spec.modelType && spec.provider === catalog.primary ? `${catalog.displayName(spec.provider)}, model_type ${spec.modelType}` : catalog.displayName(spec.provider)];
  if (spec.upstreamModel) parts.push(`upstream model ${spec.upstreamModel}`);
  parts.push(spec.thinkingForcedOff ? "thinking off" : "thinking on by default");
  if (spec.search) parts.push("web search");
  return parts.join(", ");
}

/** One Gemini model entry: `id` is the listed name, `spec` the model it runs on. */
export function geminiModelObject(catalog: ModelCatalog, id: string, spec: ModelSpec): GeminiModel {
  const target = catalog.listedId(spec);
  const entry: GeminiModel = {
    name: `models/${id}`,
    baseModelId: target,
    version: "v4",
    displayName: id === target ? id : `${id} (${target})`,
    description: describe(catalog, spec),
    inputTokenLimit: GEMINI_INPUT_TOKEN_LIMIT,
    outputTokenLimit: GEMINI_OUTPUT_TOKEN_LIMIT,
    supportedGenerationMethods: [...GEMINI_METHODS],
  };
  if (spec.thinkingDefault) entry.thinking = true;
  return entry;
}

/** The primary provider's ids, then the Gemini aliases, then other providers' models as `provider/model`. */
export function geminiModelList(catalog: ModelCatalog): { models: GeminiModel[] } {
  const models: GeminiModel[] = [];
  for (const m of catalog.primaryModels()) models.push(geminiModelObject(catalog, m.id, m));
  for (const [id] of GEMINI_ALIASES) {
    const spec = catalog.resolve(id);
    if (spec) models.push(geminiModelObject(catalog, id, spec));
  }
  for (const m of catalog.otherModels()) models.push(geminiModelObject(catalog, catalog.listedId(m), m));
  return { models };
}
