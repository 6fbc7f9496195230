/**
 * Event-loop stalls: how much one hostile request delays other clients. The server runs as its own process
 * (the simulator as upstream lives in this process); a sampler in a worker thread polls /healthz every few ms
 * and reports the worst latency while each case runs (median over repeats), next to the same figure for idle
 * windows measured in the same run (the baseline).
 * Last, N sockets send headers and then their body a byte per second (slowloris): the bench reports how many the
 * server closed within the body deadline (DS2API_BODY_TIMEOUT_SECONDS=5 here) plus a margin.
 * With --stub-tokenizer the server counts tokens with the character estimate (bench/stub-tokenizer.ts), which
 * shows the stalls that remain besides the tokenizer.
 * Usage: bun bench/stall.ts [--repeat 5] [--idle-ms 300] [--only name,name] [--slow-sockets 2000] [--stub-tokenizer]
 */
import { connect } from "node:net";
import { startSimulator } from "../src/sim/index.ts";
import { sourceCommand } from "../tests/support/spawn-server.ts";
import { repoRoot } from "../tests/support/test-server.ts";

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const REPEAT = Number(arg("--repeat", "5"));
const IDLE_MS = Number(arg("--idle-ms", "300"));
const ONLY = arg("--only", "").split(",").filter(Boolean);
const SLOW_SOCKETS = Number(arg("--slow-sockets", "2000"));
const BODY_TIMEOUT_S = 5;
const STUB_TOKENIZER = process.argv.includes("--stub-tokenizer");

const KEY = "sk-stall-bench";
const account = { email: "stall@example.com", password: "pw" };
const sim = await startSimulator({ powDifficulty: 500, accounts: [account] });
sim.state.setDefaultReply({ thinking: "Short.", answer: "A short answer." });
// A free port: the access log is off (LOG_LEVEL=warn), so readiness is polled instead of read from the log.
const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
const port = probe.port!;
await probe.stop(true);
const [bun, main] = sourceCommand();
const proc = Bun.spawn(STUB_TOKENIZER ? [bun!, "--preload", `${repoRoot}bench/stub-tokenizer.ts`, main!] : [bun!, main!], {
  cwd: repoRoot,
  stdin: "ignore",
  stdout: "inherit",
  stderr: "inherit",
  env: {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
    PORT: String(port),
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    DS2API_DB_PATH: ":memory:",
    DS2API_ADMIN_KEY: "stall-admin",
    DS2API_DEEPSEEK_BASE_URL: sim.url,
    DS2API_POW_WORKERS: "1",
    DS2API_BODY_TIMEOUT_SECONDS: String(BODY_TIMEOUT_S),
    DS2API_CONFIG_JSON: JSON.stringify({ keys: [KEY], accounts: [account] }),
  },
});
const server = { url: `http://127.0.0.1:${port}`, stop: () => (proc.kill(), proc.exited) };
for (let i = 0; ; i++) {
  const up = await fetch(`${server.url}/healthz`).then((r) => r.ok, () => false);
  if (up) break;
  if (i > 300 || proc.exitCode !== null) throw new Error("the server did not start");
  await Bun.sleep(50);
}

// The sampler runs on its own thread so this process's work (building bodies, the simulator) does not count.
const samplerSource = `
  let url, running = false, worst = 0, samples = 0, failures = 0;
  self.onmessage = async (e) => {
    const m = e.data;
    if (m.type === "start") { url = m.url; running = true; loop(); }
    else if (m.type === "window") { worst = 0; samples = 0; failures = 0; postMessage({ type: "opened" }); }
    else if (m.type === "read") postMessage({ type: "result", worst, samples, failures });
    else if (m.type === "stop") { running = false; postMessage({ type: "stopped" }); }
  };
  async function loop() {
    while (running) {
      const t0 = performance.now();
      try { const r = await fetch(url); await r.arrayBuffer(); if (r.status !== 200) failures++; } catch { failures++; }
      const ms = performance.now() - t0;
      samples++;
      if (ms > worst) worst = ms;
      await new Promise((r) => setTimeout(r, 3));
    }
  }
`;
const sampler = new Worker(URL.createObjectURL(new Blob([samplerSource], { type: "application/javascript" })));
const ask = <T,>(msg: object, reply: string) =>
  new Promise<T>((resolve) => {
    const on = (e: MessageEvent) => {
      if (e.data.type !== reply) return;
      sampler.removeEventListener("message", on);
      resolve(e.data as T);
    };
    sampler.addEventListener("message", on);
    sampler.postMessage(msg);
  });
sampler.postMessage({ type: "start", url: `${server.url}/healthz` });

type Window = { worst: number; samples: number; failures: number };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function measure(during: () => Promise<string>): Promise<Window & { note: string; ms: number }> {
  await ask({ type: "window" }, "opened");
  await Bun.sleep(30);
  const t0 = performance.now();
  const note = await during();
  const ms = performance.now() - t0;
  await Bun.sleep(30);
  return { ...(await ask<Window>({ type: "read" }, "result")), note, ms };
}

const auth = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
async function post(path: string, body: string | Uint8Array<ArrayBuffer>): Promise<string> {
  const r = await fetch(`${server.url}${path}`, { method: "POST", headers: auth, body });
  const text = await r.text();
  const detail = r.status === 200 ? "" : ` ${text.slice(0, 90)}`;
  return `${r.status}${detail}`;
}

