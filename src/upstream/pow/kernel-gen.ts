/**
 * Generates the DeepSeekHashV1 WebAssembly kernel (binary bytes, no toolchain).
 *
 * DeepSeekHashV1 = SHA3-256 whose Keccak-f[1600] runs rounds 1..23 only. The kernel keeps the 25 lanes in
 * i64 locals and fully unrolls the rounds, so the round code never touches memory. The nonce search:
 *   - `absorb(len)` absorbs every full 136-byte block of the prefix once (BASE) and keeps the tail bytes;
 *   - `solve(t0..t3, start, end)` writes the decimal nonce after the tail once, then increments the ASCII
 *     digits in place; each nonce costs one permutation (two when tail + digits reach 136 bytes);
 *   - the last round computes only the 4 output lanes, lane 0 first, and compares them with the target.
 * `scripts/build-pow-kernel.ts` writes the bytes to `kernel-wasm.ts`; a test checks they match this generator.
 */
import { FunctionBuilder, I32, I64, Op, assembleModule } from "./wasm-encoder.ts";
import {
  BASE_OFF,
  INITIAL_PAGES,
  INPUT_OFF,
  KernelExport,
  RATE,
  STATE_BYTES,
  TAIL_BYTES,
  TAIL_OFF,
  WORK_OFF,
} from "./kernel-layout.ts";

export const RATE_LANES = RATE / 8;
export const FIRST_ROUND = 1; // DeepSeekHashV1 skips round 0
export const LAST_ROUND = 23;

/** Keccak round constants from the degree-8 LFSR of FIPS 202 §3.2.5. */
function roundConstants(): bigint[] {
  const rcBit = (t: number): number => {
    let r = 1;
    for (let i = 0; i < t % 255; i++) {
      r <<= 1;
      if (r & 0x100) r ^= 0x171; // x^8 + x^6 + x^5 + x^4 + 1
    }
    return r & 1;
  };
  const out: bigint[] = [];
  for (let round = 0; round < 24; round++) {
    let rc = 0n;
    for (let j = 0; j <= 6; j++) if (rcBit(j + 7 * round)) rc |= 1n << BigInt((1 << j) - 1);
    out.push(rc);
  }
  return out;
}

/** Rho offsets indexed by lane x + 5y (FIPS 202 §3.2.2). */
function rotationOffsets(): number[] {
  const rot = new Array<number>(25).fill(0);
  let x = 1;
  let y = 0;
  for (let t = 0; t < 24; t++) {
    rot[x + 5 * y] = (((t + 1) * (t + 2)) / 2) % 64;
    [x, y] = [y, (2 * x + 3 * y) % 5];
  }
  return rot;
}

export const RC = roundConstants();
export const ROT = rotationOffsets();

/**
 * Lane complementing (Keccak implementation overview §2.2): these lanes are kept bitwise complemented
 * between rounds. chi then needs only 5 NOTs per round instead of 25; the mask is a fixed point.
 */
const COMPLEMENTED = new Set([1, 2, 8, 12, 17, 20]);
const isComplemented = (lane: number): boolean => COMPLEMENTED.has(lane);

/** Local indices of the permutation working set inside one function. */
interface Lanes {
  /** Two lane sets: each round reads one and writes the other. */
  a: number[];
  e: number[];
  /** One row of B (after theta, rho, pi) and complemented copies of some of them. */
  b: number[];
  nb: number[];
  /** Column parities (accumulated while the previous round writes its output) and theta's D. */
  c: number[];
  d: number[];
}

function declareLanes(f: FunctionBuilder): Lanes {
  const base = f.locals(70, I64);
  const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
  return {
    a: range(base, 25),
    e: range(base + 25, 25),
    b: range(base + 50, 5),
    nb: range(base + 55, 5),
    c: range(base + 60, 5),
    d: range(base + 65, 5),
  };
}

/** Target B index of lane (x, y) under pi. */
const piTarget = (x: number, y: number): number => y + 5 * ((2 * x + 3 * y) % 5);
/** Source lane x (column) feeding B[X + 5Y]; its row is y = X. */
export const piSourceX = (X: number, Y: number): number => (((3 * (Y - 3 * X)) % 5) + 5) % 5;

/** Complement flags of C and D when the state lanes carry the COMPLEMENTED mask. */
const C_FLAGS = [0, 1, 2, 3, 4].map((x) => [0, 5, 10, 15, 20].filter((y) => isComplemented(x + y)).length % 2 === 1);
const D_FLAGS = [0, 1, 2, 3, 4].map((x) => C_FLAGS[(x + 4) % 5] !== C_FLAGS[(x + 1) % 5]);

