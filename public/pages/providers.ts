/**
 * Providers: every upstream provider with its status, and for each key-style credential pool (Volcengine web
 * ids, OnDemand API keys, …) the entries with usage and state, add, bulk import, test, reset usage (one / all),
 * enable/disable, edit label and max usage, delete. Served by the generic /admin/providers routes, so a new
 * pool provider shows up here with no console change. Secrets are typed in and sent, never shown back.
 */
import { api } from "../lib/api.ts";
import { busy, cell, clear, field, formatNumber, formatTime, h, toast } from "../lib/dom.ts";
import { t, type MessageKey } from "../lib/i18n.ts";
import { errorMessage } from "../lib/status.ts";
import type { CredentialImport, CredentialItem, CredentialList, CredentialTest, ProviderView } from "../lib/types.ts";

const STATES = ["ok", "exhausted", "bad", "cooling", "disabled"];

function stateBadge(state: string): HTMLElement {
  const known = STATES.includes(state);
  return h("span", { class: `badge badge-cred-${known ? state : "other"}`, "data-state": state }, known ? t(`prov.state.${state}` as MessageKey) : state);
}

function kindLabel(kind: string | null): string {
  return kind === "api_key" || kind === "web_id" ? t(`prov.kind.${kind}` as MessageKey) : kind ?? "";
}

function poolSummary(p: ProviderView): HTMLElement {
  if (p.credentials) {
    const c = p.credentials;
    return h("div", null, h("div", null, t("prov.pool_credentials", { usable: c.usable, total: c.total })), h("div", { class: "muted small" }, t("prov.pool_detail", { ...c })));
  }
  if (p.accounts) {
    return h("div", null, t("prov.pool_accounts", { usable: p.accounts.usable, total: p.accounts.total }), " ", h("a", { href: "#/accounts", class: "small" }, t("prov.manage_accounts")));
  }
  return h("span", { class: "muted" }, t("prov.pool_none"));
}

/** The TLS profile line: in use (and the client it impersonates), or a warning with the fallback's reason. */
function tlsLine(p: ProviderView): HTMLElement | null {
  const tls = p.tls;
  if (!tls) return null;
  if (tls.requested !== tls.in_use) {
    return h("div", { class: "small test-bad", "data-tls": tls.in_use, "data-tls-requested": tls.requested, title: tls.reason ?? "" }, t("prov.tls_fallback", { requested: tls.requested }));
  }
  const text = tls.impersonates ? t("prov.tls_native", { profile: tls.in_use, client: tls.impersonates }) : t("prov.tls", { profile: tls.in_use });
  return h("div", { class: "muted small", "data-tls": tls.in_use }, text);
}

export function renderProviders(root: HTMLElement): void {
  const table = h("div", { class: "table-wrap" }, t("common.loading"));
  const pools = h("div", { id: "prov-pools" });
  const sections = new Map<string, PoolSection>();
  root.append(h("div", { class: "page-head" }, h("h2", null, t("nav.providers"))), h("section", { class: "card" }, h("h3", null, t("prov.title")), table), pools);

  async function loadProviders(): Promise<void> {
    try {
      const r = await api<{ items: ProviderView[] }>("GET", "/admin/providers");
      clear(
        table,
        h(
          "table",
          { class: "table responsive", id: "prov-table" },
          h("thead", null, h("tr", null, (["prov.col.provider", "prov.col.status", "prov.col.models", "prov.col.pool"] as const).map((k) => h("th", null, t(k))))),
          h(
            "tbody",
            null,
            r.items.map((p) =>
              h(
                "tr",
                { "data-provider": p.id },
                cell(t("prov.col.provider"), "", h("div", { class: "strong" }, p.display_name), h("div", { class: "muted small" }, p.id)),
                cell(t("prov.col.status"), "", h("span", { class: `badge ${p.configured ? "badge-ok" : "badge-disabled"}`, "data-configured": p.configured ? "1" : "0" }, p.configured ? t("prov.configured") : t("prov.not_configured")), tlsLine(p)),
                cell(t("prov.col.models"), "", p.models.length ? h("span", { class: "small", title: p.models.join(", ") }, h("span", { class: "clamp" }, p.models.join(", "))) : "—"),
                cell(t("prov.col.pool"), "", poolSummary(p)),
              ),
            ),
          ),
        ),
      );
      const withPools = r.items.filter((p) => p.pool === "credentials");
      if (!withPools.length && !sections.size) clear(pools, h("section", { class: "card" }, h("p", { class: "muted", id: "prov-no-pools" }, t("prov.no_pools"))));
      for (const p of withPools) {
        if (!sections.has(p.id)) {
          if (!sections.size) clear(pools);
          const s = new PoolSection(p, loadProviders);
          sections.set(p.id, s);
          pools.append(s.el);
          void s.load();
        }
      }
    } catch (err) {
      clear(table, h("p", { class: "form-error" }, errorMessage(err)));
    }
  }

  void loadProviders();
}

