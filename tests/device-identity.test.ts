/**
 * One device per account (issue 13): every account logs in with its own stable device id (never the shared
 * `deepseek_to_api`), kept across restarts, config import/export and migration 7; DeepSeek's device-risk
 * (biz_code 11) and mute (biz_code 5) answers put the account into a visible state instead of retries, the other
 * accounts keep serving, and the operator's fix (a new device id, a passing re-test) ends it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { importConfig, readConfig } from "../src/config/config-sync.ts";
import { buildDs2ApiConfig, parseDs2ApiConfig } from "../src/config/ds2api-config.ts";
import { MAGIC_CAPTURED_DEVICE, PATHS, ReferencePowSolver, startSimulator } from "../src/sim/index.ts";
import { AccountPool } from "../src/pool/account-pool.ts";
import { AccountUnavailableError } from "../src/pool/pool-errors.ts";
import { effectivePoolSettings } from "../src/pool/pool-settings.ts";
import { TokenManager } from "../src/pool/token-manager.ts";
import { openStore } from "../src/store/open-store.ts";
import { AccountView as PoolAccountView } from "../src/pool/account-view.ts";
import { SHARED_DEVICE_ID } from "../src/store/device-id.ts";
import { DeepSeekClient } from "../src/upstream/deepseek/client.ts";
import { classifyEnvelope, DeepSeekError } from "../src/upstream/deepseek/errors.ts";
import { AdminClient } from "./support/admin-client.ts";
import { deepseekEngine } from "./support/deepseek-engine.ts";
import { chat, poolIdle, resetFaults } from "./support/fault-helpers.ts";
import { trackStop } from "./support/processes.ts";
import { startStack, type Stack } from "./support/stack.ts";
import { startTestServer, tempDir } from "./support/test-server.ts";

const ADMIN = { authorization: "Bearer e2e-admin", "content-type": "application/json" };
const IDS = ["user0@example.com", "user1@example.com", "user2@example.com"];
const HEX16 = /^[0-9a-f]{16}$/;

interface AccountView {
  identifier: string;
  device_id: string;
  status: string;
  status_reason: string;
  cooldown_until: number | null;
}

async function accounts(stack: Stack): Promise<Record<string, AccountView>> {
  const r = await fetch(`${stack.url}/admin/accounts?page_size=100`, { headers: ADMIN });
  expect(r.status).toBe(200);
  const items = ((await r.json()) as { items: AccountView[] }).items;
  return Object.fromEntries(items.map((a) => [a.identifier, a]));
}

const adminSend = (stack: Stack, method: string, path: string, body?: unknown) =>
  fetch(stack.url + path, { method, headers: ADMIN, body: body === undefined ? undefined : JSON.stringify(body) });

const pinnedChat = (stack: Stack, id: string) =>
  fetch(`${stack.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer sk-e2e-test-key", "content-type": "application/json", "x-ds2-target-account": id },
    body: JSON.stringify({ model: "deepseek-v4-flash-nothinking", messages: [{ role: "user", content: "pinned" }] }),
  });

/** The device ids the simulator saw at login, per email. */
function loginDevices(stack: Stack): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of stack.sim.state.requestsTo(PATHS.login)) {
    const b = r.body as { email?: string; device_id?: string };
    (out[b.email ?? "?"] ??= []).push(String(b.device_id));
  }
  return out;
}

