/**
 * The proof of several instances (docs/design/multi-instance.md §9): one Postgres, one redis-server, one DeepSeek
 * simulator with 5 accounts (~300 ms replies) and three ds2api processes (a, b, c) sharing them, each with
 * DS2API_ACCOUNT_MAX_INFLIGHT=2 and a 3 s lease TTL.
 * - 300 concurrent streams spread over the three: no account ever streams more than 2 at once upstream, no 5xx,
 *   every refusal an honest 429 with Retry-After once the queues were full, and each account logged in once.
 * - Admin writes on a (a new key, a disabled account) are honoured by b and c; a `previous_response_id` made on a
 *   continues on b.
 * - kill -9 of c mid-stream: its leases expire (TTL) and the account serves again through a.
 * - Redis stopped, then Postgres cut: every surface answers its 503 shape, /readyz says why; back → 200.
 * Postgres traffic goes through a TCP pass-through (tests/support/tcp-cut.ts) so the outage needs no server restart.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { postgresForTests } from "./support/postgres.ts";
import { redisForTests, type TestRedis } from "./support/redis.ts";
import { startSim } from "./support/sim.ts";
import { sourceCommand, spawnServer, type SpawnedServer } from "./support/spawn-server.ts";
import { startTcpCut, type TcpCut } from "./support/tcp-cut.ts";
import { repoRoot, tempDir } from "./support/test-server.ts";
import { until } from "./support/wait.ts";
import type { RunningSimulator } from "../src/sim/index.ts";
import type { ReplyContext, ReplyScript } from "../src/sim/reply-script.ts";

const API_KEY = "sk-cluster-proof";
const ADMIN = "cluster-proof-admin";
const PER_ACCOUNT = 2;
const QUEUE = 20;
const LEASE_TTL_S = 3;
const ACCOUNTS = Array.from({ length: 5 }, (_, i) => ({ email: `user${i}@example.com`, password: `pw-${i}` }));
const COMPLETION_PATH = "/api/v0/chat/completion";
/** One key for all three (the secrets one instance seals, the others read). */
const SECRET_KEY = randomBytes(32).toString("base64");
/** One Redis key prefix for all three (a cluster is the instances sharing it). */
const PREFIX = `proof-${randomBytes(4).toString("hex")}:`;

/** ~300 ms per reply (30 tokens, 10 ms apart); a prompt with SLOW streams for ~20 s (the kill -9 test). */
function reply(ctx: ReplyContext): ReplyScript {
  if (ctx.lastUserText.includes("SLOW")) return { answer: Array.from({ length: 100 }, (_, i) => `slow${i} `), tokenDelayMs: 200 };
  return { answer: Array.from({ length: 30 }, (_, i) => `w${i} `), tokenDelayMs: 10 };
}

let sim: RunningSimulator;
let redis: TestRedis;
let pgCut: TcpCut;
const instances: Record<"a" | "b" | "c", SpawnedServer | undefined> = { a: undefined, b: undefined, c: undefined };
const alive = () => (["a", "b", "c"] as const).filter((n) => instances[n] && instances[n]!.proc.exitCode === null && !instances[n]!.proc.killed);
const urlOf = (name: "a" | "b" | "c") => instances[name]!.url;

const auth = (key = API_KEY) => ({ authorization: `Bearer ${key}`, "content-type": "application/json" });
const admin = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };

interface Answer {
  status: number;
  retryAfter: string | null;
  text: string;
  json: any;
}

async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = auth()): Promise<Answer> {
  const r = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, retryAfter: r.headers.get("retry-after"), text, json };
}

const chat = (base: string, content: string, extra: { headers?: Record<string, string>; stream?: boolean; key?: string } = {}) =>
  call(base, "POST", "/v1/chat/completions", { model: "deepseek-v4-flash", stream: extra.stream ?? false, messages: [{ role: "user", content }] }, { ...auth(extra.key), ...extra.headers });

