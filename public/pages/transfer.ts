/**
 * Import (paste or upload JSON / base64, merge or replace), export (download JSON, copy base64), and a bulk import
 * of accounts that runs as a job with a progress bar (found again when the page is opened later).
 */
import { api } from "../lib/api.ts";
import { busy, clear, field, h, toast } from "../lib/dom.ts";
import { t } from "../lib/i18n.ts";
import { followJob, jobProgress, latestJob } from "../lib/jobs.ts";
import type { JobView } from "../lib/live.ts";
import { errorMessage, itemText } from "../lib/status.ts";
import { copyButton } from "./keys.ts";

/** JSON text (starts with `{`) is sent as `json`, anything else as `base64`. */
export function importBody(text: string): { json: string } | { base64: string } {
  const s = text.trim();
  return s.startsWith("{") ? { json: s } : { base64: s.replace(/\s+/g, "") };
}

interface BulkResult {
  imported: number;
  updated: number;
  errors: unknown[];
}

/** Bulk account import as a job (POST /admin/jobs/accounts-bulk). */
function bulkImportCard(): { el: HTMLElement; stop(): void } {
  const text = h("textarea", { id: "xfer-bulk-text", rows: 6, spellcheck: "false", placeholder: "user@example.com:password\n13800000000:password" });
  const file = h("input", { type: "file", id: "xfer-bulk-file", accept: ".txt,.json,text/plain,application/json" });
  file.addEventListener("change", async () => {
    const f = file.files?.[0];
    if (f) text.value = await f.text();
  });
  const submit = h("button", { class: "btn btn-primary", type: "submit", id: "xfer-bulk-submit" }, t("xfer.bulk_submit"));
  const progress = h("div", { id: "xfer-bulk-status" });
  let stopFollow: (() => void) | undefined;
  const track = (job: JobView) => {
    stopFollow?.();
    const bar = jobProgress("xfer-bulk-progress");
    const after = h("div", { class: "job-after" });
    bar.update(job);
    clear(progress, bar.el, after);
    submit.disabled = !job.finished;
    stopFollow = followJob(job, bar.update, (end) => {
      bar.update(end);
      submit.disabled = false;
      const r = end.result as BulkResult | undefined;
      if (end.state !== "succeeded" || !r) return clear(after, h("p", { class: "form-error" }, end.error ?? ""));
      clear(
        after,
        h("p", { class: "strong", id: "xfer-bulk-done" }, t("xfer.bulk_done", { imported: r.imported, updated: r.updated, errors: r.errors.length })),
        r.errors.length ? h("ul", { class: "errors" }, r.errors.slice(0, 20).map((e) => h("li", null, itemText(e)))) : null,
      );
    });
  };
  const form = h(
    "form",
    {
      class: "card",
      id: "xfer-bulk-form",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        if (!text.value.trim()) return toast(t("xfer.bulk_empty"), "error");
        submit.disabled = true;
        try {
          const r = await api<{ job_id: string; job: JobView }>("POST", "/admin/jobs/accounts-bulk", { text: text.value });
          text.value = "";
          file.value = "";
          track(r.job);
        } catch (err) {
          submit.disabled = false;
          toast(errorMessage(err), "error");
        }
      },
    },
    h("h3", null, t("xfer.bulk")),
    field(t("xfer.bulk_hint"), text),
    h("label", { class: "field" }, h("span", { class: "field-label" }, t("xfer.file")), file),
    h("div", { class: "form-actions" }, submit),
    progress,
  );
  void latestJob("accounts.bulk_import")
    .then((job) => job && !stopFollow && track(job))
    .catch(() => undefined);
  return { el: form, stop: () => stopFollow?.() };
}

export function renderTransfer(root: HTMLElement): () => void {
  const text = h("textarea", { id: "xfer-text", rows: 8, spellcheck: "false", placeholder: '{"keys": [...], "accounts": [...]}' });
  const file = h("input", { type: "file", id: "xfer-file", accept: ".json,.txt,application/json,text/plain" });
  file.addEventListener("change", async () => {
    const f = file.files?.[0];
    if (f) text.value = await f.text();
  });
  const merge = h("input", { type: "radio", name: "mode", value: "merge", checked: true });
  const replace = h("input", { type: "radio", name: "mode", value: "replace" });
  const importBtn = h("button", { class: "btn btn-primary", type: "submit", id: "xfer-import" }, t("xfer.import_submit"));
  const importForm = h(
    "form",
    {
      class: "card",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        if (!text.value.trim()) return toast(t("xfer.empty"), "error");
        const mode = replace.checked ? "replace" : "merge";
        if (mode === "replace" && !confirm(t("xfer.replace_confirm"))) return;
        await busy(importBtn, async () => {
          try {
            const r = await api<{ imported_keys?: number; imported_accounts?: number }>("POST", `/admin/config/import?mode=${mode}`, { ...importBody(text.value), mode });
            toast(t("xfer.import_done", { keys: r.imported_keys ?? 0, accounts: r.imported_accounts ?? 0 }), "ok");
            text.value = "";
            file.value = "";
          } catch (err) {
            toast(errorMessage(err), "error");
          }
        });
      },
    },
    h("h3", null, t("xfer.import")),
    field(t("xfer.import_hint"), text),
    h("label", { class: "field" }, h("span", { class: "field-label" }, t("xfer.file")), file),
    h("fieldset", { class: "radios" }, h("legend", null, t("xfer.mode")), h("label", { class: "check" }, merge, t("xfer.merge")), h("label", { class: "check" }, replace, t("xfer.replace"))),
    h("div", { class: "form-actions" }, importBtn),
  );

  const secrets = h("input", { type: "checkbox", id: "xfer-secrets" });
  const b64 = h("div", { class: "reveal", hidden: true });
  const exportBtn = h("button", { class: "btn btn-primary", type: "button", id: "xfer-export" }, t("xfer.export_submit"));
  exportBtn.addEventListener("click", () =>
    busy(exportBtn, async () => {
      try {
        const r = await api<{ json: string; base64: string }>("GET", `/admin/config/export${secrets.checked ? "?include_secrets=1" : ""}`);
        const url = URL.createObjectURL(new Blob([r.json], { type: "application/json" }));
        const a = h("a", { href: url, download: `ds2api-config-${new Date().toISOString().slice(0, 10)}.json` });
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 1000);
        const area = h("textarea", { rows: 3, readonly: true, spellcheck: "false" });
        area.value = r.base64;
        b64.hidden = false;
        clear(b64, h("p", null, t("xfer.base64")), h("div", { class: "reveal-row" }, area, copyButton(() => r.base64)));
      } catch (err) {
        toast(errorMessage(err), "error");
      }
    }),
  );

  const bulk = bulkImportCard();
  root.append(
    h("div", { class: "page-head" }, h("h2", null, t("nav.transfer"))),
    importForm,
    bulk.el,
    h("section", { class: "card" }, h("h3", null, t("xfer.export")), h("label", { class: "check" }, secrets, t("xfer.include_secrets")), h("div", { class: "form-actions" }, exportBtn), b64),
  );
  return bulk.stop;
}
