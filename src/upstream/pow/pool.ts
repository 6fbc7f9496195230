/**
 * PowPool: DeepSeekHashV1 solving on a pool of Bun workers, each with its own wasm kernel.
 *
 * A solve is posted to every worker with a shared control block (SharedArrayBuffer): workers claim slices of
 * [0, difficulty) from a shared counter, so together they scan upward from 0; the first answer (or an abort)
 * sets the shared stop word. Concurrent solves are interleaved slice by slice inside each worker.
 *
 * Compiled executables: `bun build --compile` must get `src/upstream/pow/worker.ts` as an extra entrypoint
 * (see worker-url.ts).
 */
import type { ProofOfWorkStats } from "../../core/upstream/provider.ts";
import { powPrefixBytes, validateChallenge } from "./challenge.ts";
import { targetLanes } from "./kernel.ts";
import { abortError, SLICE_NONCES } from "./solver.ts";
import type { PowChallenge, PowSolver } from "./types.ts";
import { powWorkerUrl } from "./worker-url.ts";
import { CTL_STOP, CTL_WORDS, type PowJobMessage, type PowWorkerReply, type PowWorkerRequest } from "./worker-protocol.ts";

export interface PowPoolOptions {
  /** Number of workers (default: navigator.hardwareConcurrency). */
  size?: number;
  /** Nonces per claimed slice (default SLICE_NONCES). */
  sliceNonces?: number;
  /** Reject challenges whose expire_at has passed (default false). */
  checkExpiry?: boolean;
}

/** Worker-pool statistics, in the contract's provider-neutral shape (metrics, admin). */
export type PowPoolStats = ProofOfWorkStats;

/** Bun's Worker also has ref()/unref() (not in the DOM typings). */
type PoolWorker = Worker & { ref(): void; unref(): void };

interface PendingJob {
  ctl: Int32Array;
  remaining: number;
  startedAt: number;
  resolve(answer: number | null): void;
  reject(err: Error): void;
  cleanup(): void;
}

export class PowPool implements PowSolver {
  readonly size: number;
  private readonly sliceNonces: number;
  private readonly checkExpiry: boolean;
  private workers: PoolWorker[] = [];
  private readonly jobs = new Map<number, PendingJob>();
  private readonly warmups = new Map<number, () => void>();
  private nextId = 1;
  private closed = false;
  private warming: Promise<void> | undefined;
  private solves = 0;
  private unsolved = 0;
  private totalMs = 0;
  private lastMs: number | null = null;

  constructor(options: PowPoolOptions = {}) {
    const size = options.size ?? navigator.hardwareConcurrency ?? 1;
    if (!Number.isInteger(size) || size < 1 || size > 256) throw new RangeError(`PowPool size must be 1..256, got ${size}`);
    this.size = size;
    this.sliceNonces = options.sliceNonces ?? SLICE_NONCES;
    this.checkExpiry = options.checkExpiry ?? false;
  }

  /** Starts the workers and tiers their kernels up. Resolves when all are warm; safe to not await. */
  warmup(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.warming ??= Promise.all(
      this.ensureWorkers().map(
        (worker) =>
          new Promise<void>((resolve) => {
            const id = this.nextId++;
            this.warmups.set(id, resolve);
            this.post(worker, { type: "warmup", id });
          }),
      ),
    ).then(() => {
      if (this.jobs.size === 0) this.unrefWorkers();
    });
    this.refWorkers();
    return this.warming;
  }

