/**
 * Generates the two-lane (128-bit SIMD) DeepSeekHashV1 kernel: the same module as the scalar kernel (permute,
 * absorb, hash, one set_nonce) plus a second nonce tail and a `solve` that hashes nonces n and n+1 together.
 *
 * Each state lane is one v128 local holding that lane of both states (i64x2 lane 0 = nonce n, lane 1 = n+1).
 * Rotations are i64x2.shl / i64x2.shr_u / v128.or (whole bytes via i8x16.shuffle, one bit via add/compare/sub);
 * chi is x ^ andnot(x2, x1), so no lane complementing is needed. Each lane keeps its own ASCII digits (TAIL and TAIL_B),
 * advanced by 2 per pair, so pairs that straddle a digit-count change (9|10, 99|100) or the 136-byte block
 * boundary still hash each nonce correctly: each lane picks its own first state and last block.
 */
import { FunctionBuilder, I32, I64, Op, SimdOp, V128, assembleModule } from "./wasm-encoder.ts";
import {
  BASE_OFF,
  INITIAL_PAGES,
  KernelExport,
  RATE,
  TAIL_B_OFF,
  WORK_B_OFF,
  WORK_OFF,
} from "./kernel-layout.ts";
import {
  FIRST_ROUND,
  FN_ABSORB,
  FN_HASH,
  FN_PERMUTE,
  FN_SET_NONCE,
  FN_SOLVE,
  G_TAIL,
  LAST_ROUND,
  RATE_LANES,
  RC,
  ROT,
  SCALAR_GLOBALS,
  TAIL_A,
  buildAbsorb,
  buildHash,
  buildPermute,
  buildSetNonce,
  emitXorBlockInto,
  piSourceX,
  type NonceTail,
} from "./kernel-gen.ts";

const FN_SET_NONCE_B = 5;
const TAIL_B: NonceTail = {
  off: TAIL_B_OFF,
  gFirst: SCALAR_GLOBALS,
  gLast: SCALAR_GLOBALS + 1,
  gBlocks: SCALAR_GLOBALS + 2,
};
/**
 * Never written, always 0. Shift counts are computed once per call as G_ZERO + k into i32 locals: JavaScriptCore
 * (x86) has no immediate-count vector shift and re-materialises a constant count at every shift; a count held in
 * a local is cheaper there (measured: ~6% on bench/pow.ts). Other engines fold it either way.
 */
const G_ZERO = SCALAR_GLOBALS + 3;
const GLOBALS = SCALAR_GLOBALS + 4;

interface VLanes {
  a: number[];
  e: number[];
  b: number[];
  c: number[];
  d: number[];
  tmp: number;
  /** Local holding shift count k (i32), for every count the rotations use. */
  counts: Map<number, number>;
}

function declareVLanes(f: FunctionBuilder): VLanes {
  const counts = new Map<number, number>();
  const ks = new Set<number>();
  for (const r of ROT) if (r % 8 > 1) ks.add(r).add(64 - r); // see SimdPermutationEmitter.rotl
  for (const k of [...ks].sort((a, b) => a - b)) counts.set(k, f.locals(1, I32));
  const base = f.locals(66, V128);
  const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
  return {
    a: range(base, 25),
    e: range(base + 25, 25),
    b: range(base + 50, 5),
    c: range(base + 55, 5),
    d: range(base + 60, 5),
    tmp: base + 65,
    counts,
  };
}

/** i8x16.shuffle pattern rotating both i64 lanes left by `bytes` bytes. */
function byteRotation(bytes: number): number[] {
  const out: number[] = [];
  for (let lane = 0; lane < 2; lane++) for (let k = 0; k < 8; k++) out.push(8 * lane + ((k - bytes + 8) % 8));
  return out;
}

/** Emits rounds over v128 locals, row by row, folding each output lane into the next round's column parity. */
class SimdPermutationEmitter {
  private cur: number[];
  private next: number[];

  constructor(private readonly f: FunctionBuilder, private readonly l: VLanes) {
    this.cur = l.a;
    this.next = l.e;
  }

  columnParities(): void {
    const { f, cur } = this;
    for (let x = 0; x < 5; x++) {
      f.get(cur[x]!).get(cur[x + 5]!).simd(SimdOp.v128_xor).get(cur[x + 10]!).simd(SimdOp.v128_xor);
      f.get(cur[x + 15]!).simd(SimdOp.v128_xor).get(cur[x + 20]!).simd(SimdOp.v128_xor).set(this.l.c[x]!);
    }
  }

  round(round: number, accumulateParities: boolean): void {
    this.theta();
    for (let Y = 0; Y < 5; Y++) {
      this.rowB(Y);
      for (let X = 0; X < 5; X++) {
        this.chi(X);
        if (Y === 0 && X === 0) this.f.v128SplatConst(RC[round]!).simd(SimdOp.v128_xor);
        const out = this.next[5 * Y + X]!;
        if (!accumulateParities) this.f.set(out);
        else if (Y === 0) this.f.tee(out).set(this.l.c[X]!);
        else this.f.tee(out).get(this.l.c[X]!).simd(SimdOp.v128_xor).set(this.l.c[X]!);
      }
    }
    [this.cur, this.next] = [this.next, this.cur];
  }

