import { describe, expect, test } from "bun:test";
import { generatePowKernel } from "../src/upstream/pow/kernel-gen.ts";
import { generatePowKernelSimd } from "../src/upstream/pow/kernel-gen-simd.ts";
import { renderKernelModuleSource } from "../src/upstream/pow/kernel-source.ts";
import { PowKernel, targetLanes } from "../src/upstream/pow/kernel.ts";
import { deepSeekHashV1 } from "../src/upstream/pow/reference-hash.ts";
import { solveRange } from "../src/upstream/pow/solver.ts";
import { challengeOf, powVectors } from "./pow-fixtures.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);

describe("generated kernel", () => {
  test("committed kernel-wasm.ts matches the generator (run scripts/build-pow-kernel.ts)", async () => {
    const committed = await Bun.file(new URL("../src/upstream/pow/kernel-wasm.ts", import.meta.url)).text();
    expect(committed).toBe(renderKernelModuleSource(generatePowKernel(), generatePowKernelSimd()));
  });

  test("generator is deterministic and the module validates", () => {
    const a = generatePowKernel();
    expect(Buffer.from(generatePowKernel()).equals(Buffer.from(a))).toBe(true);
    expect(WebAssembly.validate(a)).toBe(true);
  });
});

describe("kernel hash", () => {
  const kernel = new PowKernel();
  for (const v of powVectors.hash_vectors) {
    test(`hash vector: ${v.note} (${v.utf8_len} bytes)`, () => {
      expect(utf8(v.input).length).toBe(v.utf8_len);
      expect(kernel.hashHex(utf8(v.input))).toBe(v.hex);
    });
  }

  test("agrees with the reference hash on every length 0..410 (three blocks, all padding positions)", () => {
    for (let len = 0; len <= 410; len++) {
      const bytes = Uint8Array.from({ length: len }, (_, i) => (i * 131 + len * 7) & 0xff);
      expect(kernel.hashHex(bytes)).toBe(deepSeekHashV1(bytes));
    }
  });
});

describe("kernel solve (in-process)", () => {
  for (const v of powVectors.solve_vectors) {
    test(`solve vector: ${v.note}`, () => {
      expect(solveRange(challengeOf(v))).toBe(v.answer);
    });
  }

  test("sub-ranges: the answer is found from any start at or below it and never above it", () => {
    for (const v of powVectors.solve_vectors) {
      if (v.answer === null) continue;
      const c = challengeOf(v);
      expect(solveRange(c, v.answer, v.answer + 1)).toBe(v.answer);
      expect(solveRange(c, Math.max(0, v.answer - 37), v.answer + 5)).toBe(v.answer);
      expect(solveRange(c, v.answer + 1, v.difficulty)).toBeNull();
      expect(solveRange(c, 0, v.answer)).toBeNull(); // the official solver returns the smallest nonce
    }
  });

  test("every nonce's digest across digit-count and block boundaries matches the reference", () => {
    // prefix lengths 128..136 put the digits of 9..11, 99..101, 999..1001 across the 136-byte boundary
    const kernel = new PowKernel();
    for (let prefixLen = 126; prefixLen <= 137; prefixLen++) {
      const prefix = "p".repeat(prefixLen - 1) + "_";
      kernel.setPrefix(utf8(prefix));
      for (const nonce of [0, 9, 10, 99, 100, 999, 1000, 9999, 10000, 99999, 100000, 143999, 999999, 1000000]) {
        const target = targetLanes(deepSeekHashV1(prefix + nonce));
        const start = Math.max(0, nonce - 3);
        expect(kernel.solve(target, start, nonce + 3)).toBe(nonce);
      }
    }
  });
});
