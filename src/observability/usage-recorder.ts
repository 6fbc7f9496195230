/**
 * Usage history recorder: a turn observer that counts every finished business turn (requests, errors, prompt and
 * completion tokens, latency) by caller key id, serving account, provider and model into the store's usage
 * buckets. The serving account comes from the turn's `done` event; a failed turn has none. Counting is an
 * in-memory add (the store batches the writes), so the hot path pays no sqlite round trip.
 */
import type { TurnEvent } from "../core/turn/turn.ts";
import type { Caller, TurnObserver, TurnOutcomeInfo, TurnStartInfo, TurnWatch } from "../core/turn/turn-observer.ts";
import { keyIdOf } from "../store/api-keys-repo.ts";
import type { StoreApi } from "../store/store-api.ts";

/** The usage-history name of a caller: the key id of a managed key, the caller id of a direct token, or `loopback`. */
export function usageKeyId(caller: Caller): string {
  switch (caller.kind) {
    case "key":
      return keyIdOf(caller.key);
    case "direct":
      return caller.id;
    case "loopback":
      return "loopback";
  }
}

export class UsageRecorder implements TurnObserver {
  constructor(
    private readonly store: Pick<StoreApi, "usageHistory">,
    private readonly now: () => number = Date.now,
  ) {}

  turnEnded(): void {}

  turnStarted(start: TurnStartInfo): TurnWatch {
    let account = "";
    return {
      event: (ev: TurnEvent) => {
        if (ev.type === "done" && ev.account) account = ev.account;
      },
      ended: (end: TurnOutcomeInfo) => {
        this.store.usageHistory.add({
          at: this.now(),
          keyId: usageKeyId(start.caller),
          account,
          provider: start.turn.model.provider,
          model: start.turn.model.id,
          error: end.errorStatus !== undefined,
          inputTokens: end.usage?.promptTokens ?? 0,
          outputTokens: end.usage?.completionTokens ?? 0,
          latencyMs: end.ms,
        });
      },
    };
  }
}

const recorders = new WeakMap<object, UsageRecorder>();

/** The one recorder of a running server (keyed by its context object); made and registered as a turn observer on first use. */
export function usageRecorder(owner: { store: StoreApi; observers: TurnObserver[] }): UsageRecorder {
  let r = recorders.get(owner);
  if (!r) {
    r = new UsageRecorder(owner.store);
    recorders.set(owner, r);
    owner.observers.push(r);
  }
  return r;
}
