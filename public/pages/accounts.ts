/** Accounts: paged table with search, add, bulk import, test one / all, enable/disable, delete sessions, delete. */
import { api, ApiError } from "../lib/api.ts";
import { followJob, jobProgress, latestJob } from "../lib/jobs.ts";
import type { JobView } from "../lib/live.ts";
import { busy, cell, clear, field, formatDuration, formatNumber, formatTime, h, toast } from "../lib/dom.ts";
import { t } from "../lib/i18n.ts";
import { errorMessage, itemText, statusBadge } from "../lib/status.ts";
import type { AccountPage, AccountView, ProviderView, ProxyView, TestResult } from "../lib/types.ts";

const PAGE_SIZES = [10, 20, 50, 100];
/** Providers whose accounts hold chat sessions upstream that `POST /admin/accounts/sessions/delete-all` can remove. */
const REMOTE_SESSION_PROVIDERS = new Set(["deepseek"]);
/** The provider the accounts table belongs to, when /admin/providers cannot say (the table holds DeepSeek accounts). */
const DEFAULT_ACCOUNTS_PROVIDER = "deepseek";

/** The id of the provider whose pool is the accounts table. */
async function accountsProviderId(): Promise<string> {
  const r = await api<{ items: ProviderView[] }>("GET", "/admin/providers").catch(() => ({ items: [] as ProviderView[] }));
  return r.items.find((p) => p.pool === "accounts")?.id ?? DEFAULT_ACCOUNTS_PROVIDER;
}

