/**
 * The `x-ds-pow-response` header (§3.4): base64 of compact JSON {algorithm, challenge, salt, answer, signature,
 * target_path}; `answer` is a JSON number, the rest copied from the challenge. Local stand-in until
 * src/upstream/pow/header.ts lands; both produce the same value.
 */
import type { PowChallenge } from "../pow/types.ts";

export function powResponseHeader(c: PowChallenge, answer: number): string {
  const json = JSON.stringify({
    algorithm: c.algorithm,
    challenge: c.challenge,
    salt: c.salt,
    answer,
    signature: c.signature,
    target_path: c.target_path,
  });
  return Buffer.from(json, "utf8").toString("base64");
}
