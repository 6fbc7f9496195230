/** Admin API: every route without auth, with a JWT, with the raw admin key and with bad bodies; pagination edges; masking; audit. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AdminClient, expectDetail } from "./support/admin-client.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";
import { deepseekEngine } from "./support/deepseek-engine.ts";

let server: TestServer;
let api: AdminClient;
let jwt: string;
const passwords = new Set<string>();
const createdKeys = new Set<string>();
let seq = 0;
let suiteStart = 0;

beforeAll(async () => {
  suiteStart = Date.now();
  // Upstream points at a closed port: account tests fail fast instead of touching the network.
  server = await startTestServer({ env: { DS2API_DEEPSEEK_BASE_URL: "http://127.0.0.1:9" } });
  api = new AdminClient(server.url);
  jwt = await api.login(server.adminKey);
  api.auth = jwt;
  const k = await api.post("/admin/keys", { name: "first" }, { secretBearing: true });
  createdKeys.add(k.json.key);
  for (const email of ["fixed@example.com", "toggle@example.com"]) {
    const pw = `pw-${email}-secret`;
    passwords.add(pw);
    expect((await api.post("/admin/accounts", { email, password: pw })).status).toBe(200);
  }
});
afterAll(() => server?.stop());

interface Route {
  method: string;
  path: string | (() => Promise<string>);
  body?: unknown | (() => unknown);
  bad?: unknown;
  /** Expected status for an authorised good call (default: 200). */
  ok?: number;
  secretBearing?: boolean;
}

async function freshKeyId(): Promise<string> {
  const r = await api.post("/admin/keys", { name: `tmp-${++seq}` }, { auth: server.adminKey, secretBearing: true });
  createdKeys.add(r.json.key);
  return r.json.key_id;
}

async function freshAccount(): Promise<string> {
  const email = `tmp${++seq}@example.com`;
  const pw = `tmp-password-${seq}`;
  passwords.add(pw);
  await api.post("/admin/accounts", { email, password: pw }, { auth: server.adminKey });
  return email;
}

const ROUTES: Route[] = [
  { method: "GET", path: "/admin/config" },
  { method: "POST", path: "/admin/config", body: { model_aliases: { "my-fast": "deepseek-v4-flash" } }, bad: { model_aliases: { x: "not-a-model" } } },
  { method: "POST", path: "/admin/config/import", body: { config: { model_aliases: { "imp-alias": "deepseek-v4-pro" } } }, bad: { json: "{not json" } },
  { method: "GET", path: "/admin/config/export" },
  { method: "GET", path: "/admin/export" },
  { method: "GET", path: "/admin/keys" },
  { method: "POST", path: "/admin/keys", body: () => ({ name: `k${++seq}` }), bad: { key: 5 }, secretBearing: true },
  { method: "PUT", path: async () => `/admin/keys/${await freshKeyId()}`, body: { remark: "r", quota: { requests_per_minute: 100 } }, bad: { quota: { requests_per_minute: -1 } } },
  { method: "DELETE", path: async () => `/admin/keys/${await freshKeyId()}` },
  { method: "GET", path: "/admin/accounts?page=1&page_size=5" },
  { method: "POST", path: "/admin/accounts", body: () => { const pw = `add-pw-${++seq}`; passwords.add(pw); return { email: `add${seq}@example.com`, password: pw }; }, bad: { email: "nopw@example.com" } },
  { method: "PUT", path: "/admin/accounts/fixed@example.com", body: { remark: "edited", name: "Fixed" }, bad: { name: 5 } },
  { method: "DELETE", path: async () => `/admin/accounts/${encodeURIComponent(await freshAccount())}` },
  { method: "POST", path: "/admin/accounts/toggle@example.com/disable" },
  { method: "POST", path: "/admin/accounts/toggle@example.com/enable" },
  { method: "PUT", path: "/admin/accounts/fixed@example.com/proxy", body: { proxy_id: "" }, bad: { proxy_id: "no-such-proxy" } },
  { method: "POST", path: "/admin/accounts/test", body: { identifier: "fixed@example.com" }, bad: {} },
  { method: "POST", path: "/admin/accounts/test-all", body: {}, bad: { model: 5 } },
  { method: "POST", path: "/admin/accounts/bulk", body: () => { const pw = `bulk-pw-${++seq}`; passwords.add(pw); return { text: `bulk${seq}@example.com:${pw}` }; }, bad: { text: "" } },
  { method: "POST", path: "/admin/import", body: () => { const pw = `imp-pw-${++seq}`; passwords.add(pw); return { keys: [`sk-imported-${crypto.randomUUID()}`], accounts: [{ email: `imp${seq}@example.com`, password: pw }] }; }, bad: { accounts: [{ email: "not-an-email", password: "x" }] } },
  { method: "GET", path: "/admin/queue/status" },
  { method: "GET", path: "/admin/settings" },
  { method: "PUT", path: "/admin/settings", body: { runtime: { min_interval_ms: 0, cooldown_seconds: 30 } }, bad: { runtime: { account_max_inflight: 999 } } },
  // No working upstream here: an unknown model makes the loopback chat fail fast (the full path runs in admin-stack).
  { method: "POST", path: "/admin/test", body: { message: "hi", model: "no-such-model" }, bad: { model: 5 } },
  { method: "GET", path: "/admin/version" },
  { method: "GET", path: "/admin/audit?limit=5" },
  { method: "GET", path: "/admin/errors/recent" },
  { method: "GET", path: "/admin/vercel/config", ok: 501 },
  { method: "POST", path: "/admin/vercel/sync", body: {}, ok: 501 },
];
/** Auth and bad bodies only: a good call would revoke the suite's JWT or needs a working upstream (see admin-stack / admin-persistence). */
const AUTH_ONLY: Route[] = [
  { method: "POST", path: "/admin/settings/password", bad: { new_password: "ab" } },
  { method: "POST", path: "/admin/playground", bad: { surface: "cobol", model: "x", message: "hi" } },
  { method: "POST", path: "/admin/accounts/sessions/delete-all", bad: {} },
];

