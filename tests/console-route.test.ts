/** GET /admin and the SPA fallback: the embedded page, caching, compression, headers, and admin API routes winning over it. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { adminConsoleRoutes } from "../src/api/admin-console/console-routes.ts";
import { CONSOLE_HASH, CONSOLE_HTML } from "../src/api/admin-console/assets.generated.ts";
import { createApp } from "../src/app.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv?.stop());

describe("admin console route", () => {
  for (const path of ["/admin", "/admin/", "/admin/accounts/page-that-does-not-exist", "/admin/some/deep/client/route"]) {
    test(`GET ${path} serves the console without credentials`, async () => {
      const r = await fetch(srv.url + path, { headers: { "accept-encoding": "identity" } });
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
      expect(r.headers.get("content-security-policy")).toContain("default-src 'none'");
      expect(r.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(await r.text()).toBe(CONSOLE_HTML);
    });
  }

  test("ETag revalidation answers 304 with no body", async () => {
    const first = await fetch(`${srv.url}/admin`);
    const etag = first.headers.get("etag");
    expect(etag).toBe(`"${CONSOLE_HASH}"`);
    await first.arrayBuffer();
    const again = await fetch(`${srv.url}/admin`, { headers: { "if-none-match": etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    const stale = await fetch(`${srv.url}/admin`, { headers: { "if-none-match": '"something-else"' } });
    expect(stale.status).toBe(200);
    await stale.arrayBuffer();
  });

  test("gzip when accepted, and the page decompresses to the same bytes", async () => {
    const r = await fetch(`${srv.url}/admin/`, { headers: { "accept-encoding": "gzip" }, decompress: false } as RequestInit);
    expect(r.headers.get("content-encoding")).toBe("gzip");
    const raw = new Uint8Array(await r.arrayBuffer());
    expect(raw.length).toBeLessThan(new TextEncoder().encode(CONSOLE_HTML).length / 2);
    expect(new TextDecoder().decode(Bun.gunzipSync(raw))).toBe(CONSOLE_HTML);
  });

  test("only GET: a POST to an unknown /admin path is not answered with the page", async () => {
    const r = await fetch(`${srv.url}/admin/not-an-api-route`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.headers.get("content-type") ?? "").not.toContain("text/html");
  });

  test("every GET admin API route of the real app wins over the fallback", async () => {
    const app = createApp(srv.running.ctx);
    const apiGets = app.routes.filter((r) => r.method === "GET" && r.path.startsWith("/admin/") && r.path !== "/admin/" && !r.path.includes("*") && !r.path.includes(":")).map((r) => r.path);
    for (const path of apiGets) {
      const r = await fetch(srv.url + path);
      expect({ path, type: r.headers.get("content-type") ?? "" }).not.toEqual({ path, type: "text/html; charset=utf-8" });
      await r.arrayBuffer();
    }
  });

  test("the router prefers a concrete /admin route over the wildcard whatever the order", async () => {
    const before = new Elysia().get("/admin/queue/status", () => ({ api: true })).use(adminConsoleRoutes());
    const after = new Elysia().use(adminConsoleRoutes()).get("/admin/queue/status", () => ({ api: true }));
    for (const app of [before, after]) {
      const r = await app.handle(new Request("http://localhost/admin/queue/status"));
      expect(await r.json()).toEqual({ api: true });
      const page = await app.handle(new Request("http://localhost/admin/queue"));
      expect(await page.text()).toBe(CONSOLE_HTML);
    }
  });
});
