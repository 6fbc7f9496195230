/**
 * Canonical turn events → OpenAI Responses objects: the response object (non-stream, and nested in every
 * lifecycle event) and the official stream event sequence (reasoning item with reasoning_text, message item
 * with output_text, function_call items), with `sequence_number` from 0 and stable ids.
 */
import { randomBytes } from "node:crypto";
import type { FinishReason, ToolCallOut } from "../../core/turn/turn.ts";
import type { Usage } from "../../core/usage/usage.ts";
import type { SseSink } from "../streaming/sse-response.ts";

const hex = () => randomBytes(16).toString("hex");
export const newResponseId = () => `resp_${hex()}`;

export interface ResponseFrame {
  id: string;
  createdAt: number;
  model: string;
  /** Echoed request fields. */
  echo: { instructions: unknown; tools: unknown; tool_choice: unknown; previous_response_id: unknown; metadata: unknown };
}

export type OutputItem = Record<string, unknown> & { id: string; type: string };

export function responsesUsage(u: Usage) {
  return {
    input_tokens: u.promptTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: u.completionTokens,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens },
    total_tokens: u.totalTokens,
  };
}

export function responseObject(
  f: ResponseFrame,
  o: { status: "in_progress" | "completed" | "failed" | "incomplete"; output: OutputItem[]; usage?: Usage; error?: { code: string; message: string }; incomplete?: string },
) {
  const text = o.output
    .filter((i) => i.type === "message")
    .flatMap((i) => (i.content as { type: string; text?: string }[]) ?? [])
    .filter((p) => p.type === "output_text")
    .map((p) => p.text ?? "")
    .join("");
  return {
    id: f.id,
    object: "response",
    created_at: f.createdAt,
    status: o.status,
    error: o.error ?? null,
    incomplete_details: o.incomplete ? { reason: o.incomplete } : null,
    instructions: f.echo.instructions ?? null,
    max_output_tokens: null,
    model: f.model,
    output: o.output,
    output_text: text,
    parallel_tool_calls: true,
    previous_response_id: f.echo.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: null,
    text: { format: { type: "text" } },
    tool_choice: f.echo.tool_choice ?? "auto",
    tools: f.echo.tools ?? [],
    top_p: null,
    truncation: "disabled",
    usage: o.usage ? responsesUsage(o.usage) : null,
    metadata: f.echo.metadata ?? {},
  };
}

export const reasoningItem = (id: string, text: string): OutputItem => ({ id, type: "reasoning", summary: [], content: [{ type: "reasoning_text", text }] });
export const messageItem = (id: string, text: string, status = "completed"): OutputItem => ({
  id,
  type: "message",
  role: "assistant",
  status,
  content: [{ type: "output_text", text, annotations: [], logprobs: [] }],
});
export const functionCallItem = (c: ToolCallOut, status = "completed"): OutputItem => ({
  id: `fc_${c.id.replace(/^call_/, "")}`,
  type: "function_call",
  status,
  call_id: c.id,
  name: c.name,
  arguments: JSON.stringify(c.arguments),
});

/** Output items of a finished turn (non-stream). */
export function outputItems(o: { reasoning: string; text: string; toolCalls: ToolCallOut[] }): OutputItem[] {
  const items: OutputItem[] = [];
  if (o.reasoning) items.push(reasoningItem(`rs_${hex()}`, o.reasoning));
  if (o.text.trim() || !o.toolCalls.length) items.push(messageItem(`msg_${hex()}`, o.text));
  for (const c of o.toolCalls) items.push(functionCallItem(c));
  return items;
}

export function incompleteReason(f: FinishReason): string | undefined {
  return f === "length" ? "max_output_tokens" : f === "content_filter" ? "content_filter" : undefined;
}

/** Emits the official event sequence; items open lazily and close when another kind starts. */
export class ResponsesStreamWriter {
  private seq = 0;
  private readonly output: OutputItem[] = [];
  private open: { kind: "reasoning" | "message"; id: string; index: number; text: string } | undefined;

  constructor(
    private readonly sink: SseSink,
    private readonly frame: ResponseFrame,
  ) {}

  private emit(type: string, data: Record<string, unknown>) {
    this.sink.send({ type, sequence_number: this.seq++, ...data }, type);
  }

  start() {
    const response = responseObject(this.frame, { status: "in_progress", output: [] });
    this.emit("response.created", { response });
    this.emit("response.in_progress", { response });
  }

  private close() {
    const o = this.open;
    if (!o) return;
    this.open = undefined;
    const base = { item_id: o.id, output_index: o.index, content_index: 0 };
    if (o.kind === "reasoning") {
      this.emit("response.reasoning_text.done", { ...base, text: o.text });
      this.emit("response.content_part.done", { ...base, part: { type: "reasoning_text", text: o.text } });
      this.output[o.index] = reasoningItem(o.id, o.text);
    } else {
      this.emit("response.output_text.done", { ...base, text: o.text, logprobs: [] });
      this.emit("response.content_part.done", { ...base, part: { type: "output_text", text: o.text, annotations: [], logprobs: [] } });
      this.output[o.index] = messageItem(o.id, o.text);
    }
    this.emit("response.output_item.done", { output_index: o.index, item: this.output[o.index] });
  }

  private ensure(kind: "reasoning" | "message") {
    if (this.open?.kind === kind) return this.open;
    this.close();
    const id = `${kind === "reasoning" ? "rs" : "msg"}_${hex()}`;
    const index = this.output.length;
    const item: OutputItem = kind === "reasoning" ? { id, type: "reasoning", summary: [] } : { id, type: "message", role: "assistant", status: "in_progress", content: [] };
    this.output.push(item);
    this.open = { kind, id, index, text: "" };
    this.emit("response.output_item.added", { output_index: index, item });
    const part = kind === "reasoning" ? { type: "reasoning_text", text: "" } : { type: "output_text", text: "", annotations: [], logprobs: [] };
    this.emit("response.content_part.added", { item_id: id, output_index: index, content_index: 0, part });
    return this.open;
  }

  reasoning(delta: string) {
    const o = this.ensure("reasoning");
    o.text += delta;
    this.emit("response.reasoning_text.delta", { item_id: o.id, output_index: o.index, content_index: 0, delta });
  }

  text(delta: string) {
    const o = this.ensure("message");
    o.text += delta;
    this.emit("response.output_text.delta", { item_id: o.id, output_index: o.index, content_index: 0, delta, logprobs: [] });
  }

  toolCalls(calls: ToolCallOut[]) {
    this.close();
    for (const c of calls) {
      const done = functionCallItem(c);
      const index = this.output.length;
      this.output.push(done);
      this.emit("response.output_item.added", { output_index: index, item: { ...done, arguments: "", status: "in_progress" } });
      this.emit("response.function_call_arguments.delta", { item_id: done.id, output_index: index, delta: done.arguments });
      this.emit("response.function_call_arguments.done", { item_id: done.id, output_index: index, name: c.name, arguments: done.arguments });
      this.emit("response.output_item.done", { output_index: index, item: done });
    }
  }

  /** Ends the stream; returns the final response object (for the response store). */
  finish(reason: FinishReason, usage: Usage) {
    this.close();
    const incomplete = incompleteReason(reason);
    const response = responseObject(this.frame, { status: incomplete ? "incomplete" : "completed", output: this.output, usage, incomplete });
    this.emit(incomplete ? "response.incomplete" : "response.completed", { response });
    return response;
  }

  fail(code: string, message: string) {
    this.close();
    const response = responseObject(this.frame, { status: "failed", output: this.output, error: { code, message } });
    this.emit("response.failed", { response });
    return response;
  }
}
