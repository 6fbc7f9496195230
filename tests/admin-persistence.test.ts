/** Admin API: data survives a restart on the same sqlite file; password change revokes JWTs; failed logins are throttled. */
import { describe, expect, test } from "bun:test";
import { AdminClient, expectDetail } from "./support/admin-client.ts";
import { startTestServer } from "./support/test-server.ts";

describe("persistence across restart", () => {
  test("keys, quotas, accounts, settings, audit and the JWT secret survive; JWTs stay valid", async () => {
    const first = await startTestServer({ env: { DS2API_DEEPSEEK_BASE_URL: "http://127.0.0.1:9" } });
    const api = new AdminClient(first.url, first.adminKey);
    const jwt = await api.login(first.adminKey);
    const key = (await api.post("/admin/keys", { name: "persisted", remark: "r1" }, { secretBearing: true })).json;
    expect((await api.put(`/admin/keys/${key.key_id}`, { quota: { requests_per_minute: 7, tokens_per_day: 9000 } })).status).toBe(200);
    expect((await api.post("/admin/accounts", { email: "keep@example.com", password: "keep-secret", name: "Keeper" })).status).toBe(200);
    expect((await api.post("/admin/accounts/keep@example.com/disable")).status).toBe(200);
    expect((await api.put("/admin/settings", { runtime: { min_interval_ms: 1234 }, model_aliases: { "kept-alias": "deepseek-v4-pro" } })).status).toBe(200);
    const auditBefore = (await api.get("/admin/audit?limit=1000")).json.items.length;
    await first.stop({ keepDir: true });

    const second = await startTestServer({ dir: first.dir, env: { DS2API_DEEPSEEK_BASE_URL: "http://127.0.0.1:9" } });
    try {
      api.baseUrl = second.url;
      api.auth = jwt; // signed by the first process: the secret is persisted, so it still verifies
      expect((await api.get("/admin/verify")).status).toBe(200);
      const keys = (await api.get("/admin/keys")).json.items;
      expect(keys.length).toBe(1);
      expect(keys[0].key_id).toBe(key.key_id);
      expect(keys[0].name).toBe("persisted");
      expect(keys[0].quota).toEqual({ requests_per_minute: 7, tokens_per_day: 9000 });
      const acc = (await api.get("/admin/accounts")).json.items[0];
      expect(acc.identifier).toBe("keep@example.com");
      expect(acc.name).toBe("Keeper");
      expect(acc.enabled).toBe(false);
      expect(acc.has_password).toBe(true);
      const settings = (await api.get("/admin/settings")).json;
      expect(settings.runtime.min_interval_ms).toBe(1234);
      expect(settings.model_aliases["kept-alias"]).toBe("deepseek-v4-pro");
      expect((await api.get("/admin/audit?limit=1000")).json.items.length).toBe(auditBefore);
      // the key works on the business side of the new process
      const models = await fetch(`${second.url}/v1/models`, { headers: { authorization: `Bearer ${key.key}` } });
      expect(models.status).toBe(200);
      api.expectNoSecrets(["keep-secret", key.key, first.adminKey]);
    } finally {
      await second.stop();
    }
  });
});

describe("password change", () => {
  test("revokes every JWT, the new password logs in, the env key keeps working", async () => {
    const s = await startTestServer();
    try {
      const api = new AdminClient(s.url);
      const oldJwt = await api.login(s.adminKey);
      api.auth = oldJwt;
      expectDetail(await api.post("/admin/settings/password", { new_password: "abc" }), 400);
      expect(expectDetail(await api.post("/admin/settings/password", { new_password: "eleven-char" }), 400)).toContain("12");
      const r = await api.post("/admin/settings/password", { new_password: "brand-new-admin-pass" });
      expect(r.json.force_relogin).toBe(true);
      expect(r.json.jwt_valid_after_unix).toBeGreaterThan(0);
      // the token signed a moment ago (same second) is revoked too
      expect(expectDetail(await api.get("/admin/verify"), 401)).toContain("revoked");
      expectDetail(await api.get("/admin/config"), 401);
      // a console password is an extra credential: DS2API_ADMIN_KEY is never replaced by it
      expect(r.json.message).toContain("DS2API_ADMIN_KEY");
      expect((await api.post("/admin/login", { admin_key: s.adminKey }, { auth: null })).status).toBe(200);
      const fresh = await api.login("brand-new-admin-pass");
      expect((await api.get("/admin/verify", { auth: fresh })).status).toBe(200);
      expect((await api.get("/admin/config", { auth: "brand-new-admin-pass" })).status).toBe(200);
      const settings = (await api.get("/admin/settings", { auth: fresh })).json;
      expect(settings.admin.has_password_hash).toBe(true);
      expect(settings.admin.accepted_credentials).toEqual(["env", "password"]);
      api.expectNoSecrets(["brand-new-admin-pass"]);
      const entry = (await api.get("/admin/audit?action=settings.password", { auth: fresh })).json.items[0];
      expect(entry.actor).toBe("admin-jwt");
      expect(JSON.stringify(entry)).not.toContain("brand-new-admin-pass");
    } finally {
      await s.stop();
    }
  });
});

describe("login throttle", () => {
  test("after 5 failures from one address the right key still gets in; the raw-key guard counts guesses too", async () => {
    const s = await startTestServer();
    try {
      const api = new AdminClient(s.url);
      for (let i = 0; i < 5; i++) expectDetail(await api.post("/admin/login", { admin_key: `guess-${i}` }), 401);
      // the address is throttled now, but a correct key is checked once its turn comes (held, not refused)
      expect((await api.post("/admin/login", { admin_key: s.adminKey })).status).toBe(200);
      // success reset the address: five more free failures on the raw-key guard
      for (let i = 0; i < 5; i++) expectDetail(await api.get("/admin/config", { auth: `wrong-${i}` }), 401);
      expect((await api.get("/admin/config", { auth: s.adminKey })).status).toBe(200);
    } finally {
      await s.stop();
    }
  });
  test("a valid JWT is never throttled; requests without credentials are not guesses", async () => {
    const s = await startTestServer();
    try {
      const api = new AdminClient(s.url);
      const jwt = await api.login(s.adminKey);
      for (let i = 0; i < 5; i++) expectDetail(await api.get("/admin/config", { auth: `wrong-${i}` }), 401);
      expect((await api.get("/admin/config", { auth: jwt })).status).toBe(200);
      expectDetail(await api.get("/admin/config", { auth: null }), 401);
    } finally {
      await s.stop();
    }
  });
});