/** One credential pool: its entries table and its add / import forms. */
class PoolSection {
  readonly el: HTMLElement;
  private readonly base: string;
  private readonly summary: HTMLElement;
  private readonly body: HTMLElement;
  /** Latest test result per entry id, shown until the page is left. */
  private readonly tests = new Map<string, CredentialTest>();
  /** The entry whose edit form is open. */
  private editing: string | undefined;

  constructor(
    private readonly provider: ProviderView,
    private readonly changed: () => Promise<void>,
  ) {
    this.base = `/admin/providers/${encodeURIComponent(provider.id)}/credentials`;
    this.summary = h("span", { class: "muted", "data-pool-total": "" });
    this.body = h("div", { class: "table-wrap" }, t("common.loading"));
    const resetAll = h("button", { class: "btn", type: "button", "data-action": "reset-all" }, t("prov.reset_all"));
    resetAll.addEventListener("click", () => {
      if (!confirm(t("prov.reset_all_confirm", { provider: provider.display_name }))) return;
      void busy(resetAll, () => this.act(async () => {
        const r = await api<{ reset: number }>("POST", `${this.base}/reset`, {});
        toast(t("prov.reset_done", { n: r.reset }), "ok");
      }));
    });
    const refresh = h("button", { class: "btn", type: "button", "data-action": "refresh", onclick: () => this.load() }, t("common.refresh"));
    this.el = h(
      "section",
      { class: "card", "data-pool": provider.id },
      h("div", { class: "page-head" }, h("h3", null, provider.display_name, " ", h("span", { class: "muted small" }, kindLabel(provider.entry_kind))), this.summary),
      h("div", { class: "toolbar" }, refresh, resetAll),
      this.body,
      h("div", { class: "two-col pool-forms" }, this.addForm(), this.importForm()),
    );
  }

  /** Runs a change, shows its error, then refreshes this pool and the providers table. */
  private async act(run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (err) {
      toast(errorMessage(err), "error");
    }
    await Promise.all([this.load(), this.changed()]);
  }

  private addForm(): HTMLElement {
    const secret = h("input", { name: "secret", type: "password", required: true, autocomplete: "off", spellcheck: "false", "data-field": "secret" });
    const auth = h("input", { name: "auth", type: "password", autocomplete: "off", spellcheck: "false", "data-field": "auth" });
    const label = h("input", { name: "label", "data-field": "label" });
    const max = h("input", { name: "max_usage", type: "number", min: "0", step: "1", inputmode: "numeric", "data-field": "max_usage" });
    const btn = h("button", { class: "btn btn-primary", type: "submit" }, t("common.add"));
    const form: HTMLFormElement = h(
      "form",
      {
        class: "form-grid",
        "data-form": "add",
        onsubmit: async (e: Event) => {
          e.preventDefault();
          await busy(btn, () =>
            this.act(async () => {
              const body: Record<string, string | number> = { secret: secret.value.trim() };
              if (auth.value.trim()) body.auth = auth.value.trim();
              if (label.value.trim()) body.label = label.value.trim();
              if (max.value.trim()) body.max_usage = Number(max.value);
              await api("POST", this.base, body);
              // The secret leaves the page as soon as it is sent.
              form.reset();
              toast(t("prov.added"), "ok");
            }),
          );
        },
      },
      field(t("prov.secret"), secret),
      this.provider.entry_kind === "api_key" ? null : field(t("prov.auth"), auth),
      field(t("prov.label"), label),
      field(t("prov.max_usage"), max),
      h("div", { class: "form-actions" }, btn),
    );
    return h("section", null, h("h3", null, t("prov.add")), form);
  }