/** Complement flag of every B value (rotation and xor with D keep "is complemented" arithmetic). */
const B_FLAGS: boolean[] = (() => {
  const out = new Array<boolean>(25).fill(false);
  for (let x = 0; x < 5; x++) {
    for (let y = 0; y < 5; y++) out[piTarget(x, y)] = isComplemented(x + 5 * y) !== D_FLAGS[x];
  }
  return out;
})();

/** How one chi output is formed from stored (possibly complemented) B values of its row. */
interface ChiForm {
  /** For B[x], B[x+1], B[x+2]: use the complemented copy? */
  neg: [boolean, boolean, boolean];
  /** AND when the middle operand holds ~B1, else OR (which yields the complement of ~B1 & B2). */
  useAnd: boolean;
}

/**
 * Per row: the smallest set of B values to complement so every output lane x gets flag isComplemented(row + x)
 * with AND/OR/XOR only. ~B1 & B2 equals b1 & b2 when b1 holds ~B1 and b2 holds B2, and equals ~(b1 | b2) when
 * b1 holds B1 and b2 holds ~B2.
 */
function planChiRow(row: number): { negated: boolean[]; forms: ChiForm[] } {
  const flags = [0, 1, 2, 3, 4].map((x) => B_FLAGS[row + x]!);
  let best: { negated: boolean[]; forms: ChiForm[] } | undefined;
  for (let set = 0; set < 32; set++) {
    const negated = [0, 1, 2, 3, 4].map((x) => ((set >> x) & 1) === 1);
    const forms: ChiForm[] = [];
    for (let x = 0; x < 5; x++) {
      const want = isComplemented(row + x);
      const idx = [x, (x + 1) % 5, (x + 2) % 5];
      let found: ChiForm | undefined;
      for (let m = 0; m < 8 && !found; m++) {
        const neg: [boolean, boolean, boolean] = [(m & 1) === 1, (m & 2) === 2, (m & 4) === 4];
        if (neg.some((n, k) => n && !negated[idx[k]!])) continue;
        const fl = neg.map((n, k) => flags[idx[k]!] !== n);
        if (fl[1] === fl[2]) continue;
        const useAnd = fl[1]!;
        if ((fl[0] !== !useAnd) === want) found = { neg, useAnd };
      }
      if (!found) break;
      forms.push(found);
    }
    if (forms.length < 5) continue;
    if (!best || negated.filter(Boolean).length < best.negated.filter(Boolean).length) best = { negated, forms };
  }
  if (!best) throw new Error(`no chi plan for row ${row}`);
  return best;
}

const CHI_PLANS = [0, 5, 10, 15, 20].map((row) => planChiRow(row));

/**
 * Emits rounds over i64 locals, row by row: for each output row, its 5 B values, then chi; each output lane is
 * also folded into the next round's column parity while it is still in a register.
 */
class PermutationEmitter {
  private cur: number[];
  private next: number[];

  constructor(private readonly f: FunctionBuilder, private readonly l: Lanes) {
    this.cur = l.a;
    this.next = l.e;
  }

  /** Locals holding the current state (complemented per the mask). */
  get state(): number[] {
    return this.cur;
  }

  /** C from the current state (needed once, before the first round). */
  columnParities(): void {
    const { f, cur } = this;
    for (let x = 0; x < 5; x++) {
      f.get(cur[x]!).get(cur[x + 5]!).op(Op.i64_xor).get(cur[x + 10]!).op(Op.i64_xor);
      f.get(cur[x + 15]!).op(Op.i64_xor).get(cur[x + 20]!).op(Op.i64_xor).set(this.l.c[x]!);
    }
  }

  round(round: number, accumulateParities: boolean): void {
    this.theta();
    for (let Y = 0; Y < 5; Y++) {
      this.rowB(Y);
      for (let X = 0; X < 5; X++) {
        this.chi(Y, X);
        if (Y === 0 && X === 0) this.f.i64(RC[round]!).op(Op.i64_xor);
        const out = this.next[5 * Y + X]!;
        if (!accumulateParities) this.f.set(out);
        else if (Y === 0) this.f.tee(out).set(this.l.c[X]!);
        else this.f.tee(out).get(this.l.c[X]!).op(Op.i64_xor).set(this.l.c[X]!);
      }
    }
    [this.cur, this.next] = [this.next, this.cur];
  }

