/**
 * Where RSS goes: ds2api as a child process (from source, and dist/ds2api when built) against a lean reference
 * gateway (bench/reference-gateway.ts) doing the same upstream work, both in front of the same simulator
 * process (bench/sim-server.ts), measured in the same run. Phases: idle (2 s after /readyz), after the first
 * chat, warmed up (3 s after 16 more sequential chats), peak during 16 concurrent streams, and 3 s (--settle) after each of two bursts of 160 streamed chats (16 at a time).
 * RSS is VmRSS from /proc/<pid>/status.
 * Usage: bun bench/memory.ts [--no-dist] [--smol] [--settle seconds] [--env NAME=value]... [--binary other/ds2api]...
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { BenchProcesses, freePort, waitReady } from "./bench-support.ts";

const root = join(import.meta.dir, "..");
const ACCOUNTS = 4;
const STREAMS = 16;
const flags = process.argv.slice(2);
const extraEnv = Object.fromEntries(flags.flatMap((a, i) => (flags[i - 1] === "--env" ? [a.split("=", 2) as [string, string]] : [])));
const smol = flags.includes("--smol");
/** Seconds to wait after each burst before reading RSS (default 3). */
const settleS = flags.includes("--settle") ? Number(flags[flags.indexOf("--settle") + 1]) : 3;

const rssMiB = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
};



async function chat(url: string, key: string): Promise<void> {
  const r = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "deepseek-v4-flash", stream: true, messages: [{ role: "user", content: "Tell me something for the memory benchmark. ".repeat(20) }] }),
  });
  if (r.status !== 200) throw new Error(`chat answered ${r.status}: ${await r.text()}`);
  await r.text();
}

interface Figures {
  idle: number;
  firstChat: number;
  /** After 16 more sequential chats (JIT tier-up and the tokenizer cache warmed): the post-warm-up figure. */
  warmedUp: number;
  streamsPeak: number;
  afterBurst: number;
  afterBurst2: number;
  /** Wall time of the first chat (2 s after start), ms: not RSS. */
  firstChatMs: number;
}

async function measure(proc: Subprocess, url: string, key: string): Promise<Figures> {
  await waitReady(url, proc);
  await Bun.sleep(2000);
  const idle = rssMiB(proc.pid);
  const t0 = performance.now();
  await chat(url, key);
  const firstChatMs = performance.now() - t0;
  await Bun.sleep(1000);
  const firstChat = rssMiB(proc.pid);
  for (let i = 0; i < 16; i++) await chat(url, key);
  await Bun.sleep(3000);
  const warmedUp = rssMiB(proc.pid);
  let streamsPeak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      streamsPeak = Math.max(streamsPeak, rssMiB(proc.pid));
      await Bun.sleep(25);
    }
  })();
  await Promise.all(Array.from({ length: STREAMS }, () => chat(url, key)));
  sampling = false;
  await sampler;
  const burst = async () => {
    for (let round = 0; round < 10; round++) await Promise.all(Array.from({ length: STREAMS }, () => chat(url, key)));
    await Bun.sleep(settleS * 1000);
    return rssMiB(proc.pid);
  };
  const afterBurst = await burst();
  const afterBurst2 = await burst();
  return { idle, firstChat, warmedUp, streamsPeak, afterBurst, afterBurst2, firstChatMs };
}

const dir = mkdtempSync(join(tmpdir(), "ds2api-memory-"));
const children = new BenchProcesses(dir);
const spawn = (cmd: string[], env: Record<string, string> = {}) => children.spawn(cmd, env);
try {
  const { url: simUrl, logins } = await children.simulator([], ACCOUNTS);
  const accounts = logins.map((l) => ({ email: l.split(":")[0], password: l.split(":")[1] }));
  const KEY = "sk-memory-bench";

  const results: [string, Figures][] = [];
  {
    const port = freePort();
    const ref = spawn([process.execPath, ...(smol ? ["--smol"] : []), join(root, "bench/reference-gateway.ts"), String(port), simUrl, ...logins]);
    results.push(["reference gateway (baseline)", await measure(ref, `http://127.0.0.1:${port}`, KEY)]);
    ref.kill();
    await ref.exited;
  }
  const variants: [string, (port: number) => string[]][] = [["ds2api from source", (port) => [process.execPath, ...(smol ? ["--smol"] : []), "run", join(root, "src/main.ts"), "--port", String(port), "--host", "127.0.0.1"]]];
  const dist = join(root, "dist/ds2api");
  if (!flags.includes("--no-dist") && existsSync(dist)) variants.push(["dist/ds2api", (port) => [dist, "--port", String(port), "--host", "127.0.0.1"]]);
  for (const bin of flags.filter((a, i) => flags[i - 1] === "--binary")) variants.push([bin, (port) => [bin, "--port", String(port), "--host", "127.0.0.1"]]);
  for (const [name, cmd] of variants) {
    const sub = mkdtempSync(join(dir, "run-"));
    writeFileSync(join(sub, "config.json"), JSON.stringify({ keys: [KEY], accounts }));
    const port = freePort();
    const p = spawn(cmd(port), {
      DS2API_DB_PATH: join(sub, "db.sqlite"),
      DS2API_CONFIG_PATH: join(sub, "config.json"),
      DS2API_ADMIN_KEY: "bench-admin",
      DS2API_DEEPSEEK_BASE_URL: simUrl,
      DS2API_ACCOUNT_MAX_INFLIGHT: String(STREAMS / ACCOUNTS),
      ...extraEnv,
    });
    results.push([name, await measure(p, `http://127.0.0.1:${port}`, KEY)]);
    p.kill();
    await p.exited;
  }
  const base = results[0]![1];
  const cols: [keyof Figures, string][] = [["idle", "idle"], ["firstChat", "after 1st chat"], ["warmedUp", "warmed up"], ["streamsPeak", `${STREAMS} streams (peak)`], ["afterBurst", "after burst"], ["afterBurst2", "after 2nd burst"]];
  console.log(`RSS in MiB${smol ? " (bun --smol)" : ""}${Object.keys(extraEnv).length ? ` env ${JSON.stringify(extraEnv)}` : ""}`);
  console.log("".padEnd(30) + cols.map(([, h]) => h.padStart(19)).join(""));
  for (const [name, f] of results) {
    console.log(name.padEnd(30) + cols.map(([k]) => `${f[k].toFixed(1)}${name === results[0]![0] ? "" : ` (${(f[k] / base[k]).toFixed(2)}×)`}`.padStart(19)).join(""));
  }
  for (const [name, f] of results.slice(1)) {
    const pct = (a: number, b: number) => `${a >= b ? "+" : ""}${(((a - b) / b) * 100).toFixed(1)}%`;
    console.log(`${name}: first chat ${f.firstChatMs.toFixed(0)} ms (reference ${base.firstChatMs.toFixed(0)} ms); after-1st-chat/idle ${(f.firstChat / f.idle).toFixed(2)}×; vs warmed up: after burst ${pct(f.afterBurst, f.warmedUp)}, after 2nd burst ${pct(f.afterBurst2, f.warmedUp)} (vs after 1st chat: ${pct(f.afterBurst, f.firstChat)}, ${pct(f.afterBurst2, f.firstChat)})`);
  }
} finally {
  await children.stopAll();
  rmSync(dir, { recursive: true, force: true });
}
