/** The Volcengine web-id pool through the real server: selection, caps, failover, reset, persistence, secrecy. */
import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { LiveSettings } from "../src/config/live-settings.ts";
import { openStore } from "../src/store/open-store.ts";
import type { StoreApi } from "../src/store/store-api.ts";
import { CredentialPool } from "../src/upstream/volcengine/credentials/pool.ts";
import { AdminClient } from "./support/admin-client.ts";
import { tempDir } from "./support/test-server.ts";
import { errorOf, startVolcStack, viewOf, VOLC_AUTH, volcAdmin, volcChat, WEB_IDS, type VolcStack } from "./support/volc-stack.ts";
import { waitUntil } from "./support/wait.ts";

// Each test may start its own server + simulator: allow for a loaded machine (no test asserts on time).
setDefaultTimeout(30_000);

const [A, B, C] = WEB_IDS as [string, string, string];

async function withStack(opts: Parameters<typeof startVolcStack>[0], fn: (s: VolcStack) => Promise<void>): Promise<void> {
  const s = await startVolcStack(opts);
  try {
    await fn(s);
  } finally {
    await s.stop();
  }
}

const usedIds = (s: VolcStack) => s.sim.state.chats().filter((r) => r.outcome === "stream").map((r) => r.webId);

describe("selection", () => {
  test("least-used first, ties broken by the longest unused", async () => {
    await withStack({ volcengine: { authorization: VOLC_AUTH } }, async (s) => {
      const r = await volcAdmin(s).importText(JSON.stringify({ [A]: 5, [B]: 0, [C]: 2 }));
      expect(r).toEqual({ added: 3, updated: 0, skipped: [] });
      for (let i = 0; i < 4; i++) expect((await volcChat(s)).status).toBe(200);
      // B (0) → B (1) → tie B (2) / C (2): C was never used → then B (2) is below C (3)
      expect(usedIds(s)).toEqual([B, B, C, B]);
      expect((await viewOf(s, A)).usage).toBe(5);
      expect((await viewOf(s, B)).usage).toBe(3);
      expect((await viewOf(s, C)).usage).toBe(3);
    });
  });
});

