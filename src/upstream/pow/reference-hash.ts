/**
 * DeepSeekHashV1 — a plain, readable reference implementation.
 *
 * SHA3-256 whose Keccak-f[1600] permutation runs rounds 1..23 only (round 0 is skipped).
 * Used by the simulator to issue and verify challenges, and by tests as the oracle for the
 * fast WebAssembly kernel. Not used on the hot path.
 */

const MASK = (1n << 64n) - 1n;

const ROUND_CONSTANTS: bigint[] = [
  0x0000000000000001n, 0x0000000000008082n, 0x800000000000808an, 0x8000000080008000n,
  0x000000000000808bn, 0x0000000080000001n, 0x8000000080008081n, 0x8000000000008009n,
  0x000000000000008an, 0x0000000000000088n, 0x0000000080008009n, 0x000000008000000an,
  0x000000008000808bn, 0x800000000000008bn, 0x8000000000008089n, 0x8000000000008003n,
  0x8000000000008002n, 0x8000000000000080n, 0x000000000000800an, 0x800000008000000an,
  0x8000000080008081n, 0x8000000000008080n, 0x0000000080000001n, 0x8000000080008008n,
];

/** Rotation offsets indexed by lane x + 5y. */
const ROTATIONS = [0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14];

const RATE_BYTES = 136;

function rotl(v: bigint, n: number): bigint {
  if (n === 0) return v;
  const s = BigInt(n);
  return ((v << s) | (v >> (64n - s))) & MASK;
}

function permute(a: bigint[]): void {
  for (let round = 1; round < 24; round++) {
    const c = new Array<bigint>(5);
    for (let x = 0; x < 5; x++) c[x] = a[x]! ^ a[x + 5]! ^ a[x + 10]! ^ a[x + 15]! ^ a[x + 20]!;
    for (let x = 0; x < 5; x++) {
      const d = c[(x + 4) % 5]! ^ rotl(c[(x + 1) % 5]!, 1);
      for (let y = 0; y < 25; y += 5) a[y + x] = a[y + x]! ^ d;
    }
    const b = new Array<bigint>(25);
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) {
        b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(a[x + 5 * y]!, ROTATIONS[x + 5 * y]!);
      }
    }
    for (let y = 0; y < 25; y += 5) {
      for (let x = 0; x < 5; x++) a[y + x] = b[y + x]! ^ (~b[y + ((x + 1) % 5)]! & MASK & b[y + ((x + 2) % 5)]!);
    }
    a[0] = a[0]! ^ ROUND_CONSTANTS[round]!;
  }
}

function absorbBlock(state: bigint[], block: Uint8Array): void {
  for (let i = 0; i < RATE_BYTES / 8; i++) {
    let lane = 0n;
    for (let j = 7; j >= 0; j--) lane = (lane << 8n) | BigInt(block[i * 8 + j]!);
    state[i] = state[i]! ^ lane;
  }
  permute(state);
}

/** DeepSeekHashV1 of `input` (a string is UTF-8 encoded), as 64 lowercase hex characters. */
export function deepSeekHashV1(input: string | Uint8Array): string {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  const state = new Array<bigint>(25).fill(0n);
  let offset = 0;
  for (; offset + RATE_BYTES <= bytes.length; offset += RATE_BYTES) {
    absorbBlock(state, bytes.subarray(offset, offset + RATE_BYTES));
  }
  const last = new Uint8Array(RATE_BYTES);
  last.set(bytes.subarray(offset));
  last[bytes.length - offset] = last[bytes.length - offset]! ^ 0x06;
  last[RATE_BYTES - 1] = last[RATE_BYTES - 1]! ^ 0x80;
  absorbBlock(state, last);
  let hex = "";
  for (let i = 0; i < 4; i++) {
    let lane = state[i]!;
    for (let j = 0; j < 8; j++) {
      hex += Number(lane & 0xffn).toString(16).padStart(2, "0");
      lane >>= 8n;
    }
  }
  return hex;
}

/** The exact string that is hashed for one nonce: `salt_expireAt_nonce`. */
export function powMessage(salt: string, expireAt: number | string, nonce: number): string {
  return `${salt}_${expireAt}_${nonce}`;
}
