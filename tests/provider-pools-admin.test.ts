/**
 * The generic provider-pool admin API (/admin/providers…) on a real server with a fake credential-pool provider
 * over the real store: every route, auth, bad bodies, unknown providers and ids, audit entries, and that no
 * secret ever shows in an answer or a log line.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AdminClient, expectDetail } from "./support/admin-client.ts";
import { FAKE_POOL_ID, FakePoolProvider } from "./support/fake-pool-provider.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

let server: TestServer;
let api: AdminClient;
const fake = new FakePoolProvider();
const secrets = new Set<string>();
const BASE = `/admin/providers/${FAKE_POOL_ID}/credentials`;

/** A fresh secret, remembered for the leak scans. */
function secret(tag: string): string {
  const s = `${tag}-${crypto.randomUUID().replace(/-/g, "")}7`;
  secrets.add(s);
  return s;
}

interface Item {
  id: string;
  preview: string;
  label: string;
  enabled: boolean;
  state: string;
  usage: number;
  max_usage: number;
  inflight: number;
  last_error: string;
  has_own_auth: boolean;
}

async function list(): Promise<Item[]> {
  const r = await api.get(BASE);
  expect(r.status).toBe(200);
  return r.json.items as Item[];
}

/** The id of the entry holding `s` (the store's keyed hash), checked to be listed with the DeepSeek-style mask of `s`. */
async function idOf(s: string): Promise<string> {
  const id = server.running.ctx.store.credentials.idFor(FAKE_POOL_ID, s);
  expect((await list()).find((i) => i.id === id)?.preview).toBe(`${s.slice(0, 2)}****${s.slice(-2)}`);
  return id;
}

async function auditActions(): Promise<{ action: string; target?: string; detail?: unknown }[]> {
  const r = await api.get("/admin/audit?limit=1000");
  expect(r.status).toBe(200);
  return r.json.items;
}

beforeAll(async () => {
  server = await startTestServer({ env: { DS2API_DEEPSEEK_BASE_URL: "http://127.0.0.1:9" }, extraProviders: [fake] });
  fake.bind(server.running.ctx.store);
  api = new AdminClient(server.url);
  api.auth = await api.login(server.adminKey);
});
afterAll(() => server.stop());

