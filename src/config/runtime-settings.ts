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
}

/** Numeric bounds from api-surface.md §13.3; 0 always means "not set". */
export const RUNTIME_BOUNDS: Record<keyof RuntimeSettings, [number, number]> = {
  account_max_inflight: [1, 256],
  account_max_queue: [1, 200000],
  global_max_inflight: [1, 200000],
  token_refresh_interval_hours: [1, 720],
};

export const AUTO_DELETE_MODES = ["none", "single", "all"] as const;
export const EMBEDDING_PROVIDERS = ["mock", "deterministic", "builtin"] as const;
