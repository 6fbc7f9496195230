/** Dashboard: account health, live traffic from /admin/queue/status, recent errors. */
import { api } from "../lib/api.ts";
import { clear, formatNumber, formatTime, h } from "../lib/dom.ts";
import { t } from "../lib/i18n.ts";
import { errorMessage } from "../lib/status.ts";
import type { AccountPage, AccountView, QueueStatus, RecentError } from "../lib/types.ts";

const QUEUE_POLL_MS = 3000;
const ACCOUNTS_POLL_MS = 10000;
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
  const errorsBox = h("div", { class: "errors-list" }, t("common.loading"));
  const problem = h("p", { class: "form-error", hidden: true });
  root.append(
    h("div", { class: "page-head" }, h("h2", null, t("nav.dashboard")), updated),
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
      h("h3", null, t("dash.queue"), h("span", { class: "live-dot", title: "live" })),
      h(
        "div",
        { class: "stats", id: "dash-queue" },
        stat(t("dash.inflight"), "in_use"),
        stat(t("dash.waiting"), "waiting"),
        stat(t("dash.available"), "available"),
        stat(t("dash.per_account"), "max_inflight_per_account"),
        stat(t("dash.capacity"), "global_limit", "", ""),
        stat(t("dash.recommended"), "recommended_concurrency", "", t("dash.recommended_hint")),
      ),
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

  const pollQueue = async () => {
    if (document.hidden) return;
    try {
      const q = await api<QueueStatus>("GET", "/admin/queue/status");
      for (const k of ["in_use", "waiting", "available", "max_inflight_per_account", "recommended_concurrency"] as const) set(k, q[k]);
      // No global cap of its own (0) means accounts × per-account is the limit that holds (README): show that number.
      const capSet = q.global_max_inflight > 0;
      set("global_limit", q.global_limit ?? (capSet ? q.global_max_inflight : undefined));
      const note = root.querySelector('[data-stat-note="global_limit"]');
      if (note) note.textContent = capSet ? t("dash.capacity_set") : t("dash.capacity_auto");
      problem.hidden = true;
      updated.textContent = t("dash.updated", { time: new Date().toLocaleTimeString() });
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
      set("total", total);
      set("usable", usable);
      set("cooling", cooling);
      set("failing", failing);
      set("disabled", disabled);
    } catch (e) {
      fail(e);
    }
  };
  const loadErrors = async () => {
    try {
      const r = await api<{ items: RecentError[] }>("GET", "/admin/errors/recent");
      const items = r.items ?? [];
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
    } catch (e) {
      clear(errorsBox, h("p", { class: "muted" }, errorMessage(e)));
    }
  };

  void pollQueue();
  void pollAccounts();
  void loadErrors();
  const q = setInterval(pollQueue, QUEUE_POLL_MS);
  const a = setInterval(() => {
    void pollAccounts();
    void loadErrors();
  }, ACCOUNTS_POLL_MS);
  return () => {
    clearInterval(q);
    clearInterval(a);
  };
}
