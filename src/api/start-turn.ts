/** Runs a canonical turn for a caller and tells the observers (usage counters, metrics) how it ended. */
import { executeTurn } from "../core/turn/execute-turn.ts";
import type { FinishReason, TurnEvent, TurnRequest } from "../core/turn/turn.ts";
import type { Usage } from "../core/usage/usage.ts";
import type { AppContext } from "../context.ts";
import type { Caller } from "./caller.ts";

export interface TurnOutcomeInfo {
  caller: Caller;
  turn: TurnRequest;
  ms: number;
  usage?: Usage;
  finishReason?: FinishReason;
  /** Set when the turn failed (status of the error a client sees). */
  errorStatus?: number;
  errorCode?: string;
  /** The client went away before the end. */
  aborted?: boolean;
}

export interface TurnObserver {
  turnEnded(info: TurnOutcomeInfo): void;
}

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
