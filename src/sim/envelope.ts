/** JSON envelopes exactly as chat.deepseek.com shapes them (§1.2). */

export const JSON_HEADERS = { "content-type": "application/json" } as const;

export function okEnvelope(bizData: unknown): Response {
  return Response.json({ code: 0, msg: "", data: { biz_code: 0, biz_msg: "", biz_data: bizData } }, { headers: JSON_HEADERS });
}

/** `code 0` with a non-zero `biz_code` (business failure; HTTP 200). */
export function bizError(bizCode: number, bizMsg: string, status = 200): Response {
  return Response.json({ code: 0, msg: "", data: { biz_code: bizCode, biz_msg: bizMsg, biz_data: null } }, { status, headers: JSON_HEADERS });
}

/** A top-level failure: non-zero `code` and `data: null` (how auth failures look). */
export function codeError(code: number, msg: string, status = 200): Response {
  return Response.json({ code, msg, data: null }, { status, headers: JSON_HEADERS });
}

/** Anything the test wants to inject instead of a normal answer. */
export interface InjectedError {
  /** HTTP status (default 200). */
  status?: number;
  /** Top-level `code` (default 0). */
  code?: number;
  msg?: string;
  /** `data.biz_code` (used when `code` is 0). */
  bizCode?: number;
  bizMsg?: string;
  /** A raw body instead of an envelope (e.g. a WAF HTML page). */
  body?: string;
  contentType?: string;
}

export function injectedErrorResponse(e: InjectedError): Response {
  const status = e.status ?? 200;
  if (e.body !== undefined) {
    return new Response(e.body, { status, headers: { "content-type": e.contentType ?? "text/html; charset=utf-8" } });
  }
  if (e.code !== undefined && e.code !== 0) return codeError(e.code, e.msg ?? "", status);
  return bizError(e.bizCode ?? 1, e.bizMsg ?? "", status);
}

/** The HTML of a bot-challenge / WAF block page, as the two vendors in front of chat.deepseek.com shape them. */
export function challengePage(vendor: "cloudflare" | "aliyun"): string {
  if (vendor === "aliyun") {
    return '<!doctype html><html><head><meta charset="utf-8"><title>405</title></head><body><div id="block">' +
      "<h1>访问被拒绝</h1><p>The request was blocked by the Aliyun web application firewall (aliyun_waf).</p>" +
      '<script>var acw_sc__v2="sim";</script></div></body></html>';
  }
  return '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title><meta http-equiv="refresh" content="390"></head>' +
    '<body><div class="main-wrapper"><h1>chat.deepseek.com</h1><p>Verify you are human by completing the action below.</p>' +
    '<script src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray=sim"></script><div id="cf-chl-widget"></div></div></body></html>';
}

/** Ready-made failures for tests (spec §7.1, §1.2). */
export const SIM_ERRORS = {
  /** `code 0`, non-zero biz_code, auth-sounding message. */
  authBiz: { bizCode: 40101, bizMsg: "login expired, token invalid" },
  /** `code 0`, non-zero biz_code, not auth related. */
  quota: { bizCode: 40301, bizMsg: "quota reached" },
  /** The client identity is too old. */
  clientVersionTooLow: { code: 40005, msg: "CLIENT_VERSION_TOO_LOW" },
  /** A WAF-style block page. */
  wafPage: { status: 403, body: "<html><head><title>403 Forbidden</title></head><body>Access denied</body></html>" },
  /** A Cloudflare managed-challenge page (HTTP 403). */
  cloudflareChallenge: { status: 403, body: challengePage("cloudflare") },
  /** An Aliyun WAF block page (HTTP 405 as Aliyun sends it). */
  aliyunChallenge: { status: 405, body: challengePage("aliyun") },
  /** DeepSeek refused the device an account logs in from (peers, late 2026). */
  riskDevice: { bizCode: 11, bizMsg: "RISK_DEVICE_DETECTED" },
  /** A muted user. */
  muted: { bizCode: 5, bizMsg: "USER_MUTED" },
  /** A gateway failure. */
  badGateway: { status: 502, body: "<html><body>502 Bad Gateway</body></html>" },
  /** HTTP 200 JSON that is not an envelope at all. */
  unknownShape: { body: '{"error":"something new"}', contentType: "application/json" },
} satisfies Record<string, InjectedError>;
