/** A turn that failed: a status and code every surface renders in its own shape (as a JSON error, or in-stream). */

/** Which side an upstream failure is attributed to (see upstream-failure.ts). */
export type FailureClass = "account" | "request" | "upstream" | "protocol" | "timeout";

export class TurnError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
    readonly retryAfterSeconds?: number,
    /** Which side the failure is attributed to, when it came from the upstream. */
    readonly failureClass?: FailureClass,
  ) {
    super(message);
  }
}

export const EMPTY_OUTPUT_MESSAGE =
  "DeepSeek returned no visible output for this request twice (the second time after a retry); the account is fine — rephrase the request or try again.";
export const REASONING_ONLY_MESSAGE =
  "DeepSeek returned reasoning but no visible answer for this request twice (the second time after a retry); the account is fine — rephrase the request or try again.";
