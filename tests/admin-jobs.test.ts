/**
 * Long admin operations as jobs (`/admin/jobs`), against a real server on a free port with the DeepSeek simulator:
 * testing many accounts reports progress that only grows, up to done = total, on `GET /admin/jobs/:id` and on the
 * event stream; a bulk import of 2000 accounts as a job ends with the right counts; only one test-all runs at a
 * time; bad requests get the admin error shape; and the synchronous routes answer as before.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AdminClient, expectDetail } from "./support/admin-client.ts";
import { openEventStream } from "./support/event-stream.ts";
import { startStack, type Stack } from "./support/stack.ts";
import { waitUntil } from "./support/wait.ts";

/** Accounts the simulator knows (their tests pass). */
const KNOWN = 150;
/** Accounts added that the simulator does not know (their login fails). */
const UNKNOWN = 10;
const ADMIN = "e2e-admin";
let stack: Stack;
let admin: AdminClient;

beforeAll(async () => {
  stack = await startStack({ accounts: KNOWN });
  admin = new AdminClient(stack.url, ADMIN);
});

afterAll(async () => {
  await stack?.stop();
});

/** Polls a job until it finished, recording every `done` seen. */
async function follow(id: string, seen: number[]): Promise<any> {
  let last: any;
  await waitUntil(async () => {
    const r = await admin.get(`/admin/jobs/${id}`);
    expect(r.status).toBe(200);
    last = r.json;
    seen.push(last.done);
    return last.finished === true;
  }, `job ${id} to finish`);
  return last;
}

const nonDecreasing = (xs: number[]) => xs.every((x, i) => i === 0 || x >= xs[i - 1]!);

