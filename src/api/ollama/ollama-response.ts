/**
 * Ollama response objects: the fields every `/api/chat` and `/api/generate` line carries (`model`,
 * `created_at`, `done`), the final line's `done_reason`, token counts and durations (nanoseconds, as Ollama
 * reports them), and tool calls in Ollama's shape (`{function:{name, arguments:{…}}}`, arguments an object).
 */
import type { FinishReason, ToolCallOut } from "../../core/turn/turn.ts";
import type { Usage } from "../../core/usage/usage.ts";

/** When a request arrived and when its first output came, to report Ollama's durations. */
export class OllamaClock {
  readonly startedAt = performance.now();
  firstOutputAt: number | undefined;

  output(): void {
    this.firstOutputAt ??= performance.now();
  }

  /** Durations and counts of the final line. There is no model to load: `load_duration` is 0. */
  stats(usage: Usage, firstOutputAt = this.firstOutputAt) {
    const end = performance.now();
    const first = Math.min(firstOutputAt ?? end, end);
    const ns = (ms: number) => Math.max(1, Math.round(ms * 1e6));
    return {
      total_duration: ns(end - this.startedAt),
      load_duration: 0,
      prompt_eval_count: usage.promptTokens,
      prompt_eval_duration: ns(first - this.startedAt),
      eval_count: usage.completionTokens,
      eval_duration: ns(end - first),
    };
  }
}

export const createdAt = () => new Date().toISOString();

/** Ollama's `done_reason`: `stop` (also after tool calls, as Ollama says), `length`, or ds2api's `content_filter`. */
export function doneReason(reason: FinishReason): string {
  return reason === "length" ? "length" : reason === "content_filter" ? "content_filter" : "stop";
}

export function ollamaToolCall(c: ToolCallOut) {
  return { id: c.id, function: { index: c.index, name: c.name, arguments: c.arguments } };
}

export interface AssistantMessage {
  role: "assistant";
  content: string;
  thinking?: string;
  tool_calls?: ReturnType<typeof ollamaToolCall>[];
}

export function assistantMessage(content: string, thinking?: string, calls?: ToolCallOut[]): AssistantMessage {
  return { role: "assistant", content, ...(thinking ? { thinking } : {}), ...(calls?.length ? { tool_calls: calls.map(ollamaToolCall) } : {}) };
}
