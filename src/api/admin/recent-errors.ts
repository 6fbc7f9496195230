/** The last upstream and turn failures, in memory, for the dashboard (`GET /admin/errors/recent`). */
import type { TurnObserver, TurnOutcomeInfo } from "../../core/turn/turn-observer.ts";

export interface RecentError {
  at: number;
  kind: string;
  account?: string;
  message: string;
}

export class RecentErrors implements TurnObserver {
  private readonly items: RecentError[] = [];

  constructor(private readonly capacity = 100) {}

  add(kind: string, account: string | undefined, message: string): void {
    this.items.push({ at: Date.now(), kind, account, message: message.slice(0, 500) });
    if (this.items.length > this.capacity) this.items.shift();
  }

  turnEnded(info: TurnOutcomeInfo): void {
    if (info.errorStatus === undefined || info.aborted) return;
    this.add("turn", undefined, `${info.turn.model.requested}: HTTP ${info.errorStatus}${info.errorCode ? ` (${info.errorCode})` : ""}`);
  }

  /** Newest first. */
  list(limit: number): RecentError[] {
    return this.items.slice(-limit).reverse();
  }
}
