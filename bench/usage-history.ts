/**
 * Cost per finished turn of the usage history on the hot path, against the per-turn write the server already
 * does (the API key's usage counters: one sqlite transaction with two upserts), measured in the same run on the
 * same sqlite file (WAL, synchronous=NORMAL, as the server opens it):
 *   - batched (what the server does): an in-memory add per turn, one flush transaction per `--batch` turns
 *     (the server flushes every 5 s; a batch of 1000 is far more often than that under load);
 *   - unbatched, for comparison: an add and a flush (one transaction) per turn.
 * Turns spread over 4 keys × 4 accounts × 2 models. Prints µs per turn and the ratio to the key-usage write.
 *   bun bench/usage-history.ts [--turns 20000] [--batch 1000] [--rounds 3]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../src/store/open-store.ts";
import type { Store } from "../src/store/store.ts";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const TURNS = arg("--turns", 20_000);
const BATCH = arg("--batch", 1000);
const ROUNDS = arg("--rounds", 3);

const dir = mkdtempSync(join(tmpdir(), "ds2api-usage-bench-"));
const store: Store = await openStore({ sqlitePath: join(dir, "db.sqlite") });

const keys = ["k_aaaaaaaaaaaa", "k_bbbbbbbbbbbb", "k_cccccccccccc", "k_dddddddddddd"];
const accounts = ["a0@example.com", "a1@example.com", "a2@example.com", "a3@example.com"];
const models = ["deepseek-v4-flash", "deepseek-v4-pro"];
const sample = (i: number) => ({
  at: Date.now(),
  keyId: keys[i % 4]!,
  account: accounts[(i >> 2) % 4]!,
  provider: "deepseek",
  model: models[(i >> 4) % 2]!,
  error: i % 50 === 0,
  inputTokens: 120 + (i % 7),
  outputTokens: 40 + (i % 5),
  latencyMs: 800 + (i % 300),
});

async function perTurnMicros(run: (i: number) => Promise<void> | void): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < TURNS; i++) await run(i);
  return ((performance.now() - t0) * 1000) / TURNS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const figures = { keyUsage: [] as number[], batched: [] as number[], unbatched: [] as number[] };
try {
  for (let r = 0; r < ROUNDS; r++) {
    const day = new Date().toISOString().slice(0, 10);
    figures.keyUsage.push(await perTurnMicros((i) => store.keyUsage.record(`hash-${keys[i % 4]}`, 120, 40, Date.now(), day)));
    figures.batched.push(
      await perTurnMicros(async (i) => {
        store.usageHistory.add(sample(i));
        if ((i + 1) % BATCH === 0) await store.usageHistory.flush();
      }),
    );
    await store.usageHistory.flush();
    figures.unbatched.push(
      await perTurnMicros(async (i) => {
        store.usageHistory.add(sample(i));
        await store.usageHistory.flush();
      }),
    );
  }
  const base = median(figures.keyUsage);
  const row = (label: string, xs: number[]) => `  ${label.padEnd(44)} ${median(xs).toFixed(2).padStart(7)} µs/turn  ${(median(xs) / base).toFixed(2)}×`;
  console.log(`usage history cost per turn (${ROUNDS} rounds × ${TURNS} turns, medians; ratio to the key-usage write)`);
  console.log(row("key usage write (baseline, already per turn)", figures.keyUsage));
  console.log(row(`usage history, batched (flush per ${BATCH})`, figures.batched));
  console.log(row("usage history, unbatched (flush per turn)", figures.unbatched));
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
