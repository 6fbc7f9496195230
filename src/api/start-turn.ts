/** Runs a canonical turn for a caller and tells the observers (usage counters, metrics) how it ended. */
import { executeTurn } from "../core/turn/execute-turn.ts";
import type { TurnEvent, TurnRequest } from "../core/turn/turn.ts";
import type { Caller, TurnOutcomeInfo } from "../core/turn/turn-observer.ts";
import type { AppContext } from "../context.ts";

export async function* startTurn(ctx: AppContext, turn: TurnRequest, caller: Caller, signal: AbortSignal): AsyncGenerator<TurnEvent> {
  const started = performance.now();
  const notify = (info: Omit<TurnOutcomeInfo, "caller" | "turn" | "ms">) => {
    const full = { caller, turn, ms: performance.now() - started, ...info };
    for (const o of ctx.observers) {
      try {
        o.turnEnded(full);
      } catch (e) {
        ctx.logger.warn("turn observer failed", { error: String(e) });
      }
    }
  };
  let ended = false;
  try {
    for await (const ev of executeTurn(turn, ctx.turnDeps(), signal)) {
      if (ev.type === "done") {
        ended = true;
        notify({ usage: ev.usage, finishReason: ev.finishReason });
      }
      yield ev;
    }
  } catch (e) {
    ended = true;
    const err = e as { status?: number; code?: string };
    notify({ errorStatus: signal.aborted ? undefined : err.status ?? 500, errorCode: err.code, aborted: signal.aborted });
    throw e;
  } finally {
    if (!ended) notify({ aborted: true });
  }
}
