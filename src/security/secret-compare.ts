import { createHash, timingSafeEqual } from "node:crypto";

/** SHA-256 digest of a secret; comparing digests keeps the comparison constant-time whatever the lengths. */
export function secretDigest(secret: string): Buffer {
  return createHash("sha256").update(secret, "utf8").digest();
}

export function sha256Hex(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** Constant-time equality of two secrets. */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(secretDigest(a), secretDigest(b));
}

/** Constant-time check of `candidate` against every digest in the list (no early exit); returns the matching index or -1. */
export function findSecret(candidate: string, digests: readonly Buffer[]): number {
  const d = secretDigest(candidate);
  let found = -1;
  for (let i = 0; i < digests.length; i++) {
    if (timingSafeEqual(d, digests[i]!) && found < 0) found = i;
  }
  return found;
}
