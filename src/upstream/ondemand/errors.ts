/**
 * What can go wrong talking to OnDemand (other-providers.md §B.2.3): HTTP errors with the documented
 * `{message, errorCode}` body, in-stream `data:[ERROR]:{…}` frames, transport failures and our own limits.
 * Messages never contain the API key.
 */

export type OnDemandErrorKind =
  /** 401 unauthenticated: the key is unknown or revoked. */
  | "auth"
  /** 403 unauthorized: the key is disabled or not allowed. */
  | "forbidden"
  /** 429 rate_limit_exceeded / quota. */
  | "rate_limit"
  /** 400 context_length_exceeded. */
  | "context_length"
  /** Other 400s (invalid_request, unknown endpoint, …). */
  | "bad_request"
  /** 404 (a session id the upstream no longer knows, or the transient "no Route matched" on session create). */
  | "not_found"
  /** 5xx other than 504, and HTML error pages. */
  | "server"
  /** 504 plugin_execution_timeout. */
  | "gateway_timeout"
  /** Connection refused / reset / DNS. */
  | "network"
  /** Our header or idle limit ran out. */
  | "timeout"
  /** An answer we cannot read (not JSON, a JSON body where a stream was expected, a stream cut without [DONE]). */
  | "protocol"
  /** `data:[ERROR]:` in a stream. */
  | "stream_error";

export class OnDemandError extends Error {
  constructor(
    readonly kind: OnDemandErrorKind,
    message: string,
    readonly status?: number,
    readonly errorCode?: string,
    /** Seconds, from a Retry-After header. */
    readonly retryAfterSeconds?: number,
    /** Short machine reason for protocol errors (e.g. "truncated_stream"). */
    readonly reason?: string,
  ) {
    super(message);
  }
}

/** Retry-After in seconds (delta-seconds or an HTTP date), when present and sane. */
export function retryAfterFrom(headers: Headers): number | undefined {
  const raw = headers.get("retry-after")?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  if (Number.isFinite(n) && n >= 0) return Math.min(Math.ceil(n), 86_400);
  const at = Date.parse(raw);
  if (Number.isFinite(at)) return Math.max(0, Math.min(Math.ceil((at - Date.now()) / 1000), 86_400));
  return undefined;
}

/** The error an HTTP status + body stands for. */
export function errorFromResponse(status: number, headers: Headers, bodyText: string, what: string): OnDemandError {
  const html = /^\s*</.test(bodyText) || (headers.get("content-type") ?? "").includes("text/html");
  let message = "";
  let errorCode: string | undefined;
  if (!html) {
    try {
      const body = JSON.parse(bodyText) as { message?: unknown; errorCode?: unknown; error?: unknown };
      if (typeof body.message === "string") message = body.message;
      if (typeof body.errorCode === "string") errorCode = body.errorCode;
      if (!message && typeof body.error === "string") message = body.error;
    } catch {
      message = bodyText.slice(0, 200);
    }
  }
  const detail = `${what} failed with HTTP ${status}${errorCode ? ` ${errorCode}` : ""}${message ? `: ${message.slice(0, 300)}` : html ? " (HTML page)" : ""}`;
  const retryAfter = retryAfterFrom(headers);
  if (html && status < 500 && status !== 401 && status !== 403 && status !== 429) return new OnDemandError("server", detail, status, errorCode, retryAfter);
  switch (status) {
    case 401:
      return new OnDemandError("auth", detail, status, errorCode, retryAfter);
    case 403:
      return new OnDemandError("forbidden", detail, status, errorCode, retryAfter);
    case 429:
      return new OnDemandError("rate_limit", detail, status, errorCode, retryAfter);
    case 404:
      return new OnDemandError("not_found", detail, status, errorCode, retryAfter);
    case 504:
      return new OnDemandError("gateway_timeout", detail, status, errorCode, retryAfter);
  }
  if (status === 400 && errorCode === "context_length_exceeded") return new OnDemandError("context_length", detail, status, errorCode);
  if (status >= 500) return new OnDemandError("server", detail, status, errorCode, retryAfter);
  return new OnDemandError("bad_request", detail, status, errorCode, retryAfter);
}

/** The payload of a `data:[ERROR]:…` frame: `{message, errorCode}` when it parses (unconfirmed shape, §B.6), else the raw text. */
export function streamError(raw: string): OnDemandError {
  let message = raw.trim();
  let errorCode: string | undefined;
  try {
    const body = JSON.parse(message) as { message?: unknown; errorCode?: unknown; error?: unknown };
    if (typeof body.message === "string") message = body.message;
    else if (typeof body.error === "string") message = body.error;
    if (typeof body.errorCode === "string") errorCode = body.errorCode;
  } catch {
    // not JSON: keep the text
  }
  return new OnDemandError("stream_error", `OnDemand reported an error in the stream${errorCode ? ` (${errorCode})` : ""}: ${message.slice(0, 300)}`, undefined, errorCode);
}
