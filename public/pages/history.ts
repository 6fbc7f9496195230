/** Chat history (§12.6): the limit (0 = off), the list of recorded conversations, one conversation in full, delete. */
import { api } from "../lib/api.ts";
import { busy, cell, clear, field, formatNumber, formatTime, h, toast } from "../lib/dom.ts";
import { t, type MessageKey } from "../lib/i18n.ts";
import { errorMessage } from "../lib/status.ts";

type Summary = {
  id: string;
  created_at: number;
  status: string;
  surface?: string;
  model?: string;
  provider?: string;
  caller_id?: string;
  account_id?: string;
  stream: boolean;
  user_input?: string;
  preview?: string;
  elapsed_ms?: number;
};

type Item = Summary & {
  messages: { role: string; content: string }[];
  final_prompt: string;
  reasoning_content: string;
  content: string;
  tool_calls: { name: string; arguments: unknown }[];
  error: string;
  usage: { prompt_tokens: number; completion_tokens: number; reasoning_tokens: number; total_tokens: number } | null;
  first_output_ms?: number;
};

const LIMITS = [0, 10, 20, 50, 100, 500];

function statusText(s: string): string {
  return ["streaming", "success", "error", "stopped"].includes(s) ? t(`hist.status.${s}` as MessageKey) : s;
}

function ms(v: unknown): string {
  return typeof v === "number" ? `${(v / 1000).toFixed(2)} s` : "—";
}

function block(title: string, text: string, id: string): HTMLElement {
  return h("section", { class: "card" }, h("h3", null, title), h("pre", { class: "history-text", id }, text || "—"));
}