  /** Last round, output lanes 0..3 only: pushes lane X (complemented per the mask) after calling `each`. */
  lastRoundRow0(round: number, each: (X: number) => void): void {
    this.theta();
    this.rowB(0);
    for (let X = 0; X < 4; X++) {
      this.chi(0, X);
      if (X === 0) this.f.i64(RC[round]!).op(Op.i64_xor);
      each(X);
    }
  }

  private theta(): void {
    const { f } = this;
    const { c, d } = this.l;
    for (let x = 0; x < 5; x++) {
      f.get(c[(x + 4) % 5]!).get(c[(x + 1) % 5]!).i64(1n).op(Op.i64_rotl).op(Op.i64_xor).set(d[x]!);
    }
  }

  /** B[X + 5Y] = rotl(A[x, X] ^ D[x], rho), for X = 0..4; then the complemented copies this row's chi uses. */
  private rowB(Y: number): void {
    const { f, cur } = this;
    const { b, nb, d } = this.l;
    for (let X = 0; X < 5; X++) {
      const x = piSourceX(X, Y);
      const i = x + 5 * X;
      f.get(cur[i]!).get(d[x]!).op(Op.i64_xor);
      if (ROT[i] !== 0) f.i64(BigInt(ROT[i]!)).op(Op.i64_rotl);
      f.set(b[X]!);
    }
    const plan = CHI_PLANS[Y]!;
    for (let X = 0; X < 5; X++) if (plan.negated[X]) f.get(b[X]!).i64(-1n).op(Op.i64_xor).set(nb[X]!);
  }

  /** Pushes chi output lane X of row Y. */
  private chi(Y: number, X: number): void {
    const form = CHI_PLANS[Y]!.forms[X]!;
    const { b, nb } = this.l;
    const idx = [X, (X + 1) % 5, (X + 2) % 5];
    const operand = (k: number) => (form.neg[k] ? nb[idx[k]!]! : b[idx[k]!]!);
    this.f.get(operand(0)).get(operand(1)).get(operand(2));
    this.f.op(form.useAnd ? Op.i64_and : Op.i64_or).op(Op.i64_xor);
  }
}

/** Loads lane i into local `dst`, complementing per the mask; `load` pushes the raw lane. */
function emitLoadLane(f: FunctionBuilder, dst: number, i: number, load: () => void): void {
  load();
  if (isComplemented(i)) f.i64(-1n).op(Op.i64_xor);
  f.set(dst);
}

/** Emits `dst = a ^ b` over the first 17 lanes and `dst = a` over the rest, all at constant addresses. */
export function emitXorBlockInto(f: FunctionBuilder, dst: number, a: number, block: number): void {
  for (let i = 0; i < 25; i++) {
    f.i32(0).i32(0).load64(a + 8 * i);
    if (i < RATE_LANES) f.i32(0).load64(block + 8 * i).op(Op.i64_xor);
    f.store64(dst + 8 * i);
  }
}

export function emitOrByte(f: FunctionBuilder, addr: number, value: number): void {
  f.i32(0).i32(0).load8(addr).i32(value).op(Op.i32_or).store8(addr);
}

// Function and global indices (the SIMD module appends its own after these).
export const FN_PERMUTE = 0;
export const FN_SET_NONCE = 1;
export const FN_ABSORB = 2;
export const FN_HASH = 3;
export const FN_SOLVE = 4;
export const G_TAIL = 0; // prefix bytes after the last full block (0..135)
const G_FIRST = 1; // address of the first nonce digit
const G_LAST = 2; // address of the last nonce digit
const G_BLOCKS = 3; // 1 or 2 tail blocks for the current digit count
export const SCALAR_GLOBALS = 4;

/** Where one nonce's tail blocks live and which globals describe its digits. */
export interface NonceTail {
  off: number;
  gFirst: number;
  gLast: number;
  gBlocks: number;
}
/** The tail `absorb` fills (the scalar kernel's only one, the SIMD kernel's first lane). */
export const TAIL_A: NonceTail = { off: TAIL_OFF, gFirst: G_FIRST, gLast: G_LAST, gBlocks: G_BLOCKS };

/** permute(ptr): Keccak-f rounds 1..23 on the 25 lanes at ptr. */
export function buildPermute(): FunctionBuilder {
  const f = new FunctionBuilder([I32], []);
  const lanes = declareLanes(f);
  const p = new PermutationEmitter(f, lanes);
  for (let i = 0; i < 25; i++) emitLoadLane(f, lanes.a[i]!, i, () => f.get(0).load64(8 * i));
  p.columnParities();
  for (let r = FIRST_ROUND; r <= LAST_ROUND; r++) p.round(r, r < LAST_ROUND);
  for (let i = 0; i < 25; i++) {
    f.get(0).get(p.state[i]!);
    if (isComplemented(i)) f.i64(-1n).op(Op.i64_xor);
    f.store64(8 * i);
  }
  return f;
}

