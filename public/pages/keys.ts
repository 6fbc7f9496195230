/** API keys: list with usage, add (the new key is shown once), delete. */
import { api } from "../lib/api.ts";
import { busy, cell, clear, field, formatNumber, formatTime, h, toast } from "../lib/dom.ts";
import { t } from "../lib/i18n.ts";
import { errorMessage } from "../lib/status.ts";
import type { KeyView } from "../lib/types.ts";

export function copyButton(getText: () => string): HTMLButtonElement {
  const b = h("button", { class: "btn btn-small", type: "button" }, t("common.copy"));
  b.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(getText());
      toast(t("common.copied"), "ok");
    } catch {
      // Clipboard needs a secure context; select the text so the user can copy it by hand.
      const sel = b.parentElement?.querySelector("code, textarea");
      if (sel) window.getSelection()?.selectAllChildren(sel);
    }
  });
  return b;
}

export function renderKeys(root: HTMLElement): void {
  const list = h("div", { class: "table-wrap" }, t("common.loading"));
  const reveal = h("div", { class: "reveal", id: "key-reveal", hidden: true });
  const keyInput = h("input", { id: "key-add-key", autocomplete: "off", spellcheck: "false" });
  const nameInput = h("input", { id: "key-add-name" });
  const remarkInput = h("input", { id: "key-add-remark" });
  const addBtn = h("button", { class: "btn btn-primary", type: "submit" }, t("common.add"));
  const form = h(
    "form",
    {
      class: "form-grid",
      id: "key-add-form",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        await busy(addBtn, async () => {
          const body: Record<string, string> = {};
          if (keyInput.value.trim()) body.key = keyInput.value.trim();
          if (nameInput.value.trim()) body.name = nameInput.value.trim();
          if (remarkInput.value.trim()) body.remark = remarkInput.value.trim();
          try {
            const r = await api<{ key?: string }>("POST", "/admin/keys", body);
            const key = r.key ?? body.key ?? "";
            form.reset();
            reveal.hidden = false;
            const code = h("code", { class: "secret" }, key);
            clear(reveal, h("p", null, t("keys.new_key")), h("div", { class: "reveal-row" }, code, copyButton(() => key)));
            await load();
          } catch (err) {
            toast(errorMessage(err), "error");
          }
        });
      },
    },
    field(t("keys.key"), keyInput),
    field(t("common.name"), nameInput),
    field(t("common.remark"), remarkInput),
    h("div", { class: "form-actions" }, addBtn),
  );

  root.append(
    h("div", { class: "page-head" }, h("h2", null, t("nav.keys"))),
    h("section", { class: "card" }, list),
    h("section", { class: "card" }, h("h3", null, t("keys.add")), reveal, form),
  );

  function row(k: KeyView): HTMLElement {
    const del = h("button", { class: "btn btn-small btn-danger", type: "button", "data-action": "delete" }, t("common.delete"));
    del.addEventListener("click", () => {
      if (!confirm(t("keys.delete_confirm", { id: k.name ? `${k.name} (${k.key_preview})` : k.key_preview }))) return;
      void busy(del, async () => {
        try {
          await api("DELETE", `/admin/keys/${encodeURIComponent(k.key_id)}`);
          toast(t("keys.deleted"), "ok");
          reveal.hidden = true;
          await load();
        } catch (err) {
          toast(errorMessage(err), "error");
        }
      });
    });
    const u = k.usage ?? {};
    return h(
      "tr",
      { "data-key": k.key_id },
      cell(t("keys.col.key"), "nowrap", h("code", null, k.key_preview)),
      cell(t("common.name"), "", k.name || "—", k.remark ? h("div", { class: "muted small" }, k.remark) : null),
      cell(t("keys.col.usage"), "", t("keys.usage", { requests: formatNumber(u.requests ?? 0), prompt: formatNumber(u.prompt_tokens ?? 0), completion: formatNumber(u.completion_tokens ?? 0) })),
      cell(t("keys.col.last_used"), "", formatTime(u.last_used_at)),
      cell(t("keys.col.created"), "", formatTime(k.created_at)),
      cell(t("common.actions"), "actions", del),
    );
  }

  async function load(): Promise<void> {
    try {
      const r = await api<{ items: KeyView[] }>("GET", "/admin/keys");
      clear(
        list,
        r.items.length
          ? h(
              "table",
              { class: "table responsive", id: "keys-table" },
              h("thead", null, h("tr", null, (["keys.col.key", "common.name", "keys.col.usage", "keys.col.last_used", "keys.col.created", "common.actions"] as const).map((x) => h("th", null, t(x))))),
              h("tbody", null, r.items.map(row)),
            )
          : h("p", { class: "muted" }, t("common.none")),
      );
    } catch (err) {
      clear(list, h("p", { class: "form-error" }, errorMessage(err)));
    }
  }
  void load();
}