describe("caps and exhaustion", () => {
  test("max usage: each entry up to its cap, then an honest 503 with Retry-After; reset one, then all", async () => {
    await withStack({ volcengine: { authorization: VOLC_AUTH, max_usage: 1, web_ids: [A, B] } }, async (s) => {
      expect((await volcChat(s)).status).toBe(200);
      expect((await volcChat(s)).status).toBe(200);
      expect(usedIds(s).sort()).toEqual([A, B].sort());
      const r = await volcChat(s);
      expect(r.status).toBe(503);
      expect(errorOf(r).code).toBe("credentials_exhausted");
      expect(errorOf(r).message).toContain("max usage");
      expect(Number(r.retryAfter)).toBeGreaterThan(0);
      expect(s.sim.state.chats().length).toBe(2); // nothing was sent for the refused request
      expect((await viewOf(s, A)).state).toBe("exhausted");
      expect(volcAdmin(s).status()).toMatchObject({ total: 2, usable: 0, exhausted: 2 });

      const admin = volcAdmin(s);
      expect(await admin.resetUsage((await viewOf(s, A)).id)).toBe(1);
      expect((await viewOf(s, A))).toMatchObject({ state: "ok", usage: 0 });
      expect((await viewOf(s, B)).state).toBe("exhausted");
      expect((await volcChat(s)).status).toBe(200);
      expect(usedIds(s).at(-1)).toBe(A);
      expect(await admin.resetUsage()).toBe(2);
      expect(admin.status()).toMatchObject({ usable: 2, exhausted: 0 });
      expect((await volcChat(s)).status).toBe(200);
    });
  });

  test("a per-entry cap wins over the global one (0 = unlimited); with daily reset the refusal is a 429 until the reset", async () => {
    await withStack({ volcengine: { authorization: VOLC_AUTH, max_usage: 1, daily_reset: true, web_ids: [{ web_id: A, max_usage: 0 }, B] } }, async (s) => {
      for (let i = 0; i < 4; i++) expect((await volcChat(s)).status).toBe(200);
      expect((await viewOf(s, A))).toMatchObject({ usage: 3, maxUsage: 0, state: "ok" });
      expect((await viewOf(s, B))).toMatchObject({ usage: 1, maxUsage: 1, state: "exhausted" });
      await volcAdmin(s).update((await viewOf(s, A)).id, { maxUsage: 3 });
      const r = await volcChat(s);
      expect(r.status).toBe(429);
      expect(errorOf(r).code).toBe("credentials_exhausted");
      expect(errorOf(r).message).toContain("resets daily");
      const wait = Number(r.retryAfter);
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(86_400);
    });
  });

  test("the console's quota error (envelope, x-real-status 429) marks the entry exhausted and the request moves on", async () => {
    await withStack({ sim: { quota: 1 }, volcengine: { authorization: VOLC_AUTH, web_ids: [A, B] } }, async (s) => {
      expect((await volcChat(s)).status).toBe(200); // A
      expect((await volcChat(s)).status).toBe(200); // B
      s.sim.state.resetQuota(B); // B gets one more free call from the console
      const r = await volcChat(s);
      expect(r.status).toBe(200);
      expect(s.sim.state.chats().slice(2).map((x) => [x.webId, x.outcome])).toEqual([
        [A, "ExperienceQuotaExceeded"],
        [B, "stream"],
      ]);
      expect((await viewOf(s, A)).state).toBe("exhausted");
      expect((await viewOf(s, B)).state).toBe("ok");
      // B meets the quota too; A is exhausted: nothing left, a 429 (a capacity limit) with Retry-After
      const r2 = await volcChat(s);
      expect(r2.status).toBe(429);
      expect(errorOf(r2).code).toBe("upstream_rate_limited");
      expect(errorOf(r2).message).toContain("quota");
      expect(r2.retryAfter).not.toBeNull();
      expect((await viewOf(s, B)).state).toBe("exhausted");
      expect((await viewOf(s, A)).stateReason).toContain("ExperienceQuotaExceeded");
    });
  });

  test("a quota error inside the stream is treated the same way", async () => {
    await withStack({ sim: { quota: 1, quotaError: { placement: "stream" } }, volcengine: { authorization: VOLC_AUTH, web_ids: [A, B] } }, async (s) => {
      expect((await volcChat(s)).status).toBe(200);
      expect((await volcChat(s)).status).toBe(200);
      const r = await volcChat(s);
      expect(r.status).toBe(429);
      expect((await viewOf(s, A)).state).toBe("exhausted");
      expect((await viewOf(s, B)).state).toBe("exhausted");
    });
  });
});

describe("bad web ids and failover", () => {
  test("a web id the console refuses is marked bad and the request is served by the next one", async () => {
    await withStack({ sim: { webIds: [B, C] }, volcengine: { authorization: VOLC_AUTH, web_ids: [A, B, C] } }, async (s) => {
      const r = await volcChat(s);
      expect(r.status).toBe(200);
      const tried = s.sim.state.chats().map((x) => [x.webId, x.outcome]);
      expect(tried).toEqual([[A, "AccessDenied"], [B, "stream"]]);
      expect((await viewOf(s, A))).toMatchObject({ state: "bad", usage: 0 });
      expect((await viewOf(s, A)).stateReason).toContain("AccessDenied");
      for (let i = 0; i < 3; i++) expect((await volcChat(s)).status).toBe(200);
      expect(s.sim.state.chats(A).length).toBe(1); // never tried again
      // a reset makes it usable again
      await volcAdmin(s).resetUsage((await viewOf(s, A)).id);
      expect((await viewOf(s, A)).state).toBe("ok");
    });
  });

  test("a real HTTP 403 with the envelope is the same; at most max_account_attempts entries per request, then 503", async () => {
    await withStack({ sim: { webIds: [], authFailure: "http" }, runtime: { max_account_attempts: 2 }, volcengine: { authorization: VOLC_AUTH, web_ids: [A, B, C] } }, async (s) => {
      const r = await volcChat(s);
      expect(r.status).toBe(503);
      expect(errorOf(r).code).toBe("upstream_auth");
      expect(errorOf(r).message).toContain("2 accounts tried");
      expect(r.retryAfter).not.toBeNull();
      expect(s.sim.state.chats().length).toBe(2);
      expect(volcAdmin(s).status()).toMatchObject({ bad: 2, usable: 1 });
      // the last one is tried by the next request; then nothing usable is left: 503 naming why
      expect((await volcChat(s)).status).toBe(503);
      const none = await volcChat(s);
      expect(none.status).toBe(503);
      expect(errorOf(none).code).toBe("no_credentials");
      expect(errorOf(none).message).toContain("3 rejected");
      expect(s.sim.state.chats().length).toBe(3);
    });
  });

  test("a per-web-id rate limit rests that entry only (cooling) and another one answers", async () => {
    await withStack({ volcengine: { authorization: VOLC_AUTH, web_ids: [A, B] } }, async (s) => {
      s.sim.state.failWebId(A, { kind: "envelope", code: "TooManyRequests", message: "slow down", httpStatus: 429 }, 1);
      const r = await volcChat(s);
      expect(r.status).toBe(200);
      expect((await viewOf(s, A)).state).toBe("cooling");
      expect((await viewOf(s, A)).cooldownUntil).toBeGreaterThan(Date.now());
      expect((await viewOf(s, B)).state).toBe("ok");
    });
  });

  test("a per-entry authorization is sent instead of the global one", async () => {
    await withStack({ sim: { authorizations: { [B]: "Bearer own-auth-of-B-000000" } }, volcengine: { authorization: VOLC_AUTH, web_ids: [{ web_id: B, authorization: "Bearer own-auth-of-B-000000" }] } }, async (s) => {
      expect((await volcChat(s)).status).toBe(200);
      expect(s.sim.state.chats(B).at(-1)!.headers.authorization).toBe("Bearer own-auth-of-B-000000");
      expect((await viewOf(s, B)).hasOwnAuth).toBe(true);
    });
  });
});

