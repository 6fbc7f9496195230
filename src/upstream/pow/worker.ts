/**
 * PoW worker (Bun Worker). Runs every job it is given, slice by slice: each slice index is claimed from the job's
 * shared counter, so all workers together scan [0, difficulty) upward; the shared stop word ends a job for everyone.
 * With several jobs it takes one slice of each in turn, and yields to the event loop every few ms for new messages.
 */
import { PowKernel } from "./kernel.ts";
import { CTL_NEXT_SLICE, CTL_STOP, type PowJobMessage, type PowWorkerReply, type PowWorkerRequest } from "./worker-protocol.ts";
import { warmupKernel } from "./warmup.ts";

declare const self: Worker;

const YIELD_EVERY_MS = 4;
const kernel = new PowKernel();
const jobs: PowJobMessage[] = [];
let loadedJob = -1;
let running = false;

function reply(msg: PowWorkerReply): void {
  self.postMessage(msg);
}

/** Runs one slice of `job`; returns false when the job is finished for this worker. */
function step(job: PowJobMessage): boolean {
  if (Atomics.load(job.ctl, CTL_STOP) !== 0) return false;
  const start = Atomics.add(job.ctl, CTL_NEXT_SLICE, 1) * job.sliceNonces;
  if (start >= job.difficulty) return false;
  if (loadedJob !== job.id) {
    kernel.setPrefix(job.prefix);
    loadedJob = job.id;
  }
  const answer = kernel.solve(job.target, start, Math.min(start + job.sliceNonces, job.difficulty));
  if (answer < 0) return true;
  Atomics.store(job.ctl, CTL_STOP, 1);
  reply({ type: "found", id: job.id, answer });
  jobs.splice(jobs.indexOf(job), 1);
  return true;
}

async function run(): Promise<void> {
  if (running) return;
  running = true;
  let lastYield = performance.now();
  try {
    for (let i = 0; jobs.length > 0; i++) {
      const job = jobs[i % jobs.length]!;
      let alive: boolean;
      try {
        alive = step(job);
      } catch (err) {
        reply({ type: "error", id: job.id, message: err instanceof Error ? err.message : String(err) });
        alive = false;
      }
      if (!alive && jobs.includes(job)) {
        jobs.splice(jobs.indexOf(job), 1);
        reply({ type: "done", id: job.id });
      }
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await new Promise<void>((r) => setImmediate(r));
        lastYield = performance.now();
      }
    }
  } finally {
    running = false;
  }
}

self.onmessage = (event: MessageEvent<PowWorkerRequest>) => {
  const msg = event.data;
  if (msg.type === "job") {
    jobs.push(msg);
    void run();
  } else if (msg.type === "warmup") {
    try {
      warmupKernel(kernel);
      loadedJob = -1;
      reply({ type: "warm", id: msg.id });
    } catch (err) {
      reply({ type: "error", id: msg.id, message: err instanceof Error ? err.message : String(err) });
    }
  }
};
