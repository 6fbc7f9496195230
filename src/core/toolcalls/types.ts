/**
 * Provider-neutral tool-calling types (toolcalls.md). Surfaces normalise their own request shapes
 * into these, and turn `ParsedToolCall`s back into their protocol's call objects.
 */

/** A JSON Schema object as clients send it. Only the parts coercion needs are read. */
export type JSONSchema = { [key: string]: unknown };

export interface ToolSpec {
  name: string;
  description?: string;
  parameters?: JSONSchema;
}

/**
 * What the client asked for. `allowed` (optional) restricts which declared tools may be described
 * and called; `mode: "tool"` forces one tool.
 */
export type ToolChoice = (
  | { mode: "auto" }
  | { mode: "none" }
  | { mode: "required" }
  | { mode: "tool"; name: string }
) & { allowed?: string[] };

export interface ParsedToolCall {
  /** The declared tool's own spelling of the name. */
  name: string;
  /** Arguments as a JSON object, coerced to the declared schema. */
  arguments: Record<string, unknown>;
}

/** One prior assistant call, as rendered into the prompt history. */
export interface ToolCallHistoryEntry {
  name: string;
  /** A JSON string (as OpenAI sends it) or an already-decoded value. */
  arguments: unknown;
  /** When given it is shown on the invoke, so results can be paired by id. */
  id?: string;
}

export interface ToolResultEntry {
  name?: string;
  callId?: string;
  content: string;
}

export type SieveOutput =
  | { type: "text"; text: string }
  | { type: "tool_calls"; calls: ParsedToolCall[] }
  /** The stream ended inside what looked like a tool call: raw text, flagged so a surface can pick a finish reason. */
  | { type: "incomplete_call"; text: string }
  /** A complete block that gave no valid call (only with the sieve's `markRejected`; otherwise it is plain text). */
  | { type: "rejected_call"; text: string };
