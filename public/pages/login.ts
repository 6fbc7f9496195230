/** Login: admin key → POST /admin/login → JWT in localStorage. */
import { ApiError, api, setToken } from "../lib/api.ts";
import { busy, h } from "../lib/dom.ts";
import { t } from "../lib/i18n.ts";

export function renderLogin(root: HTMLElement, opts: { expired: boolean; onDone: () => void; langButton: HTMLElement }): void {
  const key = h("input", { type: "password", name: "admin_key", autocomplete: "current-password", required: true, autofocus: true, id: "login-key" });
  const error = h("p", { class: "form-error", role: "alert", hidden: !opts.expired }, opts.expired ? t("login.expired") : "");
  const submit = h("button", { class: "btn btn-primary", type: "submit" }, t("login.submit"));
  const form = h(
    "form",
    {
      class: "login-card card",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        await busy(submit, async () => {
          try {
            const r = await api<{ token: string }>("POST", "/admin/login", { admin_key: key.value });
            setToken(r.token);
            opts.onDone();
          } catch (err) {
            error.hidden = false;
            error.textContent = err instanceof ApiError && err.status === 0 ? t("common.network") : (err as Error).message;
          }
        });
      },
    },
    h("div", { class: "login-head" }, h("h1", null, t("app.title")), opts.langButton),
    h("h2", null, t("login.title")),
    h("label", { class: "field" }, h("span", { class: "field-label" }, t("login.key")), key),
    error,
    submit,
    h("p", { class: "hint" }, t("login.hint")),
  );
  root.appendChild(h("main", { class: "login-page" }, form));
  key.focus();
}