const resolvePath = async (r: Route) => (typeof r.path === "function" ? r.path() : r.path);
const resolveBody = (r: Route) => (typeof r.body === "function" ? (r.body as () => unknown)() : r.body);
const label = (r: Route) => `${r.method} ${typeof r.path === "string" ? r.path : r.path.toString().match(/\/admin\/[a-z/]+/)?.[0] ?? "dynamic"}`;

describe("auth matrix", () => {
  for (const r of [...ROUTES, ...AUTH_ONLY]) {
    test(`${label(r)}: 401 without credentials, even with a bad body`, async () => {
      const path = await resolvePath(r);
      expectDetail(await api.call(r.method, path, r.body === undefined ? undefined : resolveBody(r), { auth: null }), 401);
      if (r.bad !== undefined) expectDetail(await api.call(r.method, path, r.bad, { auth: null }), 401);
      // x-api-key is not an admin credential
      expectDetail(await api.call(r.method, path, undefined, { auth: null, headers: { "x-api-key": server.adminKey } }), 401);
    });
  }
  for (const r of ROUTES) {
    for (const mode of ["jwt", "key"] as const) {
      test(`${label(r)}: works with the ${mode === "jwt" ? "JWT" : "raw admin key"}`, async () => {
        const res = await api.call(r.method, await resolvePath(r), resolveBody(r), { auth: mode === "jwt" ? jwt : server.adminKey, secretBearing: r.secretBearing });
        expect(res.status).toBe(r.ok ?? 200);
        expect(res.json).toBeDefined();
        if ((r.ok ?? 200) >= 400) expectDetail(res, r.ok!);
      }, 15_000);
    }
  }
  for (const r of [...ROUTES, ...AUTH_ONLY].filter((x) => x.bad !== undefined)) {
    test(`${label(r)}: a bad body gets 4xx {detail}`, async () => {
      const detail = expectDetail(await api.call(r.method, await resolvePath(r), r.bad), "4xx");
      expect(detail).not.toContain("internal");
    });
  }
  test("malformed JSON and a non-object body are 400 {detail}", async () => {
    expectDetail(await api.call("POST", "/admin/keys", undefined, { rawBody: "{oops" }), 400);
    expectDetail(await api.call("PUT", "/admin/settings", [1, 2]), 400);
    expectDetail(await api.post("/admin/accounts", "just a string"), 400);
  });
  test("unknown account or key → 404 {detail}", async () => {
    expectDetail(await api.put("/admin/accounts/nobody@example.com", { remark: "x" }), 404);
    expectDetail(await api.delete("/admin/keys/k_000000000000"), 404);
    expectDetail(await api.post("/admin/accounts/test", { identifier: "nobody@example.com" }), 404);
  });
  test("duplicates → 409", async () => {
    expectDetail(await api.post("/admin/accounts", { email: "FIXED@example.com", password: "another-pass" }), 409);
  });
});

