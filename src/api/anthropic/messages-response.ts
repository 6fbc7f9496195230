/** Canonical turn events → Anthropic Messages wire format (non-stream message and the SSE event sequence). */
import { randomBytes } from "node:crypto";
import type { FinishReason, ToolCallOut } from "../../core/turn/turn.ts";
import type { Usage } from "../../core/usage/usage.ts";
import type { SseSink } from "../streaming/sse-response.ts";

export const newMessageId = () => `msg_${randomBytes(12).toString("hex")}`;
/** Thinking blocks carry a signature field; ours is an opaque placeholder (DeepSeek reasoning is not signed). */
export const THINKING_SIGNATURE = "ZHMyYXBpOnVuc2lnbmVk";

export function toolUseId(call: ToolCallOut): string {
  return call.id.replace(/^call_/, "toolu_");
}

export function stopReason(f: FinishReason): string {
  switch (f) {
    case "tool_calls":
      return "tool_use";
    case "length":
      return "max_tokens";
    case "content_filter":
      return "refusal";
    default:
      return "end_turn";
  }
}

export function anthropicUsage(u: Usage) {
  return { input_tokens: u.promptTokens, output_tokens: u.completionTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
}

export function messageBody(o: { id: string; model: string; text: string; reasoning: string; toolCalls: ToolCallOut[]; finishReason: FinishReason; usage: Usage }) {
  const content: Record<string, unknown>[] = [];
  if (o.reasoning) content.push({ type: "thinking", thinking: o.reasoning, signature: THINKING_SIGNATURE });
  if (o.text.trim() || (!o.toolCalls.length && !o.reasoning)) content.push({ type: "text", text: o.text });
  for (const c of o.toolCalls) content.push({ type: "tool_use", id: toolUseId(c), name: c.name, input: c.arguments });
  return {
    id: o.id,
    type: "message",
    role: "assistant",
    model: o.model,
    content,
    stop_reason: stopReason(o.finishReason),
    stop_sequence: null,
    usage: anthropicUsage(o.usage),
  };
}

/** Writes the official event sequence: blocks are opened lazily and closed when another kind starts. */
export class MessageStreamWriter {
  private index = -1;
  private open: "thinking" | "text" | undefined;

  constructor(
    private readonly sink: SseSink,
    private readonly id: string,
    private readonly model: string,
  ) {}

  private send(event: string, data: Record<string, unknown>) {
    this.sink.send({ type: event, ...data }, event);
  }

  start(inputTokens: number) {
    this.send("message_start", {
      message: {
        id: this.id,
        type: "message",
        role: "assistant",
        model: this.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: inputTokens, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      },
    });
  }

  private close() {
    if (this.open === undefined) return;
    if (this.open === "thinking") this.send("content_block_delta", { index: this.index, delta: { type: "signature_delta", signature: THINKING_SIGNATURE } });
    this.send("content_block_stop", { index: this.index });
    this.open = undefined;
  }

  private ensure(kind: "thinking" | "text") {
    if (this.open === kind) return;
    this.close();
    this.index++;
    this.open = kind;
    const block = kind === "thinking" ? { type: "thinking", thinking: "", signature: "" } : { type: "text", text: "" };
    this.send("content_block_start", { index: this.index, content_block: block });
  }

  thinking(text: string) {
    this.ensure("thinking");
    this.send("content_block_delta", { index: this.index, delta: { type: "thinking_delta", thinking: text } });
  }

  text(text: string) {
    this.ensure("text");
    this.send("content_block_delta", { index: this.index, delta: { type: "text_delta", text } });
  }

  toolCalls(calls: ToolCallOut[]) {
    this.close();
    for (const c of calls) {
      this.index++;
      this.send("content_block_start", { index: this.index, content_block: { type: "tool_use", id: toolUseId(c), name: c.name, input: {} } });
      this.send("content_block_delta", { index: this.index, delta: { type: "input_json_delta", partial_json: JSON.stringify(c.arguments) } });
      this.send("content_block_stop", { index: this.index });
    }
  }

  finish(reason: FinishReason, usage: Usage) {
    this.close();
    this.send("message_delta", {
      delta: { stop_reason: stopReason(reason), stop_sequence: null },
      usage: { input_tokens: usage.promptTokens, output_tokens: usage.completionTokens },
    });
    this.send("message_stop", {});
  }

  error(type: string, message: string) {
    this.sink.send({ type: "error", error: { type, message } }, "error");
  }
}
