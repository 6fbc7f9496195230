/**
 * Write-behind for additive per-request counters on Postgres (`accounts.recordUse`, `keyUsage.record`): a request
 * only adds to an in-memory entry; every `everyMs` (1 s) the entries are written in one transaction as additive
 * upserts, so a busy instance sends one small batch a second instead of a round trip per request. Also written on
 * `flush()` / `close()`. A failed write keeps its counts (merged back under newer ones) for the next try and is
 * reported through `onError`; nothing here ever throws into the request that counted.
 *
 * On sqlite the repositories write at once (a local statement, no round trip) and use no buffer.
 */
import type { SqlExecutor } from "./executor.ts";

export const WRITE_BEHIND_MS = 1_000;

/** Called when a timed or closing write fails (the counts are kept). */
export type WriteBehindErrorReport = (what: string, error: unknown) => void;

export interface WriteBehindOptions<T> {
  /** Names the buffer in error reports ("account uses", "key usage"). */
  name: string;
  /** The root executor: writes run in their own transaction, never inside a caller's. */
  x: SqlExecutor;
  /** Add `more` into `into` (mutating `into`). */
  merge(into: T, more: T): void;
  /** Write these entries (inside the transaction `tx`). */
  write(tx: SqlExecutor, entries: [string, T][]): Promise<void>;
  everyMs?: number;
  onError?: WriteBehindErrorReport;
}

export class WriteBehind<T> {
  private pending = new Map<string, T>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly o: WriteBehindOptions<T>) {}

  /** Entries not written yet. */
  get size(): number {
    return this.pending.size;
  }

  /** Count `value` under `key` (in memory; written within `everyMs`). Ignored once closed. */
  add(key: string, value: T): void {
    if (this.closed) return;
    this.put(this.pending, key, value);
    this.arm();
  }

  /** Drop what was counted under `key` and not written yet (its rows are being deleted). */
  discard(key: string): void {
    this.pending.delete(key);
  }

  /** Write everything counted so far. Rejects when the write fails (the counts are kept for the next try). */
  async flush(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
    if (!this.pending.size) return;
    const batch = this.pending;
    this.pending = new Map();
    const run = this.o.x
      .transaction((tx) => this.o.write(tx, [...batch]))
      .catch((e: unknown) => {
        // Newer counts were added meanwhile: merge the failed batch back under them.
        for (const [k, v] of batch) this.put(this.pending, k, v);
        throw e;
      });
    this.running = run;
    try {
      await run;
    } finally {
      if (this.running === run) this.running = undefined;
    }
  }

  /** Stop the timer and write what is left; a failure is reported, not thrown. Later adds are ignored. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    try {
      await this.flush();
    } catch (e) {
      this.report(e);
    } finally {
      this.closed = true;
    }
  }

  private put(map: Map<string, T>, key: string, value: T): void {
    const existing = map.get(key);
    if (existing === undefined) map.set(key, value);
    else this.o.merge(existing, value);
  }

  private arm(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush()
        .catch((e: unknown) => this.report(e))
        .finally(() => {
          if (this.pending.size) this.arm();
        });
    }, this.o.everyMs ?? WRITE_BEHIND_MS);
    this.timer.unref?.();
  }

  private report(e: unknown): void {
    try {
      this.o.onError?.(this.o.name, e);
    } catch {
      // a broken reporter must not break the counting
    }
  }
}
