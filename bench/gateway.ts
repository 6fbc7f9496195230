/**
 * Gateway overhead: ds2api against a lean reference gateway (bench/reference-gateway.ts: session, PoW, completion,
 * DeepSeek's SSE streamed back as is) in front of the same simulator process, measured in the same run, A and B
 * interleaved round by round so that machine noise hits both alike. Streamed chat completions, sequential and
 * concurrent: requests/s, p50 / p95 latency and the ratio ds2api / reference. ds2api does more per request
 * (auth, OpenAI framing, tool sieve, citations, usage) — the ratio is the price of that.
 * Usage: bun bench/gateway.ts [--requests 200] [--concurrency 8] [--rounds 3]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BenchProcesses, freePort, waitReady } from "./bench-support.ts";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg("--requests", 200);
const C = arg("--concurrency", 8);
const ROUNDS = arg("--rounds", 3);
const ACCOUNTS = 4;
const KEY = "sk-gateway-bench";
const root = join(import.meta.dir, "..");



async function one(url: string): Promise<number> {
  const t0 = performance.now();
  const r = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "deepseek-v4-flash", stream: true, messages: [{ role: "user", content: "benchmark" }] }),
  });
  if (r.status !== 200) throw new Error(`${url} answered ${r.status}: ${await r.text()}`);
  await r.arrayBuffer();
  return performance.now() - t0;
}

async function series(url: string, concurrency: number): Promise<{ rate: number; ms: number[] }> {
  const ms: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < N) {
        next++;
        ms.push(await one(url));
      }
    }),
  );
  return { rate: ms.length / ((performance.now() - t0) / 1000), ms };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const median = (xs: number[]) => pct(xs, 50);

const dir = mkdtempSync(join(tmpdir(), "ds2api-gateway-bench-"));
const children = new BenchProcesses(dir);
const spawn = (cmd: string[], env: Record<string, string> = {}) => children.spawn(cmd, env);
try {
  const { url: simUrl, logins } = await children.simulator(["--difficulty", "100", "--token-ms", "0"], ACCOUNTS);
  const accounts = logins.map((l) => ({ email: l.split(":")[0], password: l.split(":")[1] }));

  const dsPort = freePort();
  writeFileSync(join(dir, "config.json"), JSON.stringify({ keys: [KEY], accounts }));
  const ds = spawn([process.execPath, join(root, "src/main.ts")], {
    PORT: String(dsPort),
    HOST: "127.0.0.1",
    DS2API_ADMIN_KEY: "gateway-bench-admin-key",
    DS2API_DB_PATH: join(dir, "db.sqlite"),
    DS2API_CONFIG_PATH: join(dir, "config.json"),
    DS2API_DEEPSEEK_BASE_URL: simUrl,
    DS2API_ACCOUNT_MAX_INFLIGHT: "4",
  });
  const refPort = freePort();
  const ref = spawn([process.execPath, join(root, "bench/reference-gateway.ts"), String(refPort), simUrl, ...logins]);
  const dsUrl = `http://127.0.0.1:${dsPort}`;
  const refUrl = `http://127.0.0.1:${refPort}`;
  await Promise.all([waitReady(dsUrl, ds), waitReady(refUrl, ref)]);
  for (let i = 0; i < 20; i++) await Promise.all([one(dsUrl), one(refUrl)]); // warm-up (JIT, logins, PoW workers)

  for (const concurrency of [1, C]) {
    const figures = { ds: { rate: [] as number[], ms: [] as number[] }, ref: { rate: [] as number[], ms: [] as number[] } };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, url] of [["ref", refUrl], ["ds", dsUrl]] as const) {
        const s = await series(url, concurrency);
        figures[name].rate.push(s.rate);
        figures[name].ms.push(...s.ms);
      }
    }
    const label = concurrency === 1 ? "stream, sequential" : `stream, ${concurrency} concurrent`;
    const row = (name: string, f: { rate: number[]; ms: number[] }) =>
      `  ${name.padEnd(22)} ${median(f.rate).toFixed(1).padStart(7)} req/s  p50 ${median(f.ms).toFixed(1)} ms  p95 ${pct(f.ms, 95).toFixed(1)} ms`;
    console.log(`${label} (${ROUNDS} rounds × ${N} requests, medians)`);
    console.log(row("reference (baseline)", figures.ref));
    console.log(row("ds2api", figures.ds));
    console.log(`  ratio ds2api / reference: p50 latency ${(median(figures.ds.ms) / median(figures.ref.ms)).toFixed(2)}×, throughput ${(median(figures.ds.rate) / median(figures.ref.rate)).toFixed(2)}×`);
  }
} finally {
  await children.stopAll();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
