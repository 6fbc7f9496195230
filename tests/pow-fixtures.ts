/** Loads the PoW golden vectors (tests/fixtures/pow-vectors.json, a copy of shared/fixtures) for the PoW tests. */
import type { PowChallenge } from "../src/upstream/pow/types.ts";
import { FIXTURES_URL } from "./support/fixtures.ts";

export interface HashVector {
  input: string;
  utf8_len: number;
  hex: string;
  note: string;
}

export interface SolveVector {
  algorithm: string;
  challenge: string;
  salt: string;
  expire_at: number;
  difficulty: number;
  answer: number | null;
  prefix_len: number;
  message_len: number | null;
  note: string;
}

export const powVectors: { hash_vectors: HashVector[]; solve_vectors: SolveVector[] } = await Bun.file(
  new URL("pow-vectors.json", FIXTURES_URL),
).json();

/** A full challenge object for a solve vector (signature and target_path are not part of the hash). */
export function challengeOf(v: SolveVector): PowChallenge {
  return {
    algorithm: v.algorithm,
    challenge: v.challenge,
    salt: v.salt,
    expire_at: v.expire_at,
    difficulty: v.difficulty,
    signature: "sig",
    target_path: "/api/v0/chat/completion",
  };
}
