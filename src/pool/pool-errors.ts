/** Why the pool could not hand out an account. Surfaces map these to 429 / 503 in their own shapes. */
export class PoolBusyError extends Error {
  constructor(
    message: string,
    /** Seconds until a slot is likely free (sent as Retry-After). */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

export class NoAccountsError extends Error {}

/**
 * Every account this request could use is cooling down (or at its daily cap, or failing login) for longer
 * than the request may wait. Not a capacity problem: 503 with Retry-After — unless every one of them rests
 * after an upstream rate limit, which is a real capacity limit (429).
 */
export class AccountsCoolingError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    readonly rateLimited: boolean,
  ) {
    super(message);
  }
}

/** The one answer to an `X-Ds2-Target-Account` that cannot be served: it never tells an unknown account from an unusable one. */
export const TARGET_UNAVAILABLE = "the requested account (X-Ds2-Target-Account) is not available";

export class AccountUnavailableError extends Error {
  constructor(
    message: string,
    /** A client pinned the account: answer TARGET_UNAVAILABLE alike for unknown and unusable; `detail` is for logs/admins only. */
    readonly pinned = false,
    readonly detail?: string,
  ) {
    super(message);
  }
}

export class LoginError extends Error {
  constructor(
    message: string,
    readonly identifier: string,
    /** true when the credentials were rejected (as opposed to a network or upstream fault). */
    readonly rejected: boolean,
    /** The provider's own error, for classifying a login that failed for other reasons than the credentials. */
    readonly upstream?: unknown,
  ) {
    super(message);
  }
}
