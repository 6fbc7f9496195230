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

/** The error text of a turn whose upstream showed nothing twice, naming the provider (its `displayName`). */
export function emptyOutputMessage(provider: string, reasoningOnly: boolean): string {
  const what = reasoningOnly ? "reasoning but no visible answer" : "no visible output";
  return `${provider} returned ${what} for this request twice (the second time after a retry); the account is fine — rephrase the request or try again.`;
}