describe("each account logs in as its own device", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ accounts: 3, env: { DS2API_MAX_ACCOUNT_ATTEMPTS: "3", DS2API_QUEUE_WAIT_SECONDS: "1" } });
  });
  afterAll(() => stack.stop());
  beforeEach(() => resetFaults(stack));

  test("every account sends its own stored device id, never the shared constant", async () => {
    for (const id of IDS) expect((await pinnedChat(stack, id)).status).toBe(200);
    const seen = loginDevices(stack);
    const view = await accounts(stack);
    const ids = IDS.map((id) => view[id]!.device_id);
    expect(ids.every((d) => HEX16.test(d))).toBe(true);
    expect(new Set(ids).size).toBe(3);
    for (const id of IDS) expect(seen[id]).toEqual([view[id]!.device_id]);
    expect(Object.values(seen).flat()).not.toContain(SHARED_DEVICE_ID);
  });

  test("biz_code 11 at login: risk_device with the fix named, one login, the other accounts keep serving; a new device id clears it", async () => {
    const engine = deepseekEngine(stack.server.ctx);
    stack.sim.state.flagDevice("user0@example.com", { allow: "captured-0123456789" });
    engine.tokens.forget("user0@example.com"); // (flagDevice revoked its token upstream too)
    const before = stack.sim.state.loginAttempts("user0@example.com");
    for (let i = 0; i < 6; i++) expect((await chat(stack, `turn ${i}`)).status).toBe(200);
    await poolIdle(stack);
    // One refused login, then the account is skipped: no login storm, no waiting for it.
    expect(stack.sim.state.loginAttempts("user0@example.com") - before).toBe(1);
    const acc = (await accounts(stack))["user0@example.com"]!;
    expect(acc.status).toBe("risk_device");
    expect(acc.status_reason).toContain("RISK_DEVICE_DETECTED");
    expect(acc.status_reason).toContain("device id captured from a real login");
    expect(acc.status_reason).toContain("re-test");
    const ready = ((await (await fetch(`${stack.url}/readyz`)).json()) as { capacity: { failing: number; usable_now: number } }).capacity;
    expect(ready.failing).toBe(1);
    expect(ready.usable_now).toBe(2);
    // A pinned request is not served and does not log in again.
    expect((await pinnedChat(stack, "user0@example.com")).status).toBe(503);
    expect(stack.sim.state.loginAttempts("user0@example.com") - before).toBe(1);

    // The fix: the device id captured from a real login.
    expect((await adminSend(stack, "PUT", "/admin/accounts/user0@example.com", { device_id: "captured-0123456789" })).status).toBe(200);
    const fixed = (await accounts(stack))["user0@example.com"]!;
    expect(fixed.status).toBe("ok");
    expect(fixed.device_id).toBe("captured-0123456789");
    expect((await pinnedChat(stack, "user0@example.com")).status).toBe(200);
    expect(loginDevices(stack)["user0@example.com"]!.at(-1)).toBe("captured-0123456789");
    // The audit log does not carry the device id in clear.
    const audit = await (await fetch(`${stack.url}/admin/audit?limit=20`, { headers: ADMIN })).text();
    expect(audit).not.toContain("captured-0123456789");
  });

  test("biz_code 11 on a token that worked: the re-login is refused once, the request moves on; a passing re-test clears it", async () => {
    expect((await pinnedChat(stack, "user2@example.com")).status).toBe(200);
    stack.sim.state.flagDevice("user2@example.com", {}); // revokes its token: the next call needs a login
    const before = stack.sim.state.loginAttempts("user2@example.com");
    for (let i = 0; i < 4; i++) expect((await chat(stack, `after flag ${i}`)).status).toBe(200);
    await poolIdle(stack);
    expect(stack.sim.state.loginAttempts("user2@example.com") - before).toBe(1);
    expect((await accounts(stack))["user2@example.com"]!.status).toBe("risk_device");
    // While DeepSeek still refuses the device, a re-test says so and the state stays.
    const failed = (await (await adminSend(stack, "POST", "/admin/accounts/test", { identifier: "user2@example.com" })).json()) as { success: boolean; message: string };
    expect(failed.success).toBe(false);
    expect(failed.message).toContain("RISK_DEVICE_DETECTED");
    expect((await accounts(stack))["user2@example.com"]!.status).toBe("risk_device");
    // DeepSeek lifts it: a passing re-test ends the state.
    stack.sim.state.flagDevice("user2@example.com", undefined);
    const ok = (await (await adminSend(stack, "POST", "/admin/accounts/test", { identifier: "user2@example.com" })).json()) as { success: boolean; message: string };
    expect(ok.message).toBe("login and session OK");
    expect(ok.success).toBe(true);
    expect((await accounts(stack))["user2@example.com"]!.status).toBe("ok");
  });

  test("biz_code 5 (muted): the account rests with a 'wait' message and a recheck time, one attempt, others serve; re-test clears it", async () => {
    for (const id of IDS) expect((await pinnedChat(stack, id)).status).toBe(200);
    stack.sim.state.mute("user1@example.com");
    const sessionCalls = () => stack.sim.state.requestsTo(PATHS.createSession).filter((r) => r.accountId === stack.sim.state.findAccount("user1@example.com")!.id).length;
    const before = sessionCalls();
    const logins = stack.sim.state.loginAttempts("user1@example.com");
    for (let i = 0; i < 6; i++) expect((await chat(stack, `muted ${i}`)).status).toBe(200);
    await poolIdle(stack);
    expect(sessionCalls() - before).toBe(1);
    expect(stack.sim.state.loginAttempts("user1@example.com")).toBe(logins);
    const acc = (await accounts(stack))["user1@example.com"]!;
    expect(acc.status).toBe("muted");
    expect(acc.status_reason).toContain("muted");
    expect(acc.status_reason).toContain("wait");
    expect(acc.status_reason).toContain("muted_recheck_minutes = 60");
    // Default recheck: an hour from now.
    expect(acc.cooldown_until! - Date.now()).toBeGreaterThan(55 * 60_000);
    expect(acc.cooldown_until! - Date.now()).toBeLessThanOrEqual(60 * 60_000);
    const ready = ((await (await fetch(`${stack.url}/readyz`)).json()) as { capacity: { cooling_down: number } }).capacity;
    expect(ready.cooling_down).toBe(1);
    // Still muted: the re-test fails and names the mute; the state stays.
    const failed = (await (await adminSend(stack, "POST", "/admin/accounts/test", { identifier: "user1@example.com" })).json()) as { success: boolean; message: string };
    expect(failed.success).toBe(false);
    expect(failed.message).toContain("muted");
    expect((await accounts(stack))["user1@example.com"]!.status).toBe("muted");
    stack.sim.state.mute("user1@example.com", false);
    const ok = (await (await adminSend(stack, "POST", "/admin/accounts/test", { identifier: "user1@example.com" })).json()) as { success: boolean; message: string };
    expect(ok.message).toBe("login and session OK");
    expect(ok.success).toBe(true);
    expect((await accounts(stack))["user1@example.com"]!.status).toBe("ok");
  });

  test("every account refused: one attempt each, then 503 naming the device problem", async () => {
    for (const id of IDS) {
      stack.sim.state.flagDevice(id, {});
      deepseekEngine(stack.server.ctx).tokens.forget(id);
    }
    const before = IDS.map((id) => stack.sim.state.loginAttempts(id));
    const r = await chat(stack, "nobody");
    expect(r.status).toBe(503);
    expect(r.json.error.message).toContain("RISK_DEVICE_DETECTED");
    const again = await chat(stack, "still nobody");
    expect(again.status).toBe(503);
    expect(IDS.map((id, i) => stack.sim.state.loginAttempts(id) - before[i]!)).toEqual([1, 1, 1]);
    for (const id of IDS) expect((await adminSend(stack, "PUT", `/admin/accounts/${id}`, { device_id: null })).status).toBe(200);
    stack.sim.state.clearFaults();
    expect((await chat(stack, "back")).status).toBe(200);
  });

  test("the admin API sets, regenerates and validates device ids", async () => {
    const add = await adminSend(stack, "POST", "/admin/accounts", { email: "new@example.com", password: "pw-new", device_id: "  dev-from-phone-42 " });
    expect(add.status).toBe(200);
    expect((await accounts(stack))["new@example.com"]!.device_id).toBe("dev-from-phone-42");
    const generated = await adminSend(stack, "POST", "/admin/accounts", { email: "gen@example.com", password: "pw-gen" });
    expect(generated.status).toBe(200);
    const genId = (await accounts(stack))["gen@example.com"]!.device_id;
    expect(genId).toMatch(HEX16);
    expect((await adminSend(stack, "PUT", "/admin/accounts/gen@example.com", { device_id: "" })).status).toBe(200);
    const regenerated = (await accounts(stack))["gen@example.com"]!.device_id;
    expect(regenerated).toMatch(HEX16);
    expect(regenerated).not.toBe(genId);
    for (const bad of [SHARED_DEVICE_ID, "has space", "x".repeat(300)]) {
      const r = await adminSend(stack, "PUT", "/admin/accounts/gen@example.com", { device_id: bad });
      expect(r.status).toBe(400);
      expect(typeof ((await r.json()) as { detail: unknown }).detail).toBe("string");
    }
    expect((await adminSend(stack, "POST", "/admin/accounts", { email: "bad@example.com", password: "pw", device_id: SHARED_DEVICE_ID })).status).toBe(400);
    expect((await accounts(stack))["gen@example.com"]!.device_id).toBe(regenerated);
    for (const id of ["new@example.com", "gen@example.com"]) expect((await adminSend(stack, "DELETE", `/admin/accounts/${id}`)).status).toBe(200);
  });
});

