/**
 * Dashboard: account health, live traffic and recent errors, pushed by the admin event stream (/admin/events);
 * while the stream is down it polls /admin/queue/status, the accounts and /admin/errors/recent as before.
 */
import { api } from "../lib/api.ts";
import { clear, formatNumber, formatTime, h } from "../lib/dom.ts";
import { t } from "../lib/i18n.ts";
import { subscribeLive, type LiveStatus } from "../lib/live.ts";
import { errorMessage } from "../lib/status.ts";
import type { AccountPage, AccountView, QueueStatus, RecentError } from "../lib/types.ts";

const QUEUE_POLL_MS = 3000;
const ACCOUNTS_POLL_MS = 10000;
/** How long the dashboard waits for the event stream before it polls instead. */
const STREAM_WAIT_MS = 3000;
/** The dashboard counts at most this many accounts page by page (100 per page). */
const MAX_PAGES = 50;

function stat(label: string, id: string, tone = "", note?: string): HTMLElement {
  return h(
    "div",
    { class: `stat ${tone}` },
    h("div", { class: "stat-value", "data-stat": id }, "—"),
    h("div", { class: "stat-label" }, label),
    note !== undefined ? h("div", { class: "hint", "data-stat-note": id }, note) : null,
  );
}

async function allAccounts(): Promise<{ items: AccountView[]; total: number }> {
  const first = await api<AccountPage>("GET", "/admin/accounts?page=1&page_size=100");
  const items = [...first.items];
  for (let p = 2; p <= Math.min(first.total_pages, MAX_PAGES); p++) {
    items.push(...(await api<AccountPage>("GET", `/admin/accounts?page=${p}&page_size=100`)).items);
  }
  return { items, total: first.total };
}

