/** Local usage numbers (api-surface §4.3): completion = reasoning + visible text. */
import { countTokens } from "./tokenizer.ts";

export interface Usage {
  promptTokens: number;
  reasoningTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface UsageInput {
  /** The prompt as sent (with the history file: transcript + "\n" + live prompt), or its count when already known. */
  prompt?: string;
  promptTokens?: number;
  reasoning?: string;
  text?: string;
  /** Added to the prompt count, e.g. inline-file bytes / 3. */
  extraPromptTokens?: number;
}

export function usageFor(input: UsageInput): Usage {
  const promptTokens = (input.promptTokens ?? countTokens(input.prompt ?? "")) + Math.max(0, Math.floor(input.extraPromptTokens ?? 0));
  const reasoningTokens = countTokens(input.reasoning ?? "");
  const completionTokens = reasoningTokens + countTokens(input.text ?? "");
  return { promptTokens, reasoningTokens, completionTokens, totalTokens: promptTokens + completionTokens };
}