  solve(challenge: PowChallenge, signal?: AbortSignal): Promise<number | null> {
    if (this.closed) return Promise.reject(new Error("PowPool is closed"));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    let c: PowChallenge;
    try {
      c = validateChallenge(challenge, this.checkExpiry ? { now: Date.now() } : {});
    } catch (err) {
      return Promise.reject(err);
    }
    const workers = this.ensureWorkers();
    const id = this.nextId++;
    const ctl = new Int32Array(new SharedArrayBuffer(CTL_WORDS * Int32Array.BYTES_PER_ELEMENT));
    return new Promise<number | null>((resolve, reject) => {
      const onAbort = () => this.finish(id, abortError(signal));
      signal?.addEventListener("abort", onAbort, { once: true });
      this.jobs.set(id, {
        ctl,
        remaining: workers.length,
        startedAt: performance.now(),
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener("abort", onAbort),
      });
      this.refWorkers();
      const msg: PowJobMessage = {
        type: "job",
        id,
        prefix: powPrefixBytes(c),
        target: [...targetLanes(c.challenge)],
        difficulty: c.difficulty,
        sliceNonces: this.sliceNonces,
        ctl,
      };
      for (const worker of workers) this.post(worker, msg);
    });
  }

  stats(): PowPoolStats {
    return {
      workers: this.size,
      solves: this.solves,
      unsolved: this.unsolved,
      lastMs: this.lastMs,
      avgMs: this.solves > 0 ? this.totalMs / this.solves : null,
      inFlight: this.jobs.size,
    };
  }

  /** Stops every job (they reject) and terminates the workers. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.jobs.keys()]) this.finish(id, new Error("PowPool closed"));
    for (const resolve of this.warmups.values()) resolve();
    this.warmups.clear();
    for (const worker of this.workers) worker.terminate();
    this.workers = [];
  }

  private ensureWorkers(): PoolWorker[] {
    if (this.closed) throw new Error("PowPool is closed");
    while (this.workers.length < this.size) {
      const worker = new Worker(powWorkerUrl()) as PoolWorker;
      worker.onmessage = (event: MessageEvent<PowWorkerReply>) => this.onReply(event.data);
      worker.onerror = (event: ErrorEvent) => this.onWorkerCrash(worker, event);
      worker.unref();
      this.workers.push(worker);
    }
    return this.workers;
  }

  private post(worker: Worker, msg: PowWorkerRequest): void {
    worker.postMessage(msg);
  }

  private onReply(msg: PowWorkerReply): void {
    if (msg.type === "warm") {
      this.warmups.get(msg.id)?.();
      this.warmups.delete(msg.id);
      return;
    }
    if (msg.type === "error" && this.warmups.has(msg.id)) {
      this.warmups.get(msg.id)?.(); // a failed warmup only costs speed
      this.warmups.delete(msg.id);
      return;
    }
    const job = this.jobs.get(msg.id);
    if (!job) return; // already settled (answer found elsewhere, aborted)
    if (msg.type === "found") this.finish(msg.id, msg.answer);
    else if (msg.type === "error") this.finish(msg.id, new Error(`PoW worker failed: ${msg.message}`));
    else if (--job.remaining === 0) this.finish(msg.id, null);
  }

  private onWorkerCrash(worker: PoolWorker, event: ErrorEvent): void {
    const err = new Error(`PoW worker crashed: ${event.message}`);
    for (const id of [...this.jobs.keys()]) this.finish(id, err);
    this.workers = this.workers.filter((w) => w !== worker);
    worker.terminate();
  }

  private finish(id: number, outcome: number | null | Error): void {
    const job = this.jobs.get(id);
    if (!job) return;
    this.jobs.delete(id);
    Atomics.store(job.ctl, CTL_STOP, 1);
    job.cleanup();
    if (this.jobs.size === 0) this.unrefWorkers();
    if (outcome instanceof Error) {
      job.reject(outcome);
      return;
    }
    const ms = performance.now() - job.startedAt;
    this.solves++;
    this.totalMs += ms;
    this.lastMs = ms;
    if (outcome === null) this.unsolved++;
    job.resolve(outcome);
  }

  /** Workers keep the process alive only while a solve is in flight. */
  private refWorkers(): void {
    for (const worker of this.workers) worker.ref();
  }

  private unrefWorkers(): void {
    for (const worker of this.workers) worker.unref();
  }
}
