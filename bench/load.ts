/**
 * Load: many concurrent streaming chats against a small account pool (simulator upstream). Checks what the
 * pool promises under pressure — no account ever has more streams open upstream than the per-account limit,
 * every request ends with a complete stream or an honest 429 — and prints throughput and latency next to a
 * baseline of the same requests sent one at a time in the same run.
 *   bun bench/load.ts [--streams 500] [--accounts 4] [--per-account 2]
 * Exits 1 when a limit was exceeded or a request ended any other way.
 */
import { API_KEY, startStack } from "../tests/support/stack.ts";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const STREAMS = arg("--streams", 500);

// Clients, server and simulator share this process's fetch connection cap (256 by default); raise it so the
// server's upstream calls are not starved by the clients' own connections.
if (!process.env.BUN_CONFIG_MAX_HTTP_REQUESTS) {
  const child = Bun.spawn([process.execPath, ...process.argv.slice(1)], {
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: String(STREAMS * 3 + 64) },
    stdio: ["inherit", "inherit", "inherit"],
  });
  process.exit(await child.exited);
}
const ACCOUNTS = arg("--accounts", 4);
const PER_ACCOUNT = arg("--per-account", 2);

const stack = await startStack({
  accounts: ACCOUNTS,
  env: { DS2API_ACCOUNT_MAX_INFLIGHT: String(PER_ACCOUNT), DS2API_ACCOUNT_MAX_QUEUE: String(STREAMS), LOG_LEVEL: "error" },
});
stack.sim.state.setDefaultReply({ thinking: "Reasoning under load.", answer: "An answer streamed in many small pieces under load.", tokenDelayMs: 2 });

interface Outcome {
  status: number;
  complete: boolean;
  ms: number;
}

async function one(): Promise<Outcome> {
  const t0 = performance.now();
  const r = await fetch(`${stack.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "deepseek-v4-flash", stream: true, messages: [{ role: "user", content: "load" }] }),
  });
  const text = await r.text();
  return { status: r.status, complete: r.status === 200 && text.includes("data: [DONE]"), ms: performance.now() - t0 };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

let failed = false;
try {
  for (let i = 0; i < 10; i++) await one(); // warm-up
  const sequential: Outcome[] = [];
  const s0 = performance.now();
  for (let i = 0; i < 40; i++) sequential.push(await one());
  const seqRate = sequential.length / ((performance.now() - s0) / 1000);

  const c0 = performance.now();
  const burst = await Promise.all(Array.from({ length: STREAMS }, () => one()));
  const burstRate = burst.length / ((performance.now() - c0) / 1000);

  const complete = burst.filter((o) => o.complete).length;
  const limited = burst.filter((o) => o.status === 429).length;
  const other = burst.length - complete - limited;
  const accounts = stack.sim.state.accounts;
  const maxPerAccount = Math.max(...[...accounts.keys()].map((id) => stack.sim.state.concurrency(id).max));
  console.log(`baseline: 40 sequential streams      ${seqRate.toFixed(1).padStart(7)} streams/s  p50 ${pct(sequential.map((o) => o.ms), 50).toFixed(1)} ms`);
  console.log(
    `load: ${STREAMS} concurrent streams      ${burstRate.toFixed(1).padStart(7)} streams/s  p50 ${pct(burst.map((o) => o.ms), 50).toFixed(1)} ms  ` +
      `p95 ${pct(burst.map((o) => o.ms), 95).toFixed(1)} ms  (throughput ratio ${(burstRate / seqRate).toFixed(2)}× sequential)`,
  );
  console.log(`outcomes: ${complete} complete, ${limited} honest 429, ${other} other`);
  console.log(`upstream streams open at once per account: max ${maxPerAccount} (limit ${PER_ACCOUNT}, ${ACCOUNTS} accounts)`);
  failed = maxPerAccount > PER_ACCOUNT || other > 0;
  if (failed) console.log("load: FAILED (limit exceeded or a request ended badly)");
} finally {
  await stack.stop();
}
process.exit(failed ? 1 : 0);
