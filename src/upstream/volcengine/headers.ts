/**
 * Browser request headers for the console (other-providers.md §A.1.1: "automatic request-header generation to
 * avoid risk control"; the original's exact set is unknown). The console is a browser API, so calls go out
 * with a Chrome TLS fingerprint (src/upstream/transport, profile `chrome`): every header here is that same
 * Chrome release's, in the order Chrome sends a cross-site fetch() from the console page. A web id is a
 * browser's device id, so each web id keeps one OS (chosen by a hash of it) rather than a new one per request.
 */
import type { TlsProfile } from "../transport/tls-profile.ts";

/** The console's TLS profile: the browser named by the user agents below. */
export const VOLCENGINE_TLS_PROFILE: TlsProfile = "chrome";

interface BrowserProfile {
  userAgent: string;
  platform: string;
}

/** Chrome 142, the release the `chrome` TLS profile impersonates (src/upstream/transport/tls-profile.ts). */
const SEC_CH_UA = '"Chromium";v="142", "Google Chrome";v="142", "Not_A Brand";v="99"';

const PROFILES: readonly BrowserProfile[] = [
  { userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36", platform: '"Windows"' },
  { userAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36", platform: '"macOS"' },
];

export const CONSOLE_ORIGIN = "https://exp.volcengine.com";

function profileFor(webId: string): BrowserProfile {
  let h = 0;
  for (let i = 0; i < webId.length; i++) h = (h * 31 + webId.charCodeAt(i)) >>> 0;
  return PROFILES[h % PROFILES.length]!;
}

/**
 * Every header of one `Chat` call, in Chrome's order; `authorization` is sent only when there is one. The
 * empty pairs remove page-navigation headers the transport's Chrome profile would otherwise add.
 */
export function chatHeaders(webId: string, authorization: string | undefined): [string, string][] {
  const p = profileFor(webId);
  const headers: [string, string][] = [["sec-ch-ua-platform", p.platform]];
  if (authorization) headers.push(["authorization", authorization]);
  headers.push(
    ["x-web-id", webId],
    ["sec-ch-ua", SEC_CH_UA],
    ["sec-ch-ua-mobile", "?0"],
    ["user-agent", p.userAgent],
    ["accept", "text/event-stream"],
    ["content-type", "application/json"],
    ["origin", CONSOLE_ORIGIN],
    ["sec-fetch-site", "same-site"],
    ["sec-fetch-mode", "cors"],
    ["sec-fetch-dest", "empty"],
    ["referer", `${CONSOLE_ORIGIN}/`],
    ["accept-encoding", "gzip, deflate, br, zstd"],
    ["accept-language", "zh-CN,zh;q=0.9,en;q=0.8"],
    ["priority", "u=1, i"],
    ["upgrade-insecure-requests", ""],
    ["sec-fetch-user", ""],
  );
  return headers;
}