describe("login and verify", () => {
  test("login: wrong key 401, bad body 400, expire_hours bounds", async () => {
    expectDetail(await api.post("/admin/login", { admin_key: "wrong-key-guess" }, { auth: null }), 401);
    expectDetail(await api.post("/admin/login", {}, { auth: null }), 400);
    expectDetail(await api.post("/admin/login", { admin_key: server.adminKey, expire_hours: 0 }, { auth: null }), 400);
    expectDetail(await api.post("/admin/login", { admin_key: server.adminKey, expire_hours: 721 }, { auth: null }), 400);
    const loginStart = Date.now();
    const r = await api.post("/admin/login", { admin_key: server.adminKey, expire_hours: 2 }, { auth: null });
    expect(r.json.success).toBe(true);
    expect(r.json.expires_in).toBe(7200);
    const v = await api.get("/admin/verify", { auth: r.json.token });
    expect(v.status).toBe(200);
    expect(v.json.valid).toBe(true);
    // The token was issued between these two clock readings: expiry and remaining time follow from that alone.
    expect(v.json.expires_at).toBeGreaterThanOrEqual(Math.floor(loginStart / 1000) + 7200);
    expect(v.json.expires_at).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 7200);
    expect(v.json.remaining_seconds).toBeLessThanOrEqual(7200);
    expect(v.json.expires_at - v.json.remaining_seconds).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(v.json.expires_at - v.json.remaining_seconds).toBeGreaterThanOrEqual(Math.floor(loginStart / 1000));
  });
  test("verify accepts the JWT only", async () => {
    expect((await api.get("/admin/verify")).status).toBe(200);
    expectDetail(await api.get("/admin/verify", { auth: server.adminKey }), 401);
    expectDetail(await api.get("/admin/verify", { auth: null }), 401);
    const [h, p, s] = jwt.split(".");
    const tampered = `${h}.${p}.${s!.slice(0, -3)}${s!.endsWith("AAA") ? "BBB" : "AAA"}`;
    expect(expectDetail(await api.get("/admin/verify", { auth: tampered }), 401)).toContain("signature");
    // a successful login clears the failure count these guesses added
    await api.login(server.adminKey);
  });
});

describe("pagination", () => {
  test("pages, edges, search, newest first", async () => {
    const before = (await api.get("/admin/accounts?page_size=1")).json.total as number;
    const lines = Array.from({ length: 23 }, (_, i) => `page${String(i).padStart(2, "0")}@example.com:page-secret-${i}`);
    for (let i = 0; i < 23; i++) passwords.add(`page-secret-${i}`);
    const bulk = await api.post("/admin/accounts/bulk", { text: `# comment\n\n${lines.join("\n")}\nnot-an-account\n` });
    expect(bulk.json.imported).toBe(23);
    expect(bulk.json.errors.length).toBe(1);
    const total = before + 23;
    const first = await api.get("/admin/accounts?page=1&page_size=10");
    expect(first.json.total).toBe(total);
    expect(first.json.total_pages).toBe(Math.ceil(total / 10));
    expect(first.json.items.length).toBe(10);
    expect(first.json.items[0].identifier).toBe("page22@example.com");
    const last = await api.get(`/admin/accounts?page=${first.json.total_pages}&page_size=10`);
    expect(last.json.items.length).toBe(total - 10 * (first.json.total_pages - 1));
    const beyond = await api.get(`/admin/accounts?page=${first.json.total_pages + 1}&page_size=10`);
    expect(beyond.status).toBe(200);
    expect(beyond.json.items).toEqual([]);
    expect(beyond.json.total).toBe(total);
    expect((await api.get("/admin/accounts?page_size=100")).json.items.length).toBe(Math.min(100, total));
    for (const q of ["page_size=101", "page_size=0", "page=0", "page=abc", "page_size=1.5", "page=-1"]) expectDetail(await api.get(`/admin/accounts?${q}`), 400);
    const search = await api.get("/admin/accounts?q=PAGE1&page_size=100");
    expect(search.json.items.map((a: { identifier: string }) => a.identifier).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `page1${i}@example.com`));
    const none = await api.get("/admin/accounts?q=%25_nothing");
    expect(none.json.total).toBe(0);
    expect(none.json.total_pages).toBe(1);
  });
});

