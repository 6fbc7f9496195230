/** A turn that failed: a status and code every surface renders in its own shape (as a JSON error, or in-stream). */
export class TurnError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export const EMPTY_OUTPUT_MESSAGE = "Upstream account hit a rate limit and returned empty output.";
export const REASONING_ONLY_MESSAGE = "Upstream account hit a rate limit and returned reasoning without visible output.";
