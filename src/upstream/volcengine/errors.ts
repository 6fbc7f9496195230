/**
 * Typed Volcengine console failures and the rules that turn an HTTP answer into one (other-providers.md §A.2):
 * the BFF envelope (`ResponseMetadata.Error.Code`, the real status in `x-real-status`), OpenAI-style `error`
 * objects, HTML / WAF pages. The code lists are guesses until a real capture shows the console's codes:
 * correct them here, in one place. Messages never carry a web id or an authorization.
 */

export type VolcengineErrorKind =
  /** The web id / authorization was refused (AccessDenied, 401/403). */
  | "auth"
  /** A stale CSRF token (the logged-in console path). */
  | "csrf"
  /** The web id's free quota is used up. */
  | "quota"
  /** Too many requests for this web id. */
  | "rate_limit"
  /** The console refused this request (bad parameter, content) — not the web id's fault. */
  | "rejected"
  /** HTTP 5xx, or an envelope whose real status is 5xx. */
  | "upstream_http"
  /** A WAF / risk-control HTML page. */
  | "waf"
  | "network"
  | "timeout"
  /** An answer that cannot be understood (malformed / truncated / empty stream, unknown shape). */
  | "protocol"
  | "aborted";

export class VolcengineError extends Error {
  readonly kind: VolcengineErrorKind;
  /** The envelope's `Error.Code` (or the HTTP status). */
  readonly code?: string | number;
  /** The effective status (`x-real-status` when present, else the HTTP status). */
  readonly httpStatus?: number;
  /** A finer reason (`idle_timeout`, `header_timeout`, `truncated_stream`, `malformed_stream`, `empty_stream`). */
  readonly reason?: string;
  /** The failure arrived inside an already started stream. */
  readonly inStream: boolean;

  constructor(kind: VolcengineErrorKind, message: string, extra: { code?: string | number; httpStatus?: number; reason?: string; inStream?: boolean; cause?: unknown } = {}) {
    super(message, extra.cause !== undefined ? { cause: extra.cause } : undefined);
    this.name = "VolcengineError";
    this.kind = kind;
    this.code = extra.code;
    this.httpStatus = extra.httpStatus;
    this.reason = extra.reason;
    this.inStream = extra.inStream ?? false;
  }

  /** Worth one more attempt with the same web id (a 5xx blip, a dropped connection before any answer). */
  get retryable(): boolean {
    return this.kind === "upstream_http" || this.kind === "network";
  }
}

const AUTH_CODES = /^(AccessDenied|Unauthorized|InvalidAuthorization|InvalidToken|AuthFailure|InvalidWebId|SignatureDoesNotMatch|InvalidAccessKey|NotLogin|LoginRequired)/i;
const CSRF_CODES = /csrf/i;
const QUOTA_CODES = /quota|exhaust|insufficient|overdue|usage.?limit|free.?limit|trial.?limit|ExperienceLimit|TokenLimit/i;
const RATE_CODES = /TooManyRequests|Throttl|RateLimit|FlowLimit|RequestLimitExceeded|Frequen/i;
const QUOTA_WORDS = ["quota", "exhausted", "used up", "额度", "次数已用完", "用完", "上限"];
const RATE_WORDS = ["too many", "rate limit", "频繁", "限流"];
const AUTH_WORDS = ["access denied", "unauthorized", "not login", "未登录", "无权限", "鉴权"];

function hasAny(text: string, words: readonly string[]): boolean {
  const t = text.toLowerCase();
  return words.some((w) => t.includes(w));
}

/** Removes the given secrets (and long opaque tokens) from text that ends up in an error or a log line. */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join("***");
  return out.replace(/[A-Za-z0-9_\-+/=.]{40,}/g, "***").slice(0, 300);
}

