/**
 * Long admin operations as in-memory jobs (`/admin/jobs`): a job is started, runs in the background, reports
 * progress (done/total, ok/failed, the current item) and keeps its result for a while after it finished, so that a
 * console can leave the page and come back (or reload) and still see it. Nothing is persisted: a restart forgets
 * them, as it would cut the operation itself.
 */
import { randomBytes } from "node:crypto";

export type JobKind = "accounts.test_all" | "accounts.bulk_import";
export type JobState = "running" | "succeeded" | "failed";

export interface JobView {
  id: string;
  kind: JobKind;
  state: JobState;
  finished: boolean;
  total: number;
  done: number;
  ok: number;
  failed: number;
  /** The item being worked on (an account identifier), while running. */
  current: string | null;
  started_at: number;
  finished_at: number | null;
  /** Why the job stopped, when it failed as a whole. */
  error: string | null;
}

/** A finished job is kept this long… */
export const JOB_KEEP_MS = 60 * 60_000;
/** …and at most this many finished jobs are kept (the oldest go first). */
export const MAX_FINISHED_JOBS = 20;

export class Job {
  readonly id = `job_${randomBytes(9).toString("hex")}`;
  readonly startedAt = Date.now();
  state: JobState = "running";
  total = 0;
  done = 0;
  ok = 0;
  failed = 0;
  current: string | null = null;
  finishedAt: number | null = null;
  error: string | null = null;
  result: unknown = null;

  constructor(readonly kind: JobKind) {}

  /** One item finished. */
  step(success: boolean, count = 1): void {
    this.done += count;
    if (success) this.ok += count;
    else this.failed += count;
  }

  view(): JobView {
    return {
      id: this.id,
      kind: this.kind,
      state: this.state,
      finished: this.state !== "running",
      total: this.total,
      done: this.done,
      ok: this.ok,
      failed: this.failed,
      current: this.current,
      started_at: this.startedAt,
      finished_at: this.finishedAt,
      error: this.error,
    };
  }
}

export class JobRegistry {
  private readonly jobs = new Map<string, Job>();

  constructor(
    private readonly onError: (job: Job, error: unknown) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts `run` in the background and returns its job at once; `run` sets total and reports progress on the job. */
  start(kind: JobKind, run: (job: Job) => Promise<unknown>): Job {
    this.prune();
    const job = new Job(kind);
    this.jobs.set(job.id, job);
    void (async () => {
      try {
        job.result = await run(job);
        job.state = "succeeded";
      } catch (e) {
        job.state = "failed";
        job.error = (e as Error)?.message ?? String(e);
        this.onError(job, e);
      }
      job.current = null;
      job.finishedAt = this.now();
    })();
    return job;
  }

  get(id: string): Job | undefined {
    this.prune();
    return this.jobs.get(id);
  }

  /** The running job of this kind, if any. */
  running(kind: JobKind): Job | undefined {
    for (const j of this.jobs.values()) if (j.kind === kind && j.state === "running") return j;
    return undefined;
  }

  /** Newest first. */
  list(): Job[] {
    this.prune();
    return [...this.jobs.values()].reverse();
  }

  private prune(): void {
    const now = this.now();
    const finished = [...this.jobs.values()].filter((j) => j.finishedAt !== null);
    const excess = finished.length - MAX_FINISHED_JOBS;
    finished.forEach((j, i) => {
      if (i < excess || now - j.finishedAt! > JOB_KEEP_MS) this.jobs.delete(j.id);
    });
  }
}
