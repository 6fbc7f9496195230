/**
 * Graceful shutdown of the real process (`bun src/main.ts`) in front of the DeepSeek simulator: a slow stream
 * in flight when SIGTERM arrives still ends with [DONE]; meanwhile readyz says "draining" and new requests are
 * refused; the process exits 0 with the sqlite WAL checkpointed. Past the timeout the rest is cut; a second
 * signal exits at once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { startSimulator, type RunningSimulator } from "../src/sim/index.ts";
import { sourceCommand, spawnServer, type SpawnedServer } from "./support/spawn-server.ts";
import { repoRoot, tempDir } from "./support/test-server.ts";

const API_KEY = "sk-shutdown-test";
const ACCOUNT = { email: "drain@example.com", password: "pw-drain" };
/** One answer token every TOKEN_MS: the stream lasts about ANSWER.length / 4 × TOKEN_MS. */
const ANSWER = "The quick brown fox jumps over the lazy dog while the server drains.";
const TOKEN_MS = 60;

let sim: RunningSimulator;
const dirs: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ powDifficulty: 500, accounts: [ACCOUNT] });
  sim.state.setDefaultReply({ answer: ANSWER, chunking: 4, tokenDelayMs: TOKEN_MS });
});

afterAll(async () => {
  await sim.stop();
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
      DS2API_DEEPSEEK_BASE_URL: sim.url,
      DS2API_POW_WORKERS: "1",
      ...env,
    },
  });
  return { srv, db };
}

/** A streaming chat request whose body is read as it arrives. */
function openStream(url: string) {
  let text = "";
  let ended = false;
  const done = (async () => {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "deepseek-v4-flash", stream: true, messages: [{ role: "user", content: "tell me" }] }),
    });
    expect(res.status).toBe(200);
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body!) text += decoder.decode(chunk, { stream: true });
    } catch {
      // connection cut by the server
    }
    ended = true;
    return text;
  })();
  return {
    done,
    get text() {
      return text;
    },
    get ended() {
      return ended;
    },
    /** Content deltas seen so far, joined. */
    content(): string {
      let out = "";
      for (const line of text.split("\n")) {
        if (!line.startsWith("data: {")) continue;
        const delta = JSON.parse(line.slice(6)).choices?.[0]?.delta?.content;
        if (typeof delta === "string") out += delta;
      }
      return out;
    },
  };
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

function walSize(db: string): number {
  return existsSync(`${db}-wal`) ? statSync(`${db}-wal`).size : 0;
}

describe("graceful shutdown", () => {
  test("SIGTERM lets an in-flight stream finish, refuses new work, checkpoints sqlite and exits 0", async () => {
    const { srv, db } = await spawn({ DS2API_SHUTDOWN_TIMEOUT_SECONDS: "20" });
    const streamsBefore = sim.state.streams.length;
    const stream = openStream(srv.url);
    await until(() => stream.content().length > 0, 10_000, "the first answer token");
    // The stream is mid-way: far from its end (ANSWER has ~17 tokens at TOKEN_MS each).
    expect(stream.text).not.toContain("[DONE]");

    srv.proc.kill("SIGTERM");
    await until(async () => (await fetch(`${srv.url}/readyz`)).status === 503, 5000, "readyz to turn 503");
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

    const full = await stream.done;
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
  }, 30_000);

  test("past the timeout the remaining streams are cut and the process still exits 0 with sqlite closed", async () => {
    const { srv, db } = await spawn({ DS2API_SHUTDOWN_TIMEOUT_SECONDS: "0.3" });
    sim.state.script({ answer: ANSWER, chunking: 1, tokenDelayMs: 200 }); // ~14 s if left alone
    const streamsBefore = sim.state.streams.length;
    const stream = openStream(srv.url);
    await until(() => stream.content().length > 0, 10_000, "the first answer token");
    const t0 = performance.now();
    srv.proc.kill("SIGTERM");
    expect(await srv.proc.exited).toBe(0);
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(5000);
    await stream.done;
    expect(stream.text).not.toContain("[DONE]");
    expect(stream.content().length).toBeLessThan(ANSWER.length);
    expect(srv.stderr()).toContain("shutdown timeout");
    // The cut turn gave its lease back before sqlite closed: nothing failed on the way out.
    expect(srv.stderr()).not.toMatch(/ ERROR /);
    const mine = sim.state.streams.slice(streamsBefore);
    await sim.state.waitFor(() => mine.every((s) => s.outcome !== "open"), 3000);
    expect(mine[0]!.outcome).toBe("cancelled");
    expect(walSize(db)).toBe(0);
  }, 30_000);

  test("a second SIGTERM exits at once", async () => {
    const { srv } = await spawn({ DS2API_SHUTDOWN_TIMEOUT_SECONDS: "60" });
    sim.state.script({ answer: ANSWER, chunking: 1, tokenDelayMs: 200 });
    const stream = openStream(srv.url);
    await until(() => stream.content().length > 0, 10_000, "the first answer token");
    srv.proc.kill("SIGTERM");
    await until(async () => (await fetch(`${srv.url}/readyz`)).status === 503, 5000, "readyz to turn 503");
    const t0 = performance.now();
    srv.proc.kill("SIGTERM");
    const code = await srv.proc.exited;
    expect(code).toBe(143);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(srv.stderr()).toContain("second SIGTERM");
    await stream.done;
    expect(stream.text).not.toContain("[DONE]");
  }, 30_000);

  test("an invalid DS2API_SHUTDOWN_TIMEOUT_SECONDS stops the start with a clear message", async () => {
    await expect(spawn({ DS2API_SHUTDOWN_TIMEOUT_SECONDS: "soon" })).rejects.toThrow(/DS2API_SHUTDOWN_TIMEOUT_SECONDS/);
  });
});
