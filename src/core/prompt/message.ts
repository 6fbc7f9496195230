/** The canonical message every client surface is normalised into before the prompt is built. */

export interface CanonicalToolCall {
  id?: string;
  name: string;
  /** As the client sent them: a JSON string or an already-decoded value. */
  arguments: unknown;
}

export interface CanonicalMessage {
  /** "system" | "user" | "assistant" | "tool", or an unknown role kept verbatim (lower case). */
  role: "system" | "user" | "assistant" | "tool" | (string & {});
  text: string;
  /** Assistant reasoning to feed back as `[reasoning_content]…[/reasoning_content]`. */
  reasoning?: string;
  toolCalls?: CanonicalToolCall[];
  /** Tool results: the call this answers. */
  toolCallId?: string;
  /** Tool results: the tool name (inferred from the earlier call when missing). */
  toolName?: string;
  /** Image URLs (http(s) or data:) found in content parts; never part of `text`. */
  images?: string[];
}
