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
  /** Images and files the message carries (uploaded and referenced by id, never part of `text`). */
  attachments?: Attachment[];
}

/** Where an attachment's bytes come from, as the client gave them. */
export type AttachmentSource =
  /** Base64 bytes (Anthropic / Gemini inline data, OpenAI `file_data`). */
  | { type: "base64"; data: string; mediaType?: string }
  /** A `data:` URL or an http(s) URL (fetched with a size cap and a timeout). */
  | { type: "url"; url: string; mediaType?: string }
  /** A file uploaded earlier through `POST /v1/files`. */
  | { type: "file_id"; id: string };

/** An image or a document inside a message. */
export interface Attachment {
  kind: "image" | "file";
  source: AttachmentSource;
  filename?: string;
}
