/**
 * The admin core (src/admin/): every admin write and its audit row commit together or not at all, change events
 * reach the views that subscribe to them (pool, key index, settings cache) without any manual reload, and adding one
 * account costs a handful of indexed statements.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { adminServices, type AdminServices } from "../src/admin/admin-services.ts";
import { AdminServiceError } from "../src/admin/admin-error.ts";
import type { AdminActor } from "../src/admin/audit-entry.ts";
import { InProcessChangeBus, type ChangeEvent } from "../src/core/changes/change-bus.ts";
import { AdminJwt } from "../src/security/admin-jwt.ts";
import { AdminKey } from "../src/security/admin-key.ts";
import type { StoreApi } from "../src/store/store-api.ts";
import { openStore } from "../src/store/open-store.ts";
import { Database } from "bun:sqlite";
import { AdminClient } from "./support/admin-client.ts";
import { DEEPSEEK_CATALOG } from "./support/deepseek-catalog.ts";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";
import { countStatementsOnFile } from "./support/statement-counter.ts";
import { tempDir } from "./support/test-server.ts";

const WHO: AdminActor = { actor: "admin-key", address: "127.0.0.1" };

describe("each admin write commits with its audit row, or neither does", () => {
  let dir: string;
  let store: StoreApi;
  let services: AdminServices;
  let published: ChangeEvent[][];

  beforeEach(async () => {
    dir = tempDir("ds2api-admin-core-");
    store = await openStore({ sqlitePath: join(dir, "db.sqlite") });
    published = [];
    const bus = new InProcessChangeBus((e) => {
      throw e;
    });
    bus.subscribe(["accounts.changed", "keys.changed", "settings.changed", "proxies.changed", "credentials.changed"], (events) => {
      published.push([...events]);
    });
    const adminJwt = await AdminJwt.open(store, undefined);
    const adminKey = await AdminKey.load(store, "test-admin");
    services = adminServices({
      store,
      changes: bus,
      catalog: () => DEEPSEEK_CATALOG,
      credentials: { setPasswordHash: (h, tx) => adminKey.setPasswordHash(h, tx), revokeAll: (tx) => adminJwt.revokeAll(tx) },
    });
    // Something to change, update and delete.
    await services.accounts.add(WHO, { email: "seed@example.com", password: "pw-seed" });
    await services.keys.add(WHO, { key: "sk-seed-key-000", name: "seed" });
    await services.proxies.add(WHO, { id: "px1", type: "socks5", host: "127.0.0.1", port: 1080 });
    published = [];
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Everything an admin write may touch, as plain data. */
  const snapshot = async () =>
    JSON.stringify({
      accounts: (await store.accounts.list()).map(({ updatedAt: _u, ...a }) => a),
      keys: await store.apiKeys.list(),
      quotas: [...(await store.keyUsage.allQuotas())],
      settings: Object.entries(await store.settings.all()).filter(([k]) => !k.includes("jwt")),
      credentials: await store.credentials.list("fakepool"),
      chat: (await store.chatHistory.list()).length,
      audit: (await store.audit.list({ limit: 1000 })).length,
    });

  /**
   * Every audit append fails while `fn` runs: a trigger in the database file itself (put there through a connection
   * of the test's own), so it holds whichever repository object (root or a transaction's) writes the row.
   */
  const withFailingAudit = async (fn: () => Promise<unknown>) => {
    const schema = (sql: string) => {
      const db = new Database(store.location);
      try {
        db.exec(sql);
      } finally {
        db.close();
      }
    };
    schema("CREATE TRIGGER audit_full BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'injected: the audit log is full'); END");
    try {
      return await fn();
    } finally {
      schema("DROP TRIGGER audit_full");
    }
  };

  /** Each write, with the audit action it must leave. */
  const writes: [string, string, (s: AdminServices) => Promise<unknown>][] = [
    ["accounts.add", "accounts.add", (s) => s.accounts.add(WHO, { email: "new@example.com", mobile: "13800000001", password: "pw" })],
    ["accounts.bulkImport", "accounts.bulk_import", (s) => s.accounts.bulkImport(WHO, "a1@example.com:pw1\nseed@example.com:changed")],
    ["accounts.update", "accounts.update", (s) => s.accounts.update(WHO, "seed@example.com", { name: "n", password: "pw-new", proxy_id: "px1" })],
    ["accounts.remove", "accounts.delete", (s) => s.accounts.remove(WHO, "seed@example.com")],
    ["accounts.setEnabled", "accounts.disable", (s) => s.accounts.setEnabled(WHO, "seed@example.com", false)],
    ["accounts.setProxy", "accounts.proxy", (s) => s.accounts.setProxy(WHO, "seed@example.com", "px1")],
    ["keys.add", "keys.add", (s) => s.keys.add(WHO, { key: "sk-another-key-1" })],
    ["keys.update", "keys.update", (s) => s.keys.update(WHO, "sk-seed-key-000", { name: "renamed", quota: { requests_per_minute: 5 } })],
    ["keys.remove", "keys.delete", (s) => s.keys.remove(WHO, "sk-seed-key-000")],
    ["proxies.add", "proxies.add", (s) => s.proxies.add(WHO, { id: "px2", type: "http", host: "10.0.0.1", port: 8080 })],
    ["proxies.update", "proxies.update", (s) => s.proxies.update(WHO, "px1", { port: 1081 })],
    ["proxies.remove", "proxies.delete", (s) => s.proxies.remove(WHO, "px1")],
    ["settings.update", "settings.update", (s) => s.settings.update(WHO, { runtime: { account_max_inflight: 3 }, model_aliases: { "my-model": "deepseek-v4-flash" }, auto_delete: { mode: "single" } })],
    ["settings.setPassword", "settings.password", (s) => s.settings.setPassword(WHO, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")],
    ["settings.setChatHistoryLimit", "chat_history.settings", (s) => s.settings.setChatHistoryLimit(WHO, 20)],
    ["config.replace", "config.update", (s) => s.config.replace(WHO, { keys: ["sk-replaced-key-9"], accounts: [{ email: "r@example.com", password: "pw" }] })],
    ["config.import", "config.import", (s) => s.config.import(WHO, s.config.parse({ keys: ["sk-imported-key-1"], accounts: [{ email: "i@example.com", password: "pw" }] }).config, "replace")],
    ["config.mergeImport", "import", (s) => s.config.mergeImport(WHO, { keys: ["sk-merged-key-1"], accounts: [{ email: "m@example.com", password: "pw" }] })],
  ];

  for (const [name, action, write] of writes) {
    test(`${name}: a failing audit append rolls the write back and publishes nothing`, async () => {
      const before = await snapshot();
      await expect(withFailingAudit(() => write(services))).rejects.toThrow("injected");
      expect(await snapshot()).toBe(before);
      expect(published).toEqual([]);
    });

    test(`${name}: commits with its "${action}" audit row and publishes its change`, async () => {
      const before = await snapshot();
      await write(services);
      expect(await snapshot()).not.toBe(before);
      expect((await store.audit.list({ limit: 1 }))[0]?.action).toBe(action);
      expect(published.length).toBe(1);
    });
  }

  // A provider pool's admin commits its own write (through the root store: a transaction of ours held open around it
  // would never let it run), so its audit row follows the commit instead of sharing it.
  const addCredential = (s: AdminServices) =>
    s.credentials.write(WHO, { action: "providers.credentials.add", target: "fakepool", apply: () => store.credentials.upsert("fakepool", { secret: "secret-abc-123" }), ids: (r) => [`fakepool/${r.id}`] });

  test(`credentials.write: commits the pool's write with its "providers.credentials.add" audit row and publishes the entry`, async () => {
    const before = await snapshot();
    const { id } = await addCredential(services);
    expect(await snapshot()).not.toBe(before);
    expect((await store.audit.list({ limit: 1 }))[0]).toMatchObject({ action: "providers.credentials.add", target: "fakepool" });
    expect(published).toEqual([[{ topic: "credentials.changed", ids: [`fakepool/${id}`] }]]);
  });

  test("credentials.write: a failing audit append is the caller's error, and the committed pool write is still announced", async () => {
    await expect(withFailingAudit(() => addCredential(services))).rejects.toThrow("injected");
    expect((await store.credentials.list("fakepool")).length).toBe(1);
    expect(published.length).toBe(1);
  });

  test("credentials.write: a refused pool write leaves no audit row and publishes nothing", async () => {
    const audits = (await store.audit.list({ limit: 1000 })).length;
    const refused = services.credentials.write(WHO, {
      action: "providers.credentials.update",
      target: "fakepool/x",
      apply: () => {
        throw new AdminServiceError(404, "gone");
      },
    });
    await expect(refused).rejects.toThrow("gone");
    expect((await store.audit.list({ limit: 1000 })).length).toBe(audits);
    expect(published).toEqual([]);
  });

  test("a duplicate account, key or proxy is refused (409) and leaves no row and no audit entry", async () => {
    const before = await snapshot();
    for (const dup of [
      () => services.accounts.add(WHO, { email: "SEED@example.com", password: "x" }),
      () => services.keys.add(WHO, { key: "sk-seed-key-000" }),
      () => services.proxies.add(WHO, { id: "px1", type: "http", host: "h", port: 1 }),
    ]) {
      let error: unknown;
      try {
        await dup();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AdminServiceError);
      expect((error as AdminServiceError).status).toBe(409);
    }
    expect(await snapshot()).toBe(before);
    expect(published).toEqual([]);
  });

  test("a mobile already held by an email account is a duplicate in any spelling", async () => {
    await services.accounts.add(WHO, { email: "both@example.com", mobile: "+86 138 0000 0002", password: "x" });
    await expect(services.accounts.add(WHO, { mobile: "+86 13800000002", password: "y" })).rejects.toThrow("already exists");
    expect((await services.accounts.find("+86-138-0000-0002"))?.identifier).toBe("both@example.com");
  });

  test("a refused settings write (global limit below the per-account one) writes nothing", async () => {
    const before = await snapshot();
    await expect(services.settings.update(WHO, { runtime: { account_max_inflight: 8, global_max_inflight: 4 } })).rejects.toThrow("global_max_inflight");
    expect(await snapshot()).toBe(before);
    expect(published).toEqual([]);
  });

  test("two admin writes at once both land, each with its audit row (transactions do not interleave)", async () => {
    const audits = (await store.audit.list({ limit: 1000 })).length;
    await Promise.all([
      services.accounts.add(WHO, { email: "c1@example.com", password: "x" }),
      services.keys.add(WHO, { key: "sk-concurrent-01" }),
      services.accounts.add(WHO, { email: "c2@example.com", password: "x" }),
      services.proxies.add(WHO, { id: "px9", type: "http", host: "h", port: 1 }),
    ]);
    expect((await store.audit.list({ limit: 1000 })).length).toBe(audits + 4);
    expect(await store.accounts.count()).toBe(3);
    expect(published.length).toBe(4);
  });

  test("events name what changed: ids for single writes, removed ids for deletes, nothing for whole imports", async () => {
    await services.accounts.add(WHO, { email: "ev@example.com", password: "x" });
    await services.accounts.remove(WHO, "ev@example.com");
    const key = (await services.keys.add(WHO, { key: "sk-event-key-01" })).record;
    await services.keys.remove(WHO, key.id);
    await services.proxies.remove(WHO, "px1");
    await services.config.import(WHO, services.config.parse({ keys: ["sk-x-key-0001"] }).config, "merge");
    expect(published[0]).toEqual([{ topic: "accounts.changed", ids: ["ev@example.com"] }]);
    expect(published[1]).toEqual([{ topic: "accounts.changed", ids: ["ev@example.com"], removed: ["ev@example.com"] }]);
    expect(published[3]).toEqual([{ topic: "keys.changed", ids: [key.hash], removed: [key.hash] }]);
    expect(published[4]).toEqual([{ topic: "proxies.changed", ids: ["px1"], removed: ["px1"] }]);
    expect(published[5]!.map((e) => e.topic).sort()).toEqual(["accounts.changed", "keys.changed", "proxies.changed", "settings.changed"]);
    expect(published[5]!.every((e) => e.ids === undefined)).toBe(true);
  });
});

