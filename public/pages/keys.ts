/** API keys: list with usage and quotas (edited inline; 0 or empty = unlimited), add (the new key is shown once), delete. */
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
    h("section", { class: "card" }, h("p", { class: "muted small", id: "keys-quota-note" }, t("keys.quota_note")), list),
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
    const quotaCell = cell(t("keys.col.quota"), "quota-cell", quotaView(k));
    const quotaBtn = h("button", { class: "btn btn-small", type: "button", "data-action": "quota", onclick: () => editQuota(k, quotaCell) }, t("keys.quota_edit"));
    return h(
      "tr",
      { "data-key": k.key_id },
      cell(t("keys.col.key"), "nowrap", h("code", null, k.key_preview)),
      cell(t("common.name"), "", k.name || "—", k.remark ? h("div", { class: "muted small" }, k.remark) : null),
      cell(t("keys.col.usage"), "", t("keys.usage", { requests: formatNumber(u.requests ?? 0), prompt: formatNumber(u.prompt_tokens ?? 0), completion: formatNumber(u.completion_tokens ?? 0) })),
      quotaCell,
      cell(t("keys.col.last_used"), "", formatTime(u.last_used_at)),
      cell(t("keys.col.created"), "", formatTime(k.created_at)),
      cell(t("common.actions"), "actions", quotaBtn, del),
    );
  }

  /** The key's limits beside what it has used against them. */
  function quotaView(k: KeyView): HTMLElement {
    const q = k.quota ?? {};
    const limit = (n: number | null | undefined) => (n ? formatNumber(n) : t("keys.unlimited"));
    return h(
      "div",
      { "data-quota": `${q.requests_per_minute ?? 0}/${q.tokens_per_day ?? 0}` },
      h("div", null, t("keys.quota_rpm", { limit: limit(q.requests_per_minute) })),
      h("div", { "data-tokens-today": k.usage?.tokens_today ?? 0 }, t("keys.quota_tpd", { used: formatNumber(k.usage?.tokens_today ?? 0), limit: limit(q.tokens_per_day) })),
    );
  }

  /** Inline quota editor in the key's row: empty or 0 means unlimited. */
  function editQuota(k: KeyView, target: HTMLElement): void {
    const box = target.querySelector(".cell") ?? target;
    // At phone width the editor takes the whole row instead of the label/value split.
    target.classList.add("edit-cell");
    const num = (id: string, v: number | null | undefined) => h("input", { id, type: "number", min: 0, step: 1, value: v ? String(v) : "", placeholder: t("keys.unlimited"), inputmode: "numeric" });
    const rpm = num("key-quota-rpm", k.quota?.requests_per_minute);
    const tpd = num("key-quota-tpd", k.quota?.tokens_per_day);
    const save = h("button", { class: "btn btn-small btn-primary", type: "submit" }, t("common.save"));
    const read = (i: HTMLInputElement) => (i.value.trim() === "" ? null : Math.max(0, Math.floor(Number(i.value))));
    clear(
      box,
      h(
        "form",
        {
          id: "key-quota-form",
          onsubmit: async (e: Event) => {
            e.preventDefault();
            await busy(save, async () => {
              try {
                await api("PUT", `/admin/keys/${encodeURIComponent(k.key_id)}`, { quota: { requests_per_minute: read(rpm), tokens_per_day: read(tpd) } });
                toast(t("keys.quota_saved"), "ok");
                await load();
              } catch (err) {
                toast(errorMessage(err), "error");
              }
            });
          },
        },
        field(t("keys.quota_rpm_label"), rpm),
        field(t("keys.quota_tpd_label"), tpd, t("keys.quota_hint")),
        h("div", { class: "form-actions" }, save, h("button", { class: "btn btn-small", type: "button", onclick: () => (target.classList.remove("edit-cell"), clear(box, quotaView(k))) }, t("common.cancel"))),
      ),
    );
    rpm.focus();
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
              h("thead", null, h("tr", null, (["keys.col.key", "common.name", "keys.col.usage", "keys.col.quota", "keys.col.last_used", "keys.col.created", "common.actions"] as const).map((x) => h("th", null, t(x))))),
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
