/**
 * Per-key quotas shared by the cluster: an exact sliding one-minute window of request starts (rpm.lua, one ZSET per
 * key, Redis time) and today's token tally (`tok:<key>:<day>`, INCRBY, kept two days), seeded once per day by
 * SET NX from the caller's durable count so a restarted cluster does not forget what was spent.
 */
import type { QuotaCounters } from "../core/cluster/ports.ts";
import type { RedisConnection } from "./redis-connection.ts";
import { ADD_TOKENS, RPM } from "./scripts.ts";

const TWO_DAYS_S = 2 * 86_400;

export class RedisQuotaCounters implements QuotaCounters {
  private seq = 0;
  private readonly nonce = crypto.randomUUID().slice(0, 8);

  constructor(
    private readonly conn: RedisConnection,
    private readonly prefix: string,
  ) {}

  async admitRpm(key: string, limit: number): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number }> {
    if (!(limit > 0)) return { ok: true };
    const r = await this.conn.script<(string | number)[]>(RPM, [`${this.prefix}rpm:${key}`], [Math.floor(limit), `${this.nonce}#${++this.seq}`]);
    if (Number(r[0]) === 1) return { ok: true };
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(Number(r[1]) / 1000)) };
  }

  async tokensToday(key: string, day: string, seed: () => Promise<number>): Promise<number> {
    const k = this.dayKey(key, day);
    const have = await this.conn.call<string | null>("GET", [k]);
    if (have !== null) return Number(have);
    const base = Math.max(0, Math.floor(await seed()));
    await this.conn.call("SET", [k, String(base), "NX", "EX", String(TWO_DAYS_S)]);
    // Another instance may have seeded (or counted) first: its value wins.
    return Number((await this.conn.call<string | null>("GET", [k])) ?? base);
  }

  async addTokens(key: string, day: string, n: number): Promise<void> {
    if (!(n > 0)) return;
    await this.conn.script(ADD_TOKENS, [this.dayKey(key, day)], [Math.floor(n), TWO_DAYS_S]);
  }

  private dayKey(key: string, day: string): string {
    return `${this.prefix}tok:${key}:${day}`;
  }
}