/** The kind of a console error from its code, message and real status. */
export function errorKind(code: string | undefined, message: string, status: number | undefined): VolcengineErrorKind {
  const c = code ?? "";
  if (c && CSRF_CODES.test(c)) return "csrf";
  if (c && QUOTA_CODES.test(c)) return "quota";
  if (c && RATE_CODES.test(c)) return "rate_limit";
  if (c && AUTH_CODES.test(c)) return "auth";
  if (hasAny(message, QUOTA_WORDS)) return "quota";
  if (status === 429 || hasAny(message, RATE_WORDS)) return "rate_limit";
  if (status === 401 || status === 403 || hasAny(message, AUTH_WORDS)) return "auth";
  if (status !== undefined && status >= 500) return "upstream_http";
  return "rejected";
}

/** `{ResponseMetadata:{Error:{Code,Message}}}` or `{error:{code,message}}` / `{error:"…"}`; undefined when `v` is neither. */
export function envelopeError(v: unknown): { code?: string; message: string } | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const meta = o.ResponseMetadata;
  if (typeof meta === "object" && meta !== null) {
    const err = (meta as Record<string, unknown>).Error;
    if (typeof err === "object" && err !== null) {
      const e = err as Record<string, unknown>;
      const code = typeof e.Code === "string" ? e.Code : e.CodeN !== undefined ? String(e.CodeN) : undefined;
      return { code, message: typeof e.Message === "string" ? e.Message : code ?? "error" };
    }
  }
  const err = o.error ?? o.Error;
  if (typeof err === "string") return { message: err };
  if (typeof err === "object" && err !== null) {
    const e = err as Record<string, unknown>;
    const code = e.code ?? e.Code ?? e.type;
    const message = e.message ?? e.Message;
    return { code: code === undefined || code === null ? undefined : String(code), message: typeof message === "string" ? message : String(code ?? "error") };
  }
  return undefined;
}

/** HTML with a Volcengine / Cloudflare / Aliyun risk-control marker, or any HTML with status 403. */
export function looksLikeWaf(body: string, status: number, contentType: string): boolean {
  const html = contentType.includes("html") || /^\s*<(!doctype|html)/i.test(body);
  if (!html) return false;
  if (status === 403 || status === 405 || status === 429) return true;
  return /captcha|challenge|verify|risk|waf|安全验证|访问被拒绝|人机|cf-chl|aliyun_waf|_waf_|slider/i.test(body);
}

/** Classify a non-stream answer (any status) into an error; `secrets` are removed from the message. */
export function errorFromResponse(status: number, realStatus: number | undefined, contentType: string, body: string, secrets: readonly string[]): VolcengineError {
  const effective = realStatus ?? status;
  if (looksLikeWaf(body, status, contentType)) {
    return new VolcengineError("waf", `the Volcengine console answered with a WAF / risk-control page (HTTP ${status}, HTML)`, { httpStatus: status, code: status });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const env = envelopeError(parsed);
  if (env) {
    const kind = errorKind(env.code, env.message, effective >= 400 ? effective : undefined);
    const text = `${env.code ? `${env.code}: ` : ""}${redact(env.message, secrets)} (HTTP ${status}${realStatus !== undefined ? `, x-real-status ${realStatus}` : ""})`;
    return new VolcengineError(kind, `the Volcengine console refused the request: ${text}`, { code: env.code, httpStatus: effective });
  }
  if (effective >= 500) return new VolcengineError("upstream_http", `the Volcengine console is failing (HTTP ${effective})`, { httpStatus: effective, code: effective });
  if (effective === 401 || effective === 403 || effective === 429) {
    const kind = effective === 429 ? "rate_limit" : "auth";
    return new VolcengineError(kind, `the Volcengine console answered HTTP ${effective}`, { httpStatus: effective, code: effective });
  }
  if (effective >= 400) return new VolcengineError("rejected", `the Volcengine console refused the request (HTTP ${effective}): ${redact(body.trim(), secrets) || "empty body"}`, { httpStatus: effective, code: effective });
  if (body.trim() === "") return new VolcengineError("protocol", "the Volcengine console sent an empty answer instead of an event stream", { reason: "empty_stream", httpStatus: effective });
  return new VolcengineError("protocol", `the Volcengine console sent an unknown answer instead of an event stream (${contentType || "no content type"})`, { reason: "protocol", httpStatus: effective });
}
