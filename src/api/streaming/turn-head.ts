/**
 * Waits briefly for a turn's first event so that failures that happen at once (full queue, no accounts,
 * bad credentials upstream) become proper HTTP errors; a turn that takes longer starts streaming with
 * keep-alives while it waits.
 */
import type { TurnEvent } from "../../core/turn/turn.ts";

export interface TurnHead {
  /** The first result, or undefined when it did not arrive within the head start. */
  first?: IteratorResult<TurnEvent>;
  /** The pending first `next()` when `first` is undefined. */
  pending?: Promise<IteratorResult<TurnEvent>>;
}

export async function awaitTurnHead(events: AsyncGenerator<TurnEvent>, headStartMs: number): Promise<TurnHead> {
  const pending = events.next();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), headStartMs);
  });
  try {
    const first = await Promise.race([pending, timeout]);
    return first ? { first } : { pending };
  } finally {
    clearTimeout(timer);
  }
}

/** Iterates the rest of a turn after its head. */
export async function* restOfTurn(events: AsyncGenerator<TurnEvent>, head: TurnHead): AsyncGenerator<TurnEvent> {
  const first = head.first ?? (await head.pending!);
  if (first.done) return;
  yield first.value;
  yield* { [Symbol.asyncIterator]: () => events };
}
