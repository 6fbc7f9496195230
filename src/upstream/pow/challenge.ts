/** Validation of a `create_pow_challenge` challenge and the bytes it asks us to hash. */
import type { PowChallenge } from "./types.ts";

export const POW_ALGORITHM = "DeepSeekHashV1";
/** Difficulty bounds we accept (the live server uses 144000). */
export const MIN_DIFFICULTY = 1;
export const MAX_DIFFICULTY = 10_000_000;
/** Documented defaults of the reference client when the fields are missing. */
export const DEFAULT_DIFFICULTY = 144_000;
export const DEFAULT_EXPIRE_AT = 1_680_000_000;
/** Longest salt (UTF-8 bytes) we hash; real salts are 16-32 hex characters. */
export const MAX_SALT_BYTES = 4096;

/** The challenge is malformed or cannot be solved by this implementation. */
export class PowChallengeError extends Error {
  override name = "PowChallengeError";
}

/** The challenge's `expire_at` lies in the past. */
export class PowExpiredError extends PowChallengeError {
  override name = "PowExpiredError";
}

export interface ValidateOptions {
  /** When set (ms since epoch), reject a challenge whose expire_at is before it. */
  now?: number;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** `expire_at` in milliseconds: real challenges carry ms, older/test ones carry seconds. */
export function expireAtMs(expireAt: number): number {
  return expireAt < 1e12 ? expireAt * 1000 : expireAt;
}

/** Checks a challenge object and returns it with documented defaults applied. Throws PowChallengeError. */
export function validateChallenge(input: unknown, options: ValidateOptions = {}): PowChallenge {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new PowChallengeError("PoW challenge must be a JSON object");
  }
  const c = input as Record<string, unknown>;
  if (c.algorithm !== POW_ALGORITHM) {
    throw new PowChallengeError(`unsupported PoW algorithm ${JSON.stringify(c.algorithm)} (expected ${POW_ALGORITHM})`);
  }
  if (typeof c.challenge !== "string" || !HEX64.test(c.challenge)) {
    throw new PowChallengeError("PoW challenge must be 64 lowercase hex characters");
  }
  if (typeof c.salt !== "string") throw new PowChallengeError("PoW salt must be a string");
  if (Buffer.byteLength(c.salt, "utf8") > MAX_SALT_BYTES) {
    throw new PowChallengeError(`PoW salt longer than ${MAX_SALT_BYTES} bytes`);
  }
  const difficulty = c.difficulty ?? DEFAULT_DIFFICULTY;
  if (
    typeof difficulty !== "number" ||
    !Number.isInteger(difficulty) ||
    difficulty < MIN_DIFFICULTY ||
    difficulty > MAX_DIFFICULTY
  ) {
    throw new PowChallengeError(`PoW difficulty must be an integer in [${MIN_DIFFICULTY}, ${MAX_DIFFICULTY}]`);
  }
  const expireAt = c.expire_at ?? DEFAULT_EXPIRE_AT;
  if (typeof expireAt !== "number" || !Number.isSafeInteger(expireAt) || expireAt < 0) {
    throw new PowChallengeError("PoW expire_at must be a non-negative integer");
  }
  for (const key of ["signature", "target_path"] as const) {
    if (c[key] !== undefined && typeof c[key] !== "string") throw new PowChallengeError(`PoW ${key} must be a string`);
  }
  if (options.now !== undefined && expireAtMs(expireAt) < options.now) {
    throw new PowExpiredError(`PoW challenge expired at ${new Date(expireAtMs(expireAt)).toISOString()}`);
  }
  return { ...(c as PowChallenge), difficulty, expire_at: expireAt };
}

/** UTF-8 bytes of `salt_expireAt_`, the fixed part of every hashed message. */
export function powPrefixBytes(c: Pick<PowChallenge, "salt" | "expire_at">): Uint8Array {
  return new TextEncoder().encode(`${c.salt}_${c.expire_at}_`);
}
