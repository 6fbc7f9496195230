/** Proxies: list (passwords never shown, only whether one is stored), add, edit, test, delete, and which accounts use each. */
import { api } from "../lib/api.ts";
import { busy, cell, clear, field, h, toast } from "../lib/dom.ts";
import { t } from "../lib/i18n.ts";
import { errorMessage } from "../lib/status.ts";
import type { AccountPage, AccountView, ProxyTest, ProxyView } from "../lib/types.ts";

const TYPES = ["http", "https", "socks5", "socks5h"];
/** Accounts are read 100 a page; past this many pages the "used by" column says it is partial. */
const MAX_ACCOUNT_PAGES = 50;

/** Every account's proxy binding (identifier → proxy id), read page by page. */
export async function accountProxies(): Promise<{ byProxy: Map<string, string[]>; partial: boolean }> {
  const byProxy = new Map<string, string[]>();
  let page = 1;
  let pages = 1;
  do {
    const r = await api<AccountPage>("GET", `/admin/accounts?page=${page}&page_size=100`);
    pages = r.total_pages;
    for (const a of r.items as AccountView[]) {
      if (!a.proxy_id) continue;
      const list = byProxy.get(a.proxy_id) ?? [];
      list.push(a.identifier);
      byProxy.set(a.proxy_id, list);
    }
    page++;
  } while (page <= pages && page <= MAX_ACCOUNT_PAGES);
  return { byProxy, partial: pages > MAX_ACCOUNT_PAGES };
}

export function testText(r: ProxyTest): string {
  const parts = [r.success ? t("px.test_ok", { ms: Math.round(r.response_time ?? 0) }) : t("px.test_failed")];
  if (r.status_code !== undefined) parts.push(`HTTP ${r.status_code}`);
  if (r.message) parts.push(r.message);
  return parts.join(" · ");
}

