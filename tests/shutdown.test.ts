/**
 * Graceful shutdown of the real process (`bun src/main.ts`) in front of the DeepSeek simulator: a stream in flight
 * when SIGTERM arrives still ends with [DONE]; meanwhile readyz says "draining" and new requests are refused; the
 * process exits 0 with the sqlite WAL checkpointed. Past the timeout the rest is cut; a second signal exits at once.
 *
 * Nothing here races the clock: the first test holds the upstream stream half-way (tests/support/gated-upstream.ts)
 * until the checks made during the drain are done; the others stall the upstream stream for far longer than the
 * test may run, so only the shutdown itself can end it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { RunningSimulator } from "../src/sim/index.ts";
import { startSim } from "./support/sim.ts";
import { startGatedUpstream, type GatedUpstream } from "./support/gated-upstream.ts";
import { sourceCommand, spawnServer, until, type SpawnedServer } from "./support/spawn-server.ts";
import { repoRoot, tempDir } from "./support/test-server.ts";

const API_KEY = "sk-shutdown-test";
const ACCOUNT = { email: "drain@example.com", password: "pw-drain" };
/** One answer token every TOKEN_MS: the stream lasts about ANSWER.length / 4 × TOKEN_MS. */
const ANSWER = "The quick brown fox jumps over the lazy dog while the server drains.";
/** An upstream stream that sends one token, then stays silent (with keep-alives) far longer than any test runs. */
const STALLED = { answer: ANSWER, chunking: 4, stall: { afterTokens: 1, ms: 600_000, keepaliveMs: 200 } };
/** Generous bound for conditions that only fail to come when something is broken. */
const WAIT_MS = 30_000;

let sim: RunningSimulator;
let gate: GatedUpstream;
const dirs: string[] = [];

beforeAll(async () => {
  sim = await startSim({ powDifficulty: 500, accounts: [ACCOUNT] });
  sim.state.setDefaultReply({ answer: ANSWER, chunking: 4 });
  gate = startGatedUpstream(sim.url);
});

// A hold a failed test never released must not catch the next test's stream.
afterEach(() => gate?.releaseAll());

afterAll(async () => {
  await gate?.stop();
  await sim?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function spawn(env: Record<string, string> = {}): Promise<{ srv: SpawnedServer; db: string }> {
  const dir = tempDir("ds2api-shutdown-");
  dirs.push(dir);
  const db = join(dir, "ds2api.sqlite");
  const srv = await spawnServer([...sourceCommand(), "--port", "0", "--host", "127.0.0.1"], {
    cwd: repoRoot,
    env: {
      DS2API_ADMIN_KEY: "shutdown-admin",
      DS2API_DB_PATH: db,
      DS2API_CONFIG_JSON: JSON.stringify({ keys: [API_KEY], accounts: [ACCOUNT] }),
      DS2API_DEEPSEEK_BASE_URL: gate.url,
      DS2API_POW_WORKERS: "1",
      ...env,
    },
  });
  return { srv, db };
}

/** A streaming chat request whose body is read as it arrives. It never rejects: a cut connection just ends it. */
function openStream(url: string) {
  let text = "";
  let ended = false;
  let status = 0;
  const done = (async () => {
    try {
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "deepseek-v4-flash", stream: true, messages: [{ role: "user", content: "tell me" }] }),
      });
      status = res.status;
      const decoder = new TextDecoder();
      for await (const chunk of res.body!) text += decoder.decode(chunk, { stream: true });
    } catch {
      // connection cut by the server
    }
    ended = true;
    return text;
  })();
  return {
    done,
    /** HTTP status of the response (0 until the headers arrived). */
    get status() {
      return status;
    },
    get text() {
      return text;
    },
    get ended() {
      return ended;
    },
    /** Content deltas seen so far, joined (complete lines only: the last one may still be arriving). */
    content(): string {
      let out = "";
      for (const line of text.split("\n").slice(0, -1)) {
        if (!line.startsWith("data: {")) continue;
        const delta = JSON.parse(line.slice(6)).choices?.[0]?.delta?.content;
        if (typeof delta === "string") out += delta;
      }
      return out;
    },
  };
}

function walSize(db: string): number {
  return existsSync(`${db}-wal`) ? statSync(`${db}-wal`).size : 0;
}

