/** Messages between PowPool (main thread) and its workers. */

/** Control words of one job, in a SharedArrayBuffer seen by every worker. */
export const CTL_STOP = 0; // 0 = keep going, 1 = stop (answer found, aborted or closed)
export const CTL_NEXT_SLICE = 1; // next slice index to claim (Atomics.add)
export const CTL_WORDS = 2;

export interface PowJobMessage {
  type: "job";
  id: number;
  /** UTF-8 bytes of `salt_expireAt_`. */
  prefix: Uint8Array;
  /** Target digest lanes (little-endian u64). */
  target: [bigint, bigint, bigint, bigint];
  difficulty: number;
  sliceNonces: number;
  /** Int32Array(CTL_WORDS) over a SharedArrayBuffer. */
  ctl: Int32Array;
}

export interface PowWarmupMessage {
  type: "warmup";
  id: number;
}

export type PowWorkerRequest = PowJobMessage | PowWarmupMessage;

export type PowWorkerReply =
  | { type: "found"; id: number; answer: number }
  /** This worker will not work on job `id` any more (range exhausted or stopped). */
  | { type: "done"; id: number }
  | { type: "warm"; id: number }
  | { type: "error"; id: number; message: string };
