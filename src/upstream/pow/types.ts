/** The `biz_data.challenge` object of `create_pow_challenge`. */
export interface PowChallenge {
  algorithm: string;
  challenge: string;
  salt: string;
  expire_at: number;
  difficulty: number;
  signature: string;
  target_path: string;
  [extra: string]: unknown;
}

/** Anything that can find the answer nonce of a challenge (the worker pool, or a plain in-process solver in tests). */
export interface PowSolver {
  /** Resolves to the answer, or `null` when no nonce in [0, difficulty) matches. Rejects with an AbortError when `signal` aborts. */
  solve(challenge: PowChallenge, signal?: AbortSignal): Promise<number | null>;
}
