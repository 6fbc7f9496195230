/**
 * Admin edges: the credential throttle (the right key still gets in; wrong guesses slowed, then 429 +
 * Retry-After unchecked), X-Forwarded-For only from trusted proxies, same-origin-only CORS on /admin and
 * /metrics, object bodies on every admin write, JWT algorithm pinned to HS256, and X-Ds2-Target-Account
 * errors that do not tell an unknown account from one that exists but cannot be used (disabled, login
 * refused, token rejected, cooling down).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { checkAdminCredential } from "../src/security/admin-credential.ts";
import { LoginLimiter, throttleKey } from "../src/security/login-limiter.ts";
import { TrustedProxies } from "../src/security/trusted-proxies.ts";
import { SIM_ERRORS } from "../src/sim/index.ts";
import { AdminClient, expectDetail } from "./support/admin-client.ts";
import { accountStates } from "./support/fault-helpers.ts";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";
import { deepseekEngine } from "./support/deepseek-engine.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const OFFLINE = { DS2API_DEEPSEEK_BASE_URL: "http://127.0.0.1:9" };

/** A limiter on a fake clock whose sleeps advance the clock, and a credential check that counts its calls. */
function fakeThrottle() {
  const clock = { t: 1_000_000, slept: [] as number[] };
  const limiter = new LoginLimiter({ now: () => clock.t, sleep: async (ms) => void (clock.slept.push(ms), (clock.t += ms)) });
  const checker = { checks: 0, verify: async (c: string | null | undefined) => (checker.checks++, c === "right") };
  const attempt = (address: string, candidate: string) => checkAdminCredential(limiter, checker, address, candidate);
  return { clock, limiter, checker, attempt };
}

describe("credential throttle (fake clock)", () => {
  test("five free failures, then progressive slots; beyond the hold window 429 without checking; the right key gets in at its turn", async () => {
    const { clock, checker, attempt } = fakeThrottle();
    for (let i = 0; i < 5; i++) expect(await attempt("198.51.100.9", `wrong-${i}`)).toEqual({ ok: false, throttled: false });
    expect(clock.slept).toEqual([]);
    // sequential guesses are held for 1 s, 2 s, 4 s …
    for (let i = 0; i < 3; i++) expect((await attempt("198.51.100.9", `more-${i}`)).ok).toBe(false);
    expect(clock.slept).toEqual([1000, 2000, 4000]);
    const checksBefore = checker.checks;
    const refused = await attempt("198.51.100.9", "more-x");
    expect(refused).toEqual({ ok: false, throttled: true, retryAfterSeconds: 8 });
    expect(await attempt("198.51.100.9", "right")).toMatchObject({ throttled: true }); // not even checked
    expect(checker.checks).toBe(checksBefore);
    // another address is not affected
    expect(await attempt("198.51.100.10", "right")).toEqual({ ok: true });
    clock.t += 8000;
    expect(await attempt("198.51.100.9", "right")).toEqual({ ok: true });
    // success reset the address: five free failures again, no waiting
    clock.slept.length = 0;
    for (let i = 0; i < 5; i++) await attempt("198.51.100.9", `again-${i}`);
    expect(clock.slept).toEqual([]);
  });

  test("the wait is capped; failures are forgotten after 15 minutes; IPv6 counts per /64", async () => {
    const { clock, attempt } = fakeThrottle();
    for (let i = 0; i < 30; i++) {
      const r = await attempt("2001:db8:1:2::1", `w-${i}`);
      if (r.ok === false && r.throttled) {
        expect(r.retryAfterSeconds).toBeLessThanOrEqual(30);
        clock.t += r.retryAfterSeconds * 1000;
      }
    }
    expect(clock.slept.every((ms) => ms <= 4000)).toBe(true);
    // a neighbour in the same /64 shares the budget; the next /64 does not
    expect(throttleKey("2001:db8:1:2::1")).toBe(throttleKey("2001:db8:1:2:ffff::9"));
    expect(throttleKey("2001:db8:1:3::1")).not.toBe(throttleKey("2001:db8:1:2::1"));
    expect(await attempt("2001:db8:1:2:ffff::9", "nope")).toMatchObject({ ok: false, throttled: true });
    expect(await attempt("2001:db8:1:3::1", "nope")).toEqual({ ok: false, throttled: false });
    clock.t += 16 * 60_000;
    const slept = clock.slept.length;
    expect(await attempt("2001:db8:1:2::1", "nope")).toEqual({ ok: false, throttled: false });
    expect(clock.slept.length).toBe(slept);
  });

  test("at most 8 checks per address run at once; a ninth is refused without being checked", async () => {
    const limiter = new LoginLimiter();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let checks = 0;
    const slow = { verify: async () => (checks++, await gate, false) };
    const running = Array.from({ length: 8 }, () => checkAdminCredential(limiter, slow, "192.0.2.1", "x"));
    expect(await checkAdminCredential(limiter, slow, "192.0.2.1", "x")).toEqual({ ok: false, throttled: true, retryAfterSeconds: 1 });
    expect(checks).toBe(8);
    release();
    for (const r of await Promise.all(running)) expect(r).toEqual({ ok: false, throttled: false });
  });

  test("trusted proxies: the right-most untrusted X-Forwarded-For hop, X-Real-IP, nothing from untrusted peers", () => {
    const t = new TrustedProxies(["10.0.0.0/8", "::1", "fd00::/8"]);
    const h = (o: Record<string, string>) => new Headers(o);
    expect(t.clientAddress("10.1.2.3", h({ "x-forwarded-for": "198.51.100.1, 203.0.113.7, 10.0.0.5" }))).toBe("203.0.113.7");
    expect(t.clientAddress("::ffff:10.1.2.3", h({ "x-forwarded-for": "203.0.113.7" }))).toBe("203.0.113.7");
    expect(t.clientAddress("::1", h({ "x-real-ip": "2001:db8::5" }))).toBe("2001:db8::5");
    expect(t.clientAddress("fd12::1", h({ "x-forwarded-for": "not-an-ip, 203.0.113.9" }))).toBe("203.0.113.9");
    expect(t.clientAddress("203.0.113.50", h({ "x-forwarded-for": "1.1.1.1", "x-real-ip": "2.2.2.2" }))).toBe("203.0.113.50");
    expect(new TrustedProxies([]).clientAddress("127.0.0.1", h({ "x-forwarded-for": "1.1.1.1" }))).toBe("127.0.0.1");
    expect(() => new TrustedProxies(["10.0.0.0/33"])).toThrow("prefix");
    expect(() => new TrustedProxies(["proxy.local"])).toThrow("not an IP");
  });
});