  /** Last round, output lanes 0..3 only: pushes lane X, then calls `each(X)` to consume it. */
  lastRoundRow0(round: number, each: (X: number) => void): void {
    this.theta();
    this.rowB(0);
    for (let X = 0; X < 4; X++) {
      this.chi(X);
      if (X === 0) this.f.v128SplatConst(RC[round]!).simd(SimdOp.v128_xor);
      each(X);
    }
  }

  /**
   * rotl of the v128 on the stack by `r` bits in each i64 lane. Whole bytes go through i8x16.shuffle; a 1-bit
   * rotation is (x + x) - (0 > x ? -1 : 0), no shift at all; the rest is shl | shr_u with counts from locals.
   */
  private rotl(r: number): void {
    const { f } = this;
    const tmp = this.l.tmp;
    const bytes = r >> 3;
    const bits = r & 7;
    if (bits <= 1) {
      if (bytes !== 0) f.tee(tmp).get(tmp).simd(SimdOp.i8x16_shuffle, ...byteRotation(bytes));
      if (bits === 1) {
        f.tee(tmp).get(tmp).simd(SimdOp.i64x2_add).v128SplatConst(0n).get(tmp).simd(SimdOp.i64x2_gt_s);
        f.simd(SimdOp.i64x2_sub);
      }
      return;
    }
    const count = (k: number) => f.get(this.l.counts.get(k)!);
    f.tee(tmp);
    count(r);
    f.simd(SimdOp.i64x2_shl).get(tmp);
    count(64 - r);
    f.simd(SimdOp.i64x2_shr_u).simd(SimdOp.v128_or);
  }

  private theta(): void {
    const { f } = this;
    const { c, d } = this.l;
    for (let x = 0; x < 5; x++) {
      f.get(c[(x + 4) % 5]!).get(c[(x + 1) % 5]!);
      this.rotl(1);
      f.simd(SimdOp.v128_xor).set(d[x]!);
    }
  }

  /** B[X] of row Y = rotl(A[x, X] ^ D[x], rho) with x the pi source column, for X = 0..4. */
  private rowB(Y: number): void {
    const { f, cur } = this;
    const { b, d } = this.l;
    for (let X = 0; X < 5; X++) {
      const x = piSourceX(X, Y);
      const i = x + 5 * X;
      f.get(cur[i]!).get(d[x]!).simd(SimdOp.v128_xor);
      if (ROT[i] !== 0) this.rotl(ROT[i]!);
      f.set(b[X]!);
    }
  }

  /** Pushes chi output X of the current row: B[X] ^ (~B[X+1] & B[X+2]). */
  private chi(X: number): void {
    const { b } = this.l;
    this.f.get(b[X]!).get(b[(X + 2) % 5]!).get(b[(X + 1) % 5]!).simd(SimdOp.v128_andnot).simd(SimdOp.v128_xor);
  }
}

/**
 * Advances one lane's ASCII digits by `step` (1..9) in place; when the carry runs past the first digit the number
 * gains a digit, so `setNonce` rewrites it from the value `pushValue` leaves on the stack.
 */
function emitAdvanceDigits(
  f: FunctionBuilder,
  tail: NonceTail,
  setNonceFn: number,
  step: number,
  locals: { p: number; c: number },
  pushValue: () => void,
): void {
  const { p, c } = locals;
  f.block(); // done
  f.gget(tail.gLast).tee(p).load8().i32(step).op(Op.i32_add).tee(c).i32(57).op(Op.i32_le_u).if();
  f.get(p).get(c).store8().br(1);
  f.end();
  f.get(p).get(c).i32(10).op(Op.i32_sub).store8();
  f.loop(); // carry into the previous digit
  f.get(p).gget(tail.gFirst).op(Op.i32_eq).if();
  pushValue();
  f.call(setNonceFn).br(2);
  f.end();
  f.get(p).i32(1).op(Op.i32_sub).tee(p).load8().tee(c).i32(57).op(Op.i32_ne).if();
  f.get(p).get(c).i32(1).op(Op.i32_add).store8().br(2);
  f.end();
  f.get(p).i32(48).store8().br(0);
  f.end(); // loop
  f.end(); // done
}

/** Sets `src`/`blk` for one lane: BASE and its only tail block, or the permuted first tail block and the second. */
function emitLaneSource(f: FunctionBuilder, tail: NonceTail, work: number, src: number, blk: number): void {
  f.gget(tail.gBlocks).i32(2).op(Op.i32_eq).if();
  emitXorBlockInto(f, work, BASE_OFF, tail.off);
  f.i32(work).call(FN_PERMUTE);
  f.i32(work).set(src).i32(tail.off + RATE).set(blk);
  f.op(Op.else);
  f.i32(BASE_OFF).set(src).i32(tail.off).set(blk);
  f.end();
}

