/**
 * Per API key usage counters (lifetime totals and per-UTC-day token tallies) and optional quotas. Rows are
 * keyed by the key's hash (the `key` column holds the hash since migration 3), never by the key itself.
 */
import type { Database } from "bun:sqlite";

export interface KeyUsage {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  lastUsedAt?: number;
}

export interface KeyQuota {
  /** null / undefined = unlimited. */
  requestsPerMinute?: number;
  tokensPerDay?: number;
}

interface UsageRow {
  key: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  last_used_at: number | null;
}

interface QuotaRow {
  key: string;
  requests_per_minute: number | null;
  tokens_per_day: number | null;
}

const EMPTY: KeyUsage = { requests: 0, promptTokens: 0, completionTokens: 0 };

export class KeyUsageRepo {
  constructor(private readonly db: Database) {}

  /** Add one finished request to the key's totals and to its tally for `day` (YYYY-MM-DD, UTC). */
  record(key: string, promptTokens: number, completionTokens: number, at: number, day: string): void {
    this.db.transaction(() => {
      this.db
        .query(
          `INSERT INTO api_key_usage(key, requests, prompt_tokens, completion_tokens, last_used_at) VALUES($key, 1, $p, $c, $at)
           ON CONFLICT(key) DO UPDATE SET requests = requests + 1, prompt_tokens = prompt_tokens + $p,
             completion_tokens = completion_tokens + $c, last_used_at = $at`,
        )
        .run({ key, p: promptTokens, c: completionTokens, at });
      this.db
        .query("INSERT INTO api_key_daily(key, day, tokens) VALUES($key, $day, $t) ON CONFLICT(key, day) DO UPDATE SET tokens = tokens + $t")
        .run({ key, day, t: promptTokens + completionTokens });
    })();
  }

  usage(key: string): KeyUsage {
    const r = this.db.query("SELECT * FROM api_key_usage WHERE key = ?").get(key) as UsageRow | null;
    return r ? { requests: r.requests, promptTokens: r.prompt_tokens, completionTokens: r.completion_tokens, lastUsedAt: r.last_used_at ?? undefined } : { ...EMPTY };
  }

  allUsage(): Map<string, KeyUsage> {
    const rows = this.db.query("SELECT * FROM api_key_usage").all() as UsageRow[];
    return new Map(rows.map((r) => [r.key, { requests: r.requests, promptTokens: r.prompt_tokens, completionTokens: r.completion_tokens, lastUsedAt: r.last_used_at ?? undefined }]));
  }

  tokensOn(key: string, day: string): number {
    const r = this.db.query("SELECT tokens FROM api_key_daily WHERE key = ? AND day = ?").get(key, day) as { tokens: number } | null;
    return r?.tokens ?? 0;
  }

  quota(key: string): KeyQuota {
    const r = this.db.query("SELECT * FROM api_key_quotas WHERE key = ?").get(key) as QuotaRow | null;
    return r ? { requestsPerMinute: r.requests_per_minute ?? undefined, tokensPerDay: r.tokens_per_day ?? undefined } : {};
  }

  allQuotas(): Map<string, KeyQuota> {
    const rows = this.db.query("SELECT * FROM api_key_quotas").all() as QuotaRow[];
    return new Map(rows.map((r) => [r.key, { requestsPerMinute: r.requests_per_minute ?? undefined, tokensPerDay: r.tokens_per_day ?? undefined }]));
  }

  /** Replace the key's quota; a quota with neither limit removes the row. */
  setQuota(key: string, quota: KeyQuota): void {
    if (!quota.requestsPerMinute && !quota.tokensPerDay) {
      this.db.query("DELETE FROM api_key_quotas WHERE key = ?").run(key);
      return;
    }
    this.db
      .query(
        `INSERT INTO api_key_quotas(key, requests_per_minute, tokens_per_day) VALUES(?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET requests_per_minute = excluded.requests_per_minute, tokens_per_day = excluded.tokens_per_day`,
      )
      .run(key, quota.requestsPerMinute ?? null, quota.tokensPerDay ?? null);
  }

  /** Forget everything about a deleted key. */
  forget(key: string): void {
    this.db.transaction(() => {
      for (const table of ["api_key_usage", "api_key_daily", "api_key_quotas"]) this.db.query(`DELETE FROM ${table} WHERE key = ?`).run(key);
    })();
  }
}
