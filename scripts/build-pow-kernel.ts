/**
 * Regenerates src/upstream/pow/kernel-wasm.ts (the PoW kernel bytes as base64) from kernel-gen.ts.
 * Run: bun run scripts/build-pow-kernel.ts   (tests/pow-kernel.test.ts checks the committed file is current)
 */
import { generatePowKernel } from "../src/upstream/pow/kernel-gen.ts";
import { renderKernelModuleSource } from "../src/upstream/pow/kernel-source.ts";

const target = new URL("../src/upstream/pow/kernel-wasm.ts", import.meta.url);
const bytes = generatePowKernel();
await Bun.write(target, renderKernelModuleSource(bytes));
console.log(`wrote ${target.pathname} (${bytes.length} bytes of wasm)`);
