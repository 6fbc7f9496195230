/**
 * The prompt-size limit (DS2API_MAX_PROMPT_CHARS): a turn whose text would flatten into a longer prompt is
 * refused with 413 before any prompt is built or token counted. The size is a sum of string lengths.
 */
import type { TurnRequest } from "../core/turn/turn.ts";
import { HttpError } from "./http-error.ts";

function valueChars(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === "string") return v.length;
  return JSON.stringify(v)?.length ?? 0;
}

/** Characters of message text, reasoning, tool-call arguments and tool declarations (what the prompt is made of). */
export function promptChars(turn: Pick<TurnRequest, "messages" | "tools">): number {
  let n = 0;
  for (const m of turn.messages) {
    n += m.text.length + (m.reasoning?.length ?? 0);
    if (m.toolCalls) for (const c of m.toolCalls) n += c.name.length + valueChars(c.arguments);
  }
  for (const t of turn.tools) n += t.name.length + (t.description?.length ?? 0) + valueChars(t.parameters);
  return n;
}

/** Throws 413 when the turn's prompt text is longer than `maxChars`; returns its length otherwise. */
export function checkPromptSize(turn: Pick<TurnRequest, "messages" | "tools">, maxChars: number): number {
  const n = promptChars(turn);
  if (n > maxChars) {
    throw new HttpError(413, `prompt too large: ${n} characters of messages and tools (limit ${maxChars}; DS2API_MAX_PROMPT_CHARS)`, "prompt_too_large");
  }
  return n;
}