export function renderAccounts(root: HTMLElement): () => void {
  let page = 1;
  let pageSize = 20;
  let query = "";
  let searchTimer: ReturnType<typeof setTimeout> | undefined;
  /** Latest test result per account, shown until the page is left. */
  const tests = new Map<string, TestResult>();
  let proxies: ProxyView[] = [];
  /** Whether the accounts' provider keeps remote sessions (decides the "Delete sessions" button). */
  let remoteSessions = false;

  const summary = h("span", { class: "muted", id: "acc-total" });
  const body = h("div", { class: "table-wrap" }, t("common.loading"));
  const pager = h("div", { class: "pager" });
  const results = h("div", { class: "test-results", id: "acc-test-results", hidden: true });

  const search = h("input", {
    type: "search",
    id: "acc-search",
    placeholder: t("acc.search"),
    "aria-label": t("acc.search"),
    oninput: () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => {
        query = search.value.trim();
        page = 1;
        void load();
      }, 250);
    },
  });
  const testAllBtn = h("button", { class: "btn", type: "button", id: "acc-test-all", onclick: () => testAll() }, t("acc.test_all"));

  // Add one account.
  const addId = h("input", { name: "identifier", id: "acc-add-id", required: true, autocomplete: "off" });
  const addPw = h("input", { name: "password", id: "acc-add-password", type: "password", required: true, autocomplete: "new-password" });
  const addName = h("input", { name: "name", id: "acc-add-name" });
  const addRemark = h("input", { name: "remark", id: "acc-add-remark" });
  const addDevice = h("input", { name: "device_id", id: "acc-add-device", autocomplete: "off", spellcheck: "false" });
  const addBtn = h("button", { class: "btn btn-primary", type: "submit" }, t("common.add"));
  const addForm = h(
    "form",
    {
      class: "form-grid",
      id: "acc-add-form",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        await busy(addBtn, async () => {
          const id = addId.value.trim();
          const body: Record<string, string> = { password: addPw.value };
          if (id.includes("@")) body.email = id;
          else body.mobile = id;
          if (addName.value.trim()) body.name = addName.value.trim();
          if (addRemark.value.trim()) body.remark = addRemark.value.trim();
          if (addDevice.value.trim()) body.device_id = addDevice.value.trim();
          try {
            await api("POST", "/admin/accounts", body);
            toast(t("acc.added"), "ok");
            addForm.reset();
            await load();
          } catch (err) {
            toast(errorMessage(err), "error");
          }
        });
      },
    },
    field(t("acc.identifier"), addId),
    field(t("acc.password"), addPw),
    field(t("common.name"), addName),
    field(t("common.remark"), addRemark),
    field(t("acc.device"), addDevice, t("acc.device_hint")),
    h("div", { class: "form-actions" }, addBtn),
  );

  // Bulk import.
  const bulkText = h("textarea", { id: "acc-bulk-text", rows: 5, spellcheck: "false", placeholder: "user@example.com:password\n13800000000:password" });
  const bulkBtn = h("button", { class: "btn", type: "submit" }, t("acc.bulk_submit"));
  const bulkForm = h(
    "form",
    {
      id: "acc-bulk-form",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        await busy(bulkBtn, async () => {
          try {
            const r = await api<{ imported: number; updated: number; errors?: unknown[] }>("POST", "/admin/accounts/bulk", { text: bulkText.value });
            toast(t("acc.bulk_done", { imported: r.imported ?? 0, updated: r.updated ?? 0 }), "ok");
            for (const err of (r.errors ?? []).slice(0, 5)) toast(itemText(err), "error");
            bulkText.value = "";
            await load();
          } catch (err) {
            toast(errorMessage(err), "error");
          }
        });
      },
    },
    field(t("acc.bulk"), bulkText, t("acc.bulk_hint")),
    h("div", { class: "form-actions" }, bulkBtn),
  );

  root.append(
    h("div", { class: "page-head" }, h("h2", null, t("nav.accounts")), summary),
    h("section", { class: "card" }, h("div", { class: "toolbar" }, search, testAllBtn), results, body, pager),
    h("div", { class: "two-col" }, h("section", { class: "card" }, h("h3", null, t("acc.add")), addForm), h("section", { class: "card" }, h("h3", null, t("acc.bulk")), bulkForm)),
  );

  function testCell(a: AccountView): HTMLElement {
    const r = tests.get(a.identifier);
    if (r) {
      return h(
        "span",
        { class: r.success ? "test-ok" : "test-bad clamp", title: r.message ?? "", "data-test-result": r.success ? "ok" : "failed" },
        r.success ? t("acc.test_ok", { ms: Math.round(r.response_time ?? 0) }) : `${t("acc.test_failed")}: ${r.message ?? ""}`,
      );
    }
    if (a.test_status === "ok") return h("span", { class: "test-ok" }, t("status.ok"));
    if (a.test_status === "failed") return h("span", { class: "test-bad" }, t("acc.test_failed"));
    return h("span", { class: "muted" }, "—");
  }

  function row(a: AccountView): HTMLElement {
    const enabled = a.enabled !== false;
    const testBtn = h("button", { class: "btn btn-small", type: "button", "data-action": "test" }, t("acc.test"));
    testBtn.addEventListener("click", () => testOne(a, testBtn));
    const toggleBtn = h("button", { class: "btn btn-small", type: "button", "data-action": enabled ? "disable" : "enable" }, enabled ? t("acc.disable") : t("acc.enable"));
    toggleBtn.addEventListener("click", () =>
      busy(toggleBtn, async () => {
        try {
          await api("POST", `/admin/accounts/${encodeURIComponent(a.identifier)}/${enabled ? "disable" : "enable"}`);
          await load();
        } catch (err) {
          toast(errorMessage(err), "error");
        }
      }),
    );
    const delBtn = h("button", { class: "btn btn-small btn-danger", type: "button", "data-action": "delete" }, t("common.delete"));
    delBtn.addEventListener("click", () => {
      if (!confirm(t("acc.delete_confirm", { id: a.identifier }))) return;
      void busy(delBtn, async () => {
        try {
          await api("DELETE", `/admin/accounts/${encodeURIComponent(a.identifier)}`);
          toast(t("acc.deleted"), "ok");
          await load();
        } catch (err) {
          toast(errorMessage(err), "error");
        }
      });
    });
    const sessionsBtn = remoteSessions ? sessionsButton(a) : null;
    const status = a.enabled === false ? "disabled" : a.status;
    const reason = a.status_reason && a.status_reason !== a.last_error ? a.status_reason : undefined;
    return h(
      "tr",
      { "data-account": a.identifier },
      cell(
        t("acc.col.account"),
        "",
        h("div", { class: "strong" }, a.identifier),
        a.name || a.remark ? h("div", { class: "muted small" }, [a.name, a.remark].filter(Boolean).join(" · ")) : null,
        h("div", { class: "muted small proxy-line" }, `${t("acc.col.proxy")}: `, proxySelect(a)),
        h("div", { class: "muted small device-line" }, `${t("acc.device")}: `, deviceEditor(a)),
      ),
      cell(
        t("acc.col.status"),
        "",
        h("span", { title: reason ?? a.last_error ?? "" }, statusBadge(status)),
        stateHint(a, status),
        reason ? h("div", { class: "muted small clamp" }, reason) : null,
      ),
      cell(t("acc.col.token"), "nowrap", a.has_token ? [h("code", null, a.token_preview ?? "****"), " ", h("span", { class: "muted small" }, formatDuration(a.token_age_seconds))] : h("span", { class: "muted" }, "—")),
      cell(t("acc.col.inflight"), "num", formatNumber(a.inflight ?? 0)),
      cell(t("acc.col.requests"), "num", formatNumber(a.request_count ?? 0)),
      cell(t("acc.col.last_used"), "", formatTime(a.last_used_at)),
      cell(t("acc.col.error"), "error-cell", a.last_error ? h("span", { class: "clamp", title: a.last_error }, a.last_error) : "—"),
      cell(t("acc.col.test"), "test-cell", testCell(a)),
      cell(t("common.actions"), "actions", testBtn, toggleBtn, sessionsBtn, delBtn),
    );
  }

  /** Deletes every chat session the account holds upstream; the answer is {success, message}, a 501 says the provider keeps none. */
  function sessionsButton(a: AccountView): HTMLButtonElement {
    const btn = h("button", { class: "btn btn-small", type: "button", "data-action": "delete-sessions", title: t("acc.sessions_delete_title") }, t("acc.sessions_delete"));
    btn.addEventListener("click", () => {
      if (!confirm(t("acc.sessions_delete_confirm", { id: a.identifier }))) return;
      void busy(btn, async () => {
        try {
          const r = await api<{ success: boolean; message?: string }>("POST", "/admin/accounts/sessions/delete-all", { identifier: a.identifier });
          if (r.success) toast(t("acc.sessions_deleted", { id: a.identifier }), "ok");
          else toast(t("acc.sessions_failed", { id: a.identifier, message: r.message ?? "" }), "error");
        } catch (err) {
          toast(t("acc.sessions_failed", { id: a.identifier, message: errorMessage(err) }), "error");
        }
        await load();
      });
    });
    return btn;
  }

  /** What the operator does about a state DeepSeek put the account in (device refused, muted). */
  function stateHint(a: AccountView, status: string | undefined): HTMLElement | null {
    if (status === "risk_device") return h("div", { class: "small state-hint", "data-hint": "risk_device" }, t("acc.risk_device_hint"));
    if (status === "muted") return h("div", { class: "small state-hint", "data-hint": "muted" }, t("acc.muted_hint", { time: formatTime(a.cooldown_until) }));
    return null;
  }

  /** The account's device id, edited in place (PUT /admin/accounts/:id {device_id}; null = a new random one). */
  function deviceEditor(a: AccountView): HTMLElement {
    const wrap = h("span", { class: "device-editor" });
    const save = async (btn: HTMLButtonElement, deviceId: string | null) =>
      busy(btn, async () => {
        try {
          await api("PUT", `/admin/accounts/${encodeURIComponent(a.identifier)}`, { device_id: deviceId });
          toast(t("acc.device_saved"), "ok");
          await load();
        } catch (err) {
          toast(errorMessage(err), "error");
        }
      });
    const show = () => {
      const edit = h("button", { class: "btn btn-small", type: "button", "data-action": "device-edit" }, t("acc.device_edit"));
      edit.addEventListener("click", editing);
      clear(wrap, h("code", { "data-field": "device" }, a.device_id || "—"), " ", edit);
    };
    const editing = () => {
      const input = h("input", { class: "device-input", "data-field": "device-input", value: a.device_id ?? "", "aria-label": t("acc.device"), spellcheck: "false", autocomplete: "off" });
      const ok = h("button", { class: "btn btn-small btn-primary", type: "button", "data-action": "device-save" }, t("acc.device_save"));
      ok.addEventListener("click", () => save(ok, input.value.trim() || null));
      const fresh = h("button", { class: "btn btn-small", type: "button", "data-action": "device-new" }, t("acc.device_new"));
      fresh.addEventListener("click", () => save(fresh, null));
      const cancel = h("button", { class: "btn btn-small", type: "button", "data-action": "device-cancel" }, t("acc.device_cancel"));
      cancel.addEventListener("click", show);
      clear(wrap, input, " ", ok, " ", fresh, " ", cancel);
      input.focus();
    };
    show();
    return wrap;
  }

  /** The account's proxy, changed in place (PUT /admin/accounts/:id/proxy). */
  function proxySelect(a: AccountView): HTMLElement {
    const known = proxies.some((p) => p.id === a.proxy_id);
    if (!proxies.length && !a.proxy_id) return h("span", { class: "muted", title: t("acc.proxy_none") }, "—");
    const sel = h(
      "select",
      { class: "proxy-select", "data-field": "proxy", "aria-label": t("acc.col.proxy") },
      h("option", { value: "" }, t("acc.proxy_none")),
      proxies.map((p) => h("option", { value: p.id, selected: p.id === a.proxy_id }, `${p.name} (${p.type})`)),
      a.proxy_id && !known ? h("option", { value: a.proxy_id, selected: true }, a.proxy_id) : null,
    );
    sel.addEventListener("change", async () => {
      sel.disabled = true;
      try {
        await api("PUT", `/admin/accounts/${encodeURIComponent(a.identifier)}/proxy`, { proxy_id: sel.value || null });
        toast(t("acc.proxy_saved"), "ok");
        await load();
      } catch (err) {
        toast(errorMessage(err), "error");
        sel.disabled = false;
      }
    });
    return sel;
  }

  let providerId: Promise<string> | undefined;
  async function load(): Promise<void> {
    try {
      const params = new URLSearchParams({ page: String(page), page_size: String(pageSize) });
      if (query) params.set("q", query);
      const [r, px, provider] = await Promise.all([
        api<AccountPage>("GET", `/admin/accounts?${params}`),
        api<{ items: ProxyView[] }>("GET", "/admin/proxies").catch(() => ({ items: proxies })),
        providerId ?? (providerId = accountsProviderId()),
      ]);
      proxies = px.items;
      remoteSessions = REMOTE_SESSION_PROVIDERS.has(provider);
      if (r.total_pages > 0 && page > r.total_pages) {
        page = r.total_pages;
        return load();
      }
      summary.textContent = t("acc.total", { total: r.total });
      clear(
        body,
        r.items.length
          ? h(
              "table",
              { class: "table responsive", id: "acc-table" },
              h(
                "thead",
                null,
                h(
                  "tr",
                  null,
                  (["acc.col.account", "acc.col.status", "acc.col.token", "acc.col.inflight", "acc.col.requests", "acc.col.last_used", "acc.col.error", "acc.col.test", "common.actions"] as const).map((k) => h("th", null, t(k))),
                ),
              ),
              h("tbody", null, r.items.map(row)),
            )
          : h("p", { class: "muted" }, t("common.none")),
      );
      renderPager(r);
    } catch (err) {
      clear(body, h("p", { class: "form-error" }, errorMessage(err)));
    }
  }

  function renderPager(r: AccountPage): void {
    const pages = Math.max(1, r.total_pages);
    const size = h(
      "select",
      {
        "aria-label": "page size",
        onchange: () => {
          pageSize = Number(size.value);
          page = 1;
          void load();
        },
      },
      PAGE_SIZES.map((n) => h("option", { value: n, selected: n === pageSize }, String(n))),
    );
    clear(
      pager,
      h("button", { class: "btn btn-small", type: "button", disabled: page <= 1, onclick: () => ((page -= 1), load()) }, t("common.prev")),
      h("span", { class: "muted" }, t("common.page", { page, pages })),
      h("button", { class: "btn btn-small", type: "button", disabled: page >= pages, onclick: () => ((page += 1), load()) }, t("common.next")),
      size,
    );
  }

  async function testOne(a: AccountView, btn: HTMLButtonElement): Promise<void> {
    const target = btn.closest("tr")?.querySelector(".test-cell .cell");
    if (target) clear(target, h("span", { class: "muted" }, t("acc.testing")));
    await busy(btn, async () => {
      try {
        const r = await api<TestResult>("POST", "/admin/accounts/test", { identifier: a.identifier });
        tests.set(a.identifier, r);
        toast(`${a.identifier}: ${r.success ? t("acc.test_ok", { ms: Math.round(r.response_time ?? 0) }) : `${t("acc.test_failed")} — ${r.message ?? ""}`}`, r.success ? "ok" : "error");
      } catch (err) {
        tests.set(a.identifier, { account: a.identifier, success: false, message: errorMessage(err) });
      }
      await load();
    });
  }

  // Test all runs as a job (POST /admin/jobs/accounts-test-all): a progress bar that a reload or a later visit finds again.
  let stopFollow: (() => void) | undefined;
  function showTestResults(r: { total?: number; success?: number; failed?: number; results?: TestResult[] }): HTMLElement[] {
    for (const x of r.results ?? []) tests.set(x.account, x);
    return [
      h("p", { class: "strong" }, t("acc.test_results", { ok: r.success ?? 0, failed: r.failed ?? 0 })),
      h(
        "ul",
        null,
        (r.results ?? []).map((x) =>
          h("li", { class: x.success ? "test-ok" : "test-bad" }, `${x.account}: `, x.success ? t("acc.test_ok", { ms: Math.round(x.response_time ?? 0) }) : `${t("acc.test_failed")} — ${x.message ?? ""}`),
        ),
      ),
    ];
  }
  function trackTestAll(job: JobView): void {
    stopFollow?.();
    results.hidden = false;
    const bar = jobProgress("acc-test-progress");
    const after = h("div", { class: "job-after" });
    bar.update(job);
    clear(results, bar.el, after);
    testAllBtn.disabled = !job.finished;
    stopFollow = followJob(job, bar.update, (end) => {
      bar.update(end);
      testAllBtn.disabled = false;
      if (end.state === "succeeded" && end.result) clear(after, ...showTestResults(end.result as Parameters<typeof showTestResults>[0]));
      else clear(after, h("p", { class: "form-error" }, end.error ?? t("acc.test_failed")));
      void load();
    });
  }
  async function testAll(): Promise<void> {
    testAllBtn.disabled = true;
    try {
      const r = await api<{ job_id: string; job: JobView }>("POST", "/admin/jobs/accounts-test-all", {});
      trackTestAll(r.job);
    } catch (err) {
      // One test-all at a time: follow the one already running.
      const running = err instanceof ApiError && err.status === 409 ? await latestJob("accounts.test_all").catch(() => undefined) : undefined;
      if (running) return trackTestAll(running);
      testAllBtn.disabled = false;
      results.hidden = false;
      clear(results, h("p", { class: "form-error" }, errorMessage(err)));
    }
  }
  void latestJob("accounts.test_all")
    .then((job) => job && !stopFollow && trackTestAll(job))
    .catch(() => undefined);

  void load();
  return () => {
    clearTimeout(searchTimer);
    stopFollow?.();
  };
}