describe("busy entries", () => {
  test("concurrent requests spread over the entries and lose no usage count", async () => {
    await withStack({ volcengine: { authorization: VOLC_AUTH, web_ids: [A, B, C] } }, async (s) => {
      s.sim.state.setDefaultReply({ answer: "concurrent answer", chunkChars: 3, tokenDelayMs: 5 });
      const results = await Promise.all(Array.from({ length: 12 }, () => volcChat(s)));
      expect(results.map((r) => r.status)).toEqual(Array(12).fill(200));
      const usage = await Promise.all([A, B, C].map(async (id) => (await viewOf(s, id)).usage));
      expect(usage.reduce((a, b) => a + b, 0)).toBe(12);
      expect(usage.every((n) => n >= 2)).toBe(true);
      expect(volcAdmin(s).status().inUse).toBe(0);
    });
  });

  test("when every entry is busy a request waits at most queue_wait_seconds, then 429 with Retry-After", async () => {
    await withStack({ runtime: { account_max_inflight: 1, queue_wait_seconds: 1 }, volcengine: { authorization: VOLC_AUTH, web_ids: [A] } }, async (s) => {
      s.sim.state.script({ answer: "slow answer that holds the only web id", chunkChars: 2, tokenDelayMs: 150 });
      const slow = volcChat(s, { stream: true });
      while (s.sim.state.chats().length === 0) await Bun.sleep(10);
      const r = await volcChat(s);
      expect(r.status).toBe(429);
      expect(errorOf(r).message).toContain("queue wait limit");
      expect(r.retryAfter).not.toBeNull();
      const first = await slow;
      expect(first.status).toBe(200);
      expect(first.raw).toContain("[DONE]");
      expect(s.sim.state.chats().length).toBe(1);
    });
  });
});

