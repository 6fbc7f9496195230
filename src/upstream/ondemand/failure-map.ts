/**
 * The one place an OnDemand failure is classified (core/turn/upstream-failure.ts). Only key-attributable
 * failures (401/403 → the key is bad, 429 → the key rests) cool a key and move the request to another one;
 * OnDemand-wide trouble is a 503 with Retry-After, unreadable answers a 502, our limits a 504.
 */
import { UPSTREAM_RETRY_AFTER_SECONDS, type UpstreamFailure } from "../../core/turn/upstream-failure.ts";
import type { OnDemandError } from "./errors.ts";

/** How long a rate-limited key rests when OnDemand sends no Retry-After. */
export const DEFAULT_RATE_LIMIT_COOLDOWN_SECONDS = 60;

export function classifyOnDemandError(e: OnDemandError): UpstreamFailure {
  const message = e.message;
  switch (e.kind) {
    case "auth":
    case "forbidden":
      return { class: "account", penalty: "auth", code: "upstream_auth", message: `OnDemand rejected the API key: ${message}` };
    case "rate_limit":
      return {
        class: "account",
        penalty: "rate_limited",
        code: "upstream_rate_limited",
        message: `OnDemand rate-limited the API key: ${message}`,
        retryAfterSeconds: e.retryAfterSeconds ?? DEFAULT_RATE_LIMIT_COOLDOWN_SECONDS,
      };
    case "context_length":
      return { class: "request", code: "context_length_exceeded", message: `OnDemand refused the prompt as too long: ${message}` };
    case "bad_request":
      return { class: "request", code: "upstream_rejected", message: `OnDemand refused this request: ${message}` };
    case "stream_error":
      return { class: "request", code: "upstream_error", message };
    case "not_found":
    case "server":
      return { class: "upstream", code: "upstream_unavailable", message: `OnDemand is failing: ${message}`, retryAfterSeconds: e.retryAfterSeconds ?? UPSTREAM_RETRY_AFTER_SECONDS };
    case "network":
      return { class: "upstream", code: "upstream_unreachable", message: `OnDemand cannot be reached: ${message}`, retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS };
    case "gateway_timeout":
      return { class: "timeout", code: "upstream_timeout", message: `OnDemand timed out: ${message}` };
    case "timeout":
      return { class: "timeout", code: "upstream_timeout", message };
    case "protocol":
      return { class: "protocol", code: e.reason ? `upstream_${e.reason}` : "upstream_protocol", message };
  }
}
