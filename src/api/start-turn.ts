/** Runs a canonical turn for a caller and tells the observers (usage counters, metrics, chat history) how it went. */
import { executeTurn } from "../core/turn/execute-turn.ts";
import type { TurnEvent, TurnRequest } from "../core/turn/turn.ts";
import type { Caller, TurnOutcomeInfo, TurnWatch } from "../core/turn/turn-observer.ts";
import type { AppContext } from "../context.ts";

/** Where the turn came from, for observers: the request path (Chat Completions vs Responses) and a dev-capture tag. */
export interface TurnOrigin {
  route: string;
  captureTag?: string;
}

export async function* startTurn(ctx: AppContext, turn: TurnRequest, caller: Caller, signal: AbortSignal, origin: TurnOrigin = { route: "" }): AsyncGenerator<TurnEvent> {
  const started = performance.now();
  const guarded = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (e) {
      ctx.logger.warn(what, { error: String(e) });
    }
  };
  const watches: TurnWatch[] = [];
  for (const o of ctx.observers) {
    if (!o.turnStarted) continue;
    guarded("turn observer failed", () => {
      const w = o.turnStarted!({ caller, turn, ...origin });
      if (w) watches.push(w);
    });
  }
  const taps = watches.flatMap((w) => (w.tap ? [w.tap] : []));
  if (taps.length) {
    turn = {
      ...turn,
      tap: {
        exchange: (info) => taps.forEach((t) => guarded("raw capture failed", () => t.exchange(info))),
        chunk: (bytes) => taps.forEach((t) => guarded("raw capture failed", () => t.chunk(bytes))),
      },
    };
  }
  const notify = (info: Omit<TurnOutcomeInfo, "caller" | "turn" | "ms">) => {
    const full = { caller, turn, ms: performance.now() - started, ...info };
    for (const o of ctx.observers) guarded("turn observer failed", () => o.turnEnded(full));
    for (const w of watches) guarded("turn observer failed", () => w.ended(full));
  };
  let ended = false;
  try {
    for await (const ev of executeTurn(turn, ctx.turnDeps(), signal)) {
      for (const w of watches) guarded("turn observer failed", () => w.event(ev));
      if (ev.type === "done") {
        ended = true;
        notify({ usage: ev.usage, finishReason: ev.finishReason });
      }
      yield ev;
    }
  } catch (e) {
    ended = true;
    const err = e as { status?: number; code?: string; message?: string };
    notify({ errorStatus: signal.aborted ? undefined : err.status ?? 500, errorCode: err.code, aborted: signal.aborted, errorMessage: typeof err.message === "string" ? err.message : String(e) });
    throw e;
  } finally {
    if (!ended) notify({ aborted: true });
  }
}
