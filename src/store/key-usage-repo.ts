/**
 * Per API key usage counters (lifetime totals and per-UTC-day token tallies) and optional quotas. Rows are
 * keyed by the key's hash (the `key` column holds the hash since migration 3), never by the key itself.
 * On Postgres `record` is write-behind (see `keyUsageBuffer`): counted in memory, written within a second.
 */
import type { SqlExecutor } from "./sql/executor.ts";
import { WriteBehind, type WriteBehindErrorReport } from "./sql/write-behind.ts";

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

const toUsage = (r: UsageRow): KeyUsage => ({ requests: r.requests, promptTokens: r.prompt_tokens, completionTokens: r.completion_tokens, lastUsedAt: r.last_used_at ?? undefined });
const toQuota = (r: QuotaRow): KeyQuota => ({ requestsPerMinute: r.requests_per_minute ?? undefined, tokensPerDay: r.tokens_per_day ?? undefined });

/** Requests of one key not written yet (write-behind), with their tokens per UTC day. */
export interface PendingKeyUsage {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  lastAt: number;
  /** day (YYYY-MM-DD) → tokens */
  days: Record<string, number>;
}

async function writeUsage(x: SqlExecutor, key: string, u: PendingKeyUsage): Promise<void> {
  await x.run(
    `INSERT INTO api_key_usage(key, requests, prompt_tokens, completion_tokens, last_used_at) VALUES(?, ?, ?, ?, ?)
     ON CONFLICT(key) DO UPDATE SET requests = api_key_usage.requests + excluded.requests,
       prompt_tokens = api_key_usage.prompt_tokens + excluded.prompt_tokens,
       completion_tokens = api_key_usage.completion_tokens + excluded.completion_tokens,
       last_used_at = CASE WHEN api_key_usage.last_used_at IS NULL OR api_key_usage.last_used_at < excluded.last_used_at
         THEN excluded.last_used_at ELSE api_key_usage.last_used_at END`,
    [key, u.requests, u.promptTokens, u.completionTokens, u.lastAt],
  );
  for (const [day, tokens] of Object.entries(u.days)) {
    await x.run("INSERT INTO api_key_daily(key, day, tokens) VALUES(?, ?, ?) ON CONFLICT(key, day) DO UPDATE SET tokens = api_key_daily.tokens + excluded.tokens", [key, day, tokens]);
  }
}

/** The write-behind buffer of `record` (Postgres): additive, flushed every second. */
export function keyUsageBuffer(x: SqlExecutor, onError?: WriteBehindErrorReport, everyMs?: number): WriteBehind<PendingKeyUsage> {
  return new WriteBehind<PendingKeyUsage>({
    name: "key usage",
    x,
    everyMs,
    onError,
    merge(into, more) {
      into.requests += more.requests;
      into.promptTokens += more.promptTokens;
      into.completionTokens += more.completionTokens;
      into.lastAt = Math.max(into.lastAt, more.lastAt);
      for (const [day, tokens] of Object.entries(more.days)) into.days[day] = (into.days[day] ?? 0) + tokens;
    },
    async write(tx, entries) {
      for (const [key, u] of entries) await writeUsage(tx, key, u);
    },
  });
}

export class KeyUsageRepo {
  constructor(
    private readonly x: SqlExecutor,
    /** Postgres: `record` goes through this buffer; sqlite writes at once. */
    private readonly pending?: WriteBehind<PendingKeyUsage>,
  ) {}

  /** Add one finished request to the key's totals and to its tally for `day` (YYYY-MM-DD, UTC). */
  async record(key: string, promptTokens: number, completionTokens: number, at: number, day: string): Promise<void> {
    const u: PendingKeyUsage = { requests: 1, promptTokens, completionTokens, lastAt: at, days: { [day]: promptTokens + completionTokens } };
    if (this.pending) this.pending.add(key, u);
    else await this.x.transaction((tx) => writeUsage(tx, key, u));
  }

  async usage(key: string): Promise<KeyUsage> {
    const r = await this.x.get<UsageRow>("SELECT * FROM api_key_usage WHERE key = ?", [key]);
    return r ? toUsage(r) : { ...EMPTY };
  }

  async allUsage(): Promise<Map<string, KeyUsage>> {
    const rows = await this.x.all<UsageRow>("SELECT * FROM api_key_usage");
    return new Map(rows.map((r) => [r.key, toUsage(r)]));
  }

  async tokensOn(key: string, day: string): Promise<number> {
    return (await this.x.get<{ tokens: number }>("SELECT tokens FROM api_key_daily WHERE key = ? AND day = ?", [key, day]))?.tokens ?? 0;
  }

  async quota(key: string): Promise<KeyQuota> {
    const r = await this.x.get<QuotaRow>("SELECT * FROM api_key_quotas WHERE key = ?", [key]);
    return r ? toQuota(r) : {};
  }

  async allQuotas(): Promise<Map<string, KeyQuota>> {
    const rows = await this.x.all<QuotaRow>("SELECT * FROM api_key_quotas");
    return new Map(rows.map((r) => [r.key, toQuota(r)]));
  }

  /** Replace the key's quota; a quota with neither limit removes the row. */
  async setQuota(key: string, quota: KeyQuota): Promise<void> {
    if (!quota.requestsPerMinute && !quota.tokensPerDay) {
      await this.x.run("DELETE FROM api_key_quotas WHERE key = ?", [key]);
      return;
    }
    await this.x.run(
      `INSERT INTO api_key_quotas(key, requests_per_minute, tokens_per_day) VALUES(?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET requests_per_minute = excluded.requests_per_minute, tokens_per_day = excluded.tokens_per_day`,
      [key, quota.requestsPerMinute ?? null, quota.tokensPerDay ?? null],
    );
  }

  /** Forget everything about a deleted key. */
  async forget(key: string): Promise<void> {
    this.pending?.discard(key);
    await this.x.transaction(async (tx) => {
      for (const table of ["api_key_usage", "api_key_daily", "api_key_quotas"]) await tx.run(`DELETE FROM ${table} WHERE key = ?`, [key]);
    });
  }
}