export function renderHistory(root: HTMLElement): void {
  const limitSelect = h("select", { id: "history-limit", name: "limit" });
  const count = h("span", { class: "muted", id: "history-count" });
  const clearBtn = h("button", { class: "btn btn-danger", type: "button", id: "history-clear" }, t("hist.clear"));
  const list = h("div", { class: "table-wrap", id: "history-list" }, t("common.loading"));
  const detail = h("div", { id: "history-detail", hidden: true });
  const listView = h("div", null, h("section", { class: "card" }, field(t("hist.limit"), limitSelect, t("hist.limit_hint")), h("div", { class: "form-actions" }, count, clearBtn)), h("section", { class: "card" }, list));
  root.append(h("div", { class: "page-head" }, h("h2", null, t("nav.history"))), listView, detail);

  limitSelect.addEventListener("change", async () => {
    try {
      await api("PUT", "/admin/chat-history/settings", { limit: Number(limitSelect.value) });
      toast(t("common.saved"), "ok");
      await load();
    } catch (err) {
      toast(errorMessage(err), "error");
    }
  });
  clearBtn.addEventListener("click", () => {
    if (!confirm(t("hist.clear_confirm"))) return;
    void busy(clearBtn, async () => {
      try {
        await api("DELETE", "/admin/chat-history");
        toast(t("hist.deleted"), "ok");
        await load();
      } catch (err) {
        toast(errorMessage(err), "error");
      }
    });
  });

  async function remove(id: string, button: HTMLButtonElement): Promise<void> {
    if (!confirm(t("hist.delete_confirm"))) return;
    await busy(button, async () => {
      try {
        await api("DELETE", `/admin/chat-history/${encodeURIComponent(id)}`);
        toast(t("hist.deleted"), "ok");
        showList();
        await load();
      } catch (err) {
        toast(errorMessage(err), "error");
      }
    });
  }

  function showList(): void {
    detail.hidden = true;
    listView.hidden = false;
  }

  async function open(id: string): Promise<void> {
    listView.hidden = true;
    detail.hidden = false;
    clear(detail, t("common.loading"));
    try {
      const { item } = await api<{ item: Item }>("GET", `/admin/chat-history/${encodeURIComponent(id)}`);
      const back = h("button", { class: "btn", type: "button", id: "history-back", onclick: showList }, t("hist.back"));
      const del = h("button", { class: "btn btn-danger", type: "button", id: "history-delete" }, t("common.delete"));
      del.addEventListener("click", () => void remove(item.id, del));
      const u = item.usage;
      clear(
        detail,
        h("div", { class: "form-actions" }, back, del),
        h(
          "section",
          { class: "card", id: "history-meta" },
          h("h3", null, `${item.surface ?? ""} · ${item.model ?? ""}`),
          h("p", null, h("span", { class: `badge badge-${item.status === "success" ? "ok" : "other"}` }, statusText(item.status)), " ", formatTime(item.created_at)),
          h("p", { class: "muted small" }, t("hist.meta", { caller: item.caller_id ?? "—", account: item.account_id ?? "—", provider: item.provider ?? "—" })),
          h("p", { id: "history-usage" }, `${t("hist.usage")}: `, u ? t("hist.usage_line", { prompt: formatNumber(u.prompt_tokens), completion: formatNumber(u.completion_tokens), reasoning: formatNumber(u.reasoning_tokens), total: formatNumber(u.total_tokens) }) : "—"),
          h("p", { id: "history-timing" }, `${t("hist.timing")}: `, t("hist.timing_line", { first: ms(item.first_output_ms), total: ms(item.elapsed_ms), stream: item.stream ? "stream" : "non-stream" })),
        ),
        block(t("hist.prompt"), item.messages.map((m) => `[${m.role}]\n${m.content}`).join("\n\n"), "history-prompt"),
        item.reasoning_content ? block(t("hist.reasoning"), item.reasoning_content, "history-reasoning") : null,
        block(t("hist.answer"), item.content, "history-answer"),
        item.tool_calls.length ? block(t("hist.tool_calls"), item.tool_calls.map((c) => `${c.name}(${typeof c.arguments === "string" ? c.arguments : JSON.stringify(c.arguments)})`).join("\n"), "history-tools") : null,
        item.error ? block(t("hist.error"), item.error, "history-error") : null,
        h("details", { class: "card" }, h("summary", null, t("hist.final_prompt")), h("pre", { class: "history-text" }, item.final_prompt || "—")),
      );
    } catch (err) {
      clear(detail, h("p", { class: "form-error" }, errorMessage(err)), h("button", { class: "btn", type: "button", onclick: showList }, t("hist.back")));
    }
  }

  function row(s: Summary): HTMLElement {
    const view = h("button", { class: "btn btn-small", type: "button", "data-action": "view" }, t("hist.view"));
    view.addEventListener("click", () => void open(s.id));
    const del = h("button", { class: "btn btn-small btn-danger", type: "button", "data-action": "delete" }, t("common.delete"));
    del.addEventListener("click", () => void remove(s.id, del));
    return h(
      "tr",
      { "data-id": s.id },
      cell(t("hist.col.time"), "nowrap", formatTime(s.created_at)),
      cell(t("hist.col.surface"), "", s.surface ?? "—", h("div", { class: "muted small" }, s.model ?? "")),
      cell(t("hist.col.status"), "", statusText(s.status)),
      cell(t("hist.col.input"), "", s.user_input ?? "—", s.preview ? h("div", { class: "muted small" }, s.preview) : null),
      cell(t("hist.col.elapsed"), "nowrap", ms(s.elapsed_ms)),
      cell(t("common.actions"), "actions", view, del),
    );
  }

  async function load(): Promise<void> {
    try {
      const r = await api<{ limit: number; items: Summary[] }>("GET", "/admin/chat-history");
      const options = [...new Set([...LIMITS, r.limit])].sort((a, b) => a - b);
      clear(limitSelect, ...options.map((n) => h("option", { value: String(n), selected: n === r.limit }, n === 0 ? t("hist.off") : String(n))));
      count.textContent = t("hist.entries", { n: r.items.length });
      clear(
        list,
        r.items.length
          ? h(
              "table",
              { class: "table responsive", id: "history-table" },
              h("thead", null, h("tr", null, (["hist.col.time", "hist.col.surface", "hist.col.status", "hist.col.input", "hist.col.elapsed", "common.actions"] as const).map((x) => h("th", null, t(x))))),
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
