/**
 * Regenerates src/upstream/pow/kernel-wasm.ts (the scalar and SIMD PoW kernel bytes as base64) from the generators.
 * Run: bun run scripts/build-pow-kernel.ts   (tests/pow-kernel.test.ts checks the committed file is current)
 */
import { generatePowKernel } from "../src/upstream/pow/kernel-gen.ts";
import { generatePowKernelSimd } from "../src/upstream/pow/kernel-gen-simd.ts";
import { renderKernelModuleSource } from "../src/upstream/pow/kernel-source.ts";

const target = new URL("../src/upstream/pow/kernel-wasm.ts", import.meta.url);
const scalar = generatePowKernel();
const simd = generatePowKernelSimd();
await Bun.write(target, renderKernelModuleSource(scalar, simd));
console.log(`wrote ${target.pathname} (${scalar.length} bytes scalar, ${simd.length} bytes SIMD wasm)`);
