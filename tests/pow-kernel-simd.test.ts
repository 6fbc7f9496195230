/**
 * The two-lane SIMD kernel (nonces n and n+1 per pass) against the reference hash, and the scalar fallback.
 * Expectations come from the reference implementation (reference-hash.ts) and the fixture vectors.
 */
import { describe, expect, test } from "bun:test";
import { powPrefixBytes } from "../src/upstream/pow/challenge.ts";
import { MAX_NONCE } from "../src/upstream/pow/kernel-layout.ts";
import {
  PowKernel,
  defaultPowKernelFlavor,
  powKernelModule,
  powKernelScalarModule,
  powKernelSimdModule,
  targetLanes,
} from "../src/upstream/pow/kernel.ts";
import { deepSeekHashV1 } from "../src/upstream/pow/reference-hash.ts";
import { challengeOf, powVectors } from "./pow-fixtures.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const simdModule = powKernelSimdModule();

test("Bun has wasm SIMD: the SIMD kernel compiles and is the default", () => {
  expect(simdModule).not.toBeNull();
  expect(defaultPowKernelFlavor()).toBe("simd");
  expect(powKernelModule()).toBe(simdModule!);
});

const flavours: Array<[string, () => PowKernel]> = [
  ["simd", () => new PowKernel(simdModule!)],
  ["scalar", () => new PowKernel(powKernelScalarModule())],
];

for (const [name, make] of flavours) {
  describe(`${name} kernel`, () => {
    const kernel = make();

    test("hash vectors", () => {
      for (const v of powVectors.hash_vectors) expect(kernel.hashHex(utf8(v.input))).toBe(v.hex);
    });

    test("solve vectors (whole range and the answer alone)", () => {
      for (const v of powVectors.solve_vectors) {
        const c = challengeOf(v);
        kernel.setPrefix(powPrefixBytes(c));
        const target = targetLanes(c.challenge);
        expect(kernel.solve(target, 0, v.difficulty)).toBe(v.answer ?? -1);
        if (v.answer !== null) {
          expect(kernel.solve(target, v.answer, v.answer + 1)).toBe(v.answer);
          expect(kernel.solve(target, 0, v.answer)).toBe(-1);
        }
      }
    });

    test("answer at every offset from the start (odd and even lanes), and at the range end", () => {
      const prefix = "salt0123456789abcdef_1761276044106_";
      kernel.setPrefix(utf8(prefix));
      const answer = 5000;
      const target = targetLanes(deepSeekHashV1(prefix + answer));
      for (let offset = 0; offset <= 6; offset++) {
        const start = answer - offset;
        expect(kernel.solve(target, start, answer + 1)).toBe(answer); // the answer is the last nonce of the range
        expect(kernel.solve(target, start, answer + 2)).toBe(answer);
        expect(kernel.solve(target, start, answer + 7)).toBe(answer);
        expect(kernel.solve(target, start, answer)).toBe(-1); // answer == end: outside, even as the pair's 2nd lane
      }
      expect(kernel.solve(target, answer + 1, answer + 9)).toBe(-1);
      expect(kernel.solve(target, answer, answer)).toBe(-1);
    });

    test("windows around digit-count changes and the 136-byte block boundary match the reference", () => {
      // Prefix lengths 126..137 put the digits of 9|10, 99|100, 999|1000 … on both sides of the block boundary,
      // so a pair can hold one nonce that needs one block and one that needs two.
      for (let prefixLen = 126; prefixLen <= 137; prefixLen++) {
        const prefix = "q".repeat(prefixLen - 1) + "_";
        kernel.setPrefix(utf8(prefix));
        for (const edge of [10, 100, 1000, 10000, 100000, 1000000]) {
          for (const answer of [edge - 2, edge - 1, edge, edge + 1]) {
            const target = targetLanes(deepSeekHashV1(prefix + answer));
            for (let start = answer - 3; start <= answer; start++) {
              for (let end = answer; end <= answer + 3; end++) {
                expect(kernel.solve(target, start, end)).toBe(end > answer ? answer : -1);
              }
            }
            expect(kernel.solve(target, Math.max(0, edge - 40), edge + 40)).toBe(answer);
          }
        }
      }
    });

    test("odd-length ranges: the last pair's second nonce is never reported", () => {
      const prefix = "oddsalt_1700000000_";
      kernel.setPrefix(utf8(prefix));
      for (const answer of [1, 2, 7, 10, 11, 100, 101]) {
        const target = targetLanes(deepSeekHashV1(prefix + answer));
        for (let start = 0; start <= answer; start++) {
          expect(kernel.solve(target, start, answer)).toBe(-1);
          expect(kernel.solve(target, start, answer + 1)).toBe(answer);
        }
      }
    });

    test("the largest nonces (up to MAX_NONCE, the pair's second lane past it)", () => {
      const prefix = "bigsalt_1700000000_";
      kernel.setPrefix(utf8(prefix));
      for (const answer of [MAX_NONCE, MAX_NONCE - 1, 999_999_999, 1_000_000_000]) {
        const target = targetLanes(deepSeekHashV1(prefix + answer));
        expect(kernel.solve(target, answer - 5, Math.min(answer + 5, MAX_NONCE + 1))).toBe(answer);
        expect(kernel.solve(target, answer, answer + 1)).toBe(answer);
        expect(kernel.solve(target, answer - 3, answer)).toBe(-1);
      }
    });

    test("a target nothing matches scans the whole range and returns -1", () => {
      kernel.setPrefix(utf8("none_1700000000_"));
      expect(kernel.solve([1n, 2n, 3n, 4n], 0, 20_001)).toBe(-1);
    });
  });
}

test("both flavours return the same first answer for every nonce of a long range (two targets, one scan each)", () => {
  const simd = new PowKernel(simdModule!);
  const scalar = new PowKernel(powKernelScalarModule());
  const prefix = "agree_1761276044106_";
  simd.setPrefix(utf8(prefix));
  scalar.setPrefix(utf8(prefix));
  for (const answer of [0, 1, 2, 3, 98, 99, 100, 101, 143998, 143999]) {
    const target = targetLanes(deepSeekHashV1(prefix + answer));
    expect(simd.solve(target, 0, 144000)).toBe(answer);
    expect(scalar.solve(target, 0, 144000)).toBe(answer);
  }
});
