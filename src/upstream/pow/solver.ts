/** In-process DeepSeekHashV1 solving on the wasm kernel (workers use the same kernel; tests and the CLI fallback use this). */
import { powPrefixBytes, validateChallenge, type ValidateOptions } from "./challenge.ts";
import { PowKernel, targetLanes } from "./kernel.ts";
import type { PowChallenge, PowSolver } from "./types.ts";

/** Nonces per kernel call between abort checks / event-loop yields. */
export const SLICE_NONCES = 2048;

let threadKernel: PowKernel | undefined;

/** The kernel instance of this thread (created on first use). */
export function sharedKernel(): PowKernel {
  threadKernel ??= new PowKernel();
  return threadKernel;
}

/**
 * First nonce in [start, end) (clamped to [0, difficulty)) whose digest equals the challenge, or null.
 * Synchronous: blocks the thread for the whole range.
 */
export function solveRange(challenge: PowChallenge, start = 0, end = challenge.difficulty): number | null {
  const c = validateChallenge(challenge);
  const kernel = sharedKernel();
  kernel.setPrefix(powPrefixBytes(c));
  const answer = kernel.solve(targetLanes(c.challenge), Math.max(0, start), Math.min(end, c.difficulty));
  return answer < 0 ? null : answer;
}

export function abortError(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name === "AbortError") return reason;
  return new DOMException("PoW solve aborted", "AbortError");
}

/** A PowSolver on the calling thread: slices of SLICE_NONCES with an abort check and a yield between them. */
export class InProcessPowSolver implements PowSolver {
  constructor(private readonly options: ValidateOptions = {}) {}

  async solve(challenge: PowChallenge, signal?: AbortSignal): Promise<number | null> {
    const c = validateChallenge(challenge, this.options);
    const kernel = sharedKernel();
    const prefix = powPrefixBytes(c);
    const target = targetLanes(c.challenge);
    for (let start = 0; start < c.difficulty; start += SLICE_NONCES) {
      if (signal?.aborted) throw abortError(signal);
      kernel.setPrefix(prefix); // cheap; another solve may have used the kernel while we yielded
      const answer = kernel.solve(target, start, Math.min(start + SLICE_NONCES, c.difficulty));
      if (answer >= 0) return answer;
      if ((start / SLICE_NONCES) % 8 === 7) await new Promise<void>((r) => setImmediate(r));
    }
    return null;
  }
}
