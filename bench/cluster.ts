/**
 * Several instances vs one: bench/load.ts's load (concurrent streaming chats against a small account pool, the
 * simulator upstream) on one instance with sqlite — the baseline, measured in the same run — and on three
 * instances sharing Postgres and Redis behind a round-robin client. Prints req/s, p50/p95 and the latency the
 * cluster adds to one request (Redis lease acquire/release, heartbeat, PUBLISH; expected +1–2 ms), and checks
 * the promises: no account ever streams more than the per-account limit, every request ends complete or 429.
 *   bun bench/cluster.ts [--streams 300] [--accounts 5] [--per-account 2] [--sequential 60]
 * Exits 1 when a limit was exceeded or a request ended any other way.
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { postgresForTests } from "../tests/support/postgres.ts";
import { redisForTests } from "../tests/support/redis.ts";
import { startSim } from "../tests/support/sim.ts";
import { sourceCommand } from "../tests/support/spawn-server.ts";
import { tempDir } from "../tests/support/test-server.ts";
import type { RunningSimulator } from "../src/sim/index.ts";
import { BenchProcesses, freePort, waitReady } from "./bench-support.ts";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const STREAMS = arg("--streams", 300);

// Clients and the servers' upstream calls must not be starved by Bun's fetch connection cap (256 by default).
if (!process.env.BUN_CONFIG_MAX_HTTP_REQUESTS) {
  const child = Bun.spawn([process.execPath, ...process.argv.slice(1)], {
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: String(STREAMS * 3 + 64) },
    stdio: ["inherit", "inherit", "inherit"],
  });
  process.exit(await child.exited);
}
const ACCOUNTS = arg("--accounts", 5);
const PER_ACCOUNT = arg("--per-account", 2);
const SEQUENTIAL = arg("--sequential", 60);
const API_KEY = "sk-bench-cluster";
const accounts = Array.from({ length: ACCOUNTS }, (_, i) => ({ email: `user${i}@example.com`, password: `pw-${i}` }));

interface Outcome {
  status: number;
  complete: boolean;
  ms: number;
}

interface Figures {
  label: string;
  seqP50: number;
  seqP95: number;
  rate: number;
  p50: number;
  p95: number;
  complete: number;
  limited: number;
  other: number;
  maxPerAccount: number;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

async function one(url: string): Promise<Outcome> {
  const t0 = performance.now();
  const r = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "deepseek-v4-flash", stream: true, messages: [{ role: "user", content: "load" }] }),
  });
  const text = await r.text();
  return { status: r.status, complete: r.status === 200 && text.includes("data: [DONE]"), ms: performance.now() - t0 };
}

async function simulator(): Promise<RunningSimulator> {
  const sim = await startSim({ accounts, powDifficulty: 500 });
  sim.state.setDefaultReply({ thinking: "Reasoning under load.", answer: "An answer streamed in many small pieces under load.", tokenDelayMs: 2 });
  return sim;
}

function baseEnv(sim: RunningSimulator): Record<string, string> {
  return {
    DS2API_ADMIN_KEY: "bench-admin",
    DS2API_CONFIG_JSON: JSON.stringify({ keys: [API_KEY], accounts }),
    DS2API_DEEPSEEK_BASE_URL: sim.url,
    DS2API_ACCOUNT_MAX_INFLIGHT: String(PER_ACCOUNT),
    // Per instance: every request may wait (the bench measures throughput, not refusals).
    DS2API_ACCOUNT_MAX_QUEUE: String(STREAMS),
    DS2API_POW_WORKERS: "1",
    LOG_LEVEL: "error",
  };
}

const dir = tempDir("ds2api-bench-cluster-");
const procs = new BenchProcesses(dir);

/** One ds2api process on a free port (LOG_LEVEL error: no access log in the measurement), once /readyz answers 200. */
async function start(env: Record<string, string>): Promise<string> {
  const port = freePort();
  const proc = procs.spawn([...sourceCommand(), "--port", String(port), "--host", "127.0.0.1"], env);
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, proc);
  return url;
}

/** Sequential requests (latency of one request alone), then the burst (throughput), spread over `urls`. */
async function measure(label: string, urls: string[], sim: RunningSimulator): Promise<Figures> {
  for (let i = 0; i < 10; i++) await one(urls[i % urls.length]!); // warm-up: logins, PoW workers, connections
  const sequential: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) sequential.push((await one(urls[i % urls.length]!)).ms);
  const c0 = performance.now();
  const burst = await Promise.all(Array.from({ length: STREAMS }, (_, i) => one(urls[i % urls.length]!)));
  const rate = burst.length / ((performance.now() - c0) / 1000);
  const complete = burst.filter((o) => o.complete).length;
  const limited = burst.filter((o) => o.status === 429).length;
  return {
    label,
    seqP50: pct(sequential, 50),
    seqP95: pct(sequential, 95),
    rate,
    p50: pct(burst.map((o) => o.ms), 50),
    p95: pct(burst.map((o) => o.ms), 95),
    complete,
    limited,
    other: burst.length - complete - limited,
    maxPerAccount: Math.max(...[...sim.state.accounts.keys()].map((id) => sim.state.concurrency(id).max)),
  };
}