describe("accounts", () => {
  test("mobile identifiers are matched canonically; enable/disable shows in status", async () => {
    const add = await api.post("/admin/accounts", { mobile: "138 0013 8000", password: "mobile-secret-1" });
    passwords.add("mobile-secret-1");
    expect(add.status).toBe(200);
    expect((await api.post("/admin/accounts/13800138000/disable")).json.enabled).toBe(false);
    const view = (await api.get("/admin/accounts?q=13800138000")).json.items[0];
    expect(view.identifier).toBe("+8613800138000");
    expect(view.status).toBe("disabled");
    expect(view.enabled).toBe(false);
    expect(deepseekEngine(server.running.ctx).pool.status().disabled).toBeGreaterThanOrEqual(1);
    expect((await api.post(`/admin/accounts/${encodeURIComponent("+86 138-0013-8000")}/enable`)).json.enabled).toBe(true);
    expectDetail(await api.post("/admin/accounts", { mobile: "+8613800138000", password: "x-secret-2" }), 409);
    expect((await api.delete("/admin/accounts/8613800138000")).status).toBe(200);
  });
  test("account view has secrets reduced to flags", async () => {
    await server.running.ctx.store.accounts.setToken("fixed@example.com", "tok-abcdefghijklmnop-xyz");
    const view = (await api.get("/admin/accounts?q=fixed@")).json.items[0];
    expect(view.has_password).toBe(true);
    expect(view.has_token).toBe(true);
    expect(view.token_preview).toBe("to****yz");
    expect(view.token_age_seconds).toBeGreaterThanOrEqual(0);
    expect("password" in view).toBe(false);
    expect("token" in view).toBe(false);
  });
  test("a failed account test is reported (200, success false) and marks the account", async () => {
    const r = await api.post("/admin/accounts/test", { identifier: "toggle@example.com" });
    expect(r.status).toBe(200);
    expect(r.json.success).toBe(false);
    expect(r.json.account).toBe("toggle@example.com");
    const view = (await api.get("/admin/accounts?q=toggle@")).json.items[0];
    expect(view.test_status).toBe("failed");
    expect(view.status).toBe("login_failed");
    expect(view.last_error.length).toBeGreaterThan(0);
    // One "login failed" prefix, not "login: login failed: …".
    expect(view.status_reason).toMatch(/^login failed: /);
    expect(view.status_reason.match(/login failed/gi)).toHaveLength(1);
    const errors = (await api.get("/admin/errors/recent")).json.items;
    expect(errors.some((e: { account?: string }) => e.account === "toggle@example.com")).toBe(true);
  });
});

