/**
 * The one place a DeepSeek failure is classified (core/turn/upstream-failure.ts): account-, request-,
 * upstream-wide, protocol or timeout. The backend acts on the class only.
 */
import type { UpstreamFailure } from "../../core/turn/upstream-failure.ts";
import { UPSTREAM_RETRY_AFTER_SECONDS } from "../../core/turn/upstream-failure.ts";
import { LoginError } from "../../pool/pool-errors.ts";
import { DeepSeekError } from "./errors.ts";

export interface FailureContext {
  /** The account reaches DeepSeek through its own proxy: a dead route is that account's problem. */
  viaProxy: boolean;
  /** Where it failed: the completion / continue stream itself, or account set-up (session, PoW, upload). */
  stage: "setup" | "completion";
}

export function classifyDeepSeekError(e: DeepSeekError, ctx: FailureContext): UpstreamFailure {
  const message = e.message;
  switch (e.kind) {
    case "auth":
      return { class: "account", penalty: "auth", code: "upstream_auth", message: `DeepSeek rejected the account token: ${message}` };
    case "rate_limit":
      return { class: "account", penalty: "rate_limited", code: "upstream_rate_limited", message, retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS };
    case "business":
      // A refusal of the completion itself is about this request; one during set-up is about the account.
      return ctx.stage === "completion"
        ? { class: "request", code: "upstream_rejected", message: `DeepSeek refused this request: ${message}` }
        : { class: "account", penalty: "upstream", code: "upstream_account_error", message };
    case "risk_device":
      // The device, not the request: the account waits for the operator (no retries, no repeated logins).
      return { class: "account", penalty: "risk_device", code: "account_risk_device", message };
    case "muted":
      return { class: "account", penalty: "muted", code: "account_muted", message };
    case "client_version":
      return { class: "protocol", code: "upstream_client_version", message };
    case "protocol":
      return { class: "protocol", code: e.reason ? `upstream_${e.reason}` : "upstream_protocol", message };
    case "pow":
      return { class: "protocol", code: "upstream_pow", message };
    case "waf":
      return { class: "upstream", code: "upstream_waf", message, retryAfterSeconds: 60 };
    case "upstream_http":
      return { class: "upstream", code: "upstream_unavailable", message: `DeepSeek is failing: ${message}`, retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS };
    case "network":
      return ctx.viaProxy
        ? { class: "account", penalty: "proxy", code: "account_proxy_failed", message: `the account's proxy failed: ${message}` }
        : { class: "upstream", code: "upstream_unreachable", message: `DeepSeek cannot be reached: ${message}`, retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS };
    case "timeout":
      return { class: "timeout", code: "upstream_timeout", message };
    case "aborted":
      return { class: "timeout", code: "upstream_aborted", message };
  }
}

/** A failed login: refused credentials are the account's; anything else is classified like any other failure. */
export function classifyLoginFailure(e: unknown, ctx: Omit<FailureContext, "stage">): UpstreamFailure {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof LoginError && !e.rejected && e.upstream instanceof DeepSeekError) {
    const f = classifyDeepSeekError(e.upstream, { ...ctx, stage: "setup" });
    // An account-attributable login failure (e.g. its proxy is dead) rests the account like a refused login;
    // a rate-limited login stays a rate limit (a capacity limit, 429 when every tried account had one).
    if (f.class !== "account") return f;
    // A device refusal or a mute at login is the account's state, not a failed login.
    if (f.penalty === "risk_device" || f.penalty === "muted") return { ...f, message: `account login refused: ${f.message}` };
    return { ...f, penalty: f.penalty === "rate_limited" ? "rate_limited" : "login", message: `account login failed: ${f.message}` };
  }
  return { class: "account", penalty: "login", code: "account_login_failed", message: `account login failed: ${message}`, retryAfterSeconds: UPSTREAM_RETRY_AFTER_SECONDS };
}
