/**
 * Usage history: finished business turns added up per time bucket and per (caller key id, account, provider,
 * model). Two spans are kept: 5-minute buckets for the last two days (the "last hour" view) and hourly buckets
 * for 30 days (day and week views). `add` only counts in memory; the counts reach the database as additive upserts in
 * one transaction per flush (every few seconds, before every read, and when the store closes), so the hot path never waits on a write.
 * Older buckets are pruned with a flush, once an hour at most. Rows name a caller by its key id (`k_…`) or caller id, never by a key.
 */
import type { SqlExecutor } from "./sql/executor.ts";
import { WriteBehind, type WriteBehindErrorReport } from "./sql/write-behind.ts";

/** Bucket spans in seconds: 5 minutes and 1 hour. */
export const FINE_SPAN = 300;
export const HOURLY_SPAN = 3600;
const SPANS = [FINE_SPAN, HOURLY_SPAN] as const;
/** How long each span is kept. */
const RETENTION_MS: Record<(typeof SPANS)[number], number> = { [FINE_SPAN]: 2 * 86_400_000, [HOURLY_SPAN]: 30 * 86_400_000 };
const PRUNE_EVERY_MS = 3_600_000;
export const DEFAULT_FLUSH_MS = 5_000;

/** One finished turn. */
export interface UsageSample {
  at: number;
  /** `k_…` for a managed API key, `caller:…` for a direct token, `loopback` for the open Ollama routes. */
  keyId: string;
  /** The account / credential that served the turn ("" when none did, e.g. it failed before). */
  account: string;
  provider: string;
  model: string;
  error: boolean;
  inputTokens: number;
  outputTokens: number;
  latencyMs: number;
}

/** `model` groups by provider and model together (`provider/model`): two providers may serve models of one name. */
export type UsageDimension = "key_id" | "account" | "provider" | "model";

export interface UsageCounts {
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  latency_ms: number;
}

/** One bucket of one group, as read back. */
export interface UsageRow extends UsageCounts {
  bucket: number;
  group: string;
}

interface Pending extends UsageCounts {
  span: number;
  bucket: number;
  key_id: string;
  account: string;
  provider: string;
  model: string;
}

const COLUMNS: Record<UsageDimension, string> = { key_id: "key_id", account: "account", provider: "provider", model: "provider || '/' || model" };

export class UsageHistoryRepo {
  /** Counted turns not written yet, keyed by bucket and group (the same write-behind as the per-request counters). */
  private readonly buffer: WriteBehind<Pending>;
  private lastPrune = 0;

  constructor(
    private readonly x: SqlExecutor,
    flushMs = DEFAULT_FLUSH_MS,
    private readonly now: () => number = Date.now,
    /** A timed flush failed (the counts are kept for the next one). */
    onError?: WriteBehindErrorReport,
  ) {
    this.buffer = new WriteBehind<Pending>({ name: "usage history", x, everyMs: flushMs, onError, merge: addCounts, write: (tx, rows) => this.write(tx, rows) });
  }

  /** Count one finished turn (in memory; written on the next flush). Synchronous: no I/O. */
  add(s: UsageSample): void {
    for (const span of SPANS) {
      const ms = span * 1000;
      const bucket = Math.floor(s.at / ms) * ms;
      const row: Pending = {
        span,
        bucket,
        key_id: s.keyId,
        account: s.account,
        provider: s.provider,
        model: s.model,
        requests: 1,
        errors: s.error ? 1 : 0,
        input_tokens: s.inputTokens,
        output_tokens: s.outputTokens,
        latency_ms: s.latencyMs,
      };
      this.buffer.add(`${span}\u0001${bucket}\u0001${s.keyId}\u0001${s.account}\u0001${s.provider}\u0001${s.model}`, row);
    }
  }

  /** Write what was counted since the last flush (one transaction); rejects when that write fails (counts kept). */
  flush(): Promise<void> {
    return this.buffer.flush();
  }

  /** One flush's transaction: the additive upserts, and the old buckets pruned now and then. */
  private async write(tx: SqlExecutor, rows: [string, Pending][]): Promise<void> {
    for (const [, r] of rows) {
      await tx.run(
        `INSERT INTO usage_buckets(span, bucket, key_id, account, provider, model, requests, errors, input_tokens, output_tokens, latency_ms)
         VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(span, bucket, key_id, account, provider, model) DO UPDATE SET requests = usage_buckets.requests + excluded.requests,
           errors = usage_buckets.errors + excluded.errors, input_tokens = usage_buckets.input_tokens + excluded.input_tokens,
           output_tokens = usage_buckets.output_tokens + excluded.output_tokens, latency_ms = usage_buckets.latency_ms + excluded.latency_ms`,
        [r.span, r.bucket, r.key_id, r.account, r.provider, r.model, r.requests, r.errors, r.input_tokens, r.output_tokens, Math.round(r.latency_ms)],
      );
    }
    const t = this.now();
    if (t - this.lastPrune < PRUNE_EVERY_MS) return;
    for (const span of SPANS) await tx.run("DELETE FROM usage_buckets WHERE span = ? AND bucket < ?", [span, t - RETENTION_MS[span]]);
    this.lastPrune = t;
  }

  /**
   * Buckets of `span` seconds from `from` (ms, inclusive), merged into steps of `stepSeconds` (a multiple of the
   * span, aligned to the epoch) and grouped by one dimension.
   */
  async series(q: { span: number; stepSeconds: number; from: number; by: UsageDimension }): Promise<UsageRow[]> {
    await this.flush();
    const step = q.stepSeconds * 1000;
    const col = COLUMNS[q.by];
    return this.x.all<UsageRow>(
      `SELECT (bucket / CAST(? AS BIGINT)) * CAST(? AS BIGINT) AS bucket, ${col} AS "group", CAST(SUM(requests) AS BIGINT) AS requests,
         CAST(SUM(errors) AS BIGINT) AS errors, CAST(SUM(input_tokens) AS BIGINT) AS input_tokens, CAST(SUM(output_tokens) AS BIGINT) AS output_tokens,
         CAST(SUM(latency_ms) AS BIGINT) AS latency_ms
       FROM usage_buckets WHERE span = ? AND bucket >= ? GROUP BY 1, 2 ORDER BY 1, 2`,
      [step, step, q.span, q.from],
    );
  }

  /** The providers that served any recorded turn still kept. */
  async providers(): Promise<string[]> {
    await this.flush();
    return (await this.x.all<{ provider: string }>("SELECT DISTINCT provider FROM usage_buckets WHERE span = ? ORDER BY provider", [HOURLY_SPAN])).map((r) => r.provider);
  }

  /** Flush and stop (the store is closing); a failed last write is reported, not thrown. */
  close(): Promise<void> {
    return this.buffer.close();
  }
}

/** Add the counts of `more` to `into`. */
function addCounts(into: Pending, more: Pending): void {
  into.requests += more.requests;
  into.errors += more.errors;
  into.input_tokens += more.input_tokens;
  into.output_tokens += more.output_tokens;
  into.latency_ms += more.latency_ms;
}