describe("in-process change bus", () => {
  test("a listener hears its topics once per publish; a throwing one is reported and does not stop the others", () => {
    const errors: unknown[] = [];
    const bus = new InProcessChangeBus((e) => errors.push(e));
    const heard: string[] = [];
    bus.subscribe(["keys.changed"], () => {
      throw new Error("boom");
    });
    const off = bus.subscribe(["keys.changed", "accounts.changed"], (events) => {
      heard.push(events.map((e) => e.topic).join("+"));
    });
    bus.publish({ topic: "keys.changed" }, { topic: "accounts.changed" }, { topic: "settings.changed" });
    bus.publish({ topic: "settings.changed" });
    off();
    bus.publish({ topic: "keys.changed" });
    expect(heard).toEqual(["keys.changed+accounts.changed"]);
    expect(errors.length).toBe(2);
  });
});

describe("views follow admin writes without a manual reload", () => {
  let stack: Stack;
  let admin: AdminClient;
  const chat = (key: string, extra: Record<string, string> = {}, model = "deepseek-v4-flash") =>
    fetch(`${stack.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...extra },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
    });

  beforeAll(async () => {
    const simAccounts = [
      { email: "user0@example.com", password: "pw-0" },
      { email: "late@example.com", password: "pw-late" },
      { email: "bulk-late@example.com", password: "pw-bulk" },
    ];
    stack = await startStack({ accounts: 1, sim: { accounts: simAccounts } });
    admin = new AdminClient(stack.url, "e2e-admin");
  });
  afterAll(() => stack.stop());

  test("the pool serves an account right after it is added", async () => {
    const before = await chat(API_KEY, { "x-ds2-target-account": "late@example.com" });
    expect(before.status).not.toBe(200);
    await before.text();
    expect((await admin.post("/admin/accounts", { email: "late@example.com", password: "pw-late" })).status).toBe(200);
    const after = await chat(API_KEY, { "x-ds2-target-account": "late@example.com" });
    expect(after.status).toBe(200);
    expect((await after.json()).choices[0].message.content.length).toBeGreaterThan(0);
    // Disabled and deleted accounts leave the pool at once too.
    expect((await admin.post("/admin/accounts/late@example.com/disable")).status).toBe(200);
    const disabled = await chat(API_KEY, { "x-ds2-target-account": "late@example.com" });
    expect(disabled.status).not.toBe(200);
    await disabled.text();
    expect((await admin.delete("/admin/accounts/late@example.com")).status).toBe(200);
    const queue = await admin.get("/admin/queue/status");
    expect(queue.status).toBe(200);
    expect(JSON.stringify(queue.json)).not.toContain("late@example.com");
  });

  test("a new key authenticates at once, and stops at once when deleted", async () => {
    const created = await admin.post("/admin/keys", { name: "short-lived" });
    expect(created.status).toBe(200);
    const key = created.json.key as string;
    const ok = await chat(key);
    expect(ok.status).toBe(200);
    await ok.text();
    expect((await admin.delete(`/admin/keys/${created.json.key_id}`)).status).toBe(200);
    const refused = await chat(key);
    expect(refused.status).toBe(401);
    await refused.text();
  });

  test("a quota set on a key applies to its next request", async () => {
    const created = await admin.post("/admin/keys", { name: "limited" });
    const key = created.json.key as string;
    expect((await admin.put(`/admin/keys/${created.json.key_id}`, { quota: { requests_per_minute: 1 } })).status).toBe(200);
    const first = await chat(key);
    expect(first.status).toBe(200);
    await first.text();
    const second = await chat(key);
    expect(second.status).toBe(429);
    await second.text();
  });

  test("a settings change takes effect on the next request (a model alias)", async () => {
    const before = await chat(API_KEY, {}, "house-model");
    expect(before.status).not.toBe(200);
    await before.text();
    expect((await admin.put("/admin/settings", { model_aliases: { "house-model": "deepseek-v4-flash" } })).status).toBe(200);
    const after = await chat(API_KEY, {}, "house-model");
    expect(after.status).toBe(200);
    await after.text();
  });

  test("a runtime limit change shows in the pool status at once", async () => {
    expect((await admin.put("/admin/settings", { runtime: { account_max_inflight: 3 } })).status).toBe(200);
    const queue = await admin.get("/admin/queue/status");
    expect(JSON.stringify(queue.json)).toContain('"max_inflight_per_account":3');
  });

  test("a bulk import (many accounts: the pool rereads the list) is served at once too (last: the fillers cannot log in)", async () => {
    const lines = Array.from({ length: 80 }, (_, i) => `filler-${i}@example.com:pw`);
    lines.push("bulk-late@example.com:pw-bulk");
    const r = await admin.post("/admin/accounts/bulk", { text: lines.join("\n") });
    expect(r.json.imported).toBe(81);
    const served = await chat(API_KEY, { "x-ds2-target-account": "bulk-late@example.com" });
    expect(served.status).toBe(200);
    await served.text();
  });
});

describe("the cost of adding one account", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ accounts: 2 });
  });
  afterAll(() => stack.stop());

  /** Today: a duplicate check by primary key, the insert (next sort order read from its index), the audit row,
   * the new total, and the pool's read of just that account. The whole-table reads it used to do are gone. */
  const TARGET = 5;

  test(`POST /admin/accounts runs at most ${TARGET} statements, none of them a whole-table read, however many accounts exist`, async () => {
    const admin = new AdminClient(stack.url, "e2e-admin");
    // Counted on every connection to the store's file, below whatever the async repositories wrap it in.
    const file = stack.server.ctx.store.location;
    const counts: number[] = [];
    for (const [round, existing] of [200, 1000].entries()) {
      for (let i = 0; i < existing; i += 100) {
        const text = Array.from({ length: 100 }, (_, j) => `r${round}-${i + j}@example.com:pw`).join("\n");
        expect((await admin.post("/admin/accounts/bulk", { text })).status).toBe(200);
      }
      const counter = countStatementsOnFile(file);
      let r;
      try {
        r = await admin.post("/admin/accounts", { email: `new-${round}@example.com`, password: "pw", name: "n" });
      } finally {
        counter.restore();
      }
      expect(r.status).toBe(200);
      // Only what touches the accounts and the audit log: background writers of other tables (the usage-history
      // flush, key usage, session bookkeeping) may run during the request on a loaded machine.
      const ours = counter.statements.filter((sql) => /\b(accounts|audit_log)\b/i.test(sql));
      counts.push(ours.length);
      expect(ours.length).toBeLessThanOrEqual(TARGET);
      expect(ours.length).toBeGreaterThan(0);
      // The plans, on a read-only connection of the test's own (the same file, schema and indexes).
      const db = new Database(file, { readonly: true });
      try {
        for (const sql of ours) {
          const explain = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
          const plan = (explain.all() as { detail: string }[]).map((p) => p.detail).join("; ");
          explain.finalize();
          // A full scan reads (and decrypts) every row; the count walks the small sort index instead.
          expect(/SCAN accounts(?! USING COVERING INDEX)/.test(plan), `${sql} → ${plan}`).toBe(false);
        }
      } finally {
        db.close();
      }
    }
    expect(counts[1]).toBe(counts[0]!); // independent of the table size
  }, 60_000); // 1,200 accounts imported first: room for a loaded machine
});
