/**
 * The body of the console's `Chat` action — unconfirmed (other-providers.md §A.1.2). Two styles:
 * "console" (PascalCase like the other 2024-01-29 BFF actions: `Model`, `Messages: [{Role, Content}]`,
 * `Stream`, `Parameters`) and "openai" (`model`, `messages`, `stream`, sampling fields at the top level).
 * The style is a setting (`volcengine.body_style`, default "console"); a real capture corrects this file.
 *
 * What is sent: the flattened prompt core built (system text, history, DSML tool prompt and tool results,
 * thinking instruction) as ONE user message. Core's tool calling is text-only (DSML prompt + sieve), and the
 * flattened prompt is the one place where the tool instructions and the tool-call history are rendered, so
 * sending it whole keeps tool calling identical to DeepSeek's web chat.
 */

export type BodyStyle = "console" | "openai";

export const BODY_STYLES: readonly BodyStyle[] = ["console", "openai"];

/** Sampling fields a client may pass (OpenAI names) → the console's PascalCase names. */
const PARAMETER_NAMES: Record<string, string> = {
  temperature: "Temperature",
  top_p: "TopP",
  max_tokens: "MaxTokens",
  max_completion_tokens: "MaxTokens",
  presence_penalty: "PresencePenalty",
  frequency_penalty: "FrequencyPenalty",
  stop: "Stop",
};

export interface ChatBodyInput {
  /** The console's model name (e.g. `deepseek-r1-1`). */
  model: string;
  prompt: string;
  /** Sampling fields as the client sent them (OpenAI names). */
  passthrough: Record<string, unknown>;
}

export function chatBody(input: ChatBodyInput, style: BodyStyle): Record<string, unknown> {
  const sampling = Object.entries(input.passthrough).filter(([k, v]) => k in PARAMETER_NAMES && v !== undefined && v !== null);
  if (style === "openai") {
    const body: Record<string, unknown> = { model: input.model, messages: [{ role: "user", content: input.prompt }], stream: true };
    for (const [k, v] of sampling) body[k === "max_completion_tokens" ? "max_tokens" : k] = v;
    return body;
  }
  const body: Record<string, unknown> = { Model: input.model, Messages: [{ Role: "user", Content: input.prompt }], Stream: true };
  if (sampling.length) body.Parameters = Object.fromEntries(sampling.map(([k, v]) => [PARAMETER_NAMES[k]!, v]));
  return body;
}
