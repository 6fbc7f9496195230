/**
 * PoW worst case: difficulty 144000, answer 143999 (the whole range is scanned).
 *   bun run bench/pow.ts [--runs N] [--workers N]
 * Prints min / median ms and hashes/s for one in-process kernel of each flavour (scalar, SIMD; * marks the default
 * the workers use) and for the worker pool.
 * Targets on a 2-core machine: ≤ 55 ms single kernel, ≤ 35 ms pool.
 */
import { createHash } from "node:crypto";
import { powPrefixBytes } from "../src/upstream/pow/challenge.ts";
import {
  PowKernel,
  defaultPowKernelFlavor,
  powKernelScalarModule,
  powKernelSimdModule,
  targetLanes,
} from "../src/upstream/pow/kernel.ts";
import { PowPool } from "../src/upstream/pow/pool.ts";
import { deepSeekHashV1, powMessage } from "../src/upstream/pow/reference-hash.ts";
import type { PowChallenge } from "../src/upstream/pow/types.ts";
import { warmupKernel } from "../src/upstream/pow/warmup.ts";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const runs = flag("--runs", 15);
const workers = flag("--workers", navigator.hardwareConcurrency);

const DIFFICULTY = 144_000;
const ANSWER = DIFFICULTY - 1;
const salt = "52f48db8577fc8bf8323";
const expireAt = 1761276044106;
const challenge: PowChallenge = {
  algorithm: "DeepSeekHashV1",
  challenge: deepSeekHashV1(powMessage(salt, expireAt, ANSWER)),
  salt,
  expire_at: expireAt,
  difficulty: DIFFICULTY,
  signature: "bench",
  target_path: "/api/v0/chat/completion",
};

const medians = new Map<string, number>();

function report(label: string, times: number[]): void {
  const sorted = [...times].sort((a, b) => a - b);
  const min = sorted[0]!;
  const median = sorted.length % 2 ? sorted[sorted.length >> 1]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  medians.set(label, median);
  const mhs = (ms: number) => ((DIFFICULTY / ms) * 1000) / 1e6;
  console.log(
    `${label.padEnd(22)} runs=${times.length}  min=${min.toFixed(1)} ms  median=${median.toFixed(1)} ms  ` +
      `(${mhs(min).toFixed(2)} / ${mhs(median).toFixed(2)} MH/s)`,
  );
}

// One kernel on this thread, each flavour (workers run the default one).
function benchSingle(label: string, module: WebAssembly.Module): void {
  const kernel = new PowKernel(module);
  warmupKernel(kernel);
  const prefix = powPrefixBytes(challenge);
  const target = targetLanes(challenge.challenge);
  kernel.setPrefix(prefix);
  kernel.solve(target, 0, DIFFICULTY); // tier-up settle
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    kernel.setPrefix(prefix);
    const answer = kernel.solve(target, 0, DIFFICULTY);
    times.push(performance.now() - t0);
    if (answer !== ANSWER) throw new Error(`kernel returned ${answer}`);
  }
  report(label, times);
}

/**
 * Baseline, same run: the platform's native SHA3-256 (node:crypto / BoringSSL, all 24 rounds) over the same
 * messages, one call per nonce — what a straightforward solver built on the runtime's hash would do.
 */
function benchNativeBaseline(): void {
  const prefix = `${salt}_${expireAt}_`;
  for (let n = 0; n < 20_000; n++) createHash("sha3-256").update(prefix + n).digest(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < Math.min(runs, 5); i++) {
    const t0 = performance.now();
    for (let n = 0; n < DIFFICULTY; n++) createHash("sha3-256").update(prefix + n).digest();
    times.push(performance.now() - t0);
  }
  report("baseline: node:crypto", times);
}

const flavor = defaultPowKernelFlavor();
benchNativeBaseline();
benchSingle(`single scalar${flavor === "scalar" ? " *" : ""}`, powKernelScalarModule());
const simd = powKernelSimdModule();
if (simd) benchSingle(`single simd${flavor === "simd" ? " *" : ""}`, simd);
else console.log("single simd            (wasm SIMD unavailable)");

// The worker pool.
{
  const pool = new PowPool({ size: workers });
  await pool.warmup();
  await pool.solve(challenge);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const answer = await pool.solve(challenge);
    times.push(performance.now() - t0);
    if (answer !== ANSWER) throw new Error(`pool returned ${answer}`);
  }
  report(`pool (${workers} workers, ${flavor})`, times);
  pool.close();
}

// Ratios against the baseline of this run (lower is faster).
const base = medians.get("baseline: node:crypto")!;
for (const [label, median] of medians) {
  if (label.startsWith("baseline")) continue;
  console.log(`${label.padEnd(22)} ${(median / base).toFixed(3)}× the native-hash baseline (${(base / median).toFixed(1)}× faster)`);
}
