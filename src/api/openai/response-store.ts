/**
 * Finished Responses kept in memory per caller for `GET /v1/responses/{id}` and `previous_response_id`
 * (the conversation so far is rebuilt from it). Entries expire after a TTL; nothing survives a restart.
 */
type ChatMessage = Record<string, unknown>;

interface Entry {
  callerId: string;
  expiresAt: number;
  response: Record<string, unknown>;
  /** The chat-form conversation including this response's output. */
  conversation: ChatMessage[];
}

export class ResponseStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly ttlMs: () => number) {}

  private sweep(now: number) {
    for (const [id, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(id);
  }

  put(id: string, callerId: string, response: Record<string, unknown>, requestConversation: ChatMessage[]) {
    const now = Date.now();
    this.sweep(now);
    this.entries.set(id, { callerId, expiresAt: now + this.ttlMs(), response, conversation: [...requestConversation, ...outputAsChat(response.output)] });
  }

  get(id: string, callerId: string): Entry | undefined {
    this.sweep(Date.now());
    const e = this.entries.get(id);
    return e && e.callerId === callerId ? e : undefined;
  }
}

/** Response output items → chat messages, so a follow-up turn sees what the assistant said and called. */
function outputAsChat(output: unknown): ChatMessage[] {
  if (!Array.isArray(output)) return [];
  const assistant: ChatMessage = { role: "assistant", content: "" };
  const calls: unknown[] = [];
  for (const item of output as Record<string, unknown>[]) {
    if (item.type === "message") {
      assistant.content = ((item.content as { type: string; text?: string }[]) ?? []).map((p) => p.text ?? "").join("");
    } else if (item.type === "function_call") {
      calls.push({ id: item.call_id, type: "function", function: { name: item.name, arguments: item.arguments } });
    } else if (item.type === "reasoning") {
      assistant.reasoning_content = ((item.content as { text?: string }[]) ?? []).map((p) => p.text ?? "").join("");
    }
  }
  if (calls.length) assistant.tool_calls = calls;
  return [assistant];
}
