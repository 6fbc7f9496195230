/**
 * Raw captures (§12.7): whether capture is on (switched in Settings), the captured upstream exchanges held in
 * memory (time, account / model, sizes; request and response on demand; save one as a sample; clear all),
 * finding chains by text and saving one as a raw sample, and capturing a new sample with one chat turn.
 * Tokens never reach this page: the tap records bodies, not headers, and the route drops credential keys.
 */
import { api, send } from "../lib/api.ts";
import { busy, cell, clear, field, formatNumber, formatTime, h, toast } from "../lib/dom.ts";
import { t } from "../lib/i18n.ts";
import { errorMessage } from "../lib/status.ts";

type Capture = {
  id: string;
  created_at: number;
  label: string;
  url: string;
  account_id?: string;
  model?: string;
  status_code: number;
  chat_session_id?: string;
  request_body: Record<string, unknown>;
  response_bytes?: number;
  response_body: string;
  response_truncated: boolean;
};

type CaptureList = { enabled: boolean; limit: number; max_body_bytes: number; sample_root?: string; items: Capture[] };

type Chain = {
  chain_key: string;
  capture_ids: string[];
  created_at: number;
  round_count: number;
  account_id?: string;
  initial_label: string;
  latest_label: string;
  request_preview: string;
  response_preview: string;
  response_truncated: boolean;
};

type Saved = { sample_id: string; sample_dir: string };

/** How much of a body the page shows (the full body stays on the server and in saved samples). */
const SHOWN_CHARS = 4000;
const DEFAULT_MODEL = "deepseek-v4-flash";

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1048576).toFixed(1)} MiB`;
}

function shown(text: string): string {
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}\n…` : text;
}