const readyz = (name: "a" | "b" | "c") => call(urlOf(name), "GET", "/readyz");

/** Leases held on `account` over the cluster, as instance `name` sees them (heartbeat ≤ 1 s old). */
async function leasesOn(name: "a" | "b" | "c", account: string): Promise<number> {
  const r = await readyz(name);
  return Number(r.json?.cluster?.capacity?.per_account?.[account] ?? 0);
}

/** The 503 of a dependency outage in each surface's own shape. */
async function expectOutageShapes(base: string, code: "redis_unavailable" | "database_unavailable") {
  const answers = {
    openai: await chat(base, "hi"),
    anthropic: await call(base, "POST", "/anthropic/v1/messages", { model: "deepseek-v4-flash", max_tokens: 32, messages: [{ role: "user", content: "hi" }] }),
    gemini: await call(base, "POST", "/v1beta/models/deepseek-v4-flash:generateContent", { contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
    ollama: await call(base, "POST", "/api/chat", { model: "deepseek-v4-flash", stream: false, messages: [{ role: "user", content: "hi" }] }),
    admin: await call(base, "GET", "/admin/keys", undefined, admin),
  };
  for (const [surface, a] of Object.entries(answers)) expect({ surface, status: a.status, retryAfter: a.retryAfter }).toEqual({ surface, status: 503, retryAfter: "5" });
  expect(answers.openai.json.error).toMatchObject({ type: "service_unavailable_error", code });
  expect(answers.anthropic.json).toMatchObject({ type: "error", error: { type: "overloaded_error" } });
  expect(answers.gemini.json).toMatchObject({ error: { code: 503, status: "UNAVAILABLE" } });
  expect(typeof answers.ollama.json.error).toBe("string");
  expect(answers.admin.json).toMatchObject({ code });
}

beforeAll(async () => {
  const pg = await postgresForTests();
  const dbUrl = new URL(await pg.freshDatabase("proof"));
  pgCut = startTcpCut({ host: dbUrl.hostname, port: Number(dbUrl.port) });
  dbUrl.hostname = pgCut.host;
  dbUrl.port = String(pgCut.port);
  redis = await redisForTests();
  sim = await startSim({ accounts: ACCOUNTS, powDifficulty: 500 });
  sim.state.setDefaultReply(reply);
  const dir = tempDir("ds2api-proof-");
  const env = (id: string): Record<string, string> => ({
    DS2API_DATABASE_URL: dbUrl.toString(),
    DS2API_REDIS_URL: redis.url,
    DS2API_REDIS_PREFIX: PREFIX,
    DS2API_INSTANCE_ID: id,
    DS2API_SECRET_KEY: SECRET_KEY,
    DS2API_ADMIN_KEY: ADMIN,
    DS2API_CONFIG_JSON: JSON.stringify({ keys: [API_KEY], accounts: ACCOUNTS }),
    DS2API_DEEPSEEK_BASE_URL: sim.url,
    DS2API_ACCOUNT_MAX_INFLIGHT: String(PER_ACCOUNT),
    DS2API_ACCOUNT_MAX_QUEUE: String(QUEUE),
    DS2API_CLUSTER_LEASE_TTL_SECONDS: String(LEASE_TTL_S),
    DS2API_DEPENDENCY_START_TIMEOUT_SECONDS: "20",
    DS2API_POW_WORKERS: "1",
    // Never used with a database URL; a path of its own all the same, so no instance touches ./data.
    DS2API_DB_PATH: join(dir, `${id}.sqlite`),
    LOG_LEVEL: "info",
  });
  const start = (id: "a" | "b" | "c") => spawnServer([...sourceCommand(), "--port", "0", "--host", "127.0.0.1"], { cwd: repoRoot, env: env(id), timeoutMs: 60_000 });
  // a migrates the fresh database; b and c start together against it.
  instances.a = await start("a");
  [instances.b, instances.c] = await Promise.all([start("b"), start("c")]);
}, 120_000);

afterAll(async () => {
  for (const name of ["a", "b", "c"] as const) await instances[name]?.stop("SIGKILL").catch(() => undefined);
  await redis?.stop().catch(() => undefined);
  await pgCut?.stop();
  await sim?.stop();
});

describe("three instances on one Postgres and one Redis", () => {
  test("all three ready, each in redis mode, seeing the three", async () => {
    for (const name of ["a", "b", "c"] as const) {
      await until(async () => (await readyz(name)).json?.cluster?.instances === 3, 10_000, `${name} to see 3 instances`);
      const r = await readyz(name);
      expect(r.status).toBe(200);
      expect(r.json.cluster).toMatchObject({ mode: "redis", instance: name, database: { kind: "postgres", up: true }, redis: { up: true } });
    }
  });

  test("300 concurrent streams over a, b, c: ≤ 2 per account upstream, no 5xx, honest 429s, one login per account", async () => {
    const names = ["a", "b", "c"] as const;
    const outcomes = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const r = await chat(urlOf(names[i % 3]!), `load ${i}`, { stream: true });
        return { status: r.status, retryAfter: r.retryAfter, complete: r.status === 200 && r.text.includes("data: [DONE]") && !r.text.includes('"error"') };
      }),
    );
    const served = outcomes.filter((o) => o.status === 200);
    const refused = outcomes.filter((o) => o.status !== 200);
    expect(served.every((o) => o.complete)).toBe(true);
    expect(refused.map((o) => o.status).filter((s) => s !== 429)).toEqual([]);
    for (const o of refused) expect(Number(o.retryAfter)).toBeGreaterThanOrEqual(1);
    // The cluster's capacity (5 accounts × 2) plus every instance's full queue were served before any 429.
    expect(served.length).toBeGreaterThanOrEqual(ACCOUNTS.length * PER_ACCOUNT + 3 * QUEUE);
    const maxima = ACCOUNTS.map((a) => sim.state.concurrency(a.email).max);
    expect(Math.max(...maxima)).toBeLessThanOrEqual(PER_ACCOUNT);
    expect(Math.min(...maxima)).toBeGreaterThanOrEqual(1);
    expect(sim.state.counters.logins).toBe(ACCOUNTS.length);
  }, 60_000);

  test("a key added and an account disabled on a are honoured by b and c", async () => {
    const key = `sk-added-on-a-${randomBytes(4).toString("hex")}`;
    const added = await call(urlOf("a"), "POST", "/admin/keys", { key }, admin);
    expect(added.status).toBeLessThan(300);
    for (const name of ["b", "c"] as const) {
      await until(async () => (await chat(urlOf(name), "new key", { key })).status === 200, 5000, `${name} to accept the key added on a`);
    }
    const account = ACCOUNTS[4]!.email;
    const disabled = await call(urlOf("a"), "POST", `/admin/accounts/${encodeURIComponent(account)}/disable`, undefined, admin);
    expect(disabled.status).toBeLessThan(300);
    try {
      for (const name of ["b", "c"] as const) {
        await until(async () => (await readyz(name)).json?.capacity?.disabled === 1, 5000, `${name} to see the account disabled on a`);
        const pinned = await chat(urlOf(name), "pinned to a disabled account", { headers: { "x-ds2-target-account": account } });
        expect({ status: pinned.status, code: pinned.json?.error?.code }).toEqual({ status: 503, code: "account_unavailable" });
      }
    } finally {
      await call(urlOf("a"), "POST", `/admin/accounts/${encodeURIComponent(account)}/enable`, undefined, admin);
    }
    for (const name of ["b", "c"] as const) await until(async () => (await readyz(name)).json?.capacity?.disabled === 0, 5000, `${name} to see it enabled again`);
  }, 30_000);

  test("a previous_response_id made on a continues on b", async () => {
    const first = await call(urlOf("a"), "POST", "/v1/responses", { model: "deepseek-v4-flash", input: "remember the word PINEAPPLE" });
    expect(first.status).toBe(200);
    const next = await call(urlOf("b"), "POST", "/v1/responses", { model: "deepseek-v4-flash", input: "which word?", previous_response_id: first.json.id });
    expect(next.status).toBe(200);
    const prompt = JSON.stringify((sim.state.requestsTo(COMPLETION_PATH).at(-1)?.body as { prompt?: string })?.prompt ?? "");
    expect(prompt).toContain("PINEAPPLE");
    expect(prompt).toContain("which word?");
    const got = await call(urlOf("c"), "GET", `/v1/responses/${first.json.id}`);
    expect(got.status).toBe(200);
    expect(got.json.id).toBe(first.json.id);
  });

  test("kill -9 of c mid-stream: its leases expire within the TTL and the account serves again through a", async () => {
    const account = ACCOUNTS[0]!.email;
    const pin = { "x-ds2-target-account": account };
    // Two slow streams on c hold both of the account's leases.
    const held = [0, 1].map(() => chat(urlOf("c"), "SLOW stream on c", { stream: true, headers: pin }).catch(() => undefined));
    await until(async () => (await leasesOn("a", account)) === PER_ACCOUNT, 10_000, "a to see c's two leases");
    instances.c!.proc.kill("SIGKILL");
    await instances.c!.proc.exited;
    await Promise.all(held);
    await until(async () => (await leasesOn("a", account)) === 0, (LEASE_TTL_S + 1) * 1000 + 2000, "c's leases to expire");
    const r = await chat(urlOf("a"), "after the kill", { headers: pin });
    expect(r.status).toBe(200);
    await until(async () => (await readyz("a")).json?.cluster?.instances === 2, 10_000, "a to see two instances");
  }, 40_000);

  test("Redis killed: every surface 503 on a and b, /readyz says why; Redis back: 200", async () => {
    // An abrupt outage (kill -9); `stop()` would also release the server's folder, which the restart reuses.
    await redis.kill();
    try {
      for (const name of alive()) {
        await until(async () => (await readyz(name)).json?.status === "dependency_down", 10_000, `${name} to notice redis is down`);
        const r = await readyz(name);
        expect(r.status).toBe(503);
        expect(r.json.reason).toStartWith("redis unreachable");
        await expectOutageShapes(urlOf(name), "redis_unavailable");
      }
    } finally {
      await redis.restart();
    }
    for (const name of alive()) {
      await until(async () => (await readyz(name)).status === 200, 15_000, `${name} to be ready again after redis came back`);
      expect((await chat(urlOf(name), "after redis came back")).status).toBe(200);
    }
  }, 60_000);

  test("Postgres cut: database_unavailable in every surface, /readyz says why; back: 200", async () => {
    pgCut.cut();
    try {
      for (const name of alive()) {
        // A write needs the database: the first one that fails marks it down.
        await until(
          async () => {
            if ((await readyz(name)).json?.status === "dependency_down") return true;
            await call(urlOf(name), "POST", "/admin/keys", { key: `sk-poke-${randomBytes(4).toString("hex")}` }, admin);
            return (await readyz(name)).json?.status === "dependency_down";
          },
          15_000,
          `${name} to notice postgres is unreachable`,
        );
        const r = await readyz(name);
        expect(r.json.reason).toStartWith("database unreachable");
        await expectOutageShapes(urlOf(name), "database_unavailable");
      }
    } finally {
      pgCut.restore();
    }
    for (const name of alive()) {
      await until(async () => (await readyz(name)).status === 200, 15_000, `${name} to be ready again after postgres came back`);
      expect((await chat(urlOf(name), "after postgres came back")).status).toBe(200);
    }
  }, 60_000);
});
