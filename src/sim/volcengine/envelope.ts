/** The BFF error envelope and a risk-control page, as the fake console sends them. */

export function bffEnvelope(action: string, region: string, version: string, code: string, message: string): Record<string, unknown> {
  return {
    ResponseMetadata: {
      RequestId: `sim-${crypto.randomUUID().replace(/-/g, "").slice(0, 24)}`,
      Action: action,
      Version: version,
      Service: "ark",
      Region: region,
      Error: { CodeN: 100000 + (code.length * 977) % 9000, Code: code, Message: message },
    },
    Result: null,
  };
}

export function envelopeResponse(body: Record<string, unknown>, httpStatus: number, realStatus?: number): Response {
  const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
  if (realStatus !== undefined) headers["x-real-status"] = String(realStatus);
  return new Response(JSON.stringify(body), { status: httpStatus, headers });
}

export function wafPage(status: number): Response {
  const html = `<!DOCTYPE html><html><head><title>安全验证</title></head><body><div id="captcha-container">访问被拒绝：请完成安全验证 (risk control)</div><script src="/waf/slider.js"></script></body></html>`;
  return new Response(html, { status, headers: { "content-type": "text/html; charset=utf-8" } });
}