export function renderCaptures(root: HTMLElement): void {
  const state = h("div", { id: "cap-state" });
  const count = h("span", { class: "muted", id: "cap-count" });
  const refresh = h("button", { class: "btn", type: "button", id: "cap-refresh", onclick: () => void load() }, t("common.refresh"));
  const clearBtn = h("button", { class: "btn btn-danger", type: "button", id: "cap-clear" }, t("cap.clear"));
  const list = h("div", { class: "table-wrap", id: "cap-list" }, t("common.loading"));

  // Saving takes an optional sample id and source note, shared by the capture rows and the found chains.
  const sampleId = h("input", { id: "cap-sample-id", name: "sample_id", autocomplete: "off", spellcheck: "false", maxlength: 120 });
  const source = h("input", { id: "cap-source", name: "source", autocomplete: "off", maxlength: 200 });
  const q = h("input", { type: "search", id: "cap-q", name: "q", autocomplete: "off" });
  const limit = h("input", { type: "number", id: "cap-limit", name: "limit", min: 1, max: 50, value: 20 });
  const searchBtn = h("button", { class: "btn", type: "submit" }, t("cap.search"));
  const found = h("div", { class: "table-wrap", id: "cap-chains" });
  const queryForm = h(
    "form",
    {
      id: "cap-query-form",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void busy(searchBtn, query);
      },
    },
    h("div", { class: "form-grid" }, field(t("cap.q"), q, t("cap.q_hint")), field(t("cap.limit"), limit, t("cap.limit_hint")), field(t("cap.sample_id"), sampleId, t("cap.sample_id_hint")), field(t("cap.source"), source, t("cap.source_hint"))),
    h("div", { class: "form-actions" }, searchBtn),
  );

  const model = h("input", { id: "cap-model", name: "model", value: DEFAULT_MODEL, autocomplete: "off", spellcheck: "false" });
  const message = h("input", { id: "cap-message", name: "message", autocomplete: "off" });
  const newId = h("input", { id: "cap-new-sample-id", name: "sample_id", autocomplete: "off", spellcheck: "false", maxlength: 120 });
  const captureBtn = h("button", { class: "btn btn-primary", type: "submit" }, t("cap.capture"));
  const captureOut = h("p", { class: "muted small", id: "cap-new-result" });
  const captureForm = h(
    "form",
    {
      id: "cap-new-form",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void busy(captureBtn, captureNew);
      },
    },
    h("div", { class: "form-grid" }, field(t("cap.model"), model), field(t("cap.message"), message), field(t("cap.sample_id"), newId, t("cap.sample_id_hint"))),
    h("div", { class: "form-actions" }, captureBtn),
    captureOut,
  );

  root.append(
    h("div", { class: "page-head" }, h("h2", null, t("nav.captures"))),
    h("section", { class: "card" }, state),
    h("section", { class: "card" }, h("div", { class: "page-head" }, h("h3", null, t("cap.list")), count), h("div", { class: "form-actions" }, refresh, clearBtn), list),
    h("section", { class: "card", id: "cap-query" }, h("h3", null, t("cap.query")), h("p", { class: "hint" }, t("cap.query_hint")), queryForm, found),
    h("section", { class: "card", id: "cap-new" }, h("h3", null, t("cap.new")), h("p", { class: "hint" }, t("cap.new_hint")), captureForm),
  );

  clearBtn.addEventListener("click", () => {
    if (!confirm(t("cap.clear_confirm"))) return;
    void busy(clearBtn, async () => {
      try {
        await api("DELETE", "/admin/dev/captures");
        toast(t("cap.cleared"), "ok");
        clear(found);
        await load();
      } catch (err) {
        toast(errorMessage(err), "error");
      }
    });
  });

  /** Saves one chain as a sample: `target` names it by chain_key or capture_id. */
  async function save(target: { chain_key: string } | { capture_id: string }): Promise<void> {
    const body: Record<string, string> = { ...target };
    if (sampleId.value.trim()) body.sample_id = sampleId.value.trim();
    if (source.value.trim()) body.source = source.value.trim();
    try {
      const r = await api<Saved>("POST", "/admin/dev/raw-samples/save", body);
      toast(t("cap.saved", { id: r.sample_id, dir: r.sample_dir }), "ok");
    } catch (err) {
      toast(errorMessage(err), "error");
    }
  }

  function saveButton(target: { chain_key: string } | { capture_id: string }): HTMLButtonElement {
    const btn = h("button", { class: "btn btn-small", type: "button", "data-action": "save" }, t("cap.save"));
    btn.addEventListener("click", () => void busy(btn, () => save(target)));
    return btn;
  }

  function showState(r: CaptureList): void {
    clear(
      state,
      h("p", null, h("span", { class: `badge ${r.enabled ? "badge-ok" : "badge-disabled"}`, id: "cap-enabled", "data-enabled": r.enabled ? "1" : "0" }, r.enabled ? t("cap.state_on") : t("cap.state_off"))),
      h("p", { class: "hint", id: "cap-settings-hint" }, t("cap.settings_hint", { limit: r.limit, mb: Math.round(r.max_body_bytes / 1048576) }), " ", h("a", { href: "#/settings" }, t("cap.open_settings"))),
      r.sample_root ? h("p", { class: "muted small" }, t("cap.sample_root", { root: r.sample_root })) : null,
    );
  }

  function row(c: Capture): HTMLElement {
    const request = JSON.stringify(c.request_body, null, 2);
    const requestBytes = new TextEncoder().encode(JSON.stringify(c.request_body)).length;
    const responseBytes = c.response_bytes ?? new TextEncoder().encode(c.response_body).length;
    return h(
      "tr",
      { "data-capture": c.id },
      cell(t("cap.col.time"), "nowrap", formatTime(c.created_at)),
      cell(t("cap.col.account"), "", c.account_id ?? "—", h("div", { class: "muted small" }, c.model ?? "")),
      cell(
        t("cap.col.exchange"),
        "",
        h("div", null, c.label),
        h("div", { class: "muted small clamp", title: c.url }, c.url),
        h(
          "details",
          { class: "small" },
          h("summary", null, t("cap.details")),
          h("pre", { class: "history-text", "data-field": "request" }, shown(request)),
          h("pre", { class: "history-text", "data-field": "response" }, shown(c.response_body) || "—"),
        ),
      ),
      cell(t("cap.col.status"), "num", String(c.status_code)),
      cell(
        t("cap.col.sizes"),
        "nowrap",
        h("span", { "data-field": "sizes" }, t("cap.sizes", { req: bytes(requestBytes), res: bytes(responseBytes) })),
        c.response_truncated ? h("div", { class: "muted small" }, t("cap.truncated")) : null,
      ),
      cell(t("common.actions"), "actions", saveButton({ capture_id: c.id })),
    );
  }

  async function load(): Promise<void> {
    try {
      const r = await api<CaptureList>("GET", "/admin/dev/captures");
      showState(r);
      count.textContent = t("cap.count", { n: r.items.length });
      clear(
        list,
        r.items.length
          ? h(
              "table",
              { class: "table responsive", id: "cap-table" },
              h("thead", null, h("tr", null, (["cap.col.time", "cap.col.account", "cap.col.exchange", "cap.col.status", "cap.col.sizes", "common.actions"] as const).map((k) => h("th", null, t(k))))),
              h("tbody", null, r.items.map(row)),
            )
          : h("p", { class: "muted", id: "cap-empty" }, t("common.none")),
      );
    } catch (err) {
      clear(list, h("p", { class: "form-error" }, errorMessage(err)));
    }
  }

  async function query(): Promise<void> {
    const params = new URLSearchParams({ limit: String(Math.min(50, Math.max(1, Number(limit.value) || 20))) });
    if (q.value.trim()) params.set("q", q.value.trim());
    try {
      const r = await api<{ count: number; items: Chain[] }>("GET", `/admin/dev/raw-samples/query?${params}`);
      clear(
        found,
        h("p", { class: "muted", id: "cap-chain-count" }, t("cap.matches", { n: r.count })),
        r.items.length
          ? h(
              "table",
              { class: "table responsive", id: "cap-chain-table" },
              h("thead", null, h("tr", null, (["cap.col.time", "cap.col.account", "cap.col.rounds", "cap.col.preview", "common.actions"] as const).map((k) => h("th", null, t(k))))),
              h(
                "tbody",
                null,
                r.items.map((c) =>
                  h(
                    "tr",
                    { "data-chain": c.chain_key },
                    cell(t("cap.col.time"), "nowrap", formatTime(c.created_at)),
                    cell(t("cap.col.account"), "", c.account_id ?? "—"),
                    cell(t("cap.col.rounds"), "num", formatNumber(c.round_count), h("div", { class: "muted small" }, c.latest_label)),
                    cell(t("cap.col.preview"), "", h("div", { class: "clamp" }, c.request_preview), h("div", { class: "muted small clamp" }, c.response_preview)),
                    cell(t("common.actions"), "actions", saveButton({ chain_key: c.chain_key })),
                  ),
                ),
              ),
            )
          : null,
      );
    } catch (err) {
      clear(found, h("p", { class: "form-error" }, errorMessage(err)));
    }
  }

  /** One chat turn through the server, captured and saved; the sample's id and folder come back as headers. */
  async function captureNew(): Promise<void> {
    const body: Record<string, unknown> = { model: model.value.trim() || DEFAULT_MODEL, stream: false };
    if (message.value.trim()) body.message = message.value.trim();
    if (newId.value.trim()) body.sample_id = newId.value.trim();
    try {
      const res = await send("POST", "/admin/dev/raw-samples/capture", body);
      await res.body?.cancel();
      const id = res.headers.get("x-ds2-sample-id") ?? "";
      const dir = res.headers.get("x-ds2-sample-dir") ?? "";
      captureOut.textContent = t("cap.saved", { id, dir });
      toast(t("cap.saved", { id, dir }), "ok");
      await load();
    } catch (err) {
      captureOut.textContent = "";
      toast(errorMessage(err), "error");
    }
  }

  void load();
}
