/**
 * Provider-neutral classification of an upstream failure, decided once per failure by the provider's
 * mapping (e.g. src/upstream/deepseek/failure-map.ts) and acted on by its backend:
 *
 * - `account`  — this account is the problem (token rejected, banned, per-account rate limit, login refused,
 *                its own proxy dead): cool the account down and try another one.
 * - `request`  — this request's content makes it fail or come back empty: no cool-down, no other account.
 * - `upstream` — the provider as a whole refuses or is down (WAF / challenge page, 5xx storm, DNS / connect
 *                failure on the direct route): no cool-down, no other account, 503 with Retry-After.
 * - `protocol` — the answer cannot be understood (malformed, truncated or empty event stream, unknown
 *                envelope, refused client version): no cool-down, no other account, 502.
 * - `timeout`  — a header, idle or whole-turn limit ran out: no cool-down, no other account, 504.
 */
import { TurnError, type FailureClass } from "./turn-error.ts";

export type { FailureClass };

/** How an account-attributable failure benches the account. */
/** `risk_device` / `muted`: the provider put the account in a state only an operator (or time) ends. */
export type AccountPenalty = "auth" | "rate_limited" | "login" | "proxy" | "upstream" | "risk_device" | "muted";

export interface UpstreamFailure {
  class: FailureClass;
  /** Short machine reason, also the client-facing error code (e.g. `upstream_auth`, `upstream_waf`). */
  code: string;
  message: string;
  /** Set for `account` failures. */
  penalty?: AccountPenalty;
  retryAfterSeconds?: number;
}

/** Default Retry-After for failures that are not the client's fault but may pass. */
export const UPSTREAM_RETRY_AFTER_SECONDS = 30;

/** Only account-attributable failures cool an account down and move the request to another account. */
export function coolsAccount(f: UpstreamFailure): boolean {
  return f.class === "account";
}

/** The status a client sees for one failure class. */
export function failureStatus(f: UpstreamFailure): number {
  switch (f.class) {
    case "account":
      return f.penalty === "rate_limited" ? 429 : 503;
    case "request":
    case "protocol":
      return 502;
    case "upstream":
      return 503;
    case "timeout":
      return 504;
  }
}

export function failureToTurnError(f: UpstreamFailure): TurnError {
  const status = failureStatus(f);
  const retryAfter = f.retryAfterSeconds ?? (status === 503 || status === 429 ? UPSTREAM_RETRY_AFTER_SECONDS : undefined);
  return new TurnError(status, f.message, f.code, retryAfter, f.class);
}

/**
 * The error for a request whose every tried account failed on its own: 429 only when each of them was
 * rate limited (a real capacity limit), else 503 naming the last failure, with Retry-After.
 */
export function exhaustedAccountsError(failures: UpstreamFailure[]): TurnError {
  const last = failures.at(-1)!;
  const allRateLimited = failures.every((f) => f.penalty === "rate_limited");
  const n = failures.length;
  const prefix = n > 1 ? `${n} accounts tried, each failed on its own; last: ` : "";
  if (allRateLimited) return new TurnError(429, `${prefix}${last.message}`, "upstream_rate_limited", last.retryAfterSeconds ?? UPSTREAM_RETRY_AFTER_SECONDS, "account");
  return new TurnError(503, `${prefix}${last.message}`, last.code, last.retryAfterSeconds ?? UPSTREAM_RETRY_AFTER_SECONDS, "account");
}
