/**
 * Audit log: who changed what, newest first. Actor, action and target are filtered by the server (GET /admin/audit);
 * the API has no time filter and no offset, so the time range and the paging apply in the browser to the newest
 * FETCH_LIMIT matching entries, and the page says so.
 */
import { api } from "../lib/api.ts";
import { cell, clear, field, formatTime, h } from "../lib/dom.ts";
import { t } from "../lib/i18n.ts";
import { errorMessage } from "../lib/status.ts";
import type { AuditItem } from "../lib/types.ts";

/** The most GET /admin/audit returns in one call. */
const FETCH_LIMIT = 1000;
const PAGE_SIZE = 25;

function detailText(d: Record<string, unknown> | undefined): string {
  if (!d) return "";
  return Object.entries(d)
    .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" · ");
}

/** A datetime-local value as epoch milliseconds (undefined when empty or unreadable). */
function timeValue(input: HTMLInputElement): number | undefined {
  if (!input.value) return undefined;
  const ms = new Date(input.value).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

export function renderAudit(root: HTMLElement): void {
  let items: AuditItem[] = [];
  let page = 1;

  const summary = h("span", { class: "muted", id: "audit-total" });
  const list = h("div", { class: "table-wrap" }, t("common.loading"));
  const pager = h("div", { class: "pager" });
  // Actors the server records: the console's session, or a call made with the admin key itself.
  const actor = h("input", { id: "audit-actor", autocomplete: "off", placeholder: "admin-jwt", list: "audit-actors" });
  const actors = h("datalist", { id: "audit-actors" }, h("option", { value: "admin-jwt" }), h("option", { value: "admin-key" }));
  const action = h("input", { id: "audit-action", autocomplete: "off", placeholder: "proxies.  ·  keys.update", spellcheck: "false" });
  const target = h("input", { id: "audit-target", autocomplete: "off" });
  const from = h("input", { id: "audit-from", type: "datetime-local" });
  const to = h("input", { id: "audit-to", type: "datetime-local" });
  const apply = h("button", { class: "btn btn-primary", type: "submit", id: "audit-apply" }, t("audit.apply"));
  const reset = h(
    "button",
    {
      class: "btn",
      type: "button",
      id: "audit-reset",
      onclick: () => {
        filters.reset();
        void load();
      },
    },
    t("audit.reset"),
  );
  const filters = h(
    "form",
    {
      class: "form-grid",
      id: "audit-filters",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void load();
      },
    },
    field(t("audit.actor"), actor, t("audit.actor_hint")),
    actors,
    field(t("audit.action"), action, t("audit.action_hint")),
    field(t("audit.target"), target, t("audit.target_hint")),
    field(t("audit.from"), from),
    field(t("audit.to"), to),
    h("div", { class: "form-actions" }, apply, reset),
  );

  root.append(
    h("div", { class: "page-head" }, h("h2", null, t("nav.audit")), summary),
    h("section", { class: "card" }, filters, h("p", { class: "muted small", id: "audit-note" }, t("audit.note", { n: FETCH_LIMIT }))),
    h("section", { class: "card" }, list, pager),
  );

  function shown(): AuditItem[] {
    const lo = timeValue(from);
    const hi = timeValue(to);
    return items.filter((x) => (lo === undefined || x.at >= lo) && (hi === undefined || x.at <= hi + 59_999));
  }

  function render(): void {
    const all = shown();
    const pages = Math.max(1, Math.ceil(all.length / PAGE_SIZE));
    if (page > pages) page = pages;
    const slice = all.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
    summary.textContent = t("audit.total", { total: all.length });
    clear(
      list,
      slice.length
        ? h(
            "table",
            { class: "table responsive", id: "audit-table" },
            h("thead", null, h("tr", null, (["audit.col.time", "audit.actor", "audit.action", "audit.target", "audit.col.detail"] as const).map((k) => h("th", null, t(k))))),
            h(
              "tbody",
              null,
              slice.map((x) =>
                h(
                  "tr",
                  { "data-audit": x.id, "data-action": x.action },
                  cell(t("audit.col.time"), "nowrap", formatTime(x.at)),
                  cell(t("audit.actor"), "", x.actor, x.address ? h("div", { class: "muted small" }, x.address) : null),
                  cell(t("audit.action"), "nowrap", h("code", null, x.action)),
                  cell(t("audit.target"), "", x.target ? h("span", { class: "clamp" }, x.target) : "—"),
                  cell(t("audit.col.detail"), "error-cell", x.detail ? h("span", { class: "clamp muted small", title: detailText(x.detail) }, detailText(x.detail)) : "—"),
                ),
              ),
            ),
          )
        : h("p", { class: "muted" }, t("audit.none")),
    );
    clear(
      pager,
      h("button", { class: "btn btn-small", type: "button", id: "audit-prev", disabled: page <= 1, onclick: () => ((page -= 1), render()) }, t("common.prev")),
      h("span", { class: "muted", id: "audit-page" }, t("common.page", { page, pages })),
      h("button", { class: "btn btn-small", type: "button", id: "audit-next", disabled: page >= pages, onclick: () => ((page += 1), render()) }, t("common.next")),
    );
  }

  async function load(): Promise<void> {
    const params = new URLSearchParams({ limit: String(FETCH_LIMIT) });
    if (actor.value.trim()) params.set("actor", actor.value.trim());
    if (action.value.trim()) params.set("action", action.value.trim());
    if (target.value.trim()) params.set("target", target.value.trim());
    try {
      items = (await api<{ items: AuditItem[] }>("GET", `/admin/audit?${params}`)).items;
      page = 1;
      render();
    } catch (err) {
      clear(list, h("p", { class: "form-error" }, errorMessage(err)));
    }
  }
  void load();
}
