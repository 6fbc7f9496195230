/**
 * CORS. Business and public routes keep the Go ds2api behaviour (api-surface.md §1.1): echo the origin,
 * allow the client's requested headers, and grant Private Network Access, because browser clients served
 * from a public origin (LobeChat web, Cherry Studio web) call a ds2api on localhost/LAN, which is exactly
 * the request Chrome's PNA preflight guards; those routes need an API key anyway.
 * The admin API and /metrics are same-origin only: the console is served by this server, so they send no
 * CORS grant at all (a same-origin request needs none) and never the private-network opt-in.
 */
const FIXED_HEADERS = [
  "Content-Type",
  "Authorization",
  "X-API-Key",
  "X-Ds2-Target-Account",
  "X-Ds2-Source",
  "X-Vercel-Protection-Bypass",
  "X-Goog-Api-Key",
  "Anthropic-Version",
  "Anthropic-Beta",
];
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Routes that never answer cross-origin requests: the admin API and console, and the metrics scrape. */
export function isSameOriginOnly(pathname: string): boolean {
  return pathname === "/admin" || pathname.startsWith("/admin/") || pathname === "/metrics";
}

/**
 * A state-changing admin request a browser sent from another site (or from an opaque `null` origin):
 * refused before authentication so a web page cannot use a visitor's browser to hit the admin API
 * (e.g. to burn the login throttle). Clients that are not browsers send neither header.
 */
export function isCrossSiteWrite(request: Request, pathname: string): boolean {
  if (!isSameOriginOnly(pathname)) return false;
  if (request.method === "GET" || request.method === "HEAD" || request.method === "OPTIONS") return false;
  const site = request.headers.get("sec-fetch-site");
  if (site === "cross-site" || site === "same-site") return true;
  return request.headers.get("origin") === "null";
}

export function corsHeaders(request: Request, pathname: string): Record<string, string> {
  if (isSameOriginOnly(pathname)) return {};
  const origin = request.headers.get("origin");
  const headers: Record<string, string> = {
    "access-control-allow-origin": origin ?? "*",
    "access-control-allow-methods": "GET, POST, OPTIONS, PUT, DELETE",
    "access-control-max-age": "600",
  };
  if (origin) headers.vary = "Origin";
  const requested = (request.headers.get("access-control-request-headers") ?? "")
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h && TOKEN.test(h) && h.toLowerCase() !== "x-ds2-internal-token");
  headers["access-control-allow-headers"] = [...new Set([...FIXED_HEADERS, ...requested])].join(", ");
  if (request.headers.get("access-control-request-private-network") === "true") headers["access-control-allow-private-network"] = "true";
  return headers;
}