/**
 * solve(t0, t1, t2, t3, start, end) -> first nonce in [start, end) whose digest lanes equal t0..t3, else -1.
 * Nonces go in pairs (n, n+1); lane 0 (the lower nonce) wins when both match; n+1 counts only below `end`.
 */
function buildSolvePairs(): FunctionBuilder {
  const f = new FunctionBuilder([I64, I64, I64, I64, I32, I32], [I32]);
  const [start, end] = [4, 5];
  const i32s = f.locals(8, I32);
  const [n, p, c, srcA, blkA, srcB, blkB, m] = Array.from({ length: 8 }, (_, i) => i32s + i);
  const target = f.locals(4, V128);
  const eq = f.locals(1, V128);
  const lanes = declareVLanes(f);

  f.get(start).get(end).op(Op.i32_ge_u).if().i32(-1).op(Op.return).end();
  for (let t = 0; t < 4; t++) f.get(t).simd(SimdOp.i64x2_splat).set(target + t);
  for (const [k, local] of lanes.counts) f.gget(G_ZERO).i32(k).op(Op.i32_add).set(local);
  f.get(start).set(n).get(n).call(FN_SET_NONCE);
  f.i32(TAIL_B.off).i32(TAIL_A.off).gget(G_TAIL).memoryCopy(); // lane two's copy of the prefix tail
  f.get(n).i32(1).op(Op.i32_add).call(FN_SET_NONCE_B);

  f.loop(); // per pair
  f.block(); // exit = next pair
  emitLaneSource(f, TAIL_A, WORK_OFF, srcA, blkA);
  emitLaneSource(f, TAIL_B, WORK_B_OFF, srcB, blkB);
  for (let i = 0; i < 25; i++) {
    f.get(srcB).get(srcA).load64Zero(8 * i).load64Lane(8 * i, 1);
    if (i < RATE_LANES) f.get(blkB).get(blkA).load64Zero(8 * i).load64Lane(8 * i, 1).simd(SimdOp.v128_xor);
    f.set(lanes.a[i]!);
  }
  const perm = new SimdPermutationEmitter(f, lanes);
  perm.columnParities();
  for (let r = FIRST_ROUND; r < LAST_ROUND; r++) perm.round(r, true);
  perm.lastRoundRow0(LAST_ROUND, (x) => {
    f.get(target + x).simd(SimdOp.i64x2_eq);
    if (x === 0) f.tee(eq).simd(SimdOp.v128_any_true).op(Op.i32_eqz).brIf(0);
    else f.get(eq).simd(SimdOp.v128_and).set(eq);
  });
  f.get(eq).simd(SimdOp.i64x2_bitmask).tee(m).i32(1).op(Op.i32_and).if().get(n).op(Op.return).end();
  f.get(m).i32(2).op(Op.i32_and).if();
  f.get(n).i32(1).op(Op.i32_add).get(end).op(Op.i32_lt_u).if().get(n).i32(1).op(Op.i32_add).op(Op.return).end();
  f.end();
  f.end(); // block: next pair

  f.get(n).i32(2).op(Op.i32_add).tee(n).get(end).op(Op.i32_ge_u).if().i32(-1).op(Op.return).end();
  emitAdvanceDigits(f, TAIL_A, FN_SET_NONCE, 2, { p, c }, () => f.get(n));
  emitAdvanceDigits(f, TAIL_B, FN_SET_NONCE_B, 2, { p, c }, () => f.get(n).i32(1).op(Op.i32_add));
  f.br(0);
  f.end(); // loop
  f.i32(-1);
  return f;
}

/** The SIMD kernel module bytes (same exports as the scalar kernel). Deterministic. */
export function generatePowKernelSimd(): Uint8Array {
  const functions = [
    buildPermute(),
    buildSetNonce(TAIL_A),
    buildAbsorb(),
    buildHash(),
    buildSolvePairs(),
    buildSetNonce(TAIL_B),
  ];
  if (functions.length !== FN_SET_NONCE_B + 1 || FN_SOLVE !== 4 || FN_ABSORB !== 2 || FN_HASH !== 3) {
    throw new Error("SIMD kernel function indices out of sync with kernel-gen.ts");
  }
  return assembleModule({
    functions,
    i32Globals: GLOBALS,
    memoryPages: INITIAL_PAGES,
    exports: [
      { name: KernelExport.memory, kind: "memory", index: 0 },
      { name: KernelExport.absorb, kind: "func", index: FN_ABSORB },
      { name: KernelExport.hash, kind: "func", index: FN_HASH },
      { name: KernelExport.solve, kind: "func", index: FN_SOLVE },
    ],
  });
}
