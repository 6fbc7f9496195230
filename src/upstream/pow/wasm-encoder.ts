/**
 * A tiny WebAssembly binary writer: just the pieces the PoW kernel generator needs
 * (LEB128 numbers, a function-body builder, and module assembly). No dependency.
 */

export const I32 = 0x7f;
export const I64 = 0x7e;
export const V128 = 0x7b;

/** Opcodes used by the kernel (WebAssembly core spec, binary format). */
export const Op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  br_if: 0x0d,
  return: 0x0f,
  call: 0x10,
  local_get: 0x20,
  local_set: 0x21,
  local_tee: 0x22,
  global_get: 0x23,
  global_set: 0x24,
  i64_load: 0x29,
  i32_load8_u: 0x2d,
  i64_store: 0x37,
  i32_store8: 0x3a,
  i32_const: 0x41,
  i64_const: 0x42,
  i32_eq: 0x46,
  i32_ne: 0x47,
  i32_lt_u: 0x49,
  i32_gt_u: 0x4b,
  i32_le_u: 0x4d,
  i32_ge_u: 0x4f,
  i32_eqz: 0x45,
  i64_ne: 0x52,
  i32_add: 0x6a,
  i32_sub: 0x6b,
  i32_div_u: 0x6e,
  i32_rem_u: 0x70,
  i32_and: 0x71,
  i32_or: 0x72,
  i64_and: 0x83,
  i64_or: 0x84,
  i64_xor: 0x85,
  i64_rotl: 0x89,
} as const;

/** 128-bit SIMD opcodes (prefix 0xfd, then this number as LEB128), WebAssembly SIMD proposal / core spec 2.0. */
export const SimdOp = {
  v128_load: 0x00,
  v128_const: 0x0c,
  i8x16_shuffle: 0x0d,
  i64x2_splat: 0x12,
  v128_and: 0x4e,
  v128_andnot: 0x4f,
  v128_or: 0x50,
  v128_xor: 0x51,
  v128_any_true: 0x53,
  v128_load64_lane: 0x57,
  v128_load64_zero: 0x5d,
  i64x2_bitmask: 0xc4,
  i64x2_shl: 0xcb,
  i64x2_shr_u: 0xcd,
  i64x2_add: 0xce,
  i64x2_sub: 0xd1,
  i64x2_eq: 0xd6,
  i64x2_gt_s: 0xd9,
} as const;

const SIMD_PREFIX = 0xfd;

const BLOCK_VOID = 0x40;

export function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

