/** CORS as the Go ds2api does it (api-surface.md §1.1): echo the origin, allow the client's requested headers. */
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

export function corsHeaders(request: Request): Record<string, string> {
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
