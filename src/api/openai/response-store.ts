/**
 * What the Responses routes keep of a finished response for `GET /v1/responses/{id}` and `previous_response_id`:
 * the response object and the chat-form conversation including its output, which a follow-up turn continues.
 * Where it is kept is the cluster's business (`ctx.cluster.responses`: memory on one instance, Redis on several).
 */
type ChatMessage = Record<string, unknown>;

/** The conversation a follow-up turn continues: the request's messages, then what this response said and called. */
export function conversationAfter(requestConversation: readonly ChatMessage[], response: Record<string, unknown>): ChatMessage[] {
  return [...requestConversation, ...outputAsChat(response.output)];
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
