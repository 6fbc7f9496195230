import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "./support/test-server.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ env: { DS2API_MAX_BODY_MB: "1" } });
});
afterAll(() => srv?.stop());

const get = (path: string, init?: RequestInit) => fetch(srv.url + path, init);

describe("health and readiness", () => {
  test("GET/HEAD /healthz and /readyz", async () => {
    const h = await get("/healthz");
    expect(h.status).toBe(200);
    expect(await h.json()).toEqual({ status: "ok" });
    expect((await get("/healthz", { method: "HEAD" })).status).toBe(200);
    const r = await get("/readyz");
    expect(r.status).toBe(200);
    expect((await r.json()).status).toBe("ready");
  });

  test("readyz answers 503 while draining", async () => {
    srv.running.ctx.state.draining = true;
    try {
      expect((await get("/readyz")).status).toBe(503);
    } finally {
      srv.running.ctx.state.draining = false;
    }
  });

  test("every response carries a request id and CORS headers", async () => {
    const r = await get("/healthz", { headers: { origin: "https://app.example", "x-request-id": "abc-123" } });
    expect(r.headers.get("x-request-id")).toBe("abc-123");
    expect(r.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(r.headers.get("vary")).toBe("Origin");
  });

  test("OPTIONS preflight is 204 on any path and echoes requested headers", async () => {
    const r = await get("/v1/anything/at/all", {
      method: "OPTIONS",
      headers: { "access-control-request-headers": "x-stainless-os, X-Ds2-Internal-Token", "access-control-request-private-network": "true" },
    });
    expect(r.status).toBe(204);
    const allowed = r.headers.get("access-control-allow-headers")!;
    expect(allowed).toContain("x-stainless-os");
    expect(allowed.toLowerCase()).not.toContain("x-ds2-internal-token");
    expect(r.headers.get("access-control-allow-private-network")).toBe("true");
  });
});

describe("bad input gets a clear 4xx in the surface's shape", () => {
  test("unknown routes: 404 JSON per surface", async () => {
    const openai = await get("/v1/nope");
    expect(openai.status).toBe(404);
    expect((await openai.json()).error).toMatchObject({ type: "invalid_request_error", code: "not_found" });
    const anthropic = await get("/anthropic/v1/nope");
    expect(anthropic.status).toBe(404);
    expect(await anthropic.json()).toMatchObject({ type: "error", error: { type: "not_found_error" } });
    const gemini = await get("/v1beta/nope");
    expect(gemini.status).toBe(404);
    expect((await gemini.json()).error).toMatchObject({ code: 404, status: "NOT_FOUND" });
    const admin = await get("/admin/api/nope", { method: "DELETE" });
    expect(admin.status).toBe(404);
    expect(typeof (await admin.json()).detail).toBe("string");
  });

  test("wrong method: 405 with Allow", async () => {
    const r = await get("/healthz", { method: "POST", body: "{}" });
    expect(r.status).toBe(405);
    expect(r.headers.get("allow")).toContain("GET");
    expect((await r.json()).error.message).toContain("not allowed");
  });

  test("oversized body: 413 in shape (Content-Length and chunked)", async () => {
    const big = "x".repeat(1024 * 1024 + 10);
    const r = await get("/v1/chat/completions", { method: "POST", body: big, headers: { "content-type": "application/json" } });
    expect(r.status).toBe(413);
    expect((await r.json()).error.message).toContain("too large");
    const a = await get("/anthropic/v1/messages", { method: "POST", body: big });
    expect(a.status).toBe(413);
    expect((await a.json()).type).toBe("error");
  });

  test("no stack traces anywhere in error bodies", async () => {
    for (const [path, body] of [
      ["/v1/chat/completions", "{bad"],
      ["/anthropic/v1/messages", "[1,2"],
      ["/v1beta/models/gemini-2.5-pro:generateContent", "nul"],
    ] as const) {
      const r = await get(path, { method: "POST", body, headers: { authorization: "Bearer whatever" } });
      const text = await r.text();
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(text).not.toMatch(/at .*\.ts:\d+|node_modules|\bstack\b/);
    }
  });
});

describe("access log", () => {
  test("one line per request with method, path, status and ms; no secrets, no query", async () => {
    const secret = "sk-super-secret-value-123";
    await get(`/v1/models?key=${secret}`, { headers: { authorization: `Bearer ${secret}`, "x-request-id": "log-check-1" } });
    const line = srv.logs.find((l) => l.includes("log-check-1"));
    expect(line).toBeDefined();
    expect(line).toMatch(/method=GET path=\/v1\/models status=\d{3} ms=[\d.]+/);
    expect(srv.logs.join("\n")).not.toContain(secret);
  });
});