export function sleb(value: bigint): number[] {
  const out: number[] = [];
  let v = value;
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    const signBit = (byte & 0x40) !== 0;
    if ((v === 0n && !signBit) || (v === -1n && signBit)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** Builds one function body. Local indices: params first, then declared locals in order. */
export class FunctionBuilder {
  readonly code: number[] = [];
  private readonly localGroups: Array<[count: number, type: number]> = [];
  private nextLocal: number;

  constructor(readonly params: number[], readonly results: number[]) {
    this.nextLocal = params.length;
  }

  /** Declares `count` locals of `type`; returns the index of the first. */
  locals(count: number, type: number): number {
    const first = this.nextLocal;
    this.localGroups.push([count, type]);
    this.nextLocal += count;
    return first;
  }

  op(...bytes: number[]): this {
    for (const b of bytes) {
      if (!Number.isInteger(b) || b < 0 || b > 255) throw new Error(`bad opcode byte ${b}`);
      this.code.push(b);
    }
    return this;
  }
  get(i: number): this {
    return this.op(Op.local_get, ...uleb(i));
  }
  set(i: number): this {
    return this.op(Op.local_set, ...uleb(i));
  }
  tee(i: number): this {
    return this.op(Op.local_tee, ...uleb(i));
  }
  gget(i: number): this {
    return this.op(Op.global_get, ...uleb(i));
  }
  gset(i: number): this {
    return this.op(Op.global_set, ...uleb(i));
  }
  i32(v: number): this {
    return this.op(Op.i32_const, ...sleb(BigInt(v | 0)));
  }
  i64(v: bigint): this {
    return this.op(Op.i64_const, ...sleb(BigInt.asIntN(64, v)));
  }
  /** i64.load with the address on the stack and a constant byte offset. */
  load64(offset: number): this {
    return this.op(Op.i64_load, 3, ...uleb(offset));
  }
  store64(offset: number): this {
    return this.op(Op.i64_store, 3, ...uleb(offset));
  }
  load8(offset = 0): this {
    return this.op(Op.i32_load8_u, 0, ...uleb(offset));
  }
  store8(offset = 0): this {
    return this.op(Op.i32_store8, 0, ...uleb(offset));
  }
  /** A SIMD instruction followed by its immediates (memarg, lane index, shuffle pattern, const bytes). */
  simd(op: number, ...immediates: number[]): this {
    return this.op(SIMD_PREFIX, ...uleb(op), ...immediates);
  }
  /** v128.const with both i64 lanes equal to `v`. */
  v128SplatConst(v: bigint): this {
    const lane: number[] = [];
    const u = BigInt.asUintN(64, v);
    for (let i = 0n; i < 8n; i++) lane.push(Number((u >> (8n * i)) & 0xffn));
    return this.simd(SimdOp.v128_const, ...lane, ...lane);
  }
  /** v128.load64_zero: [addr] -> lane 0 = i64 at addr + offset, lane 1 = 0. */
  load64Zero(offset: number): this {
    return this.simd(SimdOp.v128_load64_zero, 3, ...uleb(offset));
  }
  /** v128.load64_lane: [addr, v] -> v with `lane` replaced by the i64 at addr + offset. */
  load64Lane(offset: number, lane: number): this {
    return this.simd(SimdOp.v128_load64_lane, 3, ...uleb(offset), lane);
  }
  block(): this {
    return this.op(Op.block, BLOCK_VOID);
  }
  loop(): this {
    return this.op(Op.loop, BLOCK_VOID);
  }
  if(): this {
    return this.op(Op.if, BLOCK_VOID);
  }
  br(depth: number): this {
    return this.op(Op.br, ...uleb(depth));
  }
  brIf(depth: number): this {
    return this.op(Op.br_if, ...uleb(depth));
  }
  call(fn: number): this {
    return this.op(Op.call, ...uleb(fn));
  }
  end(): this {
    return this.op(Op.end);
  }
  /** memory.fill (bulk memory): [dest, value, length] on the stack. */
  memoryFill(): this {
    return this.op(0xfc, ...uleb(11), 0x00);
  }
  /** memory.copy (bulk memory): [dest, src, length] on the stack. */
  memoryCopy(): this {
    return this.op(0xfc, ...uleb(10), 0x00, 0x00);
  }

  body(): number[] {
    const out: number[] = [...uleb(this.localGroups.length)];
    for (const [count, type] of this.localGroups) out.push(...uleb(count), type);
    out.push(...this.code, Op.end);
    return [...uleb(out.length), ...out];
  }
}

export interface ModuleSpec {
  functions: FunctionBuilder[];
  /** Mutable i32 globals, all initialised to 0. */
  i32Globals: number;
  memoryPages: number;
  exports: Array<{ name: string; kind: "func" | "memory"; index: number }>;
}

function section(id: number, payload: number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function nameBytes(name: string): number[] {
  const b = [...new TextEncoder().encode(name)];
  return [...uleb(b.length), ...b];
}

export function assembleModule(spec: ModuleSpec): Uint8Array {
  const types = spec.functions.map((f) => [0x60, ...vec(f.params.map((p) => [p])), ...vec(f.results.map((r) => [r]))]);
  const bytes: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  bytes.push(...section(1, vec(types)));
  bytes.push(...section(3, vec(spec.functions.map((_, i) => uleb(i)))));
  bytes.push(...section(5, vec([[0x00, ...uleb(spec.memoryPages)]])));
  const globals: number[][] = [];
  for (let i = 0; i < spec.i32Globals; i++) globals.push([I32, 0x01, Op.i32_const, 0x00, Op.end]);
  bytes.push(...section(6, vec(globals)));
  bytes.push(
    ...section(
      7,
      vec(spec.exports.map((e) => [...nameBytes(e.name), e.kind === "func" ? 0x00 : 0x02, ...uleb(e.index)])),
    ),
  );
  bytes.push(...section(10, vec(spec.functions.map((f) => f.body()))));
  return Uint8Array.from(bytes);
}