/** Fire `n` wrong logins at once with the given headers; returns the answers. */
async function burst(url: string, n: number, headers: Record<string, string> = {}) {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      fetch(`${url}/admin/login`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ admin_key: `burst-${i}` }) }),
    ),
  );
}

async function failFive(api: AdminClient, headers: Record<string, string> = {}) {
  for (let i = 0; i < 5; i++) expectDetail(await api.post("/admin/login", { admin_key: `guess-${i}` }, { headers }), 401);
}

describe("admin API on a real server", () => {
  let s: TestServer;
  let api: AdminClient;
  beforeAll(async () => {
    s = await startTestServer({ env: OFFLINE });
    api = new AdminClient(s.url, s.adminKey);
  });
  afterAll(() => s.stop());

  test("JWTs: only HS256 — HS512 and alg none are refused even when signed with the stored secret", async () => {
    const secret = (await s.running.ctx.store.settings.get<string>("admin_jwt_secret"))!;
    expect(secret).toBeTruthy();
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const payload = { role: "admin", iat_ms: Date.now() + 1000, exp: Math.floor(Date.now() / 1000) + 3600 };
    const sign = (alg: string, hash: string | undefined) => {
      const head = `${enc({ alg, typ: "JWT" })}.${enc(payload)}`;
      return `${head}.${hash ? createHmac(hash, secret).update(head).digest("base64url") : ""}`;
    };
    expect((await api.get("/admin/verify", { auth: sign("HS256", "sha256") })).status).toBe(200); // the control
    for (const token of [sign("HS512", "sha512"), sign("HS384", "sha384"), sign("none", undefined), sign("HS256", "sha512")]) {
      expect(expectDetail(await api.get("/admin/verify", { auth: token }), 401)).toMatch(/algorithm|signature/);
    }
    // on guarded routes a refused token is treated as a wrong credential (and counts as a guess)
    expectDetail(await api.get("/admin/settings", { auth: sign("HS512", "sha512") }), 401);
    expect((await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${sign("none", undefined)}` } })).status).toBe(401);
  });

  test("CORS: no grant for foreign or null origins on /admin and /metrics; preflights there get nothing", async () => {
    for (const origin of ["https://evil.example", "null"]) {
      for (const path of ["/admin/settings", "/admin/login", "/metrics", "/admin"]) {
        const r = await fetch(s.url + path, { headers: { origin, authorization: `Bearer ${s.adminKey}` } });
        expect(r.headers.get("access-control-allow-origin")).toBeNull();
        expect(r.headers.get("access-control-allow-private-network")).toBeNull();
      }
      const pre = await fetch(`${s.url}/admin/login`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type, authorization", "access-control-request-private-network": "true" },
      });
      expect(pre.status).toBe(204);
      for (const h of ["access-control-allow-origin", "access-control-allow-headers", "access-control-allow-methods", "access-control-allow-private-network"]) expect(pre.headers.get(h)).toBeNull();
    }
    // a write a browser sends from another site (or an opaque origin) is refused before it is read
    expectDetail(await api.post("/admin/login", { admin_key: s.adminKey }, { headers: { origin: "null" } }), 403);
    expectDetail(await api.post("/admin/keys", {}, { headers: { "sec-fetch-site": "cross-site", origin: "https://evil.example" } }), 403);
    // the console itself (same origin) works
    const same = await api.post("/admin/login", { admin_key: s.adminKey }, { headers: { origin: s.url, "sec-fetch-site": "same-origin" } });
    expect(same.status).toBe(200);
    // business and public routes keep permissive CORS for browser clients
    const models = await fetch(`${s.url}/v1/models`, { headers: { origin: "https://chat.example" } });
    expect(models.headers.get("access-control-allow-origin")).toBe("https://chat.example");
    const pre = await fetch(`${s.url}/v1/chat/completions`, { method: "OPTIONS", headers: { origin: "https://chat.example", "access-control-request-headers": "authorization" } });
    expect(pre.headers.get("access-control-allow-origin")).toBe("https://chat.example");
    expect(pre.headers.get("access-control-allow-headers")).toContain("authorization");
  });

  test("every admin write refuses 42, \"s\", null, [] and an empty body with 400", async () => {
    const routes: [string, string][] = [
      ["POST", "/admin/login"],
      ["POST", "/admin/keys"],
      ["PUT", "/admin/keys/k_000000000000"],
      ["POST", "/admin/config"],
      ["POST", "/admin/config/import"],
      ["POST", "/admin/accounts"],
      ["POST", "/admin/accounts/bulk"],
      ["PUT", "/admin/accounts/a@example.com"],
      ["PUT", "/admin/accounts/a@example.com/proxy"],
      ["POST", "/admin/accounts/a@example.com/enable"],
      ["POST", "/admin/accounts/a@example.com/disable"],
      ["POST", "/admin/accounts/test"],
      ["POST", "/admin/accounts/test-all"],
      ["POST", "/admin/proxies"],
      ["PUT", "/admin/proxies/p1"],
      ["POST", "/admin/proxies/test"],
      ["PUT", "/admin/settings"],
      ["POST", "/admin/settings/password"],
      ["POST", "/admin/test"],
      ["POST", "/admin/playground"],
    ];
    const keysBefore = await s.running.ctx.store.apiKeys.count();
    for (const [method, path] of routes) {
      const bodies = /\/(enable|disable)$/.test(path) ? ["42", '"s"', "null", "[]"] : ["42", '"s"', "null", "[]", ""];
      for (const raw of bodies) {
        const r = await api.call(method, path, undefined, { rawBody: raw });
        const label = `${method} ${path} ${JSON.stringify(raw)}`;
        if (r.status !== 400 || !String(r.json?.detail).includes("a JSON object body is required")) throw new Error(`${label} → ${r.status} ${r.text}`);
      }
    }
    expect(await s.running.ctx.store.apiKeys.count()).toBe(keysBefore); // no random key was created
  });

});

/** Each throttle test gets its own server (the throttle state is per process). */
async function serverWithClient() {
  const s = await startTestServer({ env: OFFLINE });
  return { s, api: new AdminClient(s.url, s.adminKey) };
}

describe("throttle on a real server", () => {
  test("wrong ×6, then the right key logs in from the same address", async () => {
    const { s, api } = await serverWithClient();
    try {
    await failFive(api);
    expectDetail(await api.post("/admin/login", { admin_key: "guess-6" }), 401);
    const ok = await api.post("/admin/login", { admin_key: s.adminKey });
    expect(ok.status).toBe(200);
    expect(typeof ok.json.token).toBe("string");
    } finally {
      await s.stop();
    }
  });

  test("a burst of wrong guesses from a throttled address gets 429 with Retry-After; a valid JWT is never throttled", async () => {
    const { s, api } = await serverWithClient();
    try {
    const jwt = await api.login(s.adminKey);
    await failFive(api);
    const answers = await burst(s.url, 6);
    const refused = answers.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(Number(refused[0]!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await refused[0]!.json()) as { detail: string }).detail).toContain("try again in");
    for (const r of answers) expect([401, 429]).toContain(r.status);
    expect((await api.get("/admin/settings", { auth: jwt })).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

});

describe("X-Forwarded-For on a real server", () => {
  test("honoured from a trusted proxy: clients behind it are throttled separately and logged by their own address", async () => {
    const s = await startTestServer({ env: { ...OFFLINE, DS2API_TRUSTED_PROXIES: "127.0.0.1, ::1" } });
    try {
      const api = new AdminClient(s.url, s.adminKey);
      const a = { "x-forwarded-for": "198.51.100.1, 203.0.113.7" };
      await failFive(api, a);
      const answers = await burst(s.url, 6, a);
      expect(answers.some((r) => r.status === 429)).toBe(true);
      // another client behind the same proxy still has its own budget, and the right key works for both
      expectDetail(await api.post("/admin/login", { admin_key: "wrong" }, { headers: { "x-forwarded-for": "203.0.113.8" } }), 401);
      expect((await api.post("/admin/login", { admin_key: s.adminKey }, { headers: { "x-forwarded-for": "203.0.113.8" } })).status).toBe(200);
      await fetch(`${s.url}/healthz`, { headers: { "x-forwarded-for": "203.0.113.99", "x-request-id": "xff-log-1" } });
      expect(s.logs.find((l) => l.includes("xff-log-1"))).toContain("client=203.0.113.99");
    } finally {
      await s.stop();
    }
  });

  test("ignored from an untrusted peer: every spoofed address shares the peer's budget", async () => {
    const s = await startTestServer({ env: OFFLINE });
    try {
      const api = new AdminClient(s.url, s.adminKey);
      await failFive(api, { "x-forwarded-for": "203.0.113.7" });
      const answers = await burst(s.url, 6, { "x-forwarded-for": "203.0.113.8", "x-real-ip": "203.0.113.9" });
      expect(answers.some((r) => r.status === 429)).toBe(true);
      await fetch(`${s.url}/healthz`, { headers: { "x-forwarded-for": "203.0.113.99", "x-request-id": "xff-log-2" } });
      expect(s.logs.find((l) => l.includes("xff-log-2"))).toContain("client=127.0.0.1");
    } finally {
      await s.stop();
    }
  });
});

describe("X-Ds2-Target-Account", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ accounts: 5 });
  });
  afterAll(() => stack.stop());

  const pinned = (account: string) =>
    fetch(`${stack.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json", "x-ds2-target-account": account },
      body: JSON.stringify({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "hi" }] }),
    });

  test("an unknown account and a disabled one get the same status and message", async () => {
    const admin = new AdminClient(stack.url, "e2e-admin");
    expect((await admin.post("/admin/accounts/user1@example.com/disable")).status).toBe(200);
    const unknown = await pinned("nobody@example.com");
    const disabled = await pinned("user1@example.com");
    expect(unknown.status).toBe(disabled.status);
    const [u, d] = [await unknown.text(), await disabled.text()];
    expect(u).toBe(d);
    expect(u).toContain("the requested account (X-Ds2-Target-Account) is not available");
    expect(u).not.toContain("nobody@example.com");
    expect(unknown.headers.get("retry-after")).toBe(disabled.headers.get("retry-after"));
    // the same through the Anthropic surface
    const anth = (account: string) =>
      fetch(`${stack.url}/anthropic/v1/messages`, {
        method: "POST",
        headers: { "x-api-key": API_KEY, "content-type": "application/json", "anthropic-version": "2023-06-01", "x-ds2-target-account": account },
        body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 64, messages: [{ role: "user", content: "hi" }] }),
      }).then(async (r) => [r.status, await r.text()]);
    expect(await anth("nobody@example.com")).toEqual(await anth("user1@example.com"));
  });

  test("unknown, disabled, login refused, token rejected, cooling down: one answer for all; the reason only in the log", async () => {
    const admin = new AdminClient(stack.url, "e2e-admin");
    const pool = deepseekEngine(stack.server.ctx).pool;
    expect((await admin.post("/admin/accounts/user1@example.com/disable")).status).toBe(200);
    // user3 gets a token first; afterwards DeepSeek rejects it and refuses the re-login.
    expect((await pinned("user3@example.com")).status).toBe(200);
    for (const id of ["user2@example.com", "user3@example.com"]) stack.sim.state.failAccount(id, SIM_ERRORS.authBiz);
    pool.markFailing("user4@example.com", "auth", "test: benched");
    try {
      /** What a client can see: status, the headers that vary by cause, and the body without request ids. */
      const visible = async (account: string, surface: "openai" | "anthropic") => {
        const r =
          surface === "openai"
            ? await pinned(account)
            : await fetch(`${stack.url}/anthropic/v1/messages`, {
                method: "POST",
                headers: { "x-api-key": API_KEY, "content-type": "application/json", "anthropic-version": "2023-06-01", "x-ds2-target-account": account },
                body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 64, messages: [{ role: "user", content: "hi" }] }),
              });
        const body = (await r.text()).replace(/"(request_id|id)":"[^"]*"/g, '"$1":"…"');
        return { status: r.status, retryAfter: r.headers.get("retry-after"), contentType: r.headers.get("content-type"), body };
      };
      const cases = {
        unknown: "nobody@example.com",
        disabled: "user1@example.com",
        login_refused: "user2@example.com",
        token_rejected: "user3@example.com",
        cooling_down: "user4@example.com",
        // user2 again, now resting after its failed login
        login_failed_resting: "user2@example.com",
      };
      for (const surface of ["openai", "anthropic"] as const) {
        const answers: Record<string, Awaited<ReturnType<typeof visible>>> = {};
        for (const [name, account] of Object.entries(cases)) answers[name] = await visible(account, surface);
        const expected = answers.unknown!;
        expect(expected.status).toBe(503);
        expect(expected.body).toContain("the requested account (X-Ds2-Target-Account) is not available");
        for (const [name, got] of Object.entries(answers)) expect({ name, surface, ...got }).toEqual({ name, surface, ...expected });
        for (const account of Object.values(cases)) expect(expected.body).not.toContain(account);
      }
      // Both failures really happened upstream (the refused login and the rejected token), and the accounts rest.
      const states = await accountStates(stack);
      expect(states["user2@example.com"]).toBe("login_failed");
      expect(states["user3@example.com"]).not.toBe("ok");
      // The operator sees which account and why, at warn level.
      const warned = stack.logs.filter((l) => l.includes("pinned account not usable"));
      for (const account of Object.values(cases)) expect({ account, logged: warned.some((l) => l.includes(account)) }).toEqual({ account, logged: true });
      expect(warned.some((l) => l.includes("user2@example.com") && l.includes("account login failed"))).toBe(true);
      expect(warned.every((l) => /warn/i.test(l))).toBe(true);
    } finally {
      for (const id of ["user2@example.com", "user3@example.com"]) stack.sim.state.failAccount(id, undefined);
      for (const id of ["user2@example.com", "user3@example.com", "user4@example.com"]) pool.markHealthy(id);
      await admin.post("/admin/accounts/user1@example.com/enable");
    }
  });
});