/**
 * set_nonce(n): writes decimal n after the prefix tail of `tail` (whose first G_TAIL bytes must already hold it),
 * then the 0x06 … 0x80 padding; sets the tail's first/last digit address and block count globals.
 */
export function buildSetNonce(tail: NonceTail = TAIL_A): FunctionBuilder {
  const { off: TAIL_OFF, gFirst: G_FIRST, gLast: G_LAST, gBlocks: G_BLOCKS } = tail;
  const f = new FunctionBuilder([I32], []);
  const n = 0;
  const [digits, t, p, m] = [f.locals(1, I32), f.locals(1, I32), f.locals(1, I32), f.locals(1, I32)];
  // zero TAIL[tail, 272)
  f.gget(G_TAIL).i32(TAIL_OFF).op(Op.i32_add).i32(0).i32(TAIL_BYTES).gget(G_TAIL).op(Op.i32_sub).memoryFill();
  // digit count
  f.i32(1).set(digits).get(n).set(t);
  f.block().loop();
  f.get(t).i32(10).op(Op.i32_lt_u).brIf(1);
  f.get(t).i32(10).op(Op.i32_div_u).set(t).get(digits).i32(1).op(Op.i32_add).set(digits).br(0);
  f.end().end();
  // digits, last to first
  f.i32(TAIL_OFF).gget(G_TAIL).op(Op.i32_add).gset(G_FIRST);
  f.gget(G_FIRST).get(digits).op(Op.i32_add).i32(1).op(Op.i32_sub).tee(p).gset(G_LAST);
  f.get(n).set(t);
  f.loop();
  f.get(p).get(t).i32(10).op(Op.i32_rem_u).i32(48).op(Op.i32_add).store8();
  f.get(t).i32(10).op(Op.i32_div_u).set(t);
  f.get(p).i32(1).op(Op.i32_sub).tee(p).gget(G_FIRST).op(Op.i32_ge_u).brIf(0);
  f.end();
  // padding: 0x06 right after the message, 0x80 into the last byte of its block
  f.gget(G_TAIL).get(digits).op(Op.i32_add).set(m);
  f.i32(TAIL_OFF).get(m).op(Op.i32_add).i32(0x06).store8();
  f.get(m).i32(RATE - 1).op(Op.i32_le_u).if();
  f.i32(1).gset(G_BLOCKS);
  emitOrByte(f, TAIL_OFF + RATE - 1, 0x80);
  f.op(Op.else);
  f.i32(2).gset(G_BLOCKS);
  emitOrByte(f, TAIL_OFF + 2 * RATE - 1, 0x80);
  f.end();
  return f;
}

/** absorb(len): BASE = state after every full block of INPUT[0, len); TAIL = the remaining bytes, zero-filled. */
export function buildAbsorb(): FunctionBuilder {
  const f = new FunctionBuilder([I32], []);
  const len = 0;
  const [p, end] = [f.locals(1, I32), f.locals(1, I32)];
  f.i32(BASE_OFF).i32(0).i32(STATE_BYTES).memoryFill();
  f.i32(INPUT_OFF).set(p).i32(INPUT_OFF).get(len).op(Op.i32_add).set(end);
  f.block().loop();
  f.get(end).get(p).op(Op.i32_sub).i32(RATE).op(Op.i32_lt_u).brIf(1);
  for (let i = 0; i < RATE_LANES; i++) {
    f.i32(0).i32(0).load64(BASE_OFF + 8 * i).get(p).load64(8 * i).op(Op.i64_xor).store64(BASE_OFF + 8 * i);
  }
  f.i32(BASE_OFF).call(FN_PERMUTE);
  f.get(p).i32(RATE).op(Op.i32_add).set(p).br(0);
  f.end().end();
  f.get(end).get(p).op(Op.i32_sub).gset(G_TAIL);
  f.i32(TAIL_OFF).i32(0).i32(TAIL_BYTES).memoryFill();
  f.i32(TAIL_OFF).get(p).gget(G_TAIL).memoryCopy();
  return f;
}

