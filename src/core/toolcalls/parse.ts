/**
 * Whole-text parsing. It runs the streaming sieve over the complete text, so a non-streaming
 * response and a streamed one always agree on what is a call.
 */
import { ToolCallSieve } from "./sieve.ts";
import type { ParsedToolCall, ToolSpec } from "./types.ts";

export interface ParseResult {
  calls: ParsedToolCall[];
  /** The text with accepted call blocks removed (rejected or unfinished markup stays). */
  text: string;
  /** The text ended inside what looked like a tool call. */
  incomplete: boolean;
}

export function parseToolCalls(text: string, tools: readonly ToolSpec[]): ParseResult {
  const sieve = new ToolCallSieve(tools);
  const outputs = [...sieve.push(text), ...sieve.end()];
  const calls: ParsedToolCall[] = [];
  let rest = "";
  let incomplete = false;
  for (const o of outputs) {
    if (o.type === "tool_calls") calls.push(...o.calls);
    else {
      rest += o.text;
      if (o.type === "incomplete_call") incomplete = true;
    }
  }
  return { calls, text: rest, incomplete };
}
