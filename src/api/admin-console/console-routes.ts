/**
 * Serves the embedded admin console: GET /admin, /admin/ and every other GET under /admin that no admin API
 * route claims (the SPA fallback; the console routes by URL hash). Register it after the admin API routes.
 */
import { Elysia } from "elysia";

interface ConsolePage {
  etag: string;
  body: Uint8Array<ArrayBuffer>;
  headers: Record<string, string>;
  /** Compressed once, on first request that accepts gzip. */
  gzipped?: Uint8Array<ArrayBuffer>;
}

/** The page module is loaded on the first /admin request, not at start (nothing else needs it). */
let page: Promise<ConsolePage> | undefined;
function loadPage(): Promise<ConsolePage> {
  page ??= import("./assets.generated.ts").then(({ CONSOLE_CSP, CONSOLE_HASH, CONSOLE_HTML }) => {
    const etag = `"${CONSOLE_HASH}"`;
    const headers: Record<string, string> = {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-cache",
      etag,
      vary: "accept-encoding",
      "content-security-policy": CONSOLE_CSP,
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "referrer-policy": "no-referrer",
    };
    return { etag, body: new TextEncoder().encode(CONSOLE_HTML), headers };
  });
  return page;
}

/** The console page for one request: 304 when the browser has it, gzip when accepted. */
export async function consoleResponse(request: Request): Promise<Response> {
  const p = await loadPage();
  if (request.headers.get("if-none-match")?.split(/\s*,\s*/).includes(p.etag)) return new Response(null, { status: 304, headers: { etag: p.etag, "cache-control": "no-cache" } });
  if (/\bgzip\b/.test(request.headers.get("accept-encoding") ?? "")) {
    p.gzipped ??= Bun.gzipSync(p.body);
    return new Response(p.gzipped, { headers: { ...p.headers, "content-encoding": "gzip" } });
  }
  return new Response(p.body, { headers: p.headers });
}

export function adminConsoleRoutes() {
  return new Elysia({ name: "admin-console" })
    .get("/admin", ({ request }) => consoleResponse(request))
    .get("/admin/", ({ request }) => consoleResponse(request))
    .get("/admin/*", ({ request }) => consoleResponse(request));
}