describe("queued session deletions and a refused device", () => {
  test("the delayed deletion does not log a risk_device account in; after the fix it deletes what was queued", async () => {
    const stack = await startStack({ accounts: 1, config: { auto_delete: { mode: "single", delay_seconds: 3600, batch_size: 100 } } });
    try {
      const id = "user0@example.com";
      expect((await chat(stack, "leave a session behind")).status).toBe(200);
      const engine = deepseekEngine(stack.server.ctx);
      stack.sim.state.flagDevice(id, { allow: "captured-0123456789" });
      engine.tokens.forget(id);
      // The next request meets the refused device: the account goes to risk_device.
      expect((await chat(stack, "refused")).status).toBe(503);
      expect((await accounts(stack))[id]!.status).toBe("risk_device");
      const logins = stack.sim.state.loginAttempts(id);
      await engine.sessions.flush(id);
      expect(stack.sim.state.loginAttempts(id)).toBe(logins);
      expect(stack.sim.state.counters.sessionsDeleted).toBe(0);
      // The operator's fix; the queue kept its session and the next flush deletes it.
      expect((await adminSend(stack, "PUT", `/admin/accounts/${id}`, { device_id: "captured-0123456789" })).status).toBe(200);
      await engine.sessions.flush(id);
      expect(stack.sim.state.counters.sessionsDeleted).toBe(1);
    } finally {
      await stack.stop();
    }
  });
});