function print(f: Figures): void {
  console.log(
    `${f.label.padEnd(34)} one request p50 ${f.seqP50.toFixed(1).padStart(6)} ms p95 ${f.seqP95.toFixed(1).padStart(6)} ms | ` +
      `${STREAMS} concurrent ${f.rate.toFixed(1).padStart(6)} req/s p50 ${f.p50.toFixed(0).padStart(5)} ms p95 ${f.p95.toFixed(0).padStart(5)} ms | ` +
      `${f.complete} complete, ${f.limited} 429, ${f.other} other | max ${f.maxPerAccount}/account upstream`,
  );
}

/** ms until `url` accepts `key` (polled every 5 ms). */
async function acceptedAfter(url: string, key: string, t0: number): Promise<number> {
  for (;;) {
    const r = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    await r.arrayBuffer();
    if (r.status === 200) return performance.now() - t0;
    await Bun.sleep(5);
  }
}

/**
 * How long an admin write made on one instance takes to be served by the others (change event over Redis, their
 * views reloaded from Postgres), next to the same write served by the instance that made it.
 */
async function propagation(servers: string[], rounds = 10): Promise<{ own: number[]; others: number[] }> {
  const own: number[] = [];
  const others: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const key = `sk-bench-propagation-${i}-${randomBytes(4).toString("hex")}`;
    const t0 = performance.now();
    const r = await fetch(`${servers[0]}/admin/keys`, { method: "POST", headers: { authorization: "Bearer bench-admin", "content-type": "application/json" }, body: JSON.stringify({ key }) });
    await r.arrayBuffer();
    if (r.status >= 300) throw new Error(`adding a key answered ${r.status}`);
    const seen = await Promise.all(servers.map((u) => acceptedAfter(u, key, t0)));
    own.push(seen[0]!);
    others.push(...seen.slice(1));
  }
  return { own, others };
}

const cleanup: (() => Promise<unknown>)[] = [];
let failed = false;
try {
  // Baseline: one instance, sqlite.
  const simOne = await simulator();
  cleanup.push(() => simOne.stop());
  const single = await start({ ...baseEnv(simOne), DS2API_DB_PATH: join(dir, "single.sqlite") });
  const base = await measure("1 instance, sqlite (baseline)", [single], simOne);
  print(base);

  // Three instances on Postgres + Redis.
  const pg = await postgresForTests();
  cleanup.push(() => pg.stop());
  const redis = await redisForTests();
  cleanup.push(() => redis.stop());
  const simMany = await simulator();
  cleanup.push(() => simMany.stop());
  const env = {
    ...baseEnv(simMany),
    DS2API_DATABASE_URL: await pg.freshDatabase("bench"),
    DS2API_REDIS_URL: redis.url,
    DS2API_SECRET_KEY: randomBytes(32).toString("base64"),
  };
  const servers: string[] = [];
  for (const id of ["a", "b", "c"]) servers.push(await start({ ...env, DS2API_INSTANCE_ID: id, DS2API_DB_PATH: join(dir, `${id}.sqlite`) }));
  const many = await measure("3 instances, Postgres + Redis", servers, simMany);
  print(many);
  // One request alone through one instance of the cluster, for the latency added per request.
  const oneOfMany = await measure("1 of the 3 (same cluster)", [servers[0]!], simMany);
  print(oneOfMany);
  const spread = await propagation(servers);
  console.log(
    `admin write on a → served by b and c: p50 ${pct(spread.others, 50).toFixed(1)} ms, max ${Math.max(...spread.others).toFixed(1)} ms ` +
      `(served by a itself: p50 ${pct(spread.own, 50).toFixed(1)} ms) over ${spread.own.length} writes`,
  );

  console.log(
    `cluster vs baseline: throughput ${(many.rate / base.rate).toFixed(2)}×, ` +
      `added latency per request p50 ${(oneOfMany.seqP50 - base.seqP50).toFixed(1)} ms (${base.seqP50.toFixed(1)} → ${oneOfMany.seqP50.toFixed(1)} ms), ` +
      `p95 ${(oneOfMany.seqP95 - base.seqP95).toFixed(1)} ms`,
  );
  failed = [base, many, oneOfMany].some((f) => f.maxPerAccount > PER_ACCOUNT || f.other > 0);
  if (failed) console.log("cluster bench: FAILED (limit exceeded or a request ended badly)");
} finally {
  // The instances first (they would log their dependencies going away), then what they ran on.
  await procs.stopAll().catch(() => undefined);
  for (const stop of cleanup.reverse()) await stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