describe("graceful shutdown", () => {
  test("SIGTERM lets an in-flight stream finish, refuses new work, checkpoints sqlite and exits 0", async () => {
    const { srv, db } = await spawn({ DS2API_SHUTDOWN_TIMEOUT_SECONDS: "60" });
    const streamsBefore = sim.state.streams.length;
    // The upstream stream is held right after the event carrying the first answer token.
    const hold = gate.holdNext("/chat/completion", (event) => event.includes(ANSWER.slice(0, 4)));
    const stream = openStream(srv.url);
    await hold.reached;
    await until(() => stream.content().length > 0, WAIT_MS, "the first answer token");
    expect(stream.text).not.toContain("[DONE]");

    srv.proc.kill("SIGTERM");
    await until(async () => (await fetch(`${srv.url}/readyz`)).status === 503, WAIT_MS, "readyz to turn 503");
    const ready = await fetch(`${srv.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { status: string }).status).toBe("draining");
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);

    const refused = await fetch(`${srv.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "late" }] }),
    });
    expect(refused.status).toBe(503);
    const body = (await refused.json()) as { error: { message: string } };
    expect(body.error.message).toContain("shutting down");
    expect(stream.ended).toBe(false);
    expect(srv.proc.exitCode).toBeNull();

    hold.release();
    const full = await stream.done;
    expect(stream.status).toBe(200);
    expect(full).toContain("data: [DONE]");
    expect(stream.content()).toBe(ANSWER);
    expect(await srv.proc.exited).toBe(0);
    expect(srv.stderr()).toContain("SIGTERM: shutting down");
    expect(srv.stderr()).not.toMatch(/ ERROR /);

    // The upstream stream ended cleanly (not cancelled) and no second completion was started.
    const mine = sim.state.streams.slice(streamsBefore);
    expect(mine.length).toBe(1);
    expect(mine[0]!.outcome).toBe("completed");
    expect(existsSync(db)).toBe(true);
    expect(walSize(db)).toBe(0);
  });

  test("past the timeout the remaining streams are cut and the process still exits 0 with sqlite closed", async () => {
    const { srv, db } = await spawn({ DS2API_SHUTDOWN_TIMEOUT_SECONDS: "0.3" });
    sim.state.script(STALLED); // ends only if someone cuts it
    const streamsBefore = sim.state.streams.length;
    const stream = openStream(srv.url);
    await until(() => stream.content().length > 0, WAIT_MS, "the first answer token");
    srv.proc.kill("SIGTERM");
    // The stream never ends on its own, so exiting at all means the drain timeout cut it.
    expect(await srv.proc.exited).toBe(0);
    await stream.done;
    expect(stream.text).not.toContain("[DONE]");
    expect(stream.content()).toBe(ANSWER.slice(0, 4));
    expect(srv.stderr()).toContain("shutdown timeout");
    // The cut turn gave its lease back before sqlite closed: nothing failed on the way out.
    expect(srv.stderr()).not.toMatch(/ ERROR /);
    const mine = sim.state.streams.slice(streamsBefore);
    await until(() => mine.every((s) => s.outcome !== "open"), WAIT_MS, "the upstream stream to close");
    expect(mine[0]!.outcome).toBe("cancelled");
    expect(walSize(db)).toBe(0);
  });

  test("a second SIGTERM exits at once", async () => {
    // The drain would wait up to 10 minutes for the stalled stream: longer than this test may run.
    const { srv } = await spawn({ DS2API_SHUTDOWN_TIMEOUT_SECONDS: "600" });
    sim.state.script(STALLED);
    const stream = openStream(srv.url);
    await until(() => stream.content().length > 0, WAIT_MS, "the first answer token");
    srv.proc.kill("SIGTERM");
    await until(async () => (await fetch(`${srv.url}/readyz`)).status === 503, WAIT_MS, "readyz to turn 503");
    srv.proc.kill("SIGTERM");
    expect(await srv.proc.exited).toBe(143);
    expect(srv.stderr()).toContain("second SIGTERM");
    await stream.done;
    expect(stream.text).not.toContain("[DONE]");
  });

  test("an invalid DS2API_SHUTDOWN_TIMEOUT_SECONDS stops the start with a clear message", async () => {
    await expect(spawn({ DS2API_SHUTDOWN_TIMEOUT_SECONDS: "soon" })).rejects.toThrow(/DS2API_SHUTDOWN_TIMEOUT_SECONDS/);
  });
});