describe("settings", () => {
  test("validation and round trip", async () => {
    expectDetail(await api.put("/admin/settings", { model_aliases: { "deepseek-v4-flash": "deepseek-v4-pro" } }), 400);
    expectDetail(await api.put("/admin/settings", { runtime: { account_max_inflight: 4, global_max_inflight: 2 } }), 400);
    expectDetail(await api.put("/admin/settings", { admin: { jwt_expire_hours: 721 } }), 400);
    expectDetail(await api.put("/admin/settings", { auto_delete: { mode: "sometimes" } }), 400);
    expectDetail(await api.put("/admin/settings", { client_identity: { version: "1.0 beta; rm" } }), 400);
    expectDetail(await api.put("/admin/settings", { current_input_file: { enabled: true, min_chars: 0 } }), 400);
    expectDetail(await api.put("/admin/settings", { current_input_file: { prompt_chars: 10 } }), 400);
    const ok = await api.put("/admin/settings", {
      runtime: { account_max_inflight: 3, min_interval_ms: 250, daily_request_cap: 500, cooldown_seconds: 90, token_refresh_interval_hours: 12 },
      model_aliases: { "team-model": "deepseek-v4-pro" },
      client_identity: { version: "2.1.0", locale: "en_US" },
      thinking_injection: { enabled: false, prompt: "Think." },
      admin: { jwt_expire_hours: 48 },
    });
    expect(ok.json.success).toBe(true);
    const s = (await api.get("/admin/settings")).json;
    expect(s.runtime.account_max_inflight).toBe(3);
    expect(s.runtime.min_interval_ms).toBe(250);
    expect(s.runtime.daily_request_cap).toBe(500);
    expect(s.runtime.cooldown_seconds).toBe(90);
    expect(s.runtime.token_refresh_interval_hours).toBe(12);
    expect(s.model_aliases["team-model"]).toBe("deepseek-v4-pro");
    expect(s.client_identity.version).toBe("2.1.0");
    expect(s.client_identity.locale).toBe("en_US");
    expect(s.thinking_injection.enabled).toBe(false);
    expect(s.admin.jwt_expire_hours).toBe(48);
    // hot: the engine sees the new values without a restart
    expect(deepseekEngine(server.running.ctx).poolSettings().maxInflightPerAccount).toBe(3);
    expect(deepseekEngine(server.running.ctx).client().identity.version).toBe("2.1.0");
    expect((await api.get("/admin/queue/status")).json.max_inflight_per_account).toBe(3);
    // No global cap set: the limit that holds is enabled accounts × per-account, not "unlimited".
    const q = (await api.get("/admin/queue/status")).json;
    expect(q.global_max_inflight).toBe(0);
    expect(q.global_limit_source).toBe("accounts_x_per_account");
    expect(q.global_limit).toBe((q.total - q.disabled) * 3);
    expect(q.recommended_concurrency).toBe(q.usable_accounts * 3);
    // the alias resolves on the business side
    const models = await fetch(`${server.url}/v1/models/team-model`);
    expect(models.status).toBe(200);
  });

  test("current_input_file and auto_delete: written, read back, and cleared with null", async () => {
    const put = await api.put("/admin/settings", { current_input_file: { enabled: true, min_chars: 20000, prompt_chars: 30000 }, auto_delete: { mode: "single" } });
    expect(put.status).toBe(200);
    let s = (await api.get("/admin/settings")).json;
    expect(s.current_input_file).toEqual({ enabled: true, min_chars: 20000, prompt_chars: 30000 });
    expect(s.current_input_file_defaults).toEqual({ enabled: true, prompt_chars: 64000 });
    expect(s.auto_delete).toEqual({ mode: "single" });
    // No shared device id by default: each account has its own (tests/device-identity.test.ts).
    expect(s.client_identity.device_id).toBeUndefined();
    expect((await api.put("/admin/settings", { current_input_file: { min_chars: null, prompt_chars: null }, auto_delete: { mode: "none" } })).status).toBe(200);
    s = (await api.get("/admin/settings")).json;
    expect(s.current_input_file).toEqual({ enabled: true });
    expect(s.auto_delete).toEqual({ mode: "none" });
    const audit = (await api.get("/admin/audit?action=settings.update&limit=1")).json.items[0];
    expect(JSON.stringify(audit)).toContain("auto_delete");
  });
});

