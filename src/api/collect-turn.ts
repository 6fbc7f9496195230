/** Runs a non-stream turn to its end and gathers what the surfaces render. */
import type { ToolCallOut, TurnEvent } from "../core/turn/turn.ts";
import { toHttpError } from "./turn-errors.ts";

export type TurnResult = Extract<TurnEvent, { type: "done" }> & {
  toolCalls: ToolCallOut[];
  /** performance.now() when the first reasoning/text/tool event arrived (the end, when there was none). */
  firstOutputAt: number;
};

/** Aborts the turn when the client disconnects; TurnErrors become HttpErrors. */
export async function collectTurn(events: AsyncGenerator<TurnEvent>): Promise<TurnResult> {
  const calls: ToolCallOut[] = [];
  let firstOutputAt: number | undefined;
  try {
    for await (const ev of events) {
      if (ev.type !== "started" && ev.type !== "done") firstOutputAt ??= performance.now();
      if (ev.type === "tool_calls") calls.push(...ev.calls);
      else if (ev.type === "done") return { ...ev, toolCalls: calls, firstOutputAt: firstOutputAt ?? performance.now() };
    }
  } catch (e) {
    throw toHttpError(e);
  }
  throw new Error("turn ended without a result");
}

/** An AbortController tied to the client's connection. */
export function clientAbort(request: Request): { signal: AbortSignal; abort(reason?: unknown): void; dispose(): void } {
  const ac = new AbortController();
  const onGone = () => ac.abort(new DOMException("client disconnected", "AbortError"));
  if (request.signal.aborted) onGone();
  else request.signal.addEventListener("abort", onGone, { once: true });
  return {
    signal: ac.signal,
    abort: (reason) => ac.abort(reason),
    dispose: () => request.signal.removeEventListener("abort", onGone),
  };
}