const words = (n: number) => {
  const base = "The quick brown fox jumps over the lazy dog while 42 stars shine (and some emoji 🙂) — ";
  return base.repeat(Math.ceil(n / base.length)).slice(0, n);
};
const chat = (content: string, stream = false) => JSON.stringify({ model: "deepseek-v4-flash", stream, messages: [{ role: "user", content }] });
const anthropicCount = (content: string) => JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content }] });
const text200k = words(200_000);
// Bodies are built before any measurement: building them here must not compete with the server for the CPU.
const body = (path: string, text: string) => {
  const bytes = new TextEncoder().encode(text);
  return () => post(path, bytes);
};
const cases: { name: string; run: () => Promise<string> }[] = [
  { name: "small chat (reference)", run: body("/v1/chat/completions", chat("hello")) },
  { name: "count_tokens 10 MiB string", run: body("/v1/messages/count_tokens", anthropicCount("a".repeat(10 * 1024 * 1024))) },
  { name: "chat, 100000-level nesting", run: body("/v1/chat/completions", `{"model":"deepseek-v4-flash","messages":${"[".repeat(100_000)}${"]".repeat(100_000)}}`) },
  { name: "chat 200k chars, non-stream", run: body("/v1/chat/completions", chat(text200k)) },
  { name: "chat 200k chars, stream", run: body("/v1/chat/completions", chat(text200k, true)) },
  { name: "count_tokens 200k chars", run: body("/v1/messages/count_tokens", anthropicCount(text200k)) },
  { name: "gemini countTokens 200k chars", run: body("/v1beta/models/gemini-2.5-flash:countTokens", JSON.stringify({ contents: [{ role: "user", parts: [{ text: text200k }] }] })) },
  { name: "count_tokens 2 MiB", run: body("/v1/messages/count_tokens", anthropicCount(words(2 * 1024 * 1024))) },
  {
    name: "/metrics, 15 KB spaced bearer",
    run: async () => {
      const r = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer a${" ".repeat(15_000)}b` } });
      await r.arrayBuffer();
      return String(r.status);
    },
  },
].filter((c) => !ONLY.length || ONLY.some((o) => c.name.includes(o)));

/** Slow bodies on N sockets (half with a valid key, half without); how many the server closes in time. */
async function slowSockets(n: number) {
  let closedByServer = 0;
  const sockets = Array.from({ length: n }, (_, i) => {
    const s = connect(port, "127.0.0.1");
    s.on("error", () => {});
    s.on("close", () => closedByServer++);
    const key = i % 2 ? `Authorization: Bearer ${KEY}\r\n` : "";
    s.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n${key}Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`);
    return s;
  });
  const drip = setInterval(() => {
    for (const s of sockets) if (!s.destroyed) s.write(" ");
  }, 1000);
  const w = await measure(async () => {
    const deadline = performance.now() + (BODY_TIMEOUT_S + 5) * 1000;
    while (closedByServer < n && performance.now() < deadline) await Bun.sleep(100);
    return `${closedByServer}/${n} closed`;
  });
  clearInterval(drip);
  for (const s of sockets) s.destroy();
  console.log(
    `\n${n} slow-body sockets (a byte per second; body deadline ${BODY_TIMEOUT_S} s): ${w.note} by the server within ${(w.ms / 1000).toFixed(1)} s; worst /healthz meanwhile ${w.worst.toFixed(1)} ms${w.failures ? ` (${w.failures} failed)` : ""}`,
  );
}

try {
  // Warm up: first requests load the tokenizer, the PoW kernel and the JIT.
  for (let i = 0; i < 3; i++) {
    await post("/v1/chat/completions", chat("warm up"));
    await post("/v1/messages/count_tokens", anthropicCount("warm up"));
  }
  await Bun.sleep(200);
  // The machine may be shared: every figure is the median over repeats of the worst latency in one window.
  const idle: number[] = [];
  for (let i = 0; i < Math.max(5, REPEAT); i++) {
    idle.push(
      (
        await measure(async () => {
          await Bun.sleep(IDLE_MS);
          return "idle";
        })
      ).worst,
    );
  }
  const baseline = Math.max(median(idle), 0.1);
  if (STUB_TOKENIZER) console.log("tokenizer stubbed: token counts are the character estimate\n");
  console.log(`baseline: worst /healthz latency in ${IDLE_MS} ms with no hostile request: median ${baseline.toFixed(1)} ms, max ${Math.max(...idle).toFixed(1)} ms (${idle.length} windows)\n`);
  console.log(`${"case".padEnd(32)} ${"status".padEnd(12)} ${"request".padStart(9)}  ${"worst /healthz".padStart(14)}  ${"× baseline".padStart(10)}  ${"max".padStart(9)}`);
  for (const c of cases) {
    const runs: (Window & { note: string; ms: number })[] = [];
    for (let i = 0; i < REPEAT; i++) {
      runs.push(await measure(c.run));
      await Bun.sleep(100);
    }
    const worst = median(runs.map((r) => r.worst));
    const ms = median(runs.map((r) => r.ms));
    const note = runs[runs.length - 1]!.note;
    const failures = runs.reduce((n, r) => n + r.failures, 0);
    console.log(
      `${c.name.padEnd(32)} ${note.slice(0, 12).padEnd(12)} ${`${ms.toFixed(0)} ms`.padStart(9)}  ${`${worst.toFixed(1)} ms`.padStart(14)}  ${(worst / baseline).toFixed(1).padStart(10)}  ${`${Math.max(...runs.map((r) => r.worst)).toFixed(1)} ms`.padStart(9)}${failures ? ` (${failures} /healthz failed)` : ""}`,
    );
    if (note.length > 12) console.log(`    ${note}`);
  }
  if (SLOW_SOCKETS > 0) await slowSockets(SLOW_SOCKETS);
} finally {
  await ask({ type: "stop" }, "stopped");
  sampler.terminate();
  await server.stop();
  await sim.stop();
}
process.exit(0);
