/**
 * /healthz and /readyz are answered by the server's outer wrapper (not Elysia routing): same answers as the
 * Elysia routes they shadow, HEAD included, and the other methods still get Elysia's 405.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "./support/test-server.ts";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv.stop());

const get = (path: string, init?: RequestInit) => fetch(srv.url + path, init);

describe("probes", () => {
  test("/readyz reports the pool's capacity as JSON; ?strict=1 wants a usable account", async () => {
    const r = await get("/readyz");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toStartWith("application/json");
    const body = await r.json();
    expect(body).toMatchObject({ status: "ready", capacity: { accounts: 0, usable_now: 0, cooling_down: 0, failing: 0, disabled: 0, in_flight: 0, waiting: 0 } });
    const strict = await get("/readyz?strict=1");
    expect(strict.status).toBe(503);
    expect((await strict.json()).status).toBe("no_usable_accounts");
    expect((await get("/readyz?strict=0")).status).toBe(200);
  });

  test("the wrapper's answer matches the Elysia route's", async () => {
    const { createApp } = await import("../src/app.ts");
    const app = createApp(srv.running.ctx);
    for (const path of ["/healthz", "/readyz", "/readyz?strict=true"]) {
      const viaWrapper = await get(path);
      const viaElysia = await app.handle(new Request(`http://localhost${path}`));
      expect(viaWrapper.status).toBe(viaElysia.status);
      expect(await viaWrapper.json()).toEqual(await viaElysia.json());
    }
  });

  test("HEAD answers 200 without a body; POST gets 405 with Allow", async () => {
    const head = await get("/readyz", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const post = await get("/readyz", { method: "POST", body: "{}" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toContain("GET");
  });

  test("while draining /readyz is 503 \"draining\" and /healthz stays 200", async () => {
    srv.running.ctx.state.draining = true;
    try {
      const r = await get("/readyz");
      expect(r.status).toBe(503);
      expect(await r.json()).toEqual({ status: "draining" });
      expect((await get("/healthz")).status).toBe(200);
    } finally {
      srv.running.ctx.state.draining = false;
    }
  });
});
