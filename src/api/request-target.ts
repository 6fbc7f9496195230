/**
 * Routing comes from the request target, never from the Host header. Bun builds `request.url` from Host +
 * target when Host looks usable, and leaves the bare target otherwise (`/healthz` for `Host: a b` or an
 * HTTP/1.0 request without Host, `example.com:443` for CONNECT). Elysia finds the path by searching for "/"
 * from index 11 of the URL, so a short Host (`Host: x`) would break routing: such requests are re-issued
 * with a canonical origin.
 */

/** The origin-form target (`/path?query`) of `url`, or undefined when the target is not origin-form. */
export function requestTarget(url: string): string | undefined {
  if (url.startsWith("/")) return url;
  const origin = /^https?:\/\/[^/?#]*/i.exec(url);
  if (!origin) return undefined;
  const rest = url.slice(origin[0].length);
  if (rest === "") return "/";
  if (rest.startsWith("/")) return rest;
  if (rest.startsWith("?")) return `/${rest}`;
  return undefined;
}

/** The path of a request URL (without the query); "/" when it cannot be told. */
export function pathOf(url: string): string {
  const target = requestTarget(url) ?? "/";
  const q = target.indexOf("?");
  const path = q < 0 ? target : target.slice(0, q);
  const h = path.indexOf("#");
  return h < 0 ? path : path.slice(0, h);
}

const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]+)(?::(\d{1,5}))?$/;

/** Why a Host header value is unusable (RFC 9112 §3.2: answer 400), or undefined when it is fine. An empty Host is allowed. */
export function hostProblem(host: string | null): string | undefined {
  if (host === null || host === "") return undefined;
  const m = HOST.exec(host);
  if (!m) return "invalid Host header";
  if (m[1] !== undefined && Number(m[1]) > 65535) return "invalid Host header: port out of range";
  return undefined;
}

const CANONICAL_ORIGIN = "http://localhost";

/** Whether Elysia's path lookup (first "/" from index 11) and `new URL()` both work on `url` as it is. */
function routable(url: string, target: string): boolean {
  const prefix = url.length - target.length;
  return prefix >= 11 && url.endsWith(target) && url.indexOf("/", 11) === prefix && URL.canParse(url);
}

/** The request to route: `request` itself, or a copy under a canonical origin when its URL is not routable. */
export function routableRequest(request: Request, target: string): Request {
  if (routable(request.url, target)) return request;
  const url = CANONICAL_ORIGIN + target;
  try {
    return new Request(url, request);
  } catch {
    // e.g. a GET that came with a body: route it without the body.
    return new Request(url, { method: request.method, headers: request.headers, signal: request.signal });
  }
}
