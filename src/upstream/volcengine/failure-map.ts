/**
 * The one place a Volcengine failure is classified onto core's classes (core/turn/upstream-failure.ts):
 * only what belongs to one web id (refused, quota used up, rate limited) moves the request to another
 * entry; WAF pages, 5xx and unreachable → 503 without touching the pool; unreadable answers → 502;
 * timeouts → 504; a refusal of this request → 502.
 */
import { UPSTREAM_RETRY_AFTER_SECONDS, type UpstreamFailure } from "../../core/turn/upstream-failure.ts";
import type { VolcengineError } from "./errors.ts";

/** What the pool does to the entry after an account-class failure. */
export type EntryVerdict = "bad" | "exhausted" | "cooling";

export interface VolcengineFailure extends UpstreamFailure {
  /** Set for `account` failures. */
  verdict?: EntryVerdict;
}

export function classifyVolcengineError(e: VolcengineError): VolcengineFailure {
  const m = e.message;
  switch (e.kind) {
    case "auth":
      return { class: "account", penalty: "auth", verdict: "bad", code: "upstream_auth", message: `the web id or its authorization was refused: ${m}` };
    case "csrf":
      return { class: "account", penalty: "auth", verdict: "cooling", code: "upstream_auth", message: `the console wants a fresh CSRF token: ${m}` };
    case "quota":
      return { class: "account", penalty: "rate_limited", verdict: "exhausted", code: "upstream_quota_exhausted", message: `the web id's quota is used up: ${m}`, retryAfterSeconds: 3600 };
    case "rate_limit":
      return { class: "account", penalty: "rate_limited", verdict: "cooling", code: "upstream_rate_limited", message: m, retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS };
    case "rejected":
      return { class: "request", code: "upstream_rejected", message: m };
    case "waf":
      return { class: "upstream", code: "upstream_waf", message: m, retryAfterSeconds: 60 };
    case "upstream_http":
      return { class: "upstream", code: "upstream_unavailable", message: m, retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS };
    case "network":
      return { class: "upstream", code: "upstream_unreachable", message: m, retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS };
    case "protocol":
      return { class: "protocol", code: e.reason && e.reason !== "protocol" ? `upstream_${e.reason}` : "upstream_protocol", message: m };
    case "timeout":
      return { class: "timeout", code: "upstream_timeout", message: m };
    case "aborted":
      return { class: "timeout", code: "upstream_aborted", message: m };
  }
}
