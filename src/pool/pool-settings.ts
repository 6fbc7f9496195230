/** Effective pool limits from env, stored runtime settings and the number of accounts (api-surface.md §15.1). */
import { resolveTurnLimits, type RuntimeSettings } from "../config/runtime-settings.ts";
import { resolvePacing } from "../config/human-pacing.ts";

export interface PoolSettings {
  maxInflightPerAccount: number;
  /** Waiting requests allowed; 0 disables queueing. */
  maxQueue: number;
  /** 0 = no global cap beyond the per-account limits. */
  globalMaxInflight: number;
  tokenRefreshMs: number;
  /** Minimum gap between two request starts on one account (pacing), 0 = none. */
  minIntervalMs: number;
  /** Share (0…1) of minIntervalMs added at random to each gap, so starts are never evenly spaced; never below the minimum. */
  minIntervalJitter: number;
  /** Requests per account per UTC day, 0 = unlimited. */
  dailyCap: number;
  /** How long an account rests after a rate-limit sign or an upstream failure. */
  cooldownMs: number;
  /** How long a muted account (DeepSeek biz_code 5) is skipped before one request tries it again. */
  mutedRecheckMs: number;
  /** How long an account rests after its login failed. */
  loginFailureCooldownMs: number;
  /** Longest a request waits for an account (queue or cool-down) before 429 / 503. */
  queueWaitMs: number;
}

export interface PoolSettingInputs {
  env: { accountMaxInflight?: number; accountMaxQueue?: number; globalMaxInflight?: number; queueWaitSeconds?: number };
  runtime: Partial<RuntimeSettings> & { daily_request_cap?: number; cooldown_seconds?: number };
  /** `pacing.jitter_percent` as a fraction (default: the pacing section's default). */
  jitterFraction?: number;
  accountCount: number;
}

/** A mute is DeepSeek's decision for hours or days; trying once an hour costs one request and no login storm. */
export const DEFAULT_MUTED_RECHECK_MINUTES = 60;

export function effectivePoolSettings({ env, runtime, jitterFraction, accountCount }: PoolSettingInputs): PoolSettings {
  const perAccount = runtime.account_max_inflight || env.accountMaxInflight || 2;
  const recommended = Math.max(1, accountCount) * perAccount;
  return {
    maxInflightPerAccount: perAccount,
    maxQueue: runtime.account_max_queue || (env.accountMaxQueue ?? recommended),
    globalMaxInflight: runtime.global_max_inflight || env.globalMaxInflight || 0,
    tokenRefreshMs: (runtime.token_refresh_interval_hours || 6) * 3600_000,
    minIntervalMs: runtime.min_interval_ms ?? 0,
    minIntervalJitter: Math.min(1, Math.max(0, jitterFraction ?? resolvePacing({}).jitterFraction)),
    dailyCap: runtime.daily_request_cap ?? 0,
    cooldownMs: (runtime.cooldown_seconds ?? 60) * 1000,
    loginFailureCooldownMs: 5 * 60_000,
    mutedRecheckMs: (runtime.muted_recheck_minutes || DEFAULT_MUTED_RECHECK_MINUTES) * 60_000,
    queueWaitMs: resolveTurnLimits(runtime, { queueWaitSeconds: env.queueWaitSeconds }).queueWaitMs,
  };
}
