/**
 * The total turn limit every provider applies (runtime.turn_timeout_seconds / DS2API_TURN_TIMEOUT_SECONDS): the
 * turn runs under a signal that also fires at the deadline; when the deadline (not the client) ended it, the
 * provider's listeners hear `turn_timeout` and the client gets 504 `turn_timeout`, never a cool-down.
 */
import { TurnError } from "../turn/turn-error.ts";

/** `900 s`, or `250 ms` for limits that are not whole seconds (tests). */
export function formatLimit(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

export async function* withTurnDeadline<E, R>(
  turnTimeoutMs: number,
  signal: AbortSignal,
  report: (kind: string, account: string | undefined, message: string) => void,
  run: (limited: AbortSignal) => AsyncGenerator<E, R>,
): AsyncGenerator<E, R> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new DOMException("turn timeout", "TimeoutError")), turnTimeoutMs);
  try {
    return yield* run(AbortSignal.any([signal, deadline.signal]));
  } catch (e) {
    if (deadline.signal.aborted && !signal.aborted) {
      report("turn_timeout", undefined, `turn exceeded ${formatLimit(turnTimeoutMs)}`);
      throw new TurnError(504, `the turn took longer than the total limit of ${formatLimit(turnTimeoutMs)} (runtime.turn_timeout_seconds / DS2API_TURN_TIMEOUT_SECONDS)`, "turn_timeout", undefined, "timeout");
    }
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
