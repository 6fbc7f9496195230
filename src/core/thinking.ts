/**
 * Thinking switch (api-surface §4.1, upstream-protocol §5.1). The first request field that
 * gives a recognisable answer wins; a `-nothinking` model beats everything.
 */
import type { ModelSpec } from "./models/native.ts";

const ON_WORDS = new Set(["enabled", "enable", "on", "true", "adaptive", "minimal", "low", "medium", "high", "xhigh", "max"]);
const OFF_WORDS = new Set(["disabled", "disable", "off", "false", "none"]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** "enabled" / "high" → true, "off" / "none" → false, anything else → undefined. */
function fromWord(v: string): boolean | undefined {
  const w = v.trim().toLowerCase();
  if (ON_WORDS.has(w)) return true;
  if (OFF_WORDS.has(w)) return false;
  return undefined;
}

/** A bool, an on/off or effort word, or null when the value says nothing. */
function fromScalar(v: unknown): boolean | undefined {
  if (typeof v === "boolean") return v;
  if (typeof v === "string") return fromWord(v);
  return undefined;
}

/** `thinking`: bool, string, or `{type}` (Anthropic style; also `{enabled}`). */
function fromThinking(v: unknown): boolean | undefined {
  const s = fromScalar(v);
  if (s !== undefined) return s;
  if (isRecord(v)) return fromScalar(v.type) ?? fromScalar(v.enabled);
  return undefined;
}

/** `reasoning`: bool, effort string, or `{effort|type|enabled}`. */
function fromReasoning(v: unknown): boolean | undefined {
  const s = fromScalar(v);
  if (s !== undefined) return s;
  if (isRecord(v)) return fromScalar(v.effort) ?? fromScalar(v.type) ?? fromScalar(v.enabled);
  return undefined;
}

/** Whether the request explicitly asks for thinking on/off; undefined when it does not say. */
export function requestedThinking(body: Record<string, unknown>): boolean | undefined {
  const extra = isRecord(body.extra_body) ? body.extra_body : undefined;
  return (
    fromThinking(body.thinking) ??
    fromReasoning(body.reasoning) ??
    (extra ? fromThinking(extra.thinking) ?? fromReasoning(extra.reasoning) ?? fromScalar(extra.reasoning_effort) : undefined) ??
    fromScalar(body.reasoning_effort)
  );
}

/** Final thinking flag for an OpenAI / Anthropic style request body. */
export function resolveThinking(body: Record<string, unknown>, model: ModelSpec): boolean {
  if (model.thinkingForcedOff) return false;
  return requestedThinking(body) ?? model.thinkingDefault;
}

export interface GeminiThinking {
  /** Thinking sent upstream. */
  enabled: boolean;
  /** Whether thought parts go back to the client (official API: only with includeThoughts). */
  includeThoughts: boolean;
}

/**
 * Gemini `generationConfig.thinkingConfig` (camelCase or snake_case):
 * thinkingBudget 0 → off, > 0 or -1 (dynamic) → on; a thinkingLevel word → on; else the model default.
 */
export function resolveGeminiThinking(generationConfig: unknown, model: ModelSpec): GeminiThinking {
  const gc = isRecord(generationConfig) ? generationConfig : undefined;
  const raw = gc ? gc.thinkingConfig ?? gc.thinking_config : undefined;
  const tc = isRecord(raw) ? raw : undefined;
  let requested: boolean | undefined;
  let includeThoughts = false;
  if (tc) {
    const budget = tc.thinkingBudget ?? tc.thinking_budget;
    if (typeof budget === "number" && Number.isFinite(budget)) {
      if (budget === 0) requested = false;
      else if (budget > 0 || budget === -1) requested = true;
    }
    if (requested === undefined) {
      const level = tc.thinkingLevel ?? tc.thinking_level;
      if (typeof level === "string") requested = fromWord(level);
    }
    includeThoughts = (tc.includeThoughts ?? tc.include_thoughts) === true;
  }
  const enabled = model.thinkingForcedOff ? false : requested ?? model.thinkingDefault;
  return { enabled, includeThoughts: enabled && includeThoughts };
}
