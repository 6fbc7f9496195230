/** Linear-memory layout and exports shared by the kernel generator and its host wrapper. */

/** Keccak sponge rate of SHA3-256 in bytes (17 lanes). */
export const RATE = 136;
/** 25 lanes × 8 bytes. */
export const STATE_BYTES = 200;

/** State after absorbing every full 136-byte block of the prefix. */
export const BASE_OFF = 0;
/** Scratch state: the first of two tail blocks in `solve`, the digest of `hash`. */
export const WORK_OFF = 256;
/** Two rate blocks: prefix tail, nonce digits, SHA3 padding. */
export const TAIL_OFF = 512;
export const TAIL_BYTES = 2 * RATE;
/** SIMD kernel, second nonce lane: its own tail blocks and scratch state (lane one uses TAIL and WORK). */
export const TAIL_B_OFF = 1024;
export const WORK_B_OFF = 1536;
/** The host writes the prefix (or a whole message for `hash`) here. */
export const INPUT_OFF = 2048;

export const PAGE_BYTES = 65536;
export const INITIAL_PAGES = 1;

/** Exported function names. */
export const KernelExport = {
  memory: "memory",
  /** absorb(len): absorbs full blocks of INPUT[0, len) into BASE, copies the rest into TAIL. */
  absorb: "absorb",
  /** hash(len): DeepSeekHashV1 of INPUT[0, len); digest = first 32 bytes at WORK_OFF. */
  hash: "hash",
  /** solve(t0, t1, t2, t3, start, end) -> nonce or -1, after absorb(prefixLen). */
  solve: "solve",
} as const;

/** Largest nonce the kernel formats (its decimal form must fit beside the tail). */
export const MAX_NONCE = 0x7fffffff;
