/** Typed upstream failures and the §1.2 classification rules. Messages never carry tokens or passwords. */
import { IDENTITY_VERSION_SETTING } from "./identity.ts";

export type DeepSeekErrorKind =
  | "auth" | "client_version" | "protocol" | "rate_limit" | "business" | "upstream_http" | "network" | "timeout" | "aborted" | "pow"
  /** A WAF / bot-challenge HTML page instead of an API answer. */
  | "waf"
  /** DeepSeek refused the account's device (`RISK_DEVICE_DETECTED`, biz_code 11): an account state, not a retry. */
  | "risk_device"
  /** DeepSeek muted the user (biz_code 5): an account state until it is lifted, not a retry. */
  | "muted";

export class DeepSeekError extends Error {
  readonly kind: DeepSeekErrorKind;
  /** Envelope `code`/`biz_code`, or the HTTP status for HTTP-level failures. */
  readonly code?: number | string;
  readonly httpStatus?: number;
  /** The API path that failed (no query, no secrets). */
  readonly path?: string;
  /** A finer reason within the kind (e.g. `idle_timeout`, `truncated_stream`). */
  readonly reason?: string;

  constructor(kind: DeepSeekErrorKind, message: string, extra: { code?: number | string; httpStatus?: number; path?: string; cause?: unknown; reason?: string } = {}) {
    super(message, extra.cause !== undefined ? { cause: extra.cause } : undefined);
    this.name = "DeepSeekError";
    this.kind = kind;
    this.code = extra.code;
    this.httpStatus = extra.httpStatus;
    this.path = extra.path;
    this.reason = extra.reason;
  }

  /**
   * Worth another attempt on the same account (network blips, 5xx). A timeout is not: the header timeout
   * already waited long enough to call the upstream dead, and three of them would take minutes.
   */
  get retryable(): boolean {
    return this.kind === "network" || this.kind === "upstream_http";
  }
}

const AUTH_CODES = new Set([40001, 40002, 40003]);
const CLIENT_VERSION_CODES = new Set([40005]);
const AUTH_WORDS = ["token", "unauthorized", "expired", "not login", "login required", "invalid jwt"];
const AUTH_BIZ_WORDS = [
  "auth", "authorization", "credential", "expired", "invalid jwt", "jwt", "login", "not login", "session expired", "token",
  "unauthorized", "登录", "未登录", "认证", "凭证", "会话过期", "令牌",
];
const VERSION_WORDS = ["client_version", "client version", "version too low", "upgrade", "版本过低", "请升级", "更新版本"];
const RATE_WORDS = ["rate limit", "too many", "频繁", "限流"];
/** biz_code of `RISK_DEVICE_DETECTED` (peers, late 2026) and of a muted user. */
export const RISK_DEVICE_BIZ_CODE = 11;
export const MUTED_BIZ_CODE = 5;
const RISK_DEVICE_WORDS = ["risk_device_detected", "risk device"];
const MUTED_WORDS = ["muted", "user_muted", "禁言"];

/** What the operator does about a refused device (named in the account's status). */
export const RISK_DEVICE_FIX =
  "set a device id captured from a real login on this account (console Accounts → edit → Device id, or accounts[].device_id in config.json), then re-test the account";

function hasAny(text: string, words: string[]): boolean {
  for (const w of words) if (text.includes(w)) return true;
  return false;
}

/** Removes secrets (and anything that looks like a long opaque token) from text that will end up in an error. */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join("***");
  return out.replace(/[A-Za-z0-9_\-+/=.]{40,}/g, "***").slice(0, 500);
}

function versionHint(version: string): string {
  return `DeepSeek rejected the client identity (version ${version}); update the setting "${IDENTITY_VERSION_SETTING}" to the current Android app version`;
}

export interface EnvelopeShape {
  code?: unknown;
  msg?: unknown;
  data?: unknown;
}

/**
 * Classifies a JSON body by §1.2. Returns undefined on success (`code 0` and `biz_code 0`).
 * `version` is the identity version (for the client_version message).
 */