describe("provider pools admin API", () => {
  test("GET /admin/providers lists every provider with its pool status", async () => {
    const r = await api.get("/admin/providers");
    expect(r.status).toBe(200);
    const byId = Object.fromEntries((r.json.items as { id: string }[]).map((p) => [p.id, p])) as Record<string, any>;
    // Every registered provider is listed (the built-in upstreams and the fake pool of this test).
    expect(Object.keys(byId)).toEqual(expect.arrayContaining(["deepseek", FAKE_POOL_ID]));
    expect(byId.deepseek).toMatchObject({ display_name: expect.any(String), pool: "accounts", manage: "/admin/accounts", credentials: null, entry_kind: "account" });
    expect(byId.deepseek.models).toContain("deepseek-v4-flash");
    expect(byId.deepseek.accounts).toMatchObject({ total: 0, in_use: 0 });
    expect(byId[FAKE_POOL_ID]).toMatchObject({
      display_name: "Fake pool",
      configured: false,
      models: ["fake-model"],
      pool: "credentials",
      entry_kind: "api_key",
      manage: BASE,
      accounts: null,
      credentials: { total: 0, usable: 0, exhausted: 0, bad: 0, cooling: 0, disabled: 0, in_use: 0 },
    });
    const one = await api.get(`/admin/providers/${FAKE_POOL_ID}`);
    expect(one.status).toBe(200);
    expect(one.json.id).toBe(FAKE_POOL_ID);
  });

  test("unknown providers and providers without a credential pool are 404s that name the pools", async () => {
    const none = expectDetail(await api.get("/admin/providers/nope/credentials"), 404);
    expect(none).toContain("deepseek");
    expect(none).toContain(FAKE_POOL_ID);
    expectDetail(await api.get("/admin/providers/nope"), 404);
    const ds = expectDetail(await api.get("/admin/providers/deepseek/credentials"), 404);
    expect(ds).toContain("/admin/accounts");
    expect(ds).toMatch(new RegExp(`providers with credential pools: .*\\b${FAKE_POOL_ID}\\b`));
    expectDetail(await api.post("/admin/providers/deepseek/credentials", { secret: secret("ds") }), 404);
    expectDetail(await api.post("/admin/providers/deepseek/credentials/reset"), 404);
  });

  test("add one, add several, conflict on a repeated single add, masked previews", async () => {
    const one = secret("fk-one");
    const r = await api.post(BASE, { secret: ` ${one} `, label: "first", max_usage: 5 });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ success: true, added: 1, updated: 0, skipped: [], total: 1, entry_kind: "api_key" });
    const item = r.json.items[0] as Item;
    expect(item).toMatchObject({ preview: `${one.slice(0, 2)}****${one.slice(-2)}`, label: "first", enabled: true, state: "ok", usage: 0, max_usage: 5, inflight: 0, has_own_auth: false });
    expect(item.id).toMatch(/^[0-9a-f]{16}$/);

    const again = expectDetail(await api.post(BASE, { secret: one }), 409);
    expect(again).toContain(item.id);

    const two = secret("fk-two");
    const three = secret("fk-three");
    const auth = secret("own-auth");
    const many = await api.post(BASE, { entries: [{ secret: two, auth, label: "second" }, { secret: three }, { secret: one, label: "first-renamed" }] });
    expect(many.status).toBe(200);
    expect(many.json).toMatchObject({ added: 2, updated: 1, skipped: [], total: 3 });
    const items = await list();
    expect(items.find((i) => i.label === "second")?.has_own_auth).toBe(true);
    expect(items.find((i) => i.id === item.id)?.label).toBe("first-renamed");

    // The provider refuses a single entry: 400 with its reason; in a batch it is reported as skipped.
    expect(expectDetail(await api.post(BASE, { secret: "ab12c" }), 400)).toContain("too short");
    const mixed = await api.post(BASE, { entries: [{ secret: "ab12c" }, { secret: secret("fk-four") }] });
    expect(mixed.status).toBe(200);
    expect(mixed.json).toMatchObject({ success: true, added: 1, updated: 0, skipped: [{ reason: "too short to be an API key" }] });

    const providers = await api.get("/admin/providers");
    expect(providers.json.items.find((p: { id: string }) => p.id === FAKE_POOL_ID)).toMatchObject({ configured: true, credentials: { total: 4, usable: 4 } });
  });

  test("bad bodies are 400s that never echo the secret", async () => {
    const s = secret("fk-badbody");
    const bad: unknown[] = [
      {},
      { entries: [] },
      { secret: "" },
      { secret: "   " },
      { secret: `${s} tail` },
      { secret: 5 },
      { secret: s, max_usage: -1 },
      { secret: s, max_usage: 1.5 },
      { secret: s, entries: [{ secret: s }] },
      { entries: [{ label: "no secret" }] },
      { entries: s },
      { secret: "ab****yz" },
      { secret: `${s}${"x".repeat(5000)}` },
    ];
    for (const body of bad) {
      const r = await api.post(BASE, body);
      const detail = expectDetail(r, 400);
      expect({ body, leaked: detail.includes(s) }).toEqual({ body, leaked: false });
    }
    for (const raw of ["42", '"text"', "null", "[]", "{not json"]) expectDetail(await api.post(BASE, undefined, { rawBody: raw }), 400);
    expectDetail(await api.post(`${BASE}/import`, { text: "" }), 400);
    expectDetail(await api.post(`${BASE}/import`, { text: 5 }), 400);
    expectDetail(await api.post(`${BASE}/import`, {}), 400);
    expectDetail(await api.post(`${BASE}/import`), 400);
    const id = (await list())[0]!.id;
    expectDetail(await api.put(`${BASE}/${id}`, {}), 400);
    expectDetail(await api.put(`${BASE}/${id}`, { max_usage: "seven" }), 400);
    expectDetail(await api.put(`${BASE}/${id}`, { label: 5 }), 400);
    expectDetail(await api.put(`${BASE}/${id}`, { secret: s }), 400);
    expectDetail(await api.put(`${BASE}/${id}`), 400);
    // Nothing was added by any of them.
    expect((await list()).length).toBe(4);
  });

  test("bulk import reports added, updated and skipped without echoing secrets", async () => {
    const a = secret("imp-a");
    const b = secret("imp-b");
    const existing = (await list())[0]!;
    const text = [`# a comment`, `${a},imported-a`, "", `${b},imported-b,9`, `${secret("imp-c")},bad-max,lots`, "short", `${a},imported-a-again`].join("\n");
    const r = await api.post(`${BASE}/import`, { text });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ success: true, added: 2, updated: 1 });
    expect(r.json.skipped.length).toBe(2);
    expect(r.json.skipped.map((s: { reason: string }) => s.reason).join(" ")).toContain("not a number");
    const items = await list();
    expect(items.length).toBe(6);
    expect(items.find((i) => i.label === "imported-b")?.max_usage).toBe(9);
    expect(items.find((i) => i.label === "imported-a-again")).toBeDefined();
    expect(items.find((i) => i.id === existing.id)).toBeDefined();
    // Only comments: nothing to do is still a success.
    const empty = await api.post(`${BASE}/import`, { text: "# nothing\n" });
    expect(empty.json).toMatchObject({ success: true, added: 0, updated: 0, skipped: [] });
  });

  test("update label and max_usage, clear them with null", async () => {
    const s = secret("fk-upd");
    await api.post(BASE, { secret: s });
    const id = await idOf(s);
    let r = await api.put(`${BASE}/${id}`, { label: "  renamed  ", max_usage: 3 });
    expect(r.status).toBe(200);
    expect(r.json.item).toMatchObject({ id, label: "renamed", max_usage: 3 });
    r = await api.put(`${BASE}/${id}`, { label: null, max_usage: null });
    expect(r.json.item).toMatchObject({ id, label: "", max_usage: 0 });
    r = await api.put(`${BASE}/${id}`, { label: "" });
    expect(r.json.item.label).toBe("");
  });

  test("enable / disable (with or without a body)", async () => {
    const s = secret("fk-toggle");
    await api.post(BASE, { secret: s });
    const id = await idOf(s);
    let r = await api.post(`${BASE}/${id}/disable`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ success: true, enabled: false, item: { id, enabled: false, state: "disabled" } });
    expect((await list()).find((i) => i.id === id)?.state).toBe("disabled");
    r = await api.post(`${BASE}/${id}/enable`, {});
    expect(r.json).toMatchObject({ enabled: true, item: { state: "ok" } });
    expectDetail(await api.post(`${BASE}/${id}/enable`, undefined, { rawBody: "[]" }), 400);
  });

  test("test: ok, rejected (entry goes bad), and a provider message quoting the secret is masked", async () => {
    const good = secret("fk-good");
    const bad = secret("bad-key");
    const leaky = secret("leak-key");
    await api.post(BASE, { entries: [{ secret: good }, { secret: bad }, { secret: leaky }] });
    let r = await api.post(`${BASE}/${await idOf(good)}/test`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ success: true, message: "ok", text: "pong", item: { usage: 1, state: "ok" } });
    expect(typeof r.json.response_time).toBe("number");
    r = await api.post(`${BASE}/${await idOf(bad)}/test`, {});
    expect(r.json).toMatchObject({ success: false, message: "rejected by the upstream (401)", item: { state: "bad", last_error: "401 invalid api key" } });
    r = await api.post(`${BASE}/${await idOf(leaky)}/test`);
    expect(r.json.success).toBe(false);
    expect(r.json.message).toBe(`upstream said: key ${leaky.slice(0, 2)}****${leaky.slice(-2)} is not valid`);
    expect((await list()).find((i) => i.id === r.json.id)?.last_error).toBe(r.json.message);
  });

  test("reset usage: one entry, then all; an exhausted entry is usable again", async () => {
    const s = secret("fk-cap");
    await api.post(BASE, { secret: s, max_usage: 1 });
    const id = await idOf(s);
    await api.post(`${BASE}/${id}/test`);
    expect((await list()).find((i) => i.id === id)).toMatchObject({ usage: 1, state: "exhausted" });
    let r = await api.post(`${BASE}/${id}/reset`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ success: true, reset: 1, item: { usage: 0, state: "ok" } });
    await api.post(`${BASE}/${id}/test`);
    const used = (await list()).filter((i) => i.usage > 0).length;
    expect(used).toBeGreaterThan(1);
    r = await api.post(`${BASE}/reset`, {});
    expect(r.status).toBe(200);
    expect(r.json.reset).toBe(r.json.total);
    expect((r.json.items as Item[]).every((i) => i.usage === 0)).toBe(true);
  });

  test("delete, then every route answers 404 for that id", async () => {
    const s = secret("fk-del");
    await api.post(BASE, { secret: s });
    const id = await idOf(s);
    const before = (await list()).length;
    const r = await api.delete(`${BASE}/${id}`);
    expect(r.status).toBe(200);
    expect(r.json.total).toBe(before - 1);
    for (const call of [
      () => api.delete(`${BASE}/${id}`),
      () => api.put(`${BASE}/${id}`, { label: "x" }),
      () => api.post(`${BASE}/${id}/enable`),
      () => api.post(`${BASE}/${id}/disable`),
      () => api.post(`${BASE}/${id}/test`),
      () => api.post(`${BASE}/${id}/reset`),
    ]) {
      const detail = expectDetail(await call(), 404);
      expect(detail).not.toContain(id);
    }
    // A secret pasted where the id goes is not echoed either (it is in the URL, so the access log has the path).
    const pasted = `pasted-${crypto.randomUUID()}`;
    expect(expectDetail(await api.post(`${BASE}/${pasted}/test`), 404)).not.toContain(pasted);
  });

  test("every route needs admin auth (401 before any body check)", async () => {
    const id = (await list())[0]!.id;
    const routes: [string, string, unknown?][] = [
      ["GET", "/admin/providers"],
      ["GET", `/admin/providers/${FAKE_POOL_ID}`],
      ["GET", BASE],
      ["POST", BASE, { secret: secret("unauth") }],
      ["POST", `${BASE}/import`, { text: "x" }],
      ["POST", `${BASE}/reset`, {}],
      ["PUT", `${BASE}/${id}`, { label: "x" }],
      ["DELETE", `${BASE}/${id}`],
      ["POST", `${BASE}/${id}/enable`],
      ["POST", `${BASE}/${id}/disable`],
      ["POST", `${BASE}/${id}/test`],
      ["POST", `${BASE}/${id}/reset`],
      ["POST", BASE, 42],
    ];
    const before = (await list()).map((i) => `${i.id}:${i.label}:${i.enabled}`);
    for (const [method, path, body] of routes) expectDetail(await api.call(method, path, body, { auth: null }), 401);
    // A wrong key (a few only: more would be throttled by the login limiter).
    for (const [method, path, body] of routes.slice(2, 5)) expectDetail(await api.call(method, path, body, { auth: "not-the-admin-key" }), 401);
    // The raw admin key works like a JWT.
    expect((await api.get(BASE, { auth: server.adminKey })).status).toBe(200);
    expect((await list()).map((i) => `${i.id}:${i.label}:${i.enabled}`)).toEqual(before);
  });

  test("every change is audited, and no audit entry holds a secret", async () => {
    const items = await auditActions();
    const actions = new Set(items.map((i) => i.action));
    for (const a of ["add", "import", "update", "enable", "disable", "test", "reset", "reset_all", "delete"]) expect(actions.has(`providers.credentials.${a}`)).toBe(true);
    const add = items.find((i) => i.action === "providers.credentials.add")!;
    expect(add.target).toBe(FAKE_POOL_ID);
    expect(add.detail).toMatchObject({ added: expect.any(Number), ids: expect.any(Array) });
    expect(items.find((i) => i.action === "providers.credentials.delete")!.target).toMatch(new RegExp(`^${FAKE_POOL_ID}/[0-9a-f]{16}$`));
    const text = JSON.stringify(items);
    for (const s of secrets) expect(text.includes(s)).toBe(false);
  });

  test("no secret in any answer or server log line", () => {
    expect(secrets.size).toBeGreaterThan(15);
    expect(api.expectNoSecrets(secrets)).toBeGreaterThan(50);
    const logs = server.logs.join("\n");
    expect(logs.length).toBeGreaterThan(0);
    for (const s of secrets) expect({ secret: s.slice(0, 6), inLogs: logs.includes(s) }).toEqual({ secret: s.slice(0, 6), inLogs: false });
  });
});
