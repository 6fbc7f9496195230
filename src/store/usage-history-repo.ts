/**
 * Usage history: finished business turns added up per time bucket and per (caller key id, account, provider,
 * model). Two spans are kept: 5-minute buckets for the last two days (the "last hour" view) and hourly buckets
 * for 30 days (day and week views). `add` only counts in memory; the counts reach sqlite in one transaction per
 * flush (every few seconds, before every read, and when the store closes), so the hot path never waits on a write.
 * Older buckets are pruned on flush. Rows name a caller by its key id (`k_…`) or caller id, never by a key.
 */
import type { Database } from "bun:sqlite";

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
  private readonly pending = new Map<string, Pending>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastPrune = 0;
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly flushMs = DEFAULT_FLUSH_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Count one finished turn (in memory; written on the next flush). */
  add(s: UsageSample): void {
    if (this.closed) return;
    for (const span of SPANS) {
      const ms = span * 1000;
      const bucket = Math.floor(s.at / ms) * ms;
      const id = `${span}\u0001${bucket}\u0001${s.keyId}\u0001${s.account}\u0001${s.provider}\u0001${s.model}`;
      let row = this.pending.get(id);
      if (!row) {
        row = { span, bucket, key_id: s.keyId, account: s.account, provider: s.provider, model: s.model, requests: 0, errors: 0, input_tokens: 0, output_tokens: 0, latency_ms: 0 };
        this.pending.set(id, row);
      }
      row.requests += 1;
      if (s.error) row.errors += 1;
      row.input_tokens += s.inputTokens;
      row.output_tokens += s.outputTokens;
      row.latency_ms += s.latencyMs;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      try {
        this.flush();
      } catch {
        // kept in memory; the next add or read tries again
      }
    }, this.flushMs);
    this.timer.unref?.();
  }

  /** Write what was counted since the last flush (one transaction) and prune old buckets now and then. */
  flush(): void {
    if (this.closed) return;
    const rows = [...this.pending.values()];
    const t = this.now();
    const prune = t - this.lastPrune >= PRUNE_EVERY_MS;
    if (!rows.length && !prune) return;
    this.db.transaction(() => {
      const upsert = this.db.query(
        `INSERT INTO usage_buckets(span, bucket, key_id, account, provider, model, requests, errors, input_tokens, output_tokens, latency_ms)
         VALUES($span, $bucket, $key_id, $account, $provider, $model, $requests, $errors, $input_tokens, $output_tokens, $latency_ms)
         ON CONFLICT(span, bucket, key_id, account, provider, model) DO UPDATE SET requests = requests + $requests, errors = errors + $errors,
           input_tokens = input_tokens + $input_tokens, output_tokens = output_tokens + $output_tokens, latency_ms = latency_ms + $latency_ms`,
      );
      for (const r of rows) upsert.run({ ...r, latency_ms: Math.round(r.latency_ms) });
      if (prune) {
        const del = this.db.query("DELETE FROM usage_buckets WHERE span = ? AND bucket < ?");
        for (const span of SPANS) del.run(span, t - RETENTION_MS[span]);
      }
    })();
    this.pending.clear();
    if (prune) this.lastPrune = t;
  }

  /**
   * Buckets of `span` seconds from `from` (ms, inclusive), merged into steps of `stepSeconds` (a multiple of the
   * span, aligned to the epoch) and grouped by one dimension.
   */
  series(q: { span: number; stepSeconds: number; from: number; by: UsageDimension }): UsageRow[] {
    this.flush();
    const step = q.stepSeconds * 1000;
    const col = COLUMNS[q.by];
    return this.db
      .query(
        `SELECT (bucket / $step) * $step AS bucket, ${col} AS "group", SUM(requests) AS requests, SUM(errors) AS errors,
           SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens, SUM(latency_ms) AS latency_ms
         FROM usage_buckets WHERE span = $span AND bucket >= $from GROUP BY 1, 2 ORDER BY 1, 2`,
      )
      .all({ step, span: q.span, from: q.from }) as UsageRow[];
  }

  /** The providers that served any recorded turn still kept. */
  providers(): string[] {
    this.flush();
    return (this.db.query("SELECT DISTINCT provider FROM usage_buckets WHERE span = ? ORDER BY provider").all(HOURLY_SPAN) as { provider: string }[]).map((r) => r.provider);
  }

  /** Flush and stop (the store is closing). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    try {
      this.flush();
    } finally {
      this.closed = true;
    }
  }
}