describe("device ids are stored with the account", () => {
  test("stable across a restart; config.json device_id kept; export includes it (without include_secrets)", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, "config.json"),
      JSON.stringify({
        keys: ["sk-device-test"],
        accounts: [
          { email: "given@example.com", password: "pw-1", device_id: "phone-captured-id" },
          { email: "go@example.com", password: "pw-2" },
          { mobile: "13800138000", password: "pw-3", device_id: SHARED_DEVICE_ID },
        ],
      }),
    );
    const env = { DS2API_DEEPSEEK_BASE_URL: "http://127.0.0.1:9" };
    const first = await startTestServer({ dir, env });
    const api = new AdminClient(first.url, first.adminKey);
    let before: Record<string, string>;
    try {
      before = Object.fromEntries(((await api.get("/admin/accounts")).json.items as AccountView[]).map((a) => [a.identifier, a.device_id]));
      expect(before["given@example.com"]).toBe("phone-captured-id");
      expect(before["go@example.com"]).toMatch(HEX16);
      // The shared constant in a config is never taken: that account gets its own id (with a warning).
      expect(before["+8613800138000"]).toMatch(HEX16);
      expect(first.logs.join("\n")).toContain("never sent");
      const exported = (await api.get("/admin/config/export")).json.config as { accounts: { email?: string; mobile?: string; device_id?: string; password?: string }[] };
      expect(exported.accounts.map((a) => a.device_id).sort()).toEqual(Object.values(before).sort());
      expect(exported.accounts.every((a) => a.password === undefined)).toBe(true);
    } finally {
      await first.stop({ keepDir: true });
    }
    const second = await startTestServer({ dir, env });
    try {
      const api2 = new AdminClient(second.url, second.adminKey);
      const after = Object.fromEntries(((await api2.get("/admin/accounts")).json.items as AccountView[]).map((a) => [a.identifier, a.device_id]));
      expect(after).toEqual(before);
    } finally {
      await second.stop();
    }
  });

  test("import → export → import keeps every id; a Go ds2api config without device_id gets one per account", async () => {
    const dir = tempDir();
    const a = await openStore({ sqlitePath: join(dir, "a.sqlite") });
    const b = await openStore({ sqlitePath: join(dir, "b.sqlite") });
    const deviceIds = async (s: typeof a) => (await s.accounts.list()).map((x) => x.deviceId);
    try {
      const goConfig = { keys: ["k1"], accounts: [{ email: "x@example.com", password: "p" }, { email: "y@example.com", password: "q" }, { mobile: "+86 139 0013 9000", password: "r" }] };
      await importConfig(a, parseDs2ApiConfig(goConfig).config, { mode: "merge", acceptTokens: false });
      const ids = (await a.accounts.list()).map((x) => x.deviceId!);
      expect(ids.every((d) => HEX16.test(d))).toBe(true);
      expect(new Set(ids).size).toBe(3);
      // Re-importing the same Go file (no device_id) keeps the generated ids.
      await importConfig(a, parseDs2ApiConfig(goConfig).config, { mode: "merge", acceptTokens: false });
      expect(await deviceIds(a)).toEqual(ids);
      const exported = buildDs2ApiConfig(await readConfig(a), { includeSecrets: false });
      expect((exported.accounts as { device_id?: string }[]).map((x) => x.device_id)).toEqual(ids);
      await importConfig(b, parseDs2ApiConfig(JSON.stringify(exported)).config, { mode: "merge", acceptTokens: false });
      expect(await deviceIds(b)).toEqual(ids);
      expect(buildDs2ApiConfig(await readConfig(b), { includeSecrets: false })).toEqual(exported);
      // A replacing import of the same Go file keeps each account's device too.
      await importConfig(a, parseDs2ApiConfig(goConfig).config, { mode: "replace", acceptTokens: false });
      expect(await deviceIds(a)).toEqual(ids);
      // A bad device id in a config is a validation problem, named.
      expect(() => parseDs2ApiConfig({ accounts: [{ email: "z@example.com", password: "p", device_id: "two words" }] })).toThrow("accounts[0].device_id");
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("migration 7 gives every existing account its own random device id", async () => {
    const path = join(tempDir(), "old.sqlite");
    const s = await openStore({ sqlitePath: path });
    for (const e of ["a@example.com", "b@example.com", "c@example.com"]) await s.accounts.upsert({ identifier: e, email: e, password: "pw" });
    await s.close();
    // Back to the schema before migration 7 (as a database written by an older build): later migrations undone too.
    const { Database } = require("bun:sqlite") as typeof import("bun:sqlite");
    const db = new Database(path);
    db.exec("ALTER TABLE chat_history DROP COLUMN seq; DROP TABLE IF EXISTS usage_buckets; ALTER TABLE accounts DROP COLUMN device_id; PRAGMA user_version = 6;");
    db.close();
    const reopened = await openStore({ sqlitePath: path });
    try {
      const ids = (await reopened.accounts.list()).map((a) => a.deviceId!);
      expect(ids.length).toBe(3);
      expect(ids.every((d) => HEX16.test(d))).toBe(true);
      expect(new Set(ids).size).toBe(3);
    } finally {
      await reopened.close();
    }
  });
});

describe("classification and the simulator", () => {
  test("biz_code 11 and 5 are account states, even when the message sounds like a login problem", () => {
    const env = (bizCode: number, bizMsg: string) => ({ code: 0, msg: "", data: { biz_code: bizCode, biz_msg: bizMsg, biz_data: null } });
    const ctx = { path: "/api/v0/users/login", httpStatus: 200, version: "2.0.4" };
    const risk = classifyEnvelope(env(11, "login risk: RISK_DEVICE_DETECTED"), ctx)!;
    expect(risk.kind).toBe("risk_device");
    expect(risk.message).toContain("device id captured from a real login");
    expect(classifyEnvelope(env(5, "USER_MUTED"), ctx)!.kind).toBe("muted");
    expect(classifyEnvelope(env(40101, "login expired, token invalid"), ctx)!.kind).toBe("auth");
  });

  test("--simulate's magic accounts: risk-device…@ is refused unless from the captured device, muted…@ cannot chat", async () => {
    const sim = await startSimulator({ powDifficulty: 500, accounts: [], magicAccounts: true });
    const stop = trackStop(`simulator ${sim.url}`, () => sim.stop());
    try {
      const client = new DeepSeekClient({ baseUrl: sim.url, pow: new ReferencePowSolver() });
      const refused = await client.login({ email: "risk-device@demo.local", password: "any", deviceId: "0011223344556677" }).catch((e) => e);
      expect(refused).toBeInstanceOf(DeepSeekError);
      expect((refused as DeepSeekError).kind).toBe("risk_device");
      expect((await client.login({ email: "risk-device@demo.local", password: "any", deviceId: MAGIC_CAPTURED_DEVICE })).token).toBeString();
      const { token } = await client.login({ email: "muted@demo.local", password: "any", deviceId: "8899aabbccddeeff" });
      const muted = await client.createSession(token).catch((e) => e);
      expect((muted as DeepSeekError).kind).toBe("muted");
      // The client never sends the shared constant, even when asked to (a fresh id goes instead) ...
      await client.login({ email: "muted@demo.local", password: "any", deviceId: SHARED_DEVICE_ID });
      const seen = sim.state.loginDevices.get(sim.state.findAccount("muted@demo.local")!.id)!;
      expect(seen[0]).toBe("8899aabbccddeeff");
      expect(seen[1]).toMatch(HEX16);
      // ... and the simulator refuses it like DeepSeek refuses a flagged device.
      const raw = await fetch(sim.url + PATHS.login, { method: "POST", body: JSON.stringify({ email: "muted@demo.local", password: "any", device_id: SHARED_DEVICE_ID, os: "android" }) });
      expect(((await raw.json()) as { data: { biz_code: number } }).data.biz_code).toBe(11);
    } finally {
      await stop();
    }
  });
});

describe("the pool and the two states (fake clock)", () => {
  async function setup(runtime: { muted_recheck_minutes?: number } = {}) {
    const store = await openStore({ sqlitePath: join(tempDir(), "pool.sqlite") });
    for (const id of ["a@x.io", "b@x.io"]) await store.accounts.upsert({ identifier: id, email: id, password: "pw" });
    let now = Date.parse("2026-12-05T12:00:00Z");
    const view = new PoolAccountView(store);
    const tokens = new TokenManager(view, async (a) => `tok-${a.identifier}`, () => 3600_000, () => now);
    const settings = effectivePoolSettings({ env: {}, runtime, accountCount: 2 });
    const pool = new AccountPool(view, tokens, () => settings, () => now);
    await pool.reload();
    const take = async (opts: { pinned?: string } = {}) => {
      const l = await pool.acquire({ ...opts, maxWaitMs: 0 });
      l.release();
      return l.identifier;
    };
    return { store, view, pool, take, advance: (ms: number) => (now += ms) };
  }

  test("muted: skipped until the recheck interval has passed, then tried again; a success ends it", async () => {
    const { store, view, pool, take, advance } = await setup({ muted_recheck_minutes: 30 });
    pool.markFailing("a@x.io", "muted", "DeepSeek muted this account");
    for (let i = 0; i < 4; i++) expect(await take()).toBe("b@x.io");
    await view.settled();
    expect((await store.accounts.get("a@x.io"))!.statusReason).toContain("2026-12-05 12:30 UTC");
    expect(pool.status().coolingDown).toBe(1);
    advance(29 * 60_000);
    expect(await take({ pinned: "a@x.io" }).catch((e) => e)).toBeInstanceOf(AccountUnavailableError);
    advance(2 * 60_000);
    expect(await take({ pinned: "a@x.io" })).toBe("a@x.io");
    pool.markHealthy("a@x.io");
    await view.settled();
    expect((await store.accounts.get("a@x.io"))!.status).toBe("ok");
  });

  test("risk_device: never handed out however long it waits, not waited for; a new device id (after reload) or a success ends it", async () => {
    const { store, view, pool, take, advance } = await setup();
    pool.markFailing("a@x.io", "risk_device", "DeepSeek flagged this account's device");
    advance(30 * 86_400_000);
    for (let i = 0; i < 4; i++) expect(await take()).toBe("b@x.io");
    expect(pool.status().failing).toBe(1);
    expect(pool.status().accounts.find((a) => a.identifier === "a@x.io")!.status).toBe("risk_device");
    expect(await take({ pinned: "a@x.io" }).catch((e) => e)).toBeInstanceOf(AccountUnavailableError);
    // Survives a reload (restart) as it is stored.
    await view.settled();
    await pool.reload();
    expect(await take({ pinned: "a@x.io" }).catch((e) => e)).toBeInstanceOf(AccountUnavailableError);
    const before = (await store.accounts.get("a@x.io"))!.deviceId;
    await store.accounts.setDeviceId("a@x.io", null);
    expect((await store.accounts.get("a@x.io"))!.deviceId).not.toBe(before);
    await pool.reload();
    expect(await take({ pinned: "a@x.io" })).toBe("a@x.io");
    pool.markFailing("b@x.io", "risk_device", "flagged");
    pool.markHealthy("b@x.io");
    expect(await take({ pinned: "b@x.io" })).toBe("b@x.io");
  });
});
