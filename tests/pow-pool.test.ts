import { afterAll, describe, expect, test } from "bun:test";
import { MAX_DIFFICULTY, PowChallengeError } from "../src/upstream/pow/challenge.ts";
import { PowPool } from "../src/upstream/pow/pool.ts";
import { deepSeekHashV1 } from "../src/upstream/pow/reference-hash.ts";
import { InProcessPowSolver } from "../src/upstream/pow/solver.ts";
import type { PowChallenge } from "../src/upstream/pow/types.ts";
import { challengeOf, powVectors } from "./pow-fixtures.ts";

const pool = new PowPool({ size: 2, sliceNonces: 1024 });
afterAll(() => pool.close());

/** Unsolvable: the planted nonce is outside the range. */
function unsolvable(difficulty: number): PowChallenge {
  const salt = "abortsalt";
  const expire_at = 1761234567890;
  return {
    algorithm: "DeepSeekHashV1",
    challenge: deepSeekHashV1(`${salt}_${expire_at}_${difficulty}`),
    salt,
    expire_at,
    difficulty,
    signature: "sig",
    target_path: "/api/v0/chat/completion",
  };
}

describe("PowPool (2 workers)", () => {
  test("warmup resolves", async () => {
    await pool.warmup();
  });

  for (const v of powVectors.solve_vectors) {
    test(`solve vector: ${v.note}`, async () => {
      expect(await pool.solve(challengeOf(v))).toBe(v.answer);
    });
  }

  test("concurrent solves all get their own answers", async () => {
    const vs = powVectors.solve_vectors;
    const answers = await Promise.all(vs.map((v) => pool.solve(challengeOf(v))));
    expect(answers).toEqual(vs.map((v) => v.answer));
  });

  test("abort cancels a running solve and the pool stays usable", async () => {
    const controller = new AbortController();
    // The largest search there is (a full scan takes far longer than the 20 ms before the abort).
    const pending = pool.solve(unsolvable(MAX_DIFFICULTY), controller.signal);
    setTimeout(() => controller.abort(), 20);
    const err = await pending.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.name).toBe("AbortError");
    const v = powVectors.solve_vectors.find((x) => x.answer !== null && x.answer > 100_000)!;
    expect(await pool.solve(challengeOf(v))).toBe(v.answer);
  });

  test("an already aborted signal rejects without work", async () => {
    const err = await pool.solve(unsolvable(1000), AbortSignal.abort()).catch((e: Error) => e);
    expect((err as Error).name).toBe("AbortError");
  });

  test("bad challenges reject with PowChallengeError", async () => {
    const good = challengeOf(powVectors.solve_vectors[0]!);
    for (const bad of [
      { ...good, algorithm: "DeepSeekHashV2" },
      { ...good, challenge: good.challenge.toUpperCase() },
      { ...good, challenge: good.challenge.slice(1) },
      { ...good, difficulty: 0 },
      { ...good, difficulty: 1.5 },
      { ...good, difficulty: 10_000_001 },
      { ...good, salt: 42 as unknown as string },
      { ...good, expire_at: "1700000000" as unknown as number },
    ]) {
      await expect(pool.solve(bad)).rejects.toBeInstanceOf(PowChallengeError);
    }
  });

  test("expired challenges are rejected when expiry checking is on", async () => {
    const checking = new PowPool({ size: 1, checkExpiry: true });
    try {
      const err = await checking.solve(challengeOf(powVectors.solve_vectors[0]!)).catch((e: Error) => e);
      expect((err as Error).name).toBe("PowExpiredError");
    } finally {
      checking.close();
    }
  });

  test("stats count solves", () => {
    const s = pool.stats();
    expect(s.workers).toBe(2);
    expect(s.solves).toBeGreaterThanOrEqual(powVectors.solve_vectors.length);
    expect(s.unsolved).toBeGreaterThanOrEqual(powVectors.solve_vectors.filter((v) => v.answer === null).length);
    expect(s.lastMs).toBeGreaterThan(0);
    expect(s.avgMs).toBeGreaterThan(0);
    expect(s.inFlight).toBe(0);
  });

  test("close rejects later solves", async () => {
    const p = new PowPool({ size: 1 });
    p.close();
    await expect(p.solve(challengeOf(powVectors.solve_vectors[0]!))).rejects.toThrow("closed");
  });
});

describe("InProcessPowSolver", () => {
  test("solves vectors and honours abort", async () => {
    const solver = new InProcessPowSolver();
    for (const v of powVectors.solve_vectors.slice(0, 6)) expect(await solver.solve(challengeOf(v))).toBe(v.answer);
    const controller = new AbortController();
    const pending = solver.solve(unsolvable(MAX_DIFFICULTY), controller.signal);
    setTimeout(() => controller.abort(), 20);
    const err = await pending.catch((e: Error) => e);
    expect((err as Error).name).toBe("AbortError");
  });
});
