/** API tester: pick a surface and model, stream the answer live through POST /admin/playground, reasoning apart. */
import { send } from "../lib/api.ts";
import { clear, field, h } from "../lib/dom.ts";
import { t } from "../lib/i18n.ts";
import { pieceOf, readSse, type Surface } from "../lib/sse.ts";
import { errorMessage } from "../lib/status.ts";

const SURFACES: Surface[] = ["openai", "anthropic", "gemini"];
const FALLBACK_MODELS = ["deepseek-v4-flash", "deepseek-v4-pro", "deepseek-v4-flash-search", "deepseek-v4-pro-search"];
const STATE_KEY = "ds2api.tester";

async function modelIds(): Promise<string[]> {
  try {
    const r = await fetch("/v1/models");
    const j = (await r.json()) as { data?: { id: string }[] };
    const ids = (j.data ?? []).map((m) => m.id).filter((id) => typeof id === "string");
    return ids.length ? ids : FALLBACK_MODELS;
  } catch {
    return FALLBACK_MODELS;
  }
}

export function renderTester(root: HTMLElement): () => void {
  const saved = JSON.parse(localStorage.getItem(STATE_KEY) ?? "{}") as { surface?: Surface; model?: string };
  const surface = h("select", { id: "tester-surface" }, SURFACES.map((s) => h("option", { value: s, selected: s === saved.surface }, s)));
  const model = h("select", { id: "tester-model" }, h("option", { value: saved.model ?? FALLBACK_MODELS[0] }, saved.model ?? FALLBACK_MODELS[0]));
  const message = h("textarea", { id: "tester-message", rows: 4 });
  message.value = t("test.default_message");
  const sendBtn = h("button", { class: "btn btn-primary", type: "submit", id: "tester-send" }, t("test.send"));
  const stopBtn = h("button", { class: "btn", type: "button", id: "tester-stop", hidden: true }, t("test.stop"));
  const reasoning = h("pre", { class: "stream reasoning", id: "tester-reasoning" });
  const answer = h("pre", { class: "stream answer", id: "tester-answer" });
  const reasoningBox = h("details", { class: "reasoning-box", open: true, hidden: true }, h("summary", null, t("test.reasoning")), reasoning);
  const status = h("p", { class: "muted", id: "tester-status", "aria-live": "polite" });
  const error = h("p", { class: "form-error", id: "tester-error", role: "alert", hidden: true });
  let controller: AbortController | undefined;

  void modelIds().then((ids) => {
    const want = saved.model && ids.includes(saved.model) ? saved.model : ids[0];
    clear(model, ids.map((id) => h("option", { value: id, selected: id === want }, id)));
  });

  const form = h(
    "form",
    {
      class: "card",
      id: "tester-form",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        await run();
      },
    },
    h("div", { class: "form-grid" }, field(t("test.surface"), surface), field(t("test.model"), model)),
    field(t("test.message"), message),
    h("div", { class: "form-actions" }, sendBtn, stopBtn),
  );
  stopBtn.addEventListener("click", () => controller?.abort());

  root.append(
    h("div", { class: "page-head" }, h("h2", null, t("nav.tester"))),
    form,
    h("section", { class: "card output" }, status, error, reasoningBox, h("h3", null, t("test.answer")), answer),
  );

  async function run(): Promise<void> {
    localStorage.setItem(STATE_KEY, JSON.stringify({ surface: surface.value, model: model.value }));
    controller?.abort();
    controller = new AbortController();
    const sf = surface.value as Surface;
    reasoning.textContent = "";
    answer.textContent = "";
    reasoningBox.hidden = true;
    error.hidden = true;
    sendBtn.disabled = true;
    stopBtn.hidden = false;
    status.textContent = t("test.streaming");
    delete status.dataset.done;
    answer.classList.add("streaming");
    const started = performance.now();
    let first = 0;
    let chars = 0;
    try {
      const res = await send("POST", "/admin/playground", { surface: sf, model: model.value, message: message.value, stream: true }, controller.signal);
      if (!res.body) throw new Error("empty response");
      for await (const ev of readSse(res.body)) {
        const p = pieceOf(sf, ev);
        if (p.error) throw new Error(p.error);
        if (p.reasoning) {
          if (!first) first = performance.now() - started;
          reasoningBox.hidden = false;
          reasoning.append(p.reasoning);
        }
        if (p.answer) {
          if (!first) first = performance.now() - started;
          chars += p.answer.length;
          answer.append(p.answer);
        }
        if (p.done) break;
      }
      status.textContent = t("test.stats", { first: Math.round(first), total: Math.round(performance.now() - started), chars });
      status.dataset.done = "1";
    } catch (err) {
      if ((err as Error)?.name === "AbortError") status.textContent = t("test.stopped");
      else {
        status.textContent = "";
        error.hidden = false;
        error.textContent = errorMessage(err);
      }
    } finally {
      answer.classList.remove("streaming");
      sendBtn.disabled = false;
      stopBtn.hidden = true;
    }
  }

  return () => controller?.abort();
}
