/**
 * Following an admin job (test all accounts, bulk import) from a page: a progress bar, updates from the event
 * stream (polling GET /admin/jobs/:id while the stream is down), and the finished job with its result. A page
 * finds its kind's latest job again when it is opened, so leaving and coming back (or reloading) shows it.
 */
import { api } from "./api.ts";
import { h } from "./dom.ts";
import { t } from "./i18n.ts";
import { subscribeLive, type JobKind, type JobView } from "./live.ts";

const POLL_MS = 1000;

/** The newest job of this kind the server still keeps (running or finished), if any. */
export async function latestJob(kind: JobKind): Promise<JobView | undefined> {
  const r = await api<{ items: JobView[] }>("GET", `/admin/jobs?kind=${encodeURIComponent(kind)}`);
  return r.items?.[0];
}

/** Calls `progress` with each new state of the job, then `done` once with the finished job and its result. */
export function followJob(job: JobView, progress: (j: JobView) => void, done: (j: JobView) => void): () => void {
  let stopped = false;
  let finished = false;
  let poll: ReturnType<typeof setInterval> | undefined;
  let last = job.done;
  const finish = async () => {
    if (finished || stopped) return;
    finished = true;
    stop();
    try {
      done(await api<JobView>("GET", `/admin/jobs/${encodeURIComponent(job.id)}`));
    } catch {
      done({ ...job, finished: true, state: "failed", error: job.error ?? "the job is no longer known to the server" });
    }
  };
  const seen = (j: JobView) => {
    if (stopped || finished || j.id !== job.id || j.done < last) return;
    last = j.done;
    job = j;
    progress(j);
    if (j.finished) void finish();
  };
  const check = async () => {
    try {
      seen(await api<JobView>("GET", `/admin/jobs/${encodeURIComponent(job.id)}`));
    } catch {
      // the next poll or event tries again
    }
  };
  let unsubscribe = () => {};
  const stop = () => {
    stopped = true;
    unsubscribe();
    if (poll) clearInterval(poll);
  };
  const cancel = () => {
    finished = true;
    stop();
  };
  if (job.finished) {
    void finish();
    return cancel;
  }
  unsubscribe = subscribeLive({
    job: seen,
    connection: (live) => {
      if (live && poll) {
        clearInterval(poll);
        poll = undefined;
      } else if (!live && !poll && !stopped) poll = setInterval(check, POLL_MS);
    },
  });
  void check();
  return cancel;
}

/** A progress bar with "done / total — ok, failed" and the current item; `update` redraws it. */
export function jobProgress(id: string): { el: HTMLElement; update(j: JobView): void } {
  const bar = h("progress", { class: "job-bar", max: 1, value: 0 });
  const text = h("span", { class: "job-text" });
  const current = h("span", { class: "job-current muted" });
  const el = h("div", { class: "job-progress", id, "data-state": "running" }, bar, h("div", { class: "job-line" }, text, current));
  return {
    el,
    update(j: JobView) {
      el.dataset.jobId = j.id;
      el.dataset.state = j.state;
      el.dataset.done = String(j.done);
      el.dataset.total = String(j.total);
      bar.max = Math.max(1, j.total);
      bar.value = j.done;
      const state = j.state === "running" ? t("job.running") : j.state === "succeeded" ? t("job.finished") : t("job.failed", { error: j.error ?? "" });
      text.textContent = `${state} ${t("job.progress", { done: j.done.toLocaleString(), total: j.total.toLocaleString(), ok: j.ok.toLocaleString(), failed: j.failed.toLocaleString() })}`;
      current.textContent = j.current && !j.finished ? t("job.current", { item: j.current }) : "";
    },
  };
}
