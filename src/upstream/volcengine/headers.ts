/**
 * Browser-like request headers for the console (other-providers.md §A.1.1: "automatic request-header
 * generation to avoid risk control"; the original's exact set is unknown). A web id is a browser's device
 * id, so each web id keeps one browser profile (chosen by a hash of it) rather than a new one per request.
 */

interface BrowserProfile {
  userAgent: string;
  secChUa: string;
  platform: string;
}

const PROFILES: readonly BrowserProfile[] = [
  {
    userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    secChUa: '"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"',
    platform: '"Windows"',
  },
  {
    userAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    secChUa: '"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"',
    platform: '"macOS"',
  },
  {
    userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
    secChUa: '"Chromium";v="130", "Microsoft Edge";v="130", "Not?A_Brand";v="99"',
    platform: '"Windows"',
  },
];

export const CONSOLE_ORIGIN = "https://exp.volcengine.com";

function profileFor(webId: string): BrowserProfile {
  let h = 0;
  for (let i = 0; i < webId.length; i++) h = (h * 31 + webId.charCodeAt(i)) >>> 0;
  return PROFILES[h % PROFILES.length]!;
}

/** Every header of one `Chat` call; `authorization` is sent only when there is one. */
export function chatHeaders(webId: string, authorization: string | undefined): Record<string, string> {
  const p = profileFor(webId);
  const headers: Record<string, string> = {
    accept: "text/event-stream",
    "accept-language": "zh-CN,zh;q=0.9,en;q=0.8",
    "content-type": "application/json",
    origin: CONSOLE_ORIGIN,
    referer: `${CONSOLE_ORIGIN}/`,
    "user-agent": p.userAgent,
    "sec-ch-ua": p.secChUa,
    "sec-ch-ua-mobile": "?0",
    "sec-ch-ua-platform": p.platform,
    "sec-fetch-dest": "empty",
    "sec-fetch-mode": "cors",
    "sec-fetch-site": "same-site",
    "x-web-id": webId,
  };
  if (authorization) headers.authorization = authorization;
  return headers;
}
