/**
 * Built-in alias table (api-surface §3.3) plus the earlier DeepSeek ids (upstream-protocol §5.2),
 * which this gateway accepts as aliases. Every target is a native id.
 */

const F = "deepseek-v4-flash";
const P = "deepseek-v4-pro";
const PS = "deepseek-v4-pro-search";
const V = "deepseek-v4-vision";

function group(target: string, ids: string[]): Array<[string, string]> {
  return ids.map((id) => [id, target]);
}

export const OPENAI_ALIASES: ReadonlyArray<[string, string]> = [
  ...group(F, [
    "chatgpt-4o", "gpt-4", "gpt-4-turbo", "gpt-4-turbo-preview", "gpt-4.5-preview", "gpt-4o", "gpt-4o-mini",
    "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-5", "gpt-5-chat", "gpt-5.1", "gpt-5.1-chat", "gpt-5.2",
    "gpt-5.2-chat", "gpt-5.3-chat", "gpt-5.4", "gpt-5.5", "gpt-5-mini", "gpt-5-nano", "gpt-5.4-mini", "gpt-5.4-nano",
  ]),
  ...group(P, [
    "gpt-5-pro", "gpt-5.2-pro", "gpt-5.4-pro", "gpt-5.5-pro", "gpt-5-codex", "gpt-5.1-codex", "gpt-5.1-codex-mini",
    "gpt-5.1-codex-max", "gpt-5.2-codex", "gpt-5.3-codex", "codex-mini-latest", "o1", "o1-preview", "o1-mini",
    "o1-pro", "o3", "o3-mini", "o3-pro", "o4-mini",
  ]),
  ...group(PS, ["o3-deep-research", "o4-mini-deep-research"]),
];

/** Claude ids in the order of the Anthropic model list: the opus family first. */
export const CLAUDE_ALIASES: ReadonlyArray<[string, string]> = [
  ...group(P, [
    "claude-opus-4-6", "claude-opus-4-1", "claude-opus-4-1-20250805", "claude-opus-4-0", "claude-opus-4-20250514",
    "claude-3-opus", "claude-3-opus-20240229",
  ]),
  ...group(F, [
    "claude-sonnet-4-6", "claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "claude-sonnet-4-0",
    "claude-sonnet-4-20250514", "claude-haiku-4-5", "claude-haiku-4-5-20251001", "claude-3-7-sonnet",
    "claude-3-7-sonnet-latest", "claude-3-7-sonnet-20250219", "claude-3-5-sonnet", "claude-3-5-sonnet-latest",
    "claude-3-5-sonnet-20240620", "claude-3-5-sonnet-20241022", "claude-3-5-haiku", "claude-3-5-haiku-latest",
    "claude-3-5-haiku-20241022", "claude-3-sonnet", "claude-3-sonnet-20240229", "claude-3-haiku",
    "claude-3-haiku-20240307",
  ]),
];

export const GEMINI_ALIASES: ReadonlyArray<[string, string]> = [
  ...group(P, ["gemini-pro", "gemini-pro-latest", "gemini-1.5-pro", "gemini-2.5-pro", "gemini-3-pro", "gemini-3.1-pro"]),
  ...group(V, ["gemini-pro-vision"]),
  ...group(F, [
    "gemini-flash-latest", "gemini-1.5-flash", "gemini-1.5-flash-8b", "gemini-2.0-flash", "gemini-2.0-flash-lite",
    "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-3-flash", "gemini-3.1-flash", "gemini-3.1-flash-lite",
  ]),
];

export const OTHER_ALIASES: ReadonlyArray<[string, string]> = group(F, ["llama-3.1-70b-instruct", "qwen-max"]);

/** Earlier DeepSeek web ids (upstream-protocol §5.2): "chat" means thinking off, "reasoner" on. */
export const LEGACY_ALIASES: ReadonlyArray<[string, string]> = [
  ["deepseek-chat", "deepseek-v4-flash-nothinking"],
  ["deepseek-reasoner", "deepseek-v4-flash"],
  ["deepseek-chat-search", "deepseek-v4-flash-search-nothinking"],
  ["deepseek-reasoner-search", "deepseek-v4-flash-search"],
  ["deepseek-expert-chat", "deepseek-v4-pro-nothinking"],
  ["deepseek-expert-reasoner", "deepseek-v4-pro"],
  ["deepseek-expert-chat-search", "deepseek-v4-pro-search-nothinking"],
  ["deepseek-expert-reasoner-search", "deepseek-v4-pro-search"],
  ["deepseek-vision-chat", "deepseek-v4-vision-nothinking"],
  ["deepseek-vision-reasoner", "deepseek-v4-vision"],
];

/** Every built-in alias → native target. */
export const BUILTIN_ALIASES: ReadonlyMap<string, string> = new Map([
  ...OPENAI_ALIASES,
  ...CLAUDE_ALIASES,
  ...GEMINI_ALIASES,
  ...OTHER_ALIASES,
  ...LEGACY_ALIASES,
]);