  private importForm(): HTMLElement {
    const text = h("textarea", { rows: 5, spellcheck: "false", "data-field": "import", autocomplete: "off" });
    const btn = h("button", { class: "btn", type: "submit" }, t("prov.import_submit"));
    const form = h(
      "form",
      {
        "data-form": "import",
        onsubmit: async (e: Event) => {
          e.preventDefault();
          await busy(btn, () =>
            this.act(async () => {
              const r = await api<CredentialImport>("POST", `${this.base}/import`, { text: text.value });
              text.value = "";
              toast(t("prov.import_done", { added: r.added, updated: r.updated, skipped: r.skipped.length }), r.added + r.updated > 0 || !r.skipped.length ? "ok" : "error");
              for (const s of r.skipped.slice(0, 5)) toast(`${s.entry}: ${s.reason}`, "error");
            }),
          );
        },
      },
      field(t("prov.import_text"), text, t("prov.import_hint")),
      h("div", { class: "form-actions" }, btn),
    );
    return h("section", null, h("h3", null, t("prov.import")), form);
  }

  async load(): Promise<void> {
    try {
      const r = await api<CredentialList>("GET", this.base);
      this.summary.textContent = t("prov.entries", { total: r.total });
      if (this.editing && !r.items.some((i) => i.id === this.editing)) this.editing = undefined;
      clear(
        this.body,
        r.items.length
          ? h(
              "table",
              { class: "table responsive", "data-pool-table": this.provider.id },
              h(
                "thead",
                null,
                h(
                  "tr",
                  null,
                  (["prov.col.entry", "prov.col.state", "prov.col.usage", "prov.col.inflight", "prov.col.last_used", "prov.col.error", "prov.col.test", "common.actions"] as const).map((k) => h("th", null, t(k))),
                ),
              ),
              h("tbody", null, r.items.flatMap((i) => (i.id === this.editing ? [this.row(i), this.editRow(i)] : [this.row(i)]))),
            )
          : h("p", { class: "muted" }, t("common.none")),
      );
    } catch (err) {
      clear(this.body, h("p", { class: "form-error" }, errorMessage(err)));
    }
  }

  private entryName(i: CredentialItem): string {
    return i.label ? `${i.label} (${i.preview})` : i.preview;
  }

  private testCell(i: CredentialItem): HTMLElement {
    const r = this.tests.get(i.id);
    if (!r) return h("span", { class: "muted" }, "—");
    return h(
      "span",
      { class: r.success ? "test-ok" : "test-bad clamp", title: r.message, "data-test-result": r.success ? "ok" : "failed" },
      r.success ? t("prov.test_ok", { ms: r.response_time }) : `${t("prov.test_failed")}: ${r.message}`,
    );
  }

  private button(action: string, label: string, run: (btn: HTMLButtonElement) => Promise<void> | void, danger = false): HTMLButtonElement {
    const b = h("button", { class: `btn btn-small${danger ? " btn-danger" : ""}`, type: "button", "data-action": action }, label);
    b.addEventListener("click", () => void run(b));
    return b;
  }