export function renderProxies(root: HTMLElement): void {
  const tests = new Map<string, ProxyTest>();
  let editing: ProxyView | undefined;

  const summary = h("span", { class: "muted", id: "px-total" });
  const list = h("div", { class: "table-wrap" }, t("common.loading"));

  const idIn = h("input", { id: "px-id", autocomplete: "off", placeholder: t("px.id_auto") });
  const nameIn = h("input", { id: "px-name", autocomplete: "off" });
  const typeIn = h("select", { id: "px-type" }, TYPES.map((x) => h("option", { value: x }, x)));
  const hostIn = h("input", { id: "px-host", required: true, autocomplete: "off", spellcheck: "false" });
  const portIn = h("input", { id: "px-port", type: "number", min: 1, max: 65535, required: true });
  const userIn = h("input", { id: "px-username", autocomplete: "off" });
  const passIn = h("input", { id: "px-password", type: "password", autocomplete: "new-password" });
  const passHint = h("small", { class: "hint", id: "px-password-hint" });
  const title = h("h3", { id: "px-form-title" });
  const saveBtn = h("button", { class: "btn btn-primary", type: "submit", id: "px-save" });
  const testFormBtn = h("button", { class: "btn", type: "button", id: "px-test-form" }, t("px.test_form"));
  const cancelBtn = h("button", { class: "btn", type: "button", id: "px-cancel", onclick: () => setMode(undefined) }, t("common.cancel"));
  const formResult = h("p", { class: "muted", id: "px-form-result", hidden: true });

  function formBody(): Record<string, string | number | null> {
    const body: Record<string, string | number | null> = { type: typeIn.value, host: hostIn.value.trim(), port: Number(portIn.value), username: userIn.value.trim() || null };
    if (nameIn.value.trim()) body.name = nameIn.value.trim();
    if (passIn.value) body.password = passIn.value;
    if (!editing && idIn.value.trim()) body.id = idIn.value.trim();
    if (editing) body.id = editing.id;
    return body;
  }

  const form = h(
    "form",
    {
      class: "form-grid",
      id: "px-form",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        await busy(saveBtn, async () => {
          try {
            const body = formBody();
            if (editing) {
              delete body.id;
              await api("PUT", `/admin/proxies/${encodeURIComponent(editing.id)}`, body);
            } else await api("POST", "/admin/proxies", body);
            toast(t(editing ? "px.updated" : "px.added"), "ok");
            setMode(undefined);
            await load();
          } catch (err) {
            toast(errorMessage(err), "error");
          }
        });
      },
    },
    field(t("common.name"), nameIn, t("px.name_hint")),
    field(t("px.type"), typeIn),
    field(t("px.host"), hostIn),
    field(t("px.port"), portIn),
    field(t("px.username"), userIn),
    h("label", { class: "field" }, h("span", { class: "field-label" }, t("px.password")), passIn, passHint),
    field(t("px.id"), idIn),
    h("div", { class: "form-actions" }, saveBtn, testFormBtn, cancelBtn),
  );
  testFormBtn.addEventListener("click", () =>
    busy(testFormBtn, async () => {
      formResult.hidden = false;
      formResult.textContent = t("px.testing");
      try {
        const r = await api<ProxyTest>("POST", "/admin/proxies/test", formBody());
        formResult.className = r.success ? "test-ok" : "test-bad";
        formResult.textContent = testText(r);
      } catch (err) {
        formResult.className = "form-error";
        formResult.textContent = errorMessage(err);
      }
    }),
  );

  function setMode(p: ProxyView | undefined): void {
    editing = p;
    form.reset();
    formResult.hidden = true;
    title.textContent = p ? t("px.edit_title", { name: p.name }) : t("px.add");
    saveBtn.textContent = p ? t("common.save") : t("common.add");
    cancelBtn.hidden = !p;
    idIn.disabled = Boolean(p);
    passHint.textContent = p?.has_password ? t("px.password_keep") : "";
    if (p) {
      idIn.value = p.id;
      nameIn.value = p.name;
      typeIn.value = p.type;
      hostIn.value = p.host;
      portIn.value = String(p.port);
      userIn.value = p.username;
      form.scrollIntoView({ block: "nearest" });
    }
  }

  root.append(
    h("div", { class: "page-head" }, h("h2", null, t("nav.proxies")), summary),
    h("p", { class: "muted" }, t("px.intro")),
    h("section", { class: "card" }, list),
    h("section", { class: "card" }, title, form, formResult),
  );
  setMode(undefined);

  function row(p: ProxyView, users: string[]): HTMLElement {
    const r = tests.get(p.id);
    const testBtn = h("button", { class: "btn btn-small", type: "button", "data-action": "test" }, t("px.test"));
    const resultCell = cell(t("px.col.test"), "test-cell", r ? h("span", { class: r.success ? "test-ok" : "test-bad clamp", "data-test-result": r.success ? "ok" : "failed", title: r.message }, testText(r)) : h("span", { class: "muted" }, "—"));
    testBtn.addEventListener("click", () =>
      busy(testBtn, async () => {
        const target = resultCell.querySelector(".cell");
        if (target) clear(target, h("span", { class: "muted" }, t("px.testing")));
        try {
          tests.set(p.id, await api<ProxyTest>("POST", "/admin/proxies/test", { proxy_id: p.id }));
        } catch (err) {
          tests.set(p.id, { success: false, proxy_id: p.id, proxy_type: p.type, response_time: 0, message: errorMessage(err) });
        }
        await load();
      }),
    );
    const editBtn = h("button", { class: "btn btn-small", type: "button", "data-action": "edit", onclick: () => setMode(p) }, t("px.edit"));
    const delBtn = h("button", { class: "btn btn-small btn-danger", type: "button", "data-action": "delete" }, t("common.delete"));
    delBtn.addEventListener("click", () => {
      if (!confirm(t("px.delete_confirm", { name: p.name, n: users.length }))) return;
      void busy(delBtn, async () => {
        try {
          const r = await api<{ unbound_accounts: number }>("DELETE", `/admin/proxies/${encodeURIComponent(p.id)}`);
          toast(t("px.deleted", { n: r.unbound_accounts ?? 0 }), "ok");
          tests.delete(p.id);
          if (editing?.id === p.id) setMode(undefined);
          await load();
        } catch (err) {
          toast(errorMessage(err), "error");
        }
      });
    });
    return h(
      "tr",
      { "data-proxy": p.id },
      cell(t("common.name"), "", h("div", { class: "strong" }, p.name), h("div", { class: "muted small" }, h("code", null, p.id))),
      cell(t("px.col.address"), "nowrap", h("span", { class: "tag" }, p.type), " ", `${p.host}:${p.port}`),
      cell(t("px.col.auth"), "", p.username ? [p.username, " ", h("code", null, p.has_password ? "****" : "—")] : h("span", { class: "muted" }, t("px.no_auth"))),
      cell(
        t("px.col.used_by"),
        "",
        h(
          "span",
          { "data-used-by": users.length, title: users.join("\n") },
          users.length ? [t("px.used_by", { n: users.length }), h("div", { class: "muted small clamp" }, users.slice(0, 5).join(", ") + (users.length > 5 ? " …" : ""))] : h("span", { class: "muted" }, t("px.unused")),
        ),
      ),
      resultCell,
      cell(t("common.actions"), "actions", testBtn, editBtn, delBtn),
    );
  }

  async function load(): Promise<void> {
    try {
      const [r, bound] = await Promise.all([api<{ items: ProxyView[]; total: number }>("GET", "/admin/proxies"), accountProxies()]);
      summary.textContent = t("px.total", { total: r.total });
      clear(
        list,
        r.items.length
          ? h(
              "table",
              { class: "table responsive", id: "px-table" },
              h("thead", null, h("tr", null, (["common.name", "px.col.address", "px.col.auth", "px.col.used_by", "px.col.test", "common.actions"] as const).map((k) => h("th", null, t(k))))),
              h("tbody", null, r.items.map((p) => row(p, bound.byProxy.get(p.id) ?? []))),
            )
          : h("p", { class: "muted" }, t("px.none")),
        bound.partial ? h("p", { class: "muted small" }, t("px.partial")) : null,
      );
    } catch (err) {
      clear(list, h("p", { class: "form-error" }, errorMessage(err)));
    }
  }
  void load();
}
