/**
 * Thinking injection (upstream-protocol §6.5): when thinking is on, OpenAI Chat and Responses append
 * a blank line and an effort instruction to the latest user message, once.
 */
import type { CanonicalMessage } from "./message.ts";

/** Marker that identifies the default instruction (also used to avoid adding it twice). */
export const THINKING_INSTRUCTION_MARKER = "Reasoning Effort: Absolute maximum with no shortcuts permitted.";

/** Default instruction: DeepSeek's own maximum-effort preface. */
export const DEFAULT_THINKING_INSTRUCTION =
  THINKING_INSTRUCTION_MARKER +
  "\nYou MUST be very thorough in your thinking and comprehensively decompose the problem to resolve the root cause, " +
  "rigorously stress-testing your logic against all potential paths, edge cases, and adversarial scenarios." +
  "\nExplicitly write out your entire deliberation process, documenting every intermediate step, considered alternative, " +
  "and rejected hypothesis to ensure absolutely no assumption is left unchecked.";

/**
 * Return messages with the instruction appended to the latest user message. Unchanged (same array)
 * when there is no user message, the instruction is empty, or the marker / instruction is already there.
 */
export function injectThinkingInstruction(
  messages: CanonicalMessage[],
  instruction: string = DEFAULT_THINKING_INSTRUCTION,
): CanonicalMessage[] {
  const instr = instruction.trim();
  if (!instr) return messages;
  let i = messages.length - 1;
  while (i >= 0 && messages[i]!.role !== "user") i--;
  if (i < 0) return messages;
  const user = messages[i]!;
  if (user.text.includes(instr) || user.text.includes(THINKING_INSTRUCTION_MARKER)) return messages;
  const out = messages.slice();
  out[i] = { ...user, text: user.text ? `${user.text}\n\n${instr}` : instr };
  return out;
}
