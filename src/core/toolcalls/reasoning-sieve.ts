/**
 * Tool calls written inside the model's reasoning (toolcalls.md §2.9, §4, §6.2 #11).
 *
 * DeepSeek sometimes writes its call block while thinking and leaves the answer without one. The
 * reasoning goes through the same sieve as the answer, in a mode that keeps every piece of call markup
 * out of the reasoning a client is shown:
 * - an accepted block is withheld and remembered; the last complete block is the fallback call (earlier
 *   ones, followed by more thinking, were drafts the model went on to revise). Blocks with nothing but
 *   whitespace between them count as one group, as they would in an answer;
 * - a complete block that gives no valid call is withheld too (`rejected_call`);
 * - the reasoning ending inside a block withholds that unfinished block and recovers nothing from it.
 * Prose, and tool markup the sieve treats as an example (fenced or inline code), passes through.
 *
 * Whether the fallback is used is the turn's decision: only when the answer itself produced no call.
 */
import { ToolCallSieve } from "./sieve.ts";
import type { ParsedToolCall, SieveOutput, ToolSpec } from "./types.ts";

export class ReasoningCallSieve {
  private sieve: ToolCallSieve;
  private ended = false;
  private last: ParsedToolCall[] = [];
  private unfinished = false;
  /** Only whitespace since the last accepted block: a following block joins its group. */
  private adjacent = false;
  private readonly tools: readonly ToolSpec[];

  constructor(tools: readonly ToolSpec[]) {
    this.tools = tools;
    this.sieve = new ToolCallSieve(tools, { markRejected: true });
  }

  /** Reasoning text that is safe to show now ("" while a possible block is held back). */
  push(delta: string): string {
    if (this.ended) {
      // Reasoning after the end (not seen from DeepSeek): a fresh segment; earlier blocks still count.
      this.sieve = new ToolCallSieve(this.tools, { markRejected: true });
      this.ended = false;
    }
    return this.shown(this.sieve.push(delta));
  }

  /** The rest of the reasoning once it is over (the answer started, or the stream ended). Idempotent. */
  end(): string {
    if (this.ended) return "";
    this.ended = true;
    return this.shown(this.sieve.end());
  }

  /** The calls of the last complete block in the reasoning (empty when there was none). */
  get calls(): ParsedToolCall[] {
    return this.last;
  }

  /** The reasoning ended inside a call block (nothing recovered from that block). */
  get incomplete(): boolean {
    return this.unfinished;
  }

  private shown(outputs: SieveOutput[]): string {
    let text = "";
    for (const o of outputs) {
      if (o.type === "tool_calls") {
        this.last = this.adjacent ? [...this.last, ...o.calls] : o.calls;
        this.adjacent = true;
        continue;
      }
      if (o.type === "text") {
        text += o.text;
        if (o.text.trim()) this.adjacent = false;
        continue;
      }
      if (o.type === "incomplete_call") this.unfinished = true;
      this.adjacent = false;
    }
    return text;
  }
}