export function renderDashboard(root: HTMLElement): () => void {
  const updated = h("span", { class: "muted", id: "dash-updated" });
  const liveDot = h("span", { class: "live-dot off", "aria-hidden": "true" });
  const liveLabel = h("span", { class: "live-label" }, t("dash.connecting"));
  const liveState = h("span", { class: "live-state", id: "dash-live", "data-live": "0" }, liveDot, liveLabel);
  const errorsBox = h("div", { class: "errors-list" }, t("common.loading"));
  /** The accounts serving requests right now (from the event stream only). */
  const busyBox = h("p", { class: "busy-accounts muted", id: "dash-busy", hidden: true });
  const problem = h("p", { class: "form-error", hidden: true });
  root.append(
    h("div", { class: "page-head" }, h("h2", null, t("nav.dashboard")), h("div", { class: "page-head-side" }, liveState, updated)),
    problem,
    h(
      "section",
      { class: "card" },
      h("h3", null, t("dash.accounts")),
      h(
        "div",
        { class: "stats", id: "dash-accounts" },
        stat(t("dash.total"), "total"),
        stat(t("dash.usable"), "usable", "tone-ok"),
        stat(t("dash.cooling"), "cooling", "tone-warn"),
        stat(t("dash.failing"), "failing", "tone-bad"),
        stat(t("dash.disabled"), "disabled", "tone-muted"),
      ),
    ),
    h(
      "section",
      { class: "card" },
      h("h3", null, t("dash.queue")),
      h(
        "div",
        { class: "stats", id: "dash-queue" },
        stat(t("dash.inflight"), "in_use"),
        stat(t("dash.waiting"), "waiting"),
        stat(t("dash.available"), "available"),
        stat(t("dash.per_account"), "max_inflight_per_account"),
        stat(t("dash.capacity"), "global_limit", "", ""),
        stat(t("dash.recommended"), "recommended_concurrency", "", t("dash.recommended_hint")),
        stat(t("dash.rate"), "rate", "", t("dash.rate_hint")),
      ),
      busyBox,
    ),
    h("section", { class: "card" }, h("h3", null, t("dash.errors")), errorsBox),
  );

  const set = (id: string, v: unknown) => {
    const el = root.querySelector(`[data-stat="${id}"]`);
    if (el) el.textContent = formatNumber(v);
  };
  const fail = (e: unknown) => {
    problem.hidden = false;
    problem.textContent = errorMessage(e);
  };

  const showQueue = (q: Pick<QueueStatus, "in_use" | "waiting" | "available" | "max_inflight_per_account" | "recommended_concurrency" | "global_max_inflight" | "global_limit">) => {
    for (const k of ["in_use", "waiting", "available", "max_inflight_per_account", "recommended_concurrency"] as const) set(k, q[k]);
    // No global cap of its own (0) means accounts × per-account is the limit that holds (README): show that number.
    const capSet = q.global_max_inflight > 0;
    set("global_limit", q.global_limit ?? (capSet ? q.global_max_inflight : undefined));
    const note = root.querySelector('[data-stat-note="global_limit"]');
    if (note) note.textContent = capSet ? t("dash.capacity_set") : t("dash.capacity_auto");
    problem.hidden = true;
    updated.textContent = t("dash.updated", { time: new Date().toLocaleTimeString() });
  };
  const showCounts = (c: { total: number; usable: number; cooling: number; failing: number; disabled: number }) => {
    for (const [k, v] of Object.entries(c)) set(k, v);
  };
  const pollQueue = async () => {
    if (document.hidden) return;
    try {
      showQueue(await api<QueueStatus>("GET", "/admin/queue/status"));
    } catch (e) {
      fail(e);
    }
  };
  const pollAccounts = async () => {
    try {
      const { items, total } = await allAccounts();
      let usable = 0,
        cooling = 0,
        failing = 0,
        disabled = 0;
      for (const a of items) {
        const s = a.enabled === false ? "disabled" : a.status || "ok";
        if (s === "ok") usable++;
        else if (s === "cooling_down") cooling++;
        else if (s === "disabled") disabled++;
        else failing++;
      }
      showCounts({ total, usable, cooling, failing, disabled });
    } catch (e) {
      fail(e);
    }
  };
  const showErrors = (items: RecentError[]) =>
    clear(
      errorsBox,
      items.length
        ? h(
            "ul",
            { class: "errors" },
            items.slice(0, 20).map((e) =>
              h("li", null, h("time", null, formatTime(e.at)), e.account ? h("span", { class: "tag" }, e.account) : null, e.kind ? h("span", { class: "tag tag-muted" }, e.kind) : null, h("span", null, e.message)),
            ),
          )
        : h("p", { class: "muted" }, t("dash.no_errors")),
    );
  const loadErrors = async () => {
    try {
      const r = await api<{ items: RecentError[] }>("GET", "/admin/errors/recent");
      showErrors(r.items ?? []);
    } catch (e) {
      clear(errorsBox, h("p", { class: "muted" }, errorMessage(e)));
    }
  };

  // Polling only while the event stream is down (before it connects, and after it failed until it is back).
  let q: ReturnType<typeof setInterval> | undefined;
  let a: ReturnType<typeof setInterval> | undefined;
  const startPolling = () => {
    if (q) return;
    void pollQueue();
    void pollAccounts();
    void loadErrors();
    q = setInterval(pollQueue, QUEUE_POLL_MS);
    a = setInterval(() => {
      void pollAccounts();
      void loadErrors();
    }, ACCOUNTS_POLL_MS);
  };
  const stopPolling = () => {
    clearInterval(q);
    clearInterval(a);
    q = a = undefined;
  };
  const showLive = (live: boolean) => {
    liveState.dataset.live = live ? "1" : "0";
    liveDot.classList.toggle("off", !live);
    liveLabel.textContent = live ? t("dash.live") : t("dash.polling");
    liveState.title = live ? t("dash.live_hint") : t("dash.polling_hint");
  };
  const onStatus = (s: LiveStatus) => {
    showQueue(s);
    showCounts({ total: s.accounts.total, usable: s.accounts.usable, cooling: s.accounts.cooling_down, failing: s.accounts.failing, disabled: s.accounts.disabled });
    set("rate", s.requests.last_minute);
    busyBox.hidden = s.busy_accounts.length === 0;
    clear(busyBox, s.busy_accounts.length ? [t("dash.busy"), " ", s.busy_accounts.map((b) => h("span", { class: "tag" }, b.inflight > 1 ? `${b.identifier} ×${b.inflight}` : b.identifier))] : null);
  };
  const unsubscribe = subscribeLive({
    status: onStatus,
    errors: (e) => showErrors(e.items ?? []),
    connection: (live) => {
      showLive(live);
      if (live) stopPolling();
      else startPolling();
    },
  });
  // A stream that does not answer soon is as good as down.
  const fallback = setTimeout(() => {
    if (liveState.dataset.live !== "1") startPolling();
  }, STREAM_WAIT_MS);
  return () => {
    clearTimeout(fallback);
    unsubscribe();
    stopPolling();
  };
}
