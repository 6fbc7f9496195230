/** Brings a kernel instance to its optimising tier before the first real challenge arrives. */
import type { PowKernel } from "./kernel.ts";

/** Nonces scanned per warmup; enough loop iterations for JavaScriptCore to tier the wasm up (OMG). */
export const WARMUP_NONCES = 120_000;

const WARMUP_PREFIX = new TextEncoder().encode("warmupsalt0000000000_1700000000_");
/** A target no nonce reaches (not a digest of any warmup message in practice). */
const NEVER: [bigint, bigint, bigint, bigint] = [0n, 0n, 0n, 0n];

export function warmupKernel(kernel: PowKernel, nonces = WARMUP_NONCES): void {
  kernel.setPrefix(WARMUP_PREFIX);
  for (let start = 0; start < nonces; start += 2048) kernel.solve(NEVER, start, Math.min(start + 2048, nonces));
}
