/** A plain in-process PowSolver on the slow reference hash. Fine for tiny test difficulties only. */
import { deepSeekHashV1, powMessage } from "../upstream/pow/reference-hash.ts";
import type { PowChallenge, PowSolver } from "../upstream/pow/types.ts";

export class ReferencePowSolver implements PowSolver {
  solves = 0;
  async solve(c: PowChallenge, signal?: AbortSignal): Promise<number | null> {
    this.solves++;
    for (let nonce = 0; nonce < c.difficulty; nonce++) {
      if ((nonce & 255) === 0) {
        signal?.throwIfAborted();
        if (nonce > 0) await Promise.resolve();
      }
      if (deepSeekHashV1(powMessage(c.salt, c.expire_at, nonce)) === c.challenge) return nonce;
    }
    return null;
  }
}
