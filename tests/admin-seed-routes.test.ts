/** Go ds2api seed routes against the simulator stack: bulk `POST /admin/import`, `sessions/delete-all`, and `/admin/version` without a call out. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AdminClient, expectDetail } from "./support/admin-client.ts";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";

setDefaultTimeout(30_000);

let stack: Stack;
let api: AdminClient;
beforeAll(async () => {
  // user2 exists upstream (in the simulator) but not in the server's config: the import adds it.
  const accounts = [0, 1, 2].map((i) => ({ email: `user${i}@example.com`, password: `pw-${i}` }));
  stack = await startStack({ accounts: 2, sim: { accounts } });
  api = new AdminClient(stack.url);
  api.auth = await api.login("e2e-admin");
});
afterAll(() => stack.stop());

const chat = (key: string, headers: Record<string, string> = {}) =>
  fetch(`${stack.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "hi" }] }),
  });

describe("POST /admin/import", () => {
  test("adds keys (stored hashed) and accounts, skips duplicates, answers in the Go shape, writes an audit entry", async () => {
    const newKey = "sk-imported-key-0123456789";
    const r = await api.post("/admin/import", {
      api_keys: [{ key: newKey, name: "imported" }, { key: API_KEY }],
      accounts: [{ email: "user2@example.com", password: "pw-2", name: "third" }, { email: "USER0@example.com", password: "other" }],
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ success: true, imported_keys: 1, imported_accounts: 1, skipped_keys: 1, skipped_accounts: 1 });
    // the existing account kept its password; the new one is there
    const store = stack.server.ctx.store;
    expect((await store.accounts.get("user0@example.com"))!.password).toBe("pw-0");
    expect((await store.accounts.get("user2@example.com"))!.name).toBe("third");
    // keys are stored as hashes only: the raw key is nowhere in the database file
    expect((await store.apiKeys.find(newKey))?.name).toBe("imported");
    expect(readFileSync(join(stack.dir, "db.sqlite")).includes(newKey)).toBe(false);
    // the imported key and account serve business traffic at once
    expect((await chat(newKey, { "x-ds2-target-account": "user2@example.com" })).status).toBe(200);
    const audit = await api.get("/admin/audit?limit=5");
    const entry = (audit.json.items as { action: string; detail?: Record<string, unknown> }[]).find((e) => e.action === "import");
    expect(entry?.detail).toMatchObject({ imported_keys: 1, imported_accounts: 1 });
    expect(audit.text).not.toContain(newKey);
    expect(audit.text).not.toContain("pw-2");
    // a second identical import adds nothing
    const again = await api.post("/admin/import", { keys: [newKey], accounts: [{ email: "user2@example.com", password: "pw-2" }] });
    expect(again.json).toMatchObject({ success: true, imported_keys: 0, imported_accounts: 0 });
  });

  test("bad entries → 400 {detail}; an empty body or unknown fields are refused, masked keys too; an account without identifier is skipped with a warning", async () => {
    expectDetail(await api.post("/admin/import", { accounts: [{ email: "not-an-email", password: "x" }] }), 400);
    expectDetail(await api.post("/admin/import", { accounts: "user@example.com" }), 400);
    const skipped = await api.post("/admin/import", { accounts: [{ password: "no identifier" }] });
    expect(skipped.json).toMatchObject({ success: true, imported_accounts: 0 });
    expect(skipped.json.warnings[0]).toContain("neither email nor mobile");
    expectDetail(await api.post("/admin/import", {}), 400);
    expectDetail(await api.post("/admin/import", { keys: ["sk-x"], proxies: [] }), 400);
    expectDetail(await api.post("/admin/import", { keys: ["sk-a****bcde"] }), 400);
  });
});

describe("POST /admin/accounts/sessions/delete-all", () => {
  test("logs in and deletes every upstream session of that account only", async () => {
    expect((await chat(API_KEY, { "x-ds2-target-account": "user0@example.com" })).status).toBe(200);
    expect((await chat(API_KEY, { "x-ds2-target-account": "user1@example.com" })).status).toBe(200);
    const sim = stack.sim.state;
    // the server may delete a finished session itself (auto_delete); make sure each account holds one now
    const r0 = await api.post("/admin/accounts/test", { identifier: "user0@example.com" });
    expect(r0.json.success).toBe(true);
    await api.post("/admin/accounts/test", { identifier: "user1@example.com" });
    expect(sim.sessionCount("user0@example.com")).toBeGreaterThan(0);
    const user1Before = sim.sessionCount("user1@example.com");
    expect(user1Before).toBeGreaterThan(0);
    const loginsBefore = sim.counters.logins;

    const r = await api.post("/admin/accounts/sessions/delete-all", { identifier: "user0@example.com" });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ success: true, message: "all sessions deleted" });
    expect(sim.sessionCount("user0@example.com")).toBe(0);
    expect(sim.sessionCount("user1@example.com")).toBe(user1Before);
    expect(sim.counters.logins).toBe(loginsBefore + 1);
    const audit = await api.get("/admin/audit?limit=3");
    expect(audit.json.items.some((e: { action: string; target?: string }) => e.action === "accounts.sessions.delete_all" && e.target === "user0@example.com")).toBe(true);
  });

  test("unknown account → 404, missing identifier → 400, a failing login → success:false without secrets", async () => {
    expectDetail(await api.post("/admin/accounts/sessions/delete-all", { identifier: "ghost@example.com" }), 404);
    expectDetail(await api.post("/admin/accounts/sessions/delete-all", {}), 400);
    await api.post("/admin/accounts", { email: "wrongpw@example.com", password: "definitely-wrong-pw" });
    const r = await api.post("/admin/accounts/sessions/delete-all", { identifier: "wrongpw@example.com" });
    expect(r.status).toBe(200);
    expect(r.json.success).toBe(false);
    expect(r.json.message).toContain("login failed");
    expect(r.text).not.toContain("definitely-wrong-pw");
  });
});

test("GET /admin/version answers the current version and says no latest-release check is made", async () => {
  const r = await api.get("/admin/version");
  expect(r.json).toMatchObject({ success: true, latest_version: null });
  expect(typeof r.json.current_version).toBe("string");
  expect(r.json.check_error).toContain("no outbound calls");
});