describe("config import/export", () => {
  test("export hides passwords and keys unless asked; import round-trips", async () => {
    const plain = await api.get("/admin/config/export");
    expect(plain.json.secrets_included).toBe(false);
    expect(plain.json.config.api_keys).toBeUndefined();
    expect(Buffer.from(plain.json.base64, "base64").toString("utf8")).toBe(plain.json.json);
    const full = await api.get("/admin/config/export?include_secrets=1", { secretBearing: true });
    const cfg = full.json.config;
    expect(cfg.accounts.find((a: { email?: string }) => a.email === "fixed@example.com").password).toBe("pw-fixed@example.com-secret");
    expect(JSON.stringify(cfg)).not.toContain("tok-abcdefghijklmnop-xyz");
    // only key hashes are stored: no export carries keys, and it says so
    expect(cfg.keys).toBeUndefined();
    expect(full.json.omitted.api_keys).toBeGreaterThan(0);
    expect(cfg._ds2api_note).toContain("API key");
    // import as base64 in merge mode: nothing new, accounts updated
    const merge = await api.post("/admin/config/import?mode=merge", { base64: full.json.base64 });
    expect(merge.json.success).toBe(true);
    expect(merge.json.imported_accounts).toBe(0);
    expect(merge.json.imported_keys).toBe(0);
    // a masked export cannot be imported as if it held keys
    expectDetail(await api.post("/admin/config/import", { config: { keys: ["sk****ab"] } }), 400);
    expectDetail(await api.post("/admin/config/import?mode=wipe", {}), 400);
    expectDetail(await api.post("/admin/config/import", { config: { accounts: [{ email: "a@b.c", password: "x", proxy_id: "nope" }] } }), 400);
  });
  test("POST /admin/config keeps keys named by a masked preview or key_id", async () => {
    const cfg = (await api.get("/admin/config")).json;
    const keysBefore = (await server.running.ctx.store.apiKeys.list()).map((k) => k.hash).sort();
    // A preview names a key only when no other key shares it (random keys can: then the server rightly asks for key_id).
    const previews: string[] = cfg.keys;
    const unique = (p: string) => previews.filter((x) => x === p).length === 1;
    const entries = cfg.api_keys.map((k: { key_id: string; name: string }, i: number) => (i % 2 || !unique(previews[i]!) ? { key_id: k.key_id, name: k.name } : { key: previews[i], name: k.name }));
    expect(entries.some((e: { key?: string }) => e.key)).toBe(true);
    const r = await api.post("/admin/config", { api_keys: entries });
    // Status and body together, so a failure shows the server's answer.
    expect({ status: r.status, body: r.json }).toMatchObject({ status: 200, body: { success: true } });
    expect((await server.running.ctx.store.apiKeys.list()).map((k) => k.hash).sort()).toEqual(keysBefore);
  });
});

describe("audit and masking", () => {
  test("audit entries name the actor and address and mask secrets; filters work", async () => {
    const adds = (await api.get("/admin/audit?action=keys.add&limit=1000")).json.items as { actor: string; address: string; target: string; at: number }[];
    expect(adds.length).toBeGreaterThan(2);
    expect(new Set(adds.map((a) => a.actor))).toEqual(new Set(["admin-jwt", "admin-key"]));
    for (const a of adds) {
      expect(a.address).toBe("127.0.0.1");
      expect(a.target).toMatch(/^sk\*\*\*\*..$/);
      // A millisecond timestamp taken during this suite.
      expect(a.at).toBeGreaterThanOrEqual(suiteStart);
      expect(a.at).toBeLessThanOrEqual(Date.now());
    }
    const accountEntries = (await api.get("/admin/audit?action=accounts.&limit=1000")).json.items as { action: string }[];
    expect(accountEntries.length).toBeGreaterThan(0);
    expect(accountEntries.every((e) => e.action.startsWith("accounts."))).toBe(true);
    expect((await api.get("/admin/audit?actor=admin-key&limit=1000")).json.items.every((e: { actor: string }) => e.actor === "admin-key")).toBe(true);
    expect((await api.get("/admin/audit?target=toggle&limit=1000")).json.items.length).toBeGreaterThan(0);
    expectDetail(await api.get("/admin/audit?limit=0"), 400);
    const pwChange = await api.put("/admin/accounts/fixed@example.com", { password: "changed-secret-pw" });
    passwords.add("changed-secret-pw");
    expect(pwChange.status).toBe(200);
    const last = (await api.get("/admin/audit?action=accounts.update&limit=1")).json.items[0];
    expect(last.detail.password_changed).toBe(true);
  });
  test("no answer of this suite holds a password, token, admin key or API key (except key creation / secret export)", async () => {
    const tokens = (await server.running.ctx.store.accounts.list()).map((a) => a.token);
    const scanned = api.expectNoSecrets([...passwords, ...createdKeys, server.adminKey, ...tokens, "tok-abcdefghijklmnop-xyz"]);
    expect(scanned).toBeGreaterThan(100);
    expect(createdKeys.size).toBeGreaterThan(3);
  });
});
