/**
 * Gateway overhead against the in-process simulator (no network, tiny PoW): requests/s and latency for
 * non-stream and stream chat completions, sequential and concurrent, plus time-to-first-token.
 * Usage: bun bench/gateway.ts [--requests 200] [--concurrency 8]
 */
import { API_KEY, startStack } from "../tests/support/stack.ts";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg("--requests", 200);
const C = arg("--concurrency", 8);

const stack = await startStack({ accounts: 4, env: { DS2API_ACCOUNT_MAX_INFLIGHT: "4", LOG_LEVEL: "error" } });
stack.sim.state.setDefaultReply({ thinking: "Short reasoning for the benchmark.", answer: "A short answer of a few words, streamed in odd chunks." });

const body = (stream: boolean) =>
  JSON.stringify({ model: "deepseek-v4-flash", stream, messages: [{ role: "user", content: "benchmark" }] });

async function one(stream: boolean): Promise<{ ms: number; ttft: number }> {
  const t0 = performance.now();
  const r = await fetch(`${stack.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" }, body: body(stream) });
  if (!stream) {
    await r.json();
    const ms = performance.now() - t0;
    return { ms, ttft: ms };
  }
  const reader = r.body!.getReader();
  let ttft = 0;
  const dec = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!ttft && dec.decode(value).includes("reasoning_content")) ttft = performance.now() - t0;
  }
  return { ms: performance.now() - t0, ttft };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function run(label: string, stream: boolean, concurrency: number) {
  for (let i = 0; i < 10; i++) await one(stream); // warm up
  const results: { ms: number; ttft: number }[] = [];
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < N) {
        next++;
        results.push(await one(stream));
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const ms = results.map((r) => r.ms);
  const ttft = results.map((r) => r.ttft);
  console.log(
    `${label.padEnd(28)} ${String(results.length).padStart(4)} req  ${(results.length / wall).toFixed(1).padStart(7)} req/s  p50 ${pct(ms, 50).toFixed(1)} ms  p95 ${pct(ms, 95).toFixed(1)} ms` +
      (stream ? `  ttft p50 ${pct(ttft, 50).toFixed(1)} ms` : ""),
  );
}

await run("non-stream, sequential", false, 1);
await run(`non-stream, ${C} concurrent`, false, C);
await run("stream, sequential", true, 1);
await run(`stream, ${C} concurrent`, true, C);
await stack.stop();
process.exit(0);