describe("persistence and secrecy", () => {
  test("usage and states survive a restart on the same sqlite; secrets never reach responses, views or logs", async () => {
    await withStack({ sim: { webIds: [B, C] }, volcengine: { authorization: VOLC_AUTH, max_usage: 2, web_ids: [A, B, C] } }, async (s) => {
      expect((await volcChat(s)).status).toBe(200); // A refused (bad) → B
      expect((await volcChat(s)).status).toBe(200); // C
      expect((await volcChat(s)).status).toBe(200); // B
      s.sim.state.failWebId(C, { kind: "envelope", code: "InvalidParameter", message: `web id ${C} with ${VOLC_AUTH} is odd`, httpStatus: 200, realStatus: 400 }, 1);
      const refused = await volcChat(s);
      expect(refused.status).toBe(502);
      expect(errorOf(refused).code).toBe("upstream_rejected");
      const before = (await volcAdmin(s).list());
      await s.restart();
      const after = (await volcAdmin(s).list());
      expect(after.map((v) => [v.id, v.usage, v.state])).toEqual(before.map((v) => [v.id, v.usage, v.state]));
      expect((await viewOf(s, A)).state).toBe("bad");
      expect((await viewOf(s, B))).toMatchObject({ usage: 2, state: "exhausted" });
      expect((await viewOf(s, C)).usage).toBe(1); // a refused request is not counted
      expect((await volcChat(s)).status).toBe(200); // C, its second use
      expect((await volcChat(s)).status).toBe(503); // A bad, B and C at max usage

      const everything = [JSON.stringify(after), JSON.stringify(volcAdmin(s).status()), refused.raw, ...s.logs].join("\n");
      for (const secret of [A, B, C, VOLC_AUTH, VOLC_AUTH.slice(7)]) expect(everything).not.toContain(secret);
      // the sqlite file does not hold them in clear either
      const db = readFileSync(join(s.dir, "db.sqlite"));
      const wal = (() => {
        try {
          return readFileSync(join(s.dir, "db.sqlite-wal"));
        } catch {
          return Buffer.alloc(0);
        }
      })();
      for (const secret of [A, VOLC_AUTH]) {
        expect(db.includes(secret)).toBe(false);
        expect(wal.includes(secret)).toBe(false);
      }
    });
  });
});

describe("admin changes reach the pool's in-memory copy", () => {
  test("a web id added through the admin API serves the very next request; disabled, it is no longer picked", async () => {
    await withStack({ volcengine: { authorization: VOLC_AUTH } }, async (s) => {
      const admin = new AdminClient(s.url, s.adminKey);
      expect((await volcChat(s)).status).toBe(503);
      const added = await admin.post("/admin/providers/volcengine/credentials", { secret: A });
      expect(added.status).toBe(200);
      expect(s.server.ctx.providers.get("volcengine")!.configured!()).toBe(true);
      expect((await volcChat(s)).status).toBe(200);
      expect(usedIds(s)).toEqual([A]);
      const id = s.server.ctx.store.credentials.idFor("volcengine", A);
      expect((await admin.post("/admin/providers/volcengine/credentials", { secret: B })).status).toBe(200);
      expect((await admin.post(`/admin/providers/volcengine/credentials/${id}/disable`)).status).toBe(200);
      for (let i = 0; i < 3; i++) expect((await volcChat(s)).status).toBe(200);
      expect(usedIds(s)).toEqual([A, B, B, B]);
    });
  });
});

describe("daily reset", () => {
  test("usage goes back to 0 once per Beijing day, remembered across a reopen of the store", async () => {
    const dir = tempDir("ds2api-volc-daily-");
    const dbPath = join(dir, "db.sqlite");
    let now = Date.UTC(2026, 0, 1, 15, 0); // 23:00 in Beijing
    const poolOn = async (store: StoreApi) => {
      const stored = new LiveSettings(store);
      await stored.load();
      const pool = new CredentialPool({
        store,
        stored,
        settings: () => ({ apiUrl: "", maxUsage: 1, dailyReset: true, bodyStyle: "console" }),
        limits: () => ({ maxInflightPerEntry: 2, maxQueue: 10, queueWaitMs: 100, cooldownMs: 1000 }),
        now: () => now,
      });
      await pool.reload();
      return pool;
    };
    const take = (pool: CredentialPool) => pool.acquire({ signal: new AbortController().signal, exclude: new Set(), noWait: true });
    let store = await openStore({ sqlitePath: dbPath });
    try {
      await store.credentials.upsert("volcengine", { secret: A });
      let pool = await poolOn(store);
      const first = await take(pool);
      first.accepted();
      first.release();
      expect(await take(pool).catch((e) => e)).toMatchObject({ status: 429, code: "credentials_exhausted" });
      now += 2 * 3_600_000; // 01:00 the next day in Beijing
      const next = await take(pool);
      expect((await store.credentials.list("volcengine"))[0]!.usageCount).toBe(0);
      expect(pool.entry(next.id)!.usageCount).toBe(0);
      next.accepted();
      next.release();
      // the use is written without being awaited: the restart must find it in the store
      await waitUntil(async () => (await store.credentials.list("volcengine"))[0]!.usageCount === 1, "the use in the store");
      await store.flush();
      await store.close();
      store = await openStore({ sqlitePath: dbPath });
      pool = await poolOn(store);
      // the same day after a restart: no second reset
      expect(await take(pool).catch((e) => e)).toMatchObject({ status: 429, code: "credentials_exhausted" });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
