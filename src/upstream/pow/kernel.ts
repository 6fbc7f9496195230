/** Host side of the DeepSeekHashV1 WebAssembly kernel: one instance per thread, prefix in, nonce out. */
import { POW_KERNEL_SIMD_WASM_BASE64, POW_KERNEL_WASM_BASE64 } from "./kernel-wasm.ts";
import { INPUT_OFF, KernelExport, MAX_NONCE, PAGE_BYTES, WORK_OFF } from "./kernel-layout.ts";

/** The 4 little-endian output lanes of a digest, as the kernel compares them. */
export type TargetLanes = readonly [bigint, bigint, bigint, bigint];

interface KernelExports {
  memory: WebAssembly.Memory;
  absorb(len: number): void;
  hash(len: number): void;
  solve(t0: bigint, t1: bigint, t2: bigint, t3: bigint, start: number, end: number): number;
}

/** `simd`: two nonces per pass in 128-bit SIMD lanes (the default); `scalar`: one nonce per pass in i64 code. */
export type PowKernelFlavor = "simd" | "scalar";

let scalarModule: WebAssembly.Module | undefined;
let simdModule: WebAssembly.Module | null | undefined;

/** The scalar kernel module (compiled once per thread); every wasm engine runs it. */
export function powKernelScalarModule(): WebAssembly.Module {
  scalarModule ??= new WebAssembly.Module(Buffer.from(POW_KERNEL_WASM_BASE64, "base64"));
  return scalarModule;
}

/** The SIMD kernel module, or null when this engine lacks wasm SIMD (compiled once per thread). */
export function powKernelSimdModule(): WebAssembly.Module | null {
  if (simdModule === undefined) {
    const bytes = Buffer.from(POW_KERNEL_SIMD_WASM_BASE64, "base64");
    simdModule = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return simdModule;
}

/** The kernel module this thread uses by default: SIMD when available, else scalar. */
export function powKernelModule(): WebAssembly.Module {
  return powKernelSimdModule() ?? powKernelScalarModule();
}

/** Which flavour `powKernelModule()` picks on this engine. */
export function defaultPowKernelFlavor(): PowKernelFlavor {
  return powKernelSimdModule() ? "simd" : "scalar";
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Parses a 64-char lowercase hex digest into its 4 little-endian u64 lanes. */
export function targetLanes(hex: string): TargetLanes {
  if (!HEX64.test(hex)) throw new TypeError("challenge must be 64 lowercase hex characters");
  const lane = (i: number): bigint => {
    let v = 0n;
    for (let j = 7; j >= 0; j--) v = (v << 8n) | BigInt(parseInt(hex.slice(16 * i + 2 * j, 16 * i + 2 * j + 2), 16));
    return v;
  };
  return [lane(0), lane(1), lane(2), lane(3)];
}

export class PowKernel {
  private readonly k: KernelExports;
  private bytes: Uint8Array;

  constructor(module: WebAssembly.Module = powKernelModule()) {
    this.k = new WebAssembly.Instance(module, {}).exports as unknown as KernelExports;
    this.bytes = new Uint8Array(this.k.memory.buffer);
  }

  /** Full DeepSeekHashV1 of `input`, 64 lowercase hex characters (tests, one-off checks). */
  hashHex(input: Uint8Array): string {
    this.writeInput(input);
    this.k.hash(input.length);
    return Buffer.from(this.bytes.subarray(WORK_OFF, WORK_OFF + 32)).toString("hex");
  }

  /** Loads `salt_expire_` (UTF-8 bytes) and absorbs its full blocks; later `solve` calls reuse it. */
  setPrefix(prefix: Uint8Array): void {
    this.writeInput(prefix);
    this.k.absorb(prefix.length);
  }

  /** First nonce in [start, end) whose digest equals `target`, or -1. Needs `setPrefix` first. */
  solve(target: TargetLanes, start: number, end: number): number {
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end <= MAX_NONCE + 1)) {
      throw new RangeError(`nonce range [${start}, ${end}) is outside [0, ${MAX_NONCE + 1})`);
    }
    return this.k.solve(target[0], target[1], target[2], target[3], start, end);
  }

  private writeInput(input: Uint8Array): void {
    const need = INPUT_OFF + input.length;
    if (need > this.k.memory.buffer.byteLength) {
      this.k.memory.grow(Math.ceil((need - this.k.memory.buffer.byteLength) / PAGE_BYTES));
    }
    if (this.bytes.buffer !== this.k.memory.buffer || this.bytes.byteLength === 0) {
      this.bytes = new Uint8Array(this.k.memory.buffer);
    }
    this.bytes.set(input, INPUT_OFF);
  }
}