/** hash(len): full DeepSeekHashV1 of INPUT[0, len); the 32-byte digest is left at WORK. */
export function buildHash(): FunctionBuilder {
  const f = new FunctionBuilder([I32], []);
  f.get(0).call(FN_ABSORB);
  f.i32(TAIL_OFF).gget(G_TAIL).op(Op.i32_add).i32(0x06).store8();
  emitOrByte(f, TAIL_OFF + RATE - 1, 0x80);
  emitXorBlockInto(f, WORK_OFF, BASE_OFF, TAIL_OFF);
  f.i32(WORK_OFF).call(FN_PERMUTE);
  return f;
}

/** solve(t0, t1, t2, t3, start, end) -> first nonce in [start, end) whose digest lanes equal t0..t3, else -1. */
function buildSolve(): FunctionBuilder {
  const f = new FunctionBuilder([I64, I64, I64, I64, I32, I32], [I32]);
  const target = [0, 1, 2, 3];
  const [start, end] = [4, 5];
  const [n, p, c, src, blk] = [f.locals(1, I32), f.locals(1, I32), f.locals(1, I32), f.locals(1, I32), f.locals(1, I32)];
  const lanes = declareLanes(f);

  f.get(start).get(end).op(Op.i32_ge_u).if().i32(-1).op(Op.return).end();
  // Output lanes come out complemented per the mask: compare against complemented targets.
  for (const t of target) if (isComplemented(t)) f.get(t).i64(-1n).op(Op.i64_xor).set(t);
  f.get(start).set(n).get(n).call(FN_SET_NONCE);

  f.loop(); // per nonce
  f.block(); // exit = try the next nonce

  // Choose the state and block to permute last: BASE ^ TAIL, or (two blocks) permute(BASE ^ TAIL) ^ TAIL+136.
  f.gget(G_BLOCKS).i32(2).op(Op.i32_eq).if();
  emitXorBlockInto(f, WORK_OFF, BASE_OFF, TAIL_OFF);
  f.i32(WORK_OFF).call(FN_PERMUTE);
  f.i32(WORK_OFF).set(src).i32(TAIL_OFF + RATE).set(blk);
  f.op(Op.else);
  f.i32(BASE_OFF).set(src).i32(TAIL_OFF).set(blk);
  f.end();
  const perm = new PermutationEmitter(f, lanes);
  for (let i = 0; i < 25; i++) {
    emitLoadLane(f, lanes.a[i]!, i, () => {
      f.get(src).load64(8 * i);
      if (i < RATE_LANES) f.get(blk).load64(8 * i).op(Op.i64_xor);
    });
  }
  perm.columnParities();
  for (let r = FIRST_ROUND; r < LAST_ROUND; r++) perm.round(r, true);
  // Last round: only output lanes 0..3, compared one by one (lane 0 decides almost every nonce).
  perm.lastRoundRow0(LAST_ROUND, (x) => f.get(target[x]!).op(Op.i64_ne).brIf(0));
  f.get(n).op(Op.return);
  f.end(); // block: next nonce

  f.get(n).i32(1).op(Op.i32_add).tee(n).get(end).op(Op.i32_ge_u).if().i32(-1).op(Op.return).end();
  // Increment the ASCII digits in place; when all were 9, rewrite with one digit more.
  f.gget(G_LAST).set(p);
  f.block().loop();
  f.get(p).load8().tee(c).i32(57).op(Op.i32_ne).if();
  f.get(p).get(c).i32(1).op(Op.i32_add).store8().br(2);
  f.end();
  f.get(p).i32(48).store8();
  f.get(p).gget(G_FIRST).op(Op.i32_eq).if();
  f.get(n).call(FN_SET_NONCE).br(2);
  f.end();
  f.get(p).i32(1).op(Op.i32_sub).set(p).br(0);
  f.end().end();
  f.br(0);
  f.end(); // loop
  f.i32(-1);
  return f;
}

/** The kernel module bytes. Deterministic: same generator, same bytes. */
export function generatePowKernel(): Uint8Array {
  const functions = [buildPermute(), buildSetNonce(), buildAbsorb(), buildHash(), buildSolve()];
  return assembleModule({
    functions,
    i32Globals: SCALAR_GLOBALS,
    memoryPages: INITIAL_PAGES,
    exports: [
      { name: KernelExport.memory, kind: "memory", index: 0 },
      { name: KernelExport.absorb, kind: "func", index: FN_ABSORB },
      { name: KernelExport.hash, kind: "func", index: FN_HASH },
      { name: KernelExport.solve, kind: "func", index: FN_SOLVE },
    ],
  });
}
