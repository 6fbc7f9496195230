/**
 * Operator-tunable settings kept in sqlite (`settings` table) and mirrored by the `runtime`,
 * `responses`, … sections of a ds2api config.json. One typed object, with defaults and bounds.
 */
export interface RuntimeSettings {
  /** 0 = use env / default. */
  account_max_inflight: number;
  account_max_queue: number;
  global_max_inflight: number;
  token_refresh_interval_hours: number;
  /** Upstream silence (no SSE data line; comments do not count) after response headers that ends a turn. */
  upstream_idle_timeout_seconds: number;
  /** Longest a whole turn may take, queue wait included. */
  turn_timeout_seconds: number;
  /** Connect + response headers of one upstream call. */
  upstream_header_timeout_seconds: number;
  /** Accounts one request may try before it fails. */
  max_account_attempts: number;
  /** Longest a request waits for an account (queue or cool-down) before 429 / 503. */
  queue_wait_seconds: number;
  /** How long an account DeepSeek muted (biz_code 5) is skipped before one request tries it again (default 60). */
  muted_recheck_minutes: number;
  /** Minimum gap between two request starts on one account (pacing; `pacing.jitter_percent` adds to it). */
  min_interval_ms: number;
}

/** Numeric bounds from api-surface.md §13.3 (and the ds2api-bun additions); 0 always means "not set". */
export const RUNTIME_BOUNDS: Record<keyof RuntimeSettings, [number, number]> = {
  account_max_inflight: [1, 256],
  account_max_queue: [1, 200000],
  global_max_inflight: [1, 200000],
  token_refresh_interval_hours: [1, 720],
  upstream_idle_timeout_seconds: [1, 86_400],
  turn_timeout_seconds: [1, 86_400],
  upstream_header_timeout_seconds: [1, 3_600],
  max_account_attempts: [1, 100],
  queue_wait_seconds: [1, 86_400],
  muted_recheck_minutes: [1, 43_200],
  min_interval_ms: [1, 600_000],
};

/** The turn-bounding keys (admin settings view and validation list them together). */
export const TURN_LIMIT_KEYS = ["upstream_idle_timeout_seconds", "turn_timeout_seconds", "upstream_header_timeout_seconds", "max_account_attempts", "queue_wait_seconds"] as const;

/** How long upstream work may take and how many accounts a request may use; all in milliseconds. */
export interface TurnLimits {
  upstreamIdleTimeoutMs: number;
  turnTimeoutMs: number;
  upstreamHeaderTimeoutMs: number;
  maxAccountAttempts: number;
  queueWaitMs: number;
}

export const DEFAULT_TURN_LIMITS: Readonly<TurnLimits> = Object.freeze({
  upstreamIdleTimeoutMs: 120_000,
  turnTimeoutMs: 900_000,
  upstreamHeaderTimeoutMs: 20_000,
  maxAccountAttempts: 3,
  queueWaitMs: 30_000,
});

/** Env values in seconds (decimals allowed, so tests can use sub-second limits). */
export interface TurnLimitEnv {
  upstreamIdleTimeoutSeconds?: number;
  turnTimeoutSeconds?: number;
  upstreamHeaderTimeoutSeconds?: number;
  maxAccountAttempts?: number;
  queueWaitSeconds?: number;
}

/** Stored runtime setting (> 0) wins over the env value, which wins over the default. */
export function resolveTurnLimits(runtime: Partial<RuntimeSettings>, env: TurnLimitEnv): TurnLimits {
  const secs = (stored: number | undefined, fromEnv: number | undefined, fallbackMs: number) =>
    stored && stored > 0 ? stored * 1000 : fromEnv !== undefined && fromEnv > 0 ? fromEnv * 1000 : fallbackMs;
  const d = DEFAULT_TURN_LIMITS;
  return {
    upstreamIdleTimeoutMs: secs(runtime.upstream_idle_timeout_seconds, env.upstreamIdleTimeoutSeconds, d.upstreamIdleTimeoutMs),
    turnTimeoutMs: secs(runtime.turn_timeout_seconds, env.turnTimeoutSeconds, d.turnTimeoutMs),
    upstreamHeaderTimeoutMs: secs(runtime.upstream_header_timeout_seconds, env.upstreamHeaderTimeoutSeconds, d.upstreamHeaderTimeoutMs),
    maxAccountAttempts: runtime.max_account_attempts || env.maxAccountAttempts || d.maxAccountAttempts,
    queueWaitMs: secs(runtime.queue_wait_seconds, env.queueWaitSeconds, d.queueWaitMs),
  };
}

export const AUTO_DELETE_MODES = ["none", "single", "all"] as const;
export const EMBEDDING_PROVIDERS = ["mock", "deterministic", "builtin"] as const;
