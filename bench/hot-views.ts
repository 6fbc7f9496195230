/**
 * Cost of what a request asks the key-style credential pools and the key quota tracker, on the in-memory views,
 * against the same work with the store read per request that they replaced (the baseline, measured in the same run
 * on the same sqlite file, through the same async store):
 *   - Volcengine pool: acquire + accepted + release with the copy, vs a re-read of the pool (`credentials.list`,
 *     what `acquire` did before) + the same acquire;
 *   - key quota: `admit` of a key with a daily token quota, on the seeded tally, vs a `keyUsage.tokensOn` read per
 *     admission (what `tokensToday` did before on its first use and after every day change of every key).
 * Prints µs per operation and the ratio baseline / view.
 *   bun bench/hot-views.ts [--entries 50] [--ops 5000] [--rounds 3]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LiveSettings } from "../src/config/live-settings.ts";
import { KeyUsageTracker } from "../src/security/key-usage.ts";
import { openStore } from "../src/store/open-store.ts";
import { CredentialPool } from "../src/upstream/volcengine/credentials/pool.ts";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const ENTRIES = arg("--entries", 50);
const OPS = arg("--ops", 5000);
const ROUNDS = arg("--rounds", 3);

const dir = mkdtempSync(join(tmpdir(), "ds2api-hot-views-bench-"));
const store = await openStore({ sqlitePath: join(dir, "db.sqlite") });

async function perOpMicros(run: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < OPS; i++) await run(i);
  return ((performance.now() - t0) * 1000) / OPS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  for (let i = 0; i < ENTRIES; i++) await store.credentials.upsert("volcengine", { secret: `74${String(i).padStart(17, "0")}` });
  await store.keyUsage.setQuota("k_bench", { tokensPerDay: 1_000_000_000 });
  const live = new LiveSettings(store);
  await live.load();
  const pool = new CredentialPool({
    store,
    stored: live,
    settings: () => ({ apiUrl: "", maxUsage: 0, dailyReset: false, bodyStyle: "console" }),
    limits: () => ({ maxInflightPerEntry: 2, maxQueue: 10, queueWaitMs: 100, cooldownMs: 60_000 }),
  });
  await pool.reload();
  const tracker = new KeyUsageTracker(store);
  await tracker.init();
  const acquire = async () => {
    const lease = await pool.acquire({ signal: new AbortController().signal, exclude: new Set(), noWait: true });
    lease.accepted();
    lease.release();
  };
  const day = new Date().toISOString().slice(0, 10);
  const figures = { poolView: [] as number[], poolBaseline: [] as number[], quotaView: [] as number[], quotaBaseline: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    figures.poolView.push(await perOpMicros(acquire));
    figures.poolBaseline.push(
      await perOpMicros(async () => {
        await store.credentials.list("volcengine");
        await acquire();
      }),
    );
    figures.quotaView.push(await perOpMicros(() => tracker.admit("k_bench")));
    figures.quotaBaseline.push(
      await perOpMicros(async () => {
        await store.keyUsage.tokensOn("k_bench", day);
        await tracker.admit("k_bench");
      }),
    );
  }
  const pv = median(figures.poolView);
  const pb = median(figures.poolBaseline);
  const qv = median(figures.quotaView);
  const qb = median(figures.quotaBaseline);
  console.log(`volcengine pool (${ENTRIES} web ids): view ${pv.toFixed(2)} µs/acquire, store read per acquire ${pb.toFixed(2)} µs → ${(pb / pv).toFixed(1)}x`);
  console.log(`key quota admit: view ${qv.toFixed(2)} µs/admit, store read per admit ${qb.toFixed(2)} µs → ${(qb / qv).toFixed(1)}x`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
