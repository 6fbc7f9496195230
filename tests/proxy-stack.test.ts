/**
 * Per-account proxies through the real server and the simulator: bound accounts send their login and
 * completion through their proxy (SOCKS5 with and without auth, HTTP with auth), unbound accounts do not,
 * a dead proxy makes its account fail over, the /admin/proxies routes, masking, and config import.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { AdminClient } from "./support/admin-client.ts";
import { deadPort, startTestHttpProxy, startTestSocks5, type TestProxy } from "./support/proxy-servers.ts";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";
import { deepseekEngine } from "./support/deepseek-engine.ts";

const SOCKS_PASSWORD = "socks-Pw-7f3e91c2";
const HTTP_PASSWORD = "http-Pw-a81d44b0";
const NEW_PASSWORD = "later-Pw-55c0e1d9";
const IMPORTED_PASSWORD = "imported-Pw-0d9b7a21";
const SECRETS = [SOCKS_PASSWORD, HTTP_PASSWORD, NEW_PASSWORD, IMPORTED_PASSWORD];

let stack: Stack;
let socks: TestProxy;
let http: TestProxy;
let api: AdminClient;
const LOGIN = "/api/v0/users/login";
const COMPLETION = "/api/v0/chat/completion";

beforeAll(async () => {
  socks = startTestSocks5({ username: "sock-user", password: SOCKS_PASSWORD });
  http = startTestHttpProxy({ username: "http-user", password: HTTP_PASSWORD });
  const accounts = [0, 1, 2, 3].map((i) => ({ email: `user${i}@example.com`, password: `pw-${i}` }));
  stack = await startStack({
    accounts: 4,
    config: {
      proxies: [
        { id: "px-socks", type: "socks5h", host: "127.0.0.1", port: socks.port, username: "sock-user", password: SOCKS_PASSWORD },
        { id: "px-http", type: "http", host: "127.0.0.1", port: http.port, username: "http-user", password: HTTP_PASSWORD },
        { id: "px-dead", type: "socks5", host: "127.0.0.1", port: deadPort() },
      ],
      accounts: [
        { ...accounts[0], proxy_id: "px-socks" },
        accounts[1],
        { ...accounts[2], proxy_id: "px-http" },
        { ...accounts[3], proxy_id: "px-dead" },
      ],
    },
  });
  api = new AdminClient(stack.url, "e2e-admin");
});
afterAll(async () => {
  await stack?.stop();
  socks?.stop();
  http?.stop();
});

/** Non-stream chat completion, optionally pinned to one account. */
async function chat(account?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json", ...(account ? { "x-ds2-target-account": account } : {}) },
    body: JSON.stringify({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "hi" }] }),
  });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

/** Requests for `path` in what a proxy received (origin-form after the SOCKS bridge, absolute-form at an HTTP proxy). */
const count = (text: string, path: string) => text.match(new RegExp(`POST (http://[^/\\s]+)?${path.replaceAll("/", "\\/")} HTTP/1\\.1\r\n`, "g"))?.length ?? 0;

describe("traffic goes through the account's proxy", () => {
  test("a SOCKS5 (auth) bound account logs in and completes through the proxy; an unbound account does not touch it", async () => {
    const before = { conns: socks.connections, logins: count(socks.received, LOGIN), completions: count(socks.received, COMPLETION) };
    const r = await chat("user0@example.com");
    expect(r.status).toBe(200);
    expect(r.body.choices[0].message.content.length).toBeGreaterThan(0);
    expect(socks.connections).toBeGreaterThan(before.conns);
    expect(count(socks.received, LOGIN) - before.logins).toBe(1);
    expect(count(socks.received, COMPLETION) - before.completions).toBe(1);
    expect(socks.authFailures).toBe(0);
    // The simulator saw those calls too (the proxy really forwarded them).
    expect(stack.sim.state.requestsTo(LOGIN).length).toBeGreaterThanOrEqual(1);

    const socksConns = socks.connections;
    const httpConns = http.connections;
    const direct = await chat("user1@example.com");
    expect(direct.status).toBe(200);
    expect(socks.connections).toBe(socksConns);
    expect(http.connections).toBe(httpConns);
  });

  test("an HTTP proxy (Basic auth) bound account goes through that proxy only", async () => {
    const socksConns = socks.connections;
    const before = { logins: count(http.received, LOGIN), completions: count(http.received, COMPLETION) };
    const r = await chat("user2@example.com");
    expect(r.status).toBe(200);
    expect(count(http.received, LOGIN) - before.logins).toBe(1);
    expect(count(http.received, COMPLETION) - before.completions).toBe(1);
    expect(http.authFailures).toBe(0);
    expect(socks.connections).toBe(socksConns);
  });

  test("an account behind a dead proxy fails (pinned) and is failed over (unpinned)", async () => {
    const pinned = await chat("user3@example.com");
    expect(pinned.status).toBeGreaterThanOrEqual(400);
    const views = (await api.get("/admin/accounts?page_size=100")).json.items as { identifier: string; status: string; last_error: string }[];
    const user3 = views.find((a) => a.identifier === "user3@example.com")!;
    expect(user3.status).toBe("login_failed");
    expect(user3.last_error).toContain("socks5://127.0.0.1:");

    // Leave only user3 and user1 in the pool, user3 first in line (least recently used, cool-down cleared).
    expect((await chat("user1@example.com")).status).toBe(200);
    deepseekEngine(stack.server.ctx).pool.markHealthy("user3@example.com");
    const deadBridge = deepseekEngine(stack.server.ctx).proxies.bridgeOf("px-dead")!;
    const dialFailures = deadBridge.stats().dialFailures;
    for (const id of ["user0@example.com", "user2@example.com"]) expect((await api.post(`/admin/accounts/${id}/disable`)).status).toBe(200);
    try {
      const loginsBefore = stack.sim.state.requestsTo(LOGIN).length;
      const r = await chat();
      expect(r.status).toBe(200);
      expect(r.body.choices[0].message.content.length).toBeGreaterThan(0);
      // user3 never reached the simulator: every login it got there was someone else's.
      const logins = stack.sim.state.requestsTo(LOGIN).slice(loginsBefore);
      expect(logins.every((l) => JSON.stringify(l.body).includes("user3") === false)).toBe(true);
      // …but it was tried first, through its dead proxy, before the pool moved on.
      expect(deadBridge.stats().dialFailures).toBeGreaterThan(dialFailures);
    } finally {
      for (const id of ["user0@example.com", "user2@example.com"]) await api.post(`/admin/accounts/${id}/enable`);
    }
  });
});

