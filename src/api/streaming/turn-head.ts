/**
 * Waits briefly for a turn's first visible event so that failures that happen early (full queue, no accounts,
 * bad credentials upstream, empty output) become proper HTTP errors; a turn that takes longer starts streaming
 * with keep-alives while it waits. Bookkeeping events seen meanwhile (`started`) are replayed first.
 */
import type { TurnEvent } from "../../core/turn/turn.ts";

export interface TurnHead {
  /** Events already taken from the turn, to be delivered first. */
  buffered: TurnEvent[];
  /** The turn ended (or the first visible event came) within the head start. */
  settled: boolean;
  /** A `next()` still pending when the head start ran out. */
  pending?: Promise<IteratorResult<TurnEvent>>;
}

export async function awaitTurnHead(events: AsyncGenerator<TurnEvent>, headStartMs: number): Promise<TurnHead> {
  const buffered: TurnEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), headStartMs);
  });
  try {
    for (;;) {
      const pending = events.next();
      const r = await Promise.race([pending, timeout]);
      if (r === "timeout") return { buffered, settled: false, pending };
      if (r.done) return { buffered, settled: true };
      buffered.push(r.value);
      if (r.value.type !== "started") return { buffered, settled: true };
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Iterates the rest of a turn after its head. */
export async function* restOfTurn(events: AsyncGenerator<TurnEvent>, head: TurnHead): AsyncGenerator<TurnEvent> {
  yield* head.buffered;
  if (head.pending) {
    const first = await head.pending;
    if (first.done) return;
    yield first.value;
  }
  yield* { [Symbol.asyncIterator]: () => events };
}
