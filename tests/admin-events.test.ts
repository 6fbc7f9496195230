/**
 * `GET /admin/events`: the dashboard's live numbers as server-sent events, against a real server on a free port with
 * the DeepSeek simulator upstream. A chat starting and ending, and an account changing state, each show up as a
 * `status` event; a quiet stream gets heartbeat comments; the admin guard and the stream cap answer in the admin
 * shape; a slow reader holds at most one frame per topic; and a shutdown with an open stream is not held up by it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { EventHub } from "../src/api/admin/event-hub.ts";
import { MAX_EVENT_STREAMS, openEventStreams } from "../src/api/admin/events-routes.ts";
import type { RunningSimulator } from "../src/sim/index.ts";
import { expectDetail, AdminClient } from "./support/admin-client.ts";
import { openEventStream, type OpenedEventStream } from "./support/event-stream.ts";
import { startSim } from "./support/sim.ts";
import { sourceCommand, spawnServer } from "./support/spawn-server.ts";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";
import { repoRoot, tempDir } from "./support/test-server.ts";
import { waitUntil } from "./support/wait.ts";

const ADMIN = "e2e-admin";
let stack: Stack;
const opened: OpenedEventStream[] = [];

async function open(auth: string | null = ADMIN) {
  const s = await openEventStream(stack.url, auth ?? undefined);
  opened.push(s);
  return s;
}

beforeAll(async () => {
  stack = await startStack({ accounts: 3 });
});

afterAll(async () => {
  for (const s of opened) s.close();
  await stack?.stop();
});

describe("admin event stream", () => {
  test("needs the admin credential: no token and a wrong one are 401 in the admin shape", async () => {
    const none = await open(null);
    expect(none.status).toBe(401);
    expect(typeof JSON.parse(none.body!).detail).toBe("string");
    const wrong = await open("not-the-admin-key");
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body!).detail.length).toBeGreaterThan(3);
    // A JWT from the login works as well as the raw key.
    const jwt = await new AdminClient(stack.url).login(ADMIN);
    const s = await open(jwt);
    expect(s.status).toBe(200);
    await waitUntil(() => s.latest("status") !== undefined, "the first status event");
    s.close();
  });

  test("starts with the current figures, then pushes a chat starting and ending", async () => {
    const s = await open();
    expect(s.status).toBe(200);
    await waitUntil(() => s.latest("status") !== undefined && s.latest("errors") !== undefined, "the first status and errors events");
    const first = s.latest("status");
    expect(first.accounts).toEqual({ total: 3, enabled: 3, usable: 3, cooling_down: 0, failing: 0, disabled: 0 });
    expect(first.in_use).toBe(0);
    expect(first.global_limit).toBe(3 * first.max_inflight_per_account);
    const startedBefore = first.requests.started;

    // A stream that stalls after its first token: it holds its account until the client goes away.
    stack.sim.state.script({ answer: "slow answer that stalls", chunking: 4, stall: { afterTokens: 1, ms: 600_000, keepaliveMs: 200 } });
    const chat = new AbortController();
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "deepseek-v4-flash", stream: true, messages: [{ role: "user", content: "hold on" }] }),
      signal: chat.signal,
    });
    expect(res.status).toBe(200);
    const reading = (async () => {
      try {
        for await (const _ of res.body!);
      } catch {
        // aborted below
      }
    })();
    await waitUntil(() => s.latest("status").in_use === 1, "in_use 1 pushed while the chat streams");
    const busy = s.latest("status");
    expect(busy.requests.started).toBe(startedBefore + 1);
    expect(busy.busy_accounts.length).toBe(1);
    expect(busy.busy_accounts[0].inflight).toBe(1);

    chat.abort();
    await reading;
    await waitUntil(() => s.latest("status").in_use === 0 && s.latest("status").requests.ended === busy.requests.ended + 1, "in_use 0 pushed once the chat ended");
    expect(s.latest("status").busy_accounts).toEqual([]);
    expect(s.latest("status").requests.last_minute).toBeGreaterThanOrEqual(1);
    s.close();
    await s.done;
  }, 30_000);

  test("an account disabled and enabled again is pushed as a state change", async () => {
    const s = await open();
    await waitUntil(() => s.latest("status") !== undefined, "the first status event");
    const admin = new AdminClient(stack.url, ADMIN);
    expect((await admin.post("/admin/accounts/user1@example.com/disable")).status).toBe(200);
    await waitUntil(() => s.latest("status").accounts.disabled === 1, "disabled 1");
    expect(s.latest("status").unhealthy_accounts).toEqual([{ identifier: "user1@example.com", status: "disabled", cooldown_until: null }]);
    expect(s.latest("status").accounts.usable).toBe(2);
    expect((await admin.post("/admin/accounts/user1@example.com/enable")).status).toBe(200);
    await waitUntil(() => s.latest("status").accounts.disabled === 0, "disabled back to 0");
    expect(s.latest("status").unhealthy_accounts).toEqual([]);
    s.close();
  }, 30_000);

  test("a quiet stream gets heartbeat comments", async () => {
    const s = await open();
    await waitUntil(() => s.comments.includes(": ping"), "a heartbeat comment");
    expect(s.ended).toBe(false);
    s.close();
  }, 30_000);

  test(`at most ${MAX_EVENT_STREAMS} streams at once: one more is 429 with a detail, and a closed one frees its place`, async () => {
    const streams: OpenedEventStream[] = [];
    for (let i = 0; i < MAX_EVENT_STREAMS; i++) {
      const s = await open();
      expect(s.body ?? "").toBe("");
      expect(s.status).toBe(200);
      streams.push(s);
    }
    // The server counts them (and leaves them out of the requests in flight that hold off the idle collection).
    expect(openEventStreams(stack.server.ctx)).toBe(MAX_EVENT_STREAMS);
    const refused = await open();
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body!).detail).toContain("too many admin event streams");
    streams[0]!.close();
    await streams[0]!.done;
    // The server notices the closed stream on its own time: wait until a new one is accepted.
    let again: OpenedEventStream | undefined;
    await waitUntil(async () => {
      again = await open();
      return again.status === 200;
    }, "a free place after closing a stream");
    expect(again!.status).toBe(200);
    for (const s of [...streams, again!]) s.close();
    await waitUntil(() => openEventStreams(stack.server.ctx) === 0, "every stream closed on the server");
  }, 30_000);
});

describe("event hub buffering", () => {
  test("a reader that never reads holds at most one unsent frame per topic, however many changes were pushed", async () => {
    let reads = 0;
    const hub = new EventHub({
      intervalMs: 2,
      heartbeatMs: 1,
      maxStreams: 2,
      draining: () => false,
      // A topic that changes on every tick.
      topics: () => [{ key: "count", event: "count", data: () => ({ n: ++reads, pad: "x".repeat(1000) }) }],
    });
    const { stream, client } = hub.open();
    await waitUntil(() => reads > 300, "300 changes pushed");
    // count, ping and retry: one pending frame per key (the stream's own queue holds a few more).
    expect(client.backlog).toBeLessThanOrEqual(3);
    expect(hub.streams).toBe(1);
    // Reading now gets the newest state, not the first 300.
    const reader = stream.getReader();
    const seen: string[] = [];
    const decoder = new TextDecoder();
    while (!seen.join("").includes(`"n":${reads - 1}`) && !seen.join("").includes(`"n":${reads}`)) seen.push(decoder.decode((await reader.read()).value));
    await reader.cancel();
    expect(hub.streams).toBe(0);
  });
});

describe("shutdown with an open event stream", () => {
  let sim: RunningSimulator;
  const dirs: string[] = [];
  afterAll(async () => {
    await sim?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test("SIGTERM ends the event stream and the process exits 0 (the drain does not wait on it)", async () => {
    sim = await startSim({ powDifficulty: 500, accounts: [{ email: "live@example.com", password: "pw" }] });
    const dir = tempDir("ds2api-events-shutdown-");
    dirs.push(dir);
    const srv = await spawnServer([...sourceCommand(), "--port", "0", "--host", "127.0.0.1"], {
      cwd: repoRoot,
      env: {
        DS2API_ADMIN_KEY: ADMIN,
        DS2API_DB_PATH: join(dir, "db.sqlite"),
        DS2API_CONFIG_JSON: JSON.stringify({ keys: ["sk-live"], accounts: [{ email: "live@example.com", password: "pw" }] }),
        DS2API_DEEPSEEK_BASE_URL: sim.url,
        DS2API_POW_WORKERS: "1",
        // The drain would wait ten minutes for an open request: only closing the event stream lets it exit sooner.
        DS2API_SHUTDOWN_TIMEOUT_SECONDS: "600",
      },
    });
    try {
      const s = await openEventStream(srv.url, ADMIN);
      expect(s.status).toBe(200);
      await waitUntil(() => s.latest("status") !== undefined, "the first status event");
      srv.proc.kill("SIGTERM");
      await s.done;
      expect(s.ended).toBe(true);
      expect(await srv.proc.exited).toBe(0);
      expect(srv.stderr()).not.toContain("shutdown timeout");
      expect(srv.stderr()).not.toMatch(/ ERROR /);
    } finally {
      await srv.stop("SIGKILL");
    }
  }, 60_000);
});
