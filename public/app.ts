/** ds2api admin console: boot, session, hash router and the page shell. */
import { api, armExpiry, clearToken, getToken, setUnauthorizedHandler } from "./lib/api.ts";
import { clear, h } from "./lib/dom.ts";
import { getLang, setLang, t, type MessageKey } from "./lib/i18n.ts";
import { renderAccounts } from "./pages/accounts.ts";
import { renderAudit } from "./pages/audit.ts";
import { renderCaptures } from "./pages/captures.ts";
import { renderDashboard } from "./pages/dashboard.ts";
import { renderHistory } from "./pages/history.ts";
import { renderKeys } from "./pages/keys.ts";
import { renderLogin } from "./pages/login.ts";
import { renderProviders } from "./pages/providers.ts";
import { renderProxies } from "./pages/proxies.ts";
import { renderSettings } from "./pages/settings.ts";
import { renderTester } from "./pages/tester.ts";
import { renderTransfer } from "./pages/transfer.ts";
import { renderUsage } from "./pages/usage.ts";

type Page = (root: HTMLElement) => (() => void) | void;

const PAGES: { id: string; label: MessageKey; render: Page }[] = [
  { id: "dashboard", label: "nav.dashboard", render: renderDashboard },
  { id: "accounts", label: "nav.accounts", render: renderAccounts },
  { id: "keys", label: "nav.keys", render: renderKeys },
  { id: "proxies", label: "nav.proxies", render: renderProxies },
  { id: "providers", label: "nav.providers", render: renderProviders },
  { id: "settings", label: "nav.settings", render: renderSettings },
  { id: "tester", label: "nav.tester", render: renderTester },
  { id: "usage", label: "nav.usage", render: renderUsage },
  { id: "history", label: "nav.history", render: renderHistory },
  { id: "captures", label: "nav.captures", render: renderCaptures },
  { id: "audit", label: "nav.audit", render: renderAudit },
  { id: "transfer", label: "nav.transfer", render: renderTransfer },
];

const app = document.getElementById("app") ?? document.body.appendChild(h("div", { id: "app" }));
let cleanup: (() => void) | void;
let sessionEnded = false;

function currentPage(): string {
  const id = location.hash.replace(/^#\/?/, "").split("?")[0] ?? "";
  return PAGES.some((p) => p.id === id) ? id : "dashboard";
}

function langButton(): HTMLElement {
  return h(
    "button",
    {
      class: "btn btn-ghost lang",
      type: "button",
      id: "lang-switch",
      onclick: () => {
        setLang(getLang() === "zh" ? "en" : "zh");
        render();
      },
    },
    t("lang.switch"),
  );
}

/** The server's version (GET /admin/version), asked once per sign-in and shown small in the top bar. */
let serverVersion: Promise<string | undefined> | undefined;

function versionTag(): HTMLElement {
  const el = h("span", { class: "muted small version", id: "server-version" });
  serverVersion ??= api<{ current_version?: string }>("GET", "/admin/version")
    .then((r) => r.current_version)
    .catch(() => undefined);
  void serverVersion.then((v) => {
    if (v) {
      el.textContent = t("app.version", { version: v });
      el.dataset.version = v;
    } else serverVersion = undefined;
  });
  return el;
}

function render(): void {
  if (cleanup) cleanup();
  cleanup = undefined;
  document.title = t("app.title");
  clear(app);
  const token = getToken();
  if (!token || !armExpiry(token)) {
    if (token) clearToken();
    renderLogin(app, {
      expired: sessionEnded,
      langButton: langButton(),
      onDone: () => {
        sessionEnded = false;
        render();
      },
    });
    return;
  }
  const page = currentPage();
  const menu = h("input", { type: "checkbox", id: "nav-toggle", class: "nav-toggle", "aria-label": "menu" });
  const nav = h(
    "nav",
    { class: "nav" },
    PAGES.map((p) => h("a", { href: `#/${p.id}`, class: p.id === page ? "active" : "", "data-page": p.id, onclick: () => (menu.checked = false) }, t(p.label))),
  );
  const main = h("main", { class: "content", id: "page", "data-page": page });
  app.append(
    h(
      "header",
      { class: "topbar" },
      h("label", { for: "nav-toggle", class: "burger", "aria-hidden": "true" }, h("span"), h("span"), h("span")),
      h("a", { class: "brand", href: "#/dashboard" }, t("app.title")),
      versionTag(),
      h("div", { class: "topbar-actions" }, langButton(), h("button", { class: "btn btn-ghost", type: "button", id: "logout", onclick: () => logout() }, t("nav.logout"))),
    ),
    h("div", { class: "layout" }, menu, nav, main),
  );
  cleanup = PAGES.find((p) => p.id === page)!.render(main);
}

function logout(): void {
  clearToken();
  serverVersion = undefined;
  sessionEnded = false;
  render();
}

setUnauthorizedHandler(() => {
  sessionEnded = true;
  render();
});
setLang(getLang());
window.addEventListener("hashchange", render);
render();