export function classifyEnvelope(
  body: unknown, ctx: { path: string; httpStatus: number; version: string; secrets?: readonly (string | undefined)[] },
): DeepSeekError | undefined {
  const { path, httpStatus, version } = ctx;
  const clean = (s: string) => redact(s, ctx.secrets);
  if (!body || typeof body !== "object" || Array.isArray(body) || typeof (body as EnvelopeShape).code !== "number") {
    return new DeepSeekError("protocol", `${path}: unexpected response shape (not a DeepSeek envelope); the web API may have changed — check "${IDENTITY_VERSION_SETTING}"`, { httpStatus, path });
  }
  const env = body as EnvelopeShape;
  const code = env.code as number;
  const msg = typeof env.msg === "string" ? env.msg : "";
  const data = env.data && typeof env.data === "object" ? (env.data as Record<string, unknown>) : undefined;
  const bizCode = typeof data?.biz_code === "number" ? data.biz_code : undefined;
  let bizMsg = typeof data?.biz_msg === "string" ? data.biz_msg : "";
  if (!bizMsg && data?.biz_data && typeof data.biz_data === "object") {
    const m = (data.biz_data as Record<string, unknown>).msg;
    if (typeof m === "string") bizMsg = m;
  }
  const text = `${msg} ${bizMsg}`.toLowerCase();
  const said = clean(bizMsg || msg);

  // Account states come first: their messages may mention the login, which would read as a token problem.
  if (bizCode === RISK_DEVICE_BIZ_CODE || hasAny(text, RISK_DEVICE_WORDS)) {
    return new DeepSeekError("risk_device", `${path}: DeepSeek flagged this account's device (RISK_DEVICE_DETECTED${said && said !== "RISK_DEVICE_DETECTED" ? `: ${said}` : ""}); ${RISK_DEVICE_FIX}`, { code: bizCode ?? code, httpStatus, path });
  }
  if (bizCode === MUTED_BIZ_CODE || hasAny(text, MUTED_WORDS)) {
    return new DeepSeekError("muted", `${path}: DeepSeek muted this account (biz_code ${bizCode ?? code}${said ? `: ${said}` : ""})`, { code: bizCode ?? code, httpStatus, path });
  }

  if (httpStatus === 401 || httpStatus === 403 || AUTH_CODES.has(code) || (bizCode !== undefined && AUTH_CODES.has(bizCode))) {
    return new DeepSeekError("auth", `${path}: token rejected (${clean(msg || bizMsg || `HTTP ${httpStatus}`)})`, { code: bizCode && AUTH_CODES.has(bizCode) ? bizCode : code, httpStatus, path });
  }
  if (CLIENT_VERSION_CODES.has(code) || (bizCode !== undefined && CLIENT_VERSION_CODES.has(bizCode)) || hasAny(text, VERSION_WORDS)) {
    return new DeepSeekError("client_version", `${path}: ${versionHint(version)} (${clean(msg || bizMsg)})`, { code: bizCode ?? code, httpStatus, path });
  }
  if (code !== 0) {
    if (hasAny(text, AUTH_WORDS)) return new DeepSeekError("auth", `${path}: token rejected (${clean(msg)})`, { code, httpStatus, path });
    if (httpStatus === 429 || hasAny(text, RATE_WORDS)) return new DeepSeekError("rate_limit", `${path}: rate limited (${clean(msg)})`, { code, httpStatus, path });
    return new DeepSeekError("business", `${path}: DeepSeek error ${code}: ${clean(msg || bizMsg)}`, { code, httpStatus, path });
  }
  if (httpStatus === 429) return new DeepSeekError("rate_limit", `${path}: rate limited (HTTP 429)`, { code: bizCode ?? code, httpStatus, path });
  if (!data) return new DeepSeekError("protocol", `${path}: envelope without data; the web API may have changed — check "${IDENTITY_VERSION_SETTING}"`, { code, httpStatus, path });
  if (bizCode === undefined) return new DeepSeekError("protocol", `${path}: envelope without biz_code; the web API may have changed — check "${IDENTITY_VERSION_SETTING}"`, { code, httpStatus, path });
  if (bizCode !== 0) {
    if (hasAny(text, AUTH_BIZ_WORDS)) return new DeepSeekError("auth", `${path}: token rejected (${clean(bizMsg)})`, { code: bizCode, httpStatus, path });
    if (hasAny(text, RATE_WORDS)) return new DeepSeekError("rate_limit", `${path}: rate limited (${clean(bizMsg)})`, { code: bizCode, httpStatus, path });
    return new DeepSeekError("business", `${path}: DeepSeek error ${bizCode}: ${clean(bizMsg)}`, { code: bizCode, httpStatus, path });
  }
  if (httpStatus !== 200) return new DeepSeekError("upstream_http", `${path}: HTTP ${httpStatus}`, { code: httpStatus, httpStatus, path });
  return undefined;
}

/** The TLS stack our requests use (named in WAF errors: a challenge page is usually about the fingerprint). */
export const TLS_STACK_LABEL = "plain (Bun's TLS, no client fingerprint)";

/** Words of bot-challenge pages (Cloudflare, Aliyun WAF, generic captchas); an HTML 403 counts without them. */
const CHALLENGE_MARKERS = [
  "cf-chl", "challenge-platform", "just a moment", "attention required", "captcha", "aliyun_waf", "aliyunwaf", "acw_sc__v2",
  "web application firewall", "verify you are human", "安全验证", "滑动验证", "访问被拒绝",
];

function looksLikeHtml(body: string): boolean {
  return /^<(!doctype html|html|head|body|title|div|script)\b/i.test(body.trimStart().slice(0, 100));
}

/** A WAF / bot-challenge page: HTML with HTTP 403, or HTML of any status that carries challenge markers. */
export function isChallengePage(httpStatus: number, body: string): boolean {
  if (!looksLikeHtml(body)) return false;
  if (httpStatus === 403) return true;
  const text = body.slice(0, 20_000).toLowerCase();
  return CHALLENGE_MARKERS.some((m) => text.includes(m));
}

/** Classifies a response whose body is not JSON (WAF pages, proxies, gateway errors). */
export function classifyNonJson(httpStatus: number, ctx: { path: string; version: string; identity?: string; tls?: string; body?: string }): DeepSeekError {
  const { path, version } = ctx;
  if (ctx.body !== undefined && isChallengePage(httpStatus, ctx.body)) {
    return new DeepSeekError(
      "waf",
      `${path}: DeepSeek answered with a WAF/challenge page (HTTP ${httpStatus}, HTML) to client identity ${ctx.identity ?? `version ${version}`}, TLS profile: ${ctx.tls ?? TLS_STACK_LABEL} (setting upstream.tls_profile)`,
      { code: httpStatus, httpStatus, path },
    );
  }
  if (httpStatus === 401) return new DeepSeekError("auth", `${path}: token rejected (HTTP 401)`, { code: 401, httpStatus, path });
  if (httpStatus === 429) return new DeepSeekError("rate_limit", `${path}: rate limited (HTTP 429)`, { code: 429, httpStatus, path });
  if (httpStatus >= 500) return new DeepSeekError("upstream_http", `${path}: HTTP ${httpStatus}`, { code: httpStatus, httpStatus, path });
  return new DeepSeekError(
    "protocol",
    `${path}: non-JSON response with HTTP ${httpStatus} (a proxy in the way or a protocol change); ${versionHint(version)} if this persists`,
    { code: httpStatus, httpStatus, path },
  );
}