describe("/admin/proxies", () => {
  test("every proxies route needs admin auth", async () => {
    // (Wrong credentials are not tried here: they would lock this address out of the admin API.)
    for (const [method, path] of [
      ["GET", "/admin/proxies"],
      ["POST", "/admin/proxies"],
      ["PUT", "/admin/proxies/px-socks"],
      ["DELETE", "/admin/proxies/px-socks"],
      ["POST", "/admin/proxies/test"],
    ] as const) {
      const r = await api.call(method, path, method === "GET" || method === "DELETE" ? undefined : { proxy_id: "px-socks" }, { auth: null });
      expect(`${method} ${path} ${r.status}`).toBe(`${method} ${path} 401`);
    }
  });

  test("list shows configured proxies without passwords", async () => {
    const r = await api.get("/admin/proxies");
    expect(r.status).toBe(200);
    expect(r.json.total).toBe(3);
    const socksView = r.json.items.find((p: { id: string }) => p.id === "px-socks");
    expect(socksView).toEqual({ id: "px-socks", name: `127.0.0.1:${socks.port}`, type: "socks5h", host: "127.0.0.1", port: socks.port, username: "sock-user", has_password: true });
    expect(r.json.items.find((p: { id: string }) => p.id === "px-dead").has_password).toBe(false);
  });

  test("add (default id), validation, duplicate, update keeping the password, bind, test, delete unbinding", async () => {
    const second = startTestSocks5({ username: "u2", password: NEW_PASSWORD });
    try {
      // Validation.
      for (const bad of [
        { type: "ftp", host: "h", port: 1 },
        { type: "socks5", host: "", port: 1080 },
        { type: "socks5", host: "h", port: 0 },
        { type: "socks5", host: "h", port: 65536 },
        { type: "http", host: "h" },
      ]) {
        const r = await api.post("/admin/proxies", bad);
        expect(r.status).toBe(400);
        expect(typeof r.json.detail).toBe("string");
      }
      // Add with the default id: "proxy_" + the first 6 bytes of SHA-1 of type|host|port|username.
      const add = await api.post("/admin/proxies", { type: "socks5h", host: "127.0.0.1", port: second.port, username: "u2", password: "wrong-at-first" });
      expect(add.status).toBe(200);
      const expectedId = `proxy_${createHash("sha1").update(`socks5h|127.0.0.1|${second.port}|u2`).digest("hex").slice(0, 12)}`;
      expect(add.json.proxy.id).toBe(expectedId);
      expect(add.json.proxy.has_password).toBe(true);
      expect((await api.post("/admin/proxies", { type: "socks5h", host: "127.0.0.1", port: second.port, username: "u2" })).status).toBe(409);

      // The stored password is wrong: the test reports failure.
      const failing = await api.post("/admin/proxies/test", { proxy_id: expectedId });
      expect(failing.status).toBe(200);
      expect(failing.json.success).toBe(false);
      expect(failing.json.proxy_id).toBe(expectedId);
      expect(failing.json.proxy_type).toBe("socks5h");
      expect(second.authFailures).toBeGreaterThan(0);

      // Fix it; then a rename with an empty password keeps the fixed one.
      expect((await api.put(`/admin/proxies/${expectedId}`, { password: NEW_PASSWORD })).status).toBe(200);
      const renamed = await api.put(`/admin/proxies/${expectedId}`, { name: "second", password: "" });
      expect(renamed.status).toBe(200);
      expect(renamed.json.proxy).toEqual({ id: expectedId, name: "second", type: "socks5h", host: "127.0.0.1", port: second.port, username: "u2", has_password: true });
      expect((await api.put("/admin/proxies/nope", { name: "x" })).status).toBe(404);

      const ok = await api.post("/admin/proxies/test", { proxy_id: expectedId });
      expect(ok.json.success).toBe(true);
      expect(typeof ok.json.status_code).toBe("number");
      expect(ok.json.response_time).toBeGreaterThanOrEqual(0);
      expect((await api.post("/admin/proxies/test", { proxy_id: "nope" })).status).toBe(404);
      const inlineDead = await api.post("/admin/proxies/test", { type: "http", host: "127.0.0.1", port: deadPort(), username: "x", password: NEW_PASSWORD });
      expect(inlineDead.json.success).toBe(false);

      // Bind user1 to it: unknown proxy ids are refused, a known one routes user1's traffic there.
      expect((await api.put("/admin/accounts/user1@example.com/proxy", { proxy_id: "nope" })).status).toBe(400);
      expect((await api.put("/admin/accounts/user1@example.com/proxy", { proxy_id: expectedId })).json).toEqual({ success: true, proxy_id: expectedId });
      const before = count(second.received, COMPLETION);
      expect((await chat("user1@example.com")).status).toBe(200);
      expect(count(second.received, COMPLETION) - before).toBe(1);

      // Delete: user1 is unbound and goes direct again.
      const del = await api.delete(`/admin/proxies/${expectedId}`);
      expect(del.status).toBe(200);
      expect(del.json.success).toBe(true);
      expect((await api.delete(`/admin/proxies/${expectedId}`)).status).toBe(404);
      const view = (await api.get("/admin/accounts?q=user1")).json.items[0];
      expect(view.proxy_id).toBe("");
      const conns = second.connections;
      expect((await chat("user1@example.com")).status).toBe(200);
      expect(second.connections).toBe(conns);

      const actions = ((await api.get("/admin/audit?action=proxies.&limit=100")).json.items as { action: string }[]).map((e) => e.action);
      for (const a of ["proxies.add", "proxies.update", "proxies.test", "proxies.delete"]) expect(actions).toContain(a);
    } finally {
      second.stop();
    }
  });

  test("config import brings proxies in; export hides their passwords unless asked", async () => {
    const imp = await api.post("/admin/config/import?mode=merge", {
      proxies: [{ id: "px-imported", type: "https", host: "proxy.example", port: 8443, username: "imp", password: IMPORTED_PASSWORD }],
      accounts: [{ email: "user9@example.com", password: "pw-9", proxy_id: "px-imported" }],
    });
    expect(imp.status).toBe(200);
    const list = (await api.get("/admin/proxies")).json.items as { id: string; type: string; has_password: boolean }[];
    const imported = list.find((p) => p.id === "px-imported")!;
    expect(imported.type).toBe("https");
    expect(imported.has_password).toBe(true);
    expect((await api.get("/admin/accounts?q=user9")).json.items[0].proxy_id).toBe("px-imported");
    const exported = await api.get("/admin/config/export");
    expect(exported.json.config.proxies.find((p: { id: string }) => p.id === "px-imported").password).toBeUndefined();
    const withSecrets = await api.get("/admin/config/export?include_secrets=1", { secretBearing: true });
    expect(withSecrets.json.config.proxies.find((p: { id: string }) => p.id === "px-imported").password).toBe(IMPORTED_PASSWORD);
    const bad = await api.post("/admin/config/import", { proxies: [{ type: "ftp", host: "h", port: 1 }] });
    expect(bad.status).toBe(400);
  });

  test("no proxy password in any admin answer (except export with secrets), the audit log or the server log", async () => {
    const audit = await api.get("/admin/audit?limit=1000");
    const config = await api.get("/admin/config");
    expect(config.json.proxies.every((p: Record<string, unknown>) => !("password" in p))).toBe(true);
    for (const r of api.recorded) {
      if (r.secretBearing) continue;
      for (const s of SECRETS) expect(`${r.label}: ${r.text.includes(s)}`).toBe(`${r.label}: false`);
    }
    expect(audit.text.length).toBeGreaterThan(0);
    const log = stack.logs.join("\n");
    for (const s of SECRETS) {
      expect(log.includes(s)).toBe(false);
      expect(log.includes(encodeURIComponent(s))).toBe(false);
    }
  });
});

describe("shutdown", () => {
  test("stopping the server stops its SOCKS bridges", async () => {
    const bridge = deepseekEngine(stack.server.ctx).proxies.bridgeOf("px-socks");
    expect(bridge).toBeDefined();
    const port = bridge!.port;
    await stack.stop();
    const err = await fetch(`http://127.0.0.1:${port}/`).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    stack = undefined as unknown as Stack;
  });
});
