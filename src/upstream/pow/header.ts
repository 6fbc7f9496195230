/** The `x-ds-pow-response` header value (upstream-protocol §3.4). */
import type { PowChallenge } from "./types.ts";

export const POW_RESPONSE_HEADER = "x-ds-pow-response";

/** Base64 (standard, padded) of the compact JSON {algorithm, challenge, salt, answer, signature, target_path}. */
export function powResponseHeader(challenge: PowChallenge, answer: number): string {
  if (!Number.isSafeInteger(answer) || answer < 0) throw new RangeError(`PoW answer must be a non-negative integer, got ${answer}`);
  for (const key of ["signature", "target_path"] as const) {
    if (typeof challenge[key] !== "string") throw new TypeError(`PoW challenge has no ${key} for the response header`);
  }
  const body = JSON.stringify({
    algorithm: challenge.algorithm,
    challenge: challenge.challenge,
    salt: challenge.salt,
    answer,
    signature: challenge.signature,
    target_path: challenge.target_path,
  });
  return Buffer.from(body, "utf8").toString("base64");
}