  private row(i: CredentialItem): HTMLElement {
    const url = `${this.base}/${encodeURIComponent(i.id)}`;
    const test = this.button("test", t("prov.test"), (b) =>
      busy(b, () =>
        this.act(async () => {
          try {
            this.tests.set(i.id, await api<CredentialTest>("POST", `${url}/test`, {}));
          } catch (err) {
            this.tests.set(i.id, { success: false, id: i.id, message: errorMessage(err), response_time: 0 });
          }
        }),
      ),
    );
    const reset = this.button("reset", t("prov.reset"), (b) => busy(b, () => this.act(async () => void (await api("POST", `${url}/reset`, {})))));
    const toggle = this.button(i.enabled ? "disable" : "enable", i.enabled ? t("acc.disable") : t("acc.enable"), (b) =>
      busy(b, () => this.act(async () => void (await api("POST", `${url}/${i.enabled ? "disable" : "enable"}`, {})))),
    );
    const edit = this.button("edit", t("prov.edit"), () => {
      this.editing = this.editing === i.id ? undefined : i.id;
      void this.load();
    });
    const del = this.button(
      "delete",
      t("common.delete"),
      (b) => {
        if (!confirm(t("prov.delete_confirm", { entry: this.entryName(i), provider: this.provider.display_name }))) return;
        return busy(b, () =>
          this.act(async () => {
            await api("DELETE", url);
            this.tests.delete(i.id);
            toast(t("prov.deleted"), "ok");
          }),
        );
      },
      true,
    );
    const state = i.enabled ? i.state : "disabled";
    const reason = i.state_reason && i.state_reason !== i.last_error ? i.state_reason : "";
    return h(
      "tr",
      { "data-entry": i.id },
      cell(
        t("prov.col.entry"),
        "",
        h("code", null, i.preview),
        i.label ? h("div", { class: "strong" }, i.label) : null,
        i.has_own_auth ? h("div", { class: "muted small" }, t("prov.own_auth")) : null,
      ),
      cell(t("prov.col.state"), "", h("span", { title: reason || i.last_error }, stateBadge(state)), reason ? h("div", { class: "muted small clamp" }, reason) : null),
      cell(t("prov.col.usage"), "num nowrap", h("span", { "data-usage": String(i.usage) }, `${formatNumber(i.usage)} / ${i.max_usage > 0 ? formatNumber(i.max_usage) : t("prov.unlimited")}`)),
      cell(t("prov.col.inflight"), "num", formatNumber(i.inflight)),
      cell(t("prov.col.last_used"), "", formatTime(i.last_used_at)),
      cell(t("prov.col.error"), "error-cell", i.last_error ? h("span", { class: "clamp", title: i.last_error }, i.last_error) : "—"),
      cell(t("prov.col.test"), "test-cell", this.testCell(i)),
      cell(t("common.actions"), "actions", test, reset, toggle, edit, del),
    );
  }

  /** The inline form that edits an entry's label and max usage. */
  private editRow(i: CredentialItem): HTMLElement {
    const label = h("input", { value: i.label, "data-field": "edit-label" });
    const max = h("input", { type: "number", min: "0", step: "1", inputmode: "numeric", value: i.max_usage > 0 ? String(i.max_usage) : "", "data-field": "edit-max_usage" });
    const save = h("button", { class: "btn btn-primary btn-small", type: "submit" }, t("common.save"));
    const cancel = h("button", { class: "btn btn-small", type: "button", onclick: () => ((this.editing = undefined), this.load()) }, t("common.cancel"));
    const form = h(
      "form",
      {
        class: "form-grid",
        "data-form": "edit",
        onsubmit: async (e: Event) => {
          e.preventDefault();
          await busy(save, () =>
            this.act(async () => {
              await api("PUT", `${this.base}/${encodeURIComponent(i.id)}`, { label: label.value.trim() || null, max_usage: max.value.trim() ? Number(max.value) : null });
              this.editing = undefined;
              toast(t("common.saved"), "ok");
            }),
          );
        },
      },
      field(t("prov.label"), label),
      field(t("prov.max_usage"), max),
      h("div", { class: "form-actions" }, save, cancel),
    );
    return h("tr", { class: "edit-row", "data-edit": i.id }, h("td", { colspan: 8, class: "edit-cell" }, form));
  }
}
