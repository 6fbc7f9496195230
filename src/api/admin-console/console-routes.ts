/**
 * Serves the embedded admin console: GET /admin, /admin/ and every other GET under /admin that no admin API
 * route claims (the SPA fallback; the console routes by URL hash). Register it after the admin API routes.
 */
import { Elysia } from "elysia";
import { CONSOLE_CSP, CONSOLE_HASH, CONSOLE_HTML } from "./assets.generated.ts";

const ETAG = `"${CONSOLE_HASH}"`;
const BODY = new TextEncoder().encode(CONSOLE_HTML);
/** Compressed once, on first request that accepts gzip. */
let gzipped: Uint8Array<ArrayBuffer> | undefined;

const BASE_HEADERS: Record<string, string> = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-cache",
  etag: ETAG,
  vary: "accept-encoding",
  "content-security-policy": CONSOLE_CSP,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

/** The console page for one request: 304 when the browser has it, gzip when accepted. */
export function consoleResponse(request: Request): Response {
  if (request.headers.get("if-none-match")?.split(/\s*,\s*/).includes(ETAG)) return new Response(null, { status: 304, headers: { etag: ETAG, "cache-control": "no-cache" } });
  if (/\bgzip\b/.test(request.headers.get("accept-encoding") ?? "")) {
    gzipped ??= Bun.gzipSync(BODY);
    return new Response(gzipped, { headers: { ...BASE_HEADERS, "content-encoding": "gzip" } });
  }
  return new Response(BODY, { headers: BASE_HEADERS });
}

export function adminConsoleRoutes() {
  return new Elysia({ name: "admin-console" })
    .get("/admin", ({ request }) => consoleResponse(request))
    .get("/admin/", ({ request }) => consoleResponse(request))
    .get("/admin/*", ({ request }) => consoleResponse(request));
}
