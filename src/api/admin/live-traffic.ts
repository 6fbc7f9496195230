/**
 * Business-turn traffic for the admin event stream: how many turns started and ended (running totals, so that
 * even a turn shorter than one push interval shows as a change) and how many started in the last minute.
 */
import type { TurnObserver, TurnOutcomeInfo, TurnStartInfo, TurnWatch } from "../../core/turn/turn-observer.ts";

/** One counter per second over the last minute. */
const WINDOW_S = 60;

export interface TrafficFigures {
  started: number;
  ended: number;
  failed: number;
  /** Turns started in the last 60 seconds. */
  last_minute: number;
  /** Turns that failed (error status, not a client abort) in the last 60 seconds. */
  errors_last_minute: number;
}

export class LiveTraffic implements TurnObserver {
  private started = 0;
  private ended = 0;
  private failed = 0;
  private readonly starts = new Uint32Array(WINDOW_S);
  private readonly errors = new Uint32Array(WINDOW_S);
  /** The second (since the epoch) the buckets were last moved to. */
  private second = 0;

  constructor(private readonly now: () => number = Date.now) {}

  turnStarted(_info: TurnStartInfo): TurnWatch | undefined {
    this.started++;
    this.advance();
    this.starts[this.second % WINDOW_S]!++;
    return undefined;
  }

  turnEnded(info: TurnOutcomeInfo): void {
    this.ended++;
    if (info.errorStatus === undefined || info.aborted) return;
    this.failed++;
    this.advance();
    this.errors[this.second % WINDOW_S]!++;
  }

  figures(): TrafficFigures {
    this.advance();
    let lastMinute = 0;
    let errorsLastMinute = 0;
    for (let i = 0; i < WINDOW_S; i++) {
      lastMinute += this.starts[i]!;
      errorsLastMinute += this.errors[i]!;
    }
    return { started: this.started, ended: this.ended, failed: this.failed, last_minute: lastMinute, errors_last_minute: errorsLastMinute };
  }

  /** Clears the buckets of the seconds that passed since the last call. */
  private advance(): void {
    const s = Math.floor(this.now() / 1000);
    if (s === this.second) return;
    const gap = Math.min(WINDOW_S, s - this.second);
    for (let i = 1; i <= gap; i++) {
      this.starts[(this.second + i) % WINDOW_S] = 0;
      this.errors[(this.second + i) % WINDOW_S] = 0;
    }
    this.second = s;
  }
}
