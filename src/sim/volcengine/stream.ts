/** Writes a scripted reply as the console's (inferred) OpenAI-shaped SSE stream, faults included. */
import type { VolcReply } from "./state.ts";

export interface StreamSink {
  write(s: string): void;
  sleep(ms: number): Promise<void>;
  /** Drop the connection. */
  cut(): void;
  readonly cancelled: boolean;
}

function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function chunk(reply: VolcReply, model: string, id: string, delta: Record<string, string>, finish: string | null): string {
  const pascal = reply.casing === "pascal";
  let obj: Record<string, unknown>;
  if (pascal) {
    const d: Record<string, string> = {};
    if (delta.content !== undefined) d.Content = delta.content;
    if (delta.reasoning_content !== undefined) d.ReasoningContent = delta.reasoning_content;
    obj = { Id: id, Object: "chat.completion.chunk", Model: model, Choices: [{ Index: 0, Delta: d, FinishReason: finish }] };
  } else {
    obj = { id, object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model, choices: [{ index: 0, delta, finish_reason: finish }] };
  }
  if (finish && reply.pascalFinish) obj.FinishReason = finish;
  return `data: ${JSON.stringify(reply.resultWrapper ? { Result: obj } : obj)}\n\n`;
}

/** Writes the whole reply; returns how it ended. */
export async function writeReply(sink: StreamSink, reply: VolcReply, model: string): Promise<"ended" | "cut" | "cancelled"> {
  if (reply.firstByteDelayMs) await sink.sleep(reply.firstByteDelayMs);
  if (reply.replay !== undefined) {
    sink.write(reply.replay);
    return "ended";
  }
  if (reply.emptyBody) return "ended";
  if (reply.malformed) {
    sink.write("data: {not json at all\n\n");
    return "ended";
  }
  const id = `chatcmpl-sim-${crypto.randomUUID().slice(0, 8)}`;
  const size = Math.max(1, reply.chunkChars ?? 4);
  const deltas = [
    ...pieces(reply.reasoning ?? "", size).map((t) => ({ reasoning_content: t })),
    ...pieces(reply.answer ?? "", size).map((t) => ({ content: t })),
  ];
  sink.write(chunk(reply, model, id, { role: "assistant" }, null));
  let n = 0;
  for (const delta of deltas) {
    if (sink.cancelled) return "cancelled";
    if (reply.streamError && n === reply.streamError.afterChunks) {
      const e = reply.streamError;
      const body = e.form === "error" ? { error: { code: e.code, message: e.message, type: "invalid_request_error" } } : { ResponseMetadata: { Action: "Chat", Error: { Code: e.code, Message: e.message } } };
      sink.write(`data: ${JSON.stringify(body)}\n\n`);
      return "ended";
    }
    if (reply.cutAfterChunks !== undefined && n === reply.cutAfterChunks) {
      sink.cut();
      return "cut";
    }
    if (reply.truncateAfterChunks !== undefined && n === reply.truncateAfterChunks) return "ended";
    if (reply.stall && n === reply.stall.afterChunks) {
      const { ms, keepaliveMs } = reply.stall;
      if (keepaliveMs) {
        for (let waited = 0; waited < ms && !sink.cancelled; waited += keepaliveMs) {
          sink.write(": keep-alive\n\n");
          await sink.sleep(keepaliveMs);
        }
      } else await sink.sleep(ms);
    }
    if (reply.longLineBytes && n === 1) sink.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: null }], padding: "x".repeat(reply.longLineBytes) })}\n\n`);
    sink.write(chunk(reply, model, id, delta, null));
    n++;
    if (reply.tokenDelayMs) await sink.sleep(reply.tokenDelayMs);
  }
  if (reply.streamError && n <= reply.streamError.afterChunks) {
    const e = reply.streamError;
    sink.write(`data: ${JSON.stringify(e.form === "error" ? { error: { code: e.code, message: e.message } } : { ResponseMetadata: { Error: { Code: e.code, Message: e.message } } })}\n\n`);
    return "ended";
  }
  if (reply.cutAfterChunks !== undefined && n <= reply.cutAfterChunks) {
    sink.cut();
    return "cut";
  }
  if (reply.truncateAfterChunks !== undefined) return "ended";
  sink.write(chunk(reply, model, id, {}, reply.finishReason ?? "stop"));
  if (reply.usage !== false) {
    const reasoningTokens = Math.ceil((reply.reasoning ?? "").length / 4);
    const completion = reasoningTokens + Math.ceil((reply.answer ?? "").length / 4);
    const usage = { prompt_tokens: 12, completion_tokens: completion, total_tokens: 12 + completion, completion_tokens_details: { reasoning_tokens: reasoningTokens } };
    sink.write(`data: ${JSON.stringify(reply.casing === "pascal" ? { Choices: [], Usage: { PromptTokens: 12, CompletionTokens: completion, TotalTokens: 12 + completion } } : { choices: [], usage })}\n\n`);
  }
  if (!reply.omitDone) sink.write("data: [DONE]\n\n");
  return "ended";
}
