/** Canonical turn events → OpenAI Chat Completions wire objects (non-stream body and stream chunks). */
import { randomBytes } from "node:crypto";
import type { FinishReason, ToolCallOut } from "../../core/turn/turn.ts";
import type { Usage } from "../../core/usage/usage.ts";

export const newCompletionId = () => `chatcmpl-${randomBytes(12).toString("hex")}`;

export function openAiUsage(u: Usage) {
  return {
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.totalTokens,
    completion_tokens_details: { reasoning_tokens: u.reasoningTokens },
  };
}

export function openAiToolCall(c: ToolCallOut) {
  return { id: c.id, type: "function" as const, function: { name: c.name, arguments: JSON.stringify(c.arguments) } };
}

export function chatCompletionBody(o: {
  id: string;
  created: number;
  model: string;
  text: string;
  reasoning: string;
  toolCalls: ToolCallOut[];
  finishReason: FinishReason;
  usage: Usage;
}) {
  const message: Record<string, unknown> = {
    role: "assistant",
    content: o.toolCalls.length ? (o.text.trim() ? o.text : null) : o.text,
  };
  if (o.reasoning) message.reasoning_content = o.reasoning;
  if (o.toolCalls.length) message.tool_calls = o.toolCalls.map(openAiToolCall);
  return {
    id: o.id,
    object: "chat.completion",
    created: o.created,
    model: o.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: o.finishReason }],
    usage: openAiUsage(o.usage),
  };
}

/** Builds stream chunks with a constant id/created/model. */
export class ChatChunkWriter {
  constructor(
    private readonly id: string,
    private readonly created: number,
    private readonly model: string,
    private readonly usageChunk: boolean,
  ) {}

  chunk(delta: Record<string, unknown>, finishReason: FinishReason | null = null) {
    const c: Record<string, unknown> = {
      id: this.id,
      object: "chat.completion.chunk",
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    };
    if (this.usageChunk) c.usage = null;
    return c;
  }

  /** The final chunk; usage rides on it unless the client asked for the separate usage chunk. */
  finish(finishReason: FinishReason, usage: Usage) {
    const c = this.chunk({}, finishReason);
    if (!this.usageChunk) c.usage = openAiUsage(usage);
    return c;
  }

  usage(usage: Usage) {
    return { id: this.id, object: "chat.completion.chunk", created: this.created, model: this.model, choices: [], usage: openAiUsage(usage) };
  }
}