describe("admin jobs", () => {
  test("the synchronous bulk import answers as before (accounts the simulator does not know)", async () => {
    const text = Array.from({ length: UNKNOWN }, (_, i) => `stranger${i}@example.com:pw-${i}`).join("\n");
    const r = await admin.post("/admin/accounts/bulk", { text });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ success: true, imported: UNKNOWN, updated: 0, errors: [] });
  });

  test("test all accounts as a job: 202 with a job id at once, progress only grows to done = total, result as the synchronous route's", async () => {
    const events = await openEventStream(stack.url, ADMIN);
    try {
      const start = await admin.post("/admin/jobs/accounts-test-all", {});
      expect(start.status).toBe(202);
      expect(start.json.success).toBe(true);
      const id = start.json.job_id as string;
      expect(id).toMatch(/^job_[0-9a-f]+$/);
      expect(start.json.job).toMatchObject({ id, kind: "accounts.test_all", state: "running", finished: false });
      // Only one test-all at a time.
      const second = await admin.post("/admin/jobs/accounts-test-all", {});
      expect(expectDetail(second, 409)).toContain(id);

      const seen: number[] = [];
      const end = await follow(id, seen);
      const total = KNOWN + UNKNOWN;
      expect(nonDecreasing(seen)).toBe(true);
      expect(end).toMatchObject({ id, state: "succeeded", finished: true, total, done: total, ok: KNOWN, failed: UNKNOWN, current: null, error: null });
      expect(end.finished_at).toBeGreaterThanOrEqual(end.started_at);
      expect(end.result.total).toBe(total);
      expect(end.result.success).toBe(KNOWN);
      expect(end.result.failed).toBe(UNKNOWN);
      expect(end.result.results.length).toBe(total);
      for (const x of end.result.results) expect(Object.keys(x).sort()).toEqual(expect.arrayContaining(["account", "message", "model", "response_time", "session_count", "success"]));
      expect(end.result.results.filter((x: { success: boolean }) => !x.success).map((x: { account: string }) => x.account).sort()).toEqual(
        Array.from({ length: UNKNOWN }, (_, i) => `stranger${i}@example.com`).sort(),
      );

      // The event stream carried the same job, growing, up to the end.
      await waitUntil(() => events.events.some((e) => e.event === "job" && e.data.id === id && e.data.finished), "the finished job event");
      const pushed = events.events.filter((e) => e.event === "job" && e.data.id === id).map((e) => e.data);
      expect(nonDecreasing(pushed.map((j) => j.done))).toBe(true);
      expect(pushed.at(-1)).toMatchObject({ done: total, total, ok: KNOWN, failed: UNKNOWN, state: "succeeded" });
      expect(pushed.at(-1).result).toBeUndefined();

      // Listed, newest first, with a filter; a new test-all may start now.
      const list = await admin.get("/admin/jobs?kind=accounts.test_all");
      expect(list.json.items[0]).toMatchObject({ id, finished: true });
      expect(list.json.items[0].result).toBeUndefined();
      expect((await admin.get("/admin/jobs?state=running")).json.items).toEqual([]);
      const again = await admin.post("/admin/jobs/accounts-test-all", { model: "deepseek-v4-flash" });
      expect(again.status).toBe(202);
      await follow(again.json.job_id, []);
      const audit = await admin.get("/admin/audit?action=accounts.test_all");
      expect(audit.json.items.some((a: { detail?: { job?: string } }) => a.detail?.job === id)).toBe(true);
    } finally {
      events.close();
    }
  }, 120_000);

  test("a bulk import of 2000 accounts as a job ends with the right counts and the pool sees them", async () => {
    const before = (await admin.get("/admin/queue/status")).json.total as number;
    const lines = Array.from({ length: 2000 }, (_, i) => `bulk${i}@example.com:pw-${i}`);
    // Five accounts that exist already (updated) and two lines that are not accounts.
    lines.push(...Array.from({ length: 5 }, (_, i) => `user${i}@example.com:new-pw-${i}`), "not an account line", "nobody@:");
    const start = await admin.post("/admin/jobs/accounts-bulk", { text: lines.join("\n") });
    expect(start.status).toBe(202);
    const seen: number[] = [];
    const end = await follow(start.json.job_id, seen);
    expect(nonDecreasing(seen)).toBe(true);
    expect(end).toMatchObject({ kind: "accounts.bulk_import", state: "succeeded", total: 2007, done: 2007, ok: 2005, failed: 2 });
    expect(end.result.imported).toBe(2000);
    expect(end.result.updated).toBe(5);
    expect(end.result.errors.length).toBe(2);
    expect(end.result.success).toBe(true);
    expect(JSON.stringify(end)).not.toContain("pw-1");
    expect((await admin.get("/admin/queue/status")).json.total).toBe(before + 2000);
    expect((await admin.get("/admin/accounts?q=bulk1999")).json.items[0].identifier).toBe("bulk1999@example.com");
  }, 120_000);

  test("bad requests get the admin error shape", async () => {
    expectDetail(await admin.get("/admin/jobs/job_nope"), 404);
    expectDetail(await admin.get("/admin/jobs?kind=coffee"), 400);
    expectDetail(await admin.get("/admin/jobs?state=sleeping"), 400);
    expectDetail(await admin.post("/admin/jobs/accounts-bulk", {}), 400);
    expectDetail(await admin.post("/admin/jobs/accounts-bulk", { text: "   " }), 400);
    expectDetail(await admin.post("/admin/jobs/accounts-test-all", { model: "no-such-model" }), 400);
    expectDetail(await admin.get("/admin/jobs", { auth: null }), 401);
    expectDetail(await admin.post("/admin/jobs/accounts-test-all", {}, { auth: null }), 401);
    expect((await admin.get("/admin/jobs?state=running")).json.items).toEqual([]);
  });

  test("the synchronous test-all answers as before", async () => {
    const r = await admin.post("/admin/accounts/test-all", {});
    expect(r.status).toBe(200);
    expect(Object.keys(r.json).sort()).toEqual(["failed", "results", "success", "total"]);
    expect(r.json.total).toBe(r.json.results.length);
    expect(r.json.success + r.json.failed).toBe(r.json.total);
  }, 120_000);
});
