/**
 * Upstream transport cost: two ds2api gateways in front of the same simulator process, one with the native TLS
 * transport (impit, profile okhttp: the default) and one plain (Bun's fetch, with the addon made unloadable so it
 * is not in memory at all), measured in the same run, A and B interleaved round by round. Streamed chat
 * completions: time to the first SSE byte and to the end, p50 / p95, and the ratio native / plain; then each
 * gateway's resident memory (RSS) after the runs. The simulator speaks plain HTTP, so this is the transport's
 * HTTP and streaming path; the TLS handshake is paid once per keep-alive connection.
 * Usage: bun bench/transport.ts [--requests 100] [--rounds 3]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BenchProcesses, freePort, waitReady } from "./bench-support.ts";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg("--requests", 100);
const ROUNDS = arg("--rounds", 3);
const ACCOUNTS = 2;
const KEY = "sk-transport-bench";
const root = join(import.meta.dir, "..");

/** One streamed completion: ms to the first body byte and to the end. */
async function one(url: string): Promise<{ first: number; total: number }> {
  const t0 = performance.now();
  const r = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "deepseek-v4-flash", stream: true, messages: [{ role: "user", content: "benchmark" }] }),
  });
  if (r.status !== 200) throw new Error(`${url} answered ${r.status}: ${await r.text()}`);
  const reader = r.body!.getReader();
  let first = NaN;
  for (;;) {
    const x = await reader.read();
    if (Number.isNaN(first)) first = performance.now() - t0;
    if (x.done) break;
  }
  return { first, total: performance.now() - t0 };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

const dir = mkdtempSync(join(tmpdir(), "ds2api-transport-bench-"));
const children = new BenchProcesses(dir);
try {
  const { url: simUrl, logins } = await children.simulator(["--difficulty", "100", "--token-ms", "1"], ACCOUNTS);
  const accounts = logins.map((l) => ({ email: l.split(":")[0], password: l.split(":")[1] }));
  writeFileSync(join(dir, "config.json"), JSON.stringify({ keys: [KEY], accounts }));
  const gateway = (name: string, env: Record<string, string>) => {
    const port = freePort();
    const proc = children.spawn([process.execPath, join(root, "src/main.ts")], {
      PORT: String(port),
      HOST: "127.0.0.1",
      DS2API_ADMIN_KEY: "transport-bench-admin-key",
      DS2API_DB_PATH: join(dir, `${name}.sqlite`),
      DS2API_CONFIG_PATH: join(dir, "config.json"),
      DS2API_DEEPSEEK_BASE_URL: simUrl,
      ...env,
    });
    return { name, url: `http://127.0.0.1:${port}`, proc };
  };
  const native = gateway("native", { DS2API_TLS_PROFILE: "okhttp" });
  // Plain, and the addon cannot load: nothing of it in this process's memory.
  const plain = gateway("plain", { DS2API_TLS_PROFILE: "plain", NAPI_RS_NATIVE_LIBRARY_PATH: join(dir, "no-addon.node") });
  await Promise.all([waitReady(native.url, native.proc), waitReady(plain.url, plain.proc)]);
  const tls = async (url: string) => ((await (await fetch(`${url}/readyz`)).json()) as { providers: { deepseek: { tls: { in_use: string; native: boolean } } } }).providers.deepseek.tls;
  console.log(`native gateway TLS: ${JSON.stringify(await tls(native.url))}`);
  console.log(`plain gateway TLS:  ${JSON.stringify(await tls(plain.url))}`);
  for (let i = 0; i < 20; i++) await Promise.all([one(native.url), one(plain.url)]); // warm-up (JIT, logins, PoW workers)

  const figures = { native: { first: [] as number[], total: [] as number[] }, plain: { first: [] as number[], total: [] as number[] } };
  for (let round = 0; round < ROUNDS; round++) {
    for (const g of round % 2 ? [native, plain] : [plain, native]) {
      for (let i = 0; i < N; i++) {
        const r = await one(g.url);
        figures[g.name as "native" | "plain"].first.push(r.first);
        figures[g.name as "native" | "plain"].total.push(r.total);
      }
    }
  }
  const row = (label: string, f: { first: number[]; total: number[] }) =>
    `  ${label.padEnd(28)} first byte p50 ${pct(f.first, 50).toFixed(2)} ms  p95 ${pct(f.first, 95).toFixed(2)} ms   total p50 ${pct(f.total, 50).toFixed(2)} ms  p95 ${pct(f.total, 95).toFixed(2)} ms`;
  console.log(`streamed completion, sequential (${ROUNDS} rounds × ${N} requests per gateway)`);
  console.log(row("plain, Bun fetch (baseline)", figures.plain));
  console.log(row("native, impit okhttp", figures.native));
  console.log(
    `  ratio native / plain: first byte p50 ${(pct(figures.native.first, 50) / pct(figures.plain.first, 50)).toFixed(2)}×, total p50 ${(pct(figures.native.total, 50) / pct(figures.plain.total, 50)).toFixed(2)}×, total p95 ${(pct(figures.native.total, 95) / pct(figures.plain.total, 95)).toFixed(2)}×`,
  );
  const [rn, rp] = [rssMb(native.proc.pid), rssMb(plain.proc.pid)];
  console.log(`RSS after the runs: plain (addon not loaded, baseline) ${rp.toFixed(1)} MB, native (addon loaded) ${rn.toFixed(1)} MB, ratio ${(rn / rp).toFixed(2)}× (+${(rn - rp).toFixed(1)} MB)`);
} finally {
  await children.stopAll();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
