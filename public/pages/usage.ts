/**
 * Usage: requests, tokens and errors of business turns over the last hour, day or week (GET /admin/usage), grouped
 * by API key, account, model or — once traffic went to several — provider. Two stacked bar charts (requests with
 * errors as red markers, tokens), a legend, totals and a per-group table. Refreshed every 30 s while shown.
 */
import { api } from "../lib/api.ts";
import { barChart, compact, swatch } from "../lib/bar-chart.ts";
import { cell, clear, formatNumber, h } from "../lib/dom.ts";
import { t, type MessageKey } from "../lib/i18n.ts";
import { errorMessage } from "../lib/status.ts";

type Range = "hour" | "day" | "week";
type Grouping = "key" | "account" | "model" | "provider";

interface Values {
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
}

interface Totals extends Values {
  avg_latency_ms: number;
}

interface Group extends Totals {
  id: string;
  kind: "key" | "deleted_key" | "direct" | "loopback" | "account" | "credential" | "unknown_account" | "none" | "model" | "provider";
  label: string;
  detail: string;
}

interface UsageReport {
  range: Range;
  by: Grouping;
  step_seconds: number;
  from: number;
  to: number;
  buckets: number[];
  groups: Group[];
  series: { bucket: number; values: Record<string, Values> }[];
  totals: Totals;
  providers: string[];
}

const RANGES: Range[] = ["hour", "day", "week"];
const GROUPINGS: Grouping[] = ["key", "account", "model", "provider"];
/** Groups drawn in their own colour; the rest are added up as "other". */
const MAX_SHOWN = 7;
const PALETTE = ["#3b5bdb", "#12b886", "#f59f00", "#7048e8", "#1098ad", "#ae3ec9", "#74b816"];
const OTHER_COLOR = "#868e96";
const OTHER_ID = "\u0000other";
const REFRESH_MS = 30_000;

/** Kept while the console is open, so coming back shows the same view. */
const view: { range: Range; by: Grouping } = { range: "day", by: "model" };

function groupName(g: Group): string {
  switch (g.kind) {
    case "deleted_key":
      return t("usage.deleted_key", { id: g.id });
    case "direct":
      return t("usage.direct_token", { id: g.id.replace(/^caller:/, "").slice(0, 8) });
    case "loopback":
      return t("usage.loopback");
    case "none":
      return t("usage.no_account");
    default:
      return g.label || g.id;
  }
}

interface Shown {
  id: string;
  name: string;
  title: string;
  color: string;
  members: string[];
}

/** The groups drawn: the busiest MAX_SHOWN, then one "other" for the rest. */
function shownGroups(groups: Group[]): Shown[] {
  const top = groups.slice(0, groups.length > MAX_SHOWN + 1 ? MAX_SHOWN : groups.length);
  const rest = groups.slice(top.length);
  const shown: Shown[] = top.map((g, i) => ({ id: g.id, name: groupName(g), title: g.detail, color: PALETTE[i % PALETTE.length]!, members: [g.id] }));
  if (rest.length) shown.push({ id: OTHER_ID, name: t("usage.other", { n: rest.length }), title: "", color: OTHER_COLOR, members: rest.map((g) => g.id) });
  return shown;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

function bucketLabel(range: Range, bucket: number): string {
  const d = new Date(bucket);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return range === "week" ? `${d.getMonth() + 1}/${d.getDate()} ${pad(d.getHours())}h` : time;
}

function bucketTitle(r: UsageReport, bucket: number): string {
  const start = new Date(bucket);
  const end = new Date(bucket + r.step_seconds * 1000);
  const opts: Intl.DateTimeFormatOptions = r.range === "week" ? { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" } : { hour: "2-digit", minute: "2-digit" };
  return `${start.toLocaleString(undefined, opts)} – ${end.toLocaleString(undefined, opts)}`;
}

function segmented<T extends string>(id: string, label: string, options: { value: T; text: string; hidden?: boolean }[], current: T, pick: (v: T) => void): HTMLElement {
  return h(
    "div",
    { class: "segmented", id, role: "group", "aria-label": label },
    options.map((o) =>
      h(
        "button",
        { type: "button", class: `btn btn-small${o.value === current ? " active" : ""}`, "data-value": o.value, "aria-pressed": o.value === current ? "true" : "false", hidden: o.hidden, onclick: () => pick(o.value) },
        o.text,
      ),
    ),
  );
}

/** 655 → "655 ms", 1697 → "1.7 s". */
function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function stat(label: string, id: string, value: string, tone = ""): HTMLElement {
  return h("div", { class: `stat ${tone}` }, h("div", { class: "stat-value", "data-stat": id }, value), h("div", { class: "stat-label" }, label));
}

export function renderUsage(root: HTMLElement): () => void {
  let report: UsageReport | undefined;
  let loading = 0;

  const updated = h("span", { class: "muted", id: "usage-updated" });
  const controls = h("div", { class: "usage-controls" });
  const problem = h("p", { class: "form-error", id: "usage-error", hidden: true });
  const body = h("div", { id: "usage-body" }, h("p", { class: "muted" }, t("common.loading")));
  root.append(h("div", { class: "page-head" }, h("h2", null, t("nav.usage")), updated), h("section", { class: "card" }, controls, h("p", { class: "muted small usage-note" }, t("usage.note")), problem), body);

  function renderControls(): void {
    const several = (report?.providers.length ?? 0) > 1;
    if (view.by === "provider" && report && !several) view.by = "model";
    clear(
      controls,
      h(
        "div",
        { class: "usage-control" },
        h("span", { class: "field-label" }, t("usage.range")),
        segmented<Range>("usage-range", t("usage.range"), RANGES.map((r) => ({ value: r, text: t(`usage.range.${r}` as MessageKey) })), view.range, (r) => {
          view.range = r;
          void load();
        }),
      ),
      h(
        "div",
        { class: "usage-control" },
        h("span", { class: "field-label" }, t("usage.by")),
        segmented<Grouping>("usage-by", t("usage.by"), GROUPINGS.map((g) => ({ value: g, text: t(`usage.by.${g}` as MessageKey), hidden: g === "provider" && !several })), view.by, (g) => {
          view.by = g;
          void load();
        }),
      ),
      h("button", { class: "btn btn-small", type: "button", id: "usage-refresh", onclick: () => void load() }, t("common.refresh")),
    );
  }

  function chartWidth(): number {
    // The card's inner width (padding 1rem each side); the page may not be laid out yet on the first call.
    return Math.max(260, (body.clientWidth || root.clientWidth || 640) - 34);
  }

  function renderBody(): void {
    const r = report;
    if (!r) return;
    const total = r.totals;
    const stats = h(
      "section",
      { class: "card" },
      h(
        "div",
        { class: "stats", id: "usage-totals" },
        stat(t("usage.requests"), "requests", formatNumber(total.requests)),
        stat(t("usage.errors"), "errors", formatNumber(total.errors), total.errors ? "tone-bad" : ""),
        stat(t("usage.input_tokens"), "input_tokens", compact(total.input_tokens)),
        stat(t("usage.output_tokens"), "output_tokens", compact(total.output_tokens)),
        stat(t("usage.avg_latency"), "avg_latency_ms", total.requests ? duration(total.avg_latency_ms) : "—"),
      ),
    );
    if (!total.requests) {
      clear(body, stats, h("section", { class: "card" }, h("p", { class: "muted usage-empty", id: "usage-empty" }, t(`usage.empty.${r.range}` as MessageKey))));
      return;
    }
    const shown = shownGroups(r.groups);
    const valuesOf = (s: Shown, pickValue: (v: Values) => number) =>
      r.series.map((b) => s.members.reduce((sum, id) => sum + (b.values[id] ? pickValue(b.values[id]!) : 0), 0));
    const width = chartWidth();
    const common = {
      buckets: r.buckets,
      bucketLabel: (b: number) => bucketLabel(r.range, b),
      bucketTitle: (b: number) => bucketTitle(r, b),
      xTitle: t("usage.x_title", { step: t(`usage.step.${r.range}` as MessageKey) }),
      width,
    };
    const requests = barChart({
      ...common,
      id: "usage-requests-chart",
      title: t("usage.requests_chart"),
      yTitle: t("usage.requests"),
      series: shown.map((s) => ({ id: s.id, label: s.name, color: s.color, values: valuesOf(s, (v) => v.requests) })),
      overlay: { id: "errors", label: t("usage.errors"), className: "chart-errors", values: r.series.map((b) => Object.values(b.values).reduce((n, v) => n + v.errors, 0)) },
      format: compact,
    });
    const tokens = barChart({
      ...common,
      id: "usage-tokens-chart",
      title: t("usage.tokens_chart"),
      yTitle: t("usage.tokens"),
      series: shown.map((s) => ({ id: s.id, label: s.name, color: s.color, values: valuesOf(s, (v) => v.input_tokens + v.output_tokens) })),
      format: compact,
    });
    const legend = h(
      "ul",
      { class: "legend", id: "usage-legend" },
      shown.map((s) => h("li", { "data-group": s.id === OTHER_ID ? "other" : s.id, title: s.title || null }, swatch(s.color), s.name)),
      total.errors ? h("li", { "data-group": "errors", class: "legend-errors" }, swatch(undefined, "chart-errors"), t("usage.errors")) : null,
    );
    const cols = ["usage.col.group", "usage.requests", "usage.errors", "usage.input_tokens", "usage.output_tokens", "usage.avg_latency"] as const;
    const colorOf = new Map<string, string>();
    for (const s of shown) for (const id of s.members) colorOf.set(id, s.color);
    const table = h(
      "table",
      { class: "table responsive", id: "usage-table" },
      h("thead", null, h("tr", null, cols.map((k) => (k === "usage.col.group" ? h("th", null, t(`usage.by.${r.by}` as MessageKey)) : h("th", { class: "num" }, t(k)))))),
      h(
        "tbody",
        null,
        r.groups.map((g) => {
          return h(
            "tr",
            { "data-group": g.id },
            cell(t(`usage.by.${r.by}` as MessageKey), "", h("span", { class: "usage-group" }, swatch(colorOf.get(g.id) ?? OTHER_COLOR), h("span", { class: "usage-group-name" }, groupName(g))), g.detail ? h("div", { class: "muted small" }, g.detail) : null),
            cell(t("usage.requests"), "num", formatNumber(g.requests)),
            cell(t("usage.errors"), g.errors ? "num usage-has-errors" : "num", formatNumber(g.errors)),
            cell(t("usage.input_tokens"), "num", formatNumber(g.input_tokens)),
            cell(t("usage.output_tokens"), "num", formatNumber(g.output_tokens)),
            cell(t("usage.avg_latency"), "num", duration(g.avg_latency_ms)),
          );
        }),
      ),
      h(
        "tfoot",
        null,
        h(
          "tr",
          { class: "usage-total-row" },
          cell(t("usage.col.group"), "strong", t("usage.total")),
          cell(t("usage.requests"), "num strong", formatNumber(total.requests)),
          cell(t("usage.errors"), "num strong", formatNumber(total.errors)),
          cell(t("usage.input_tokens"), "num strong", formatNumber(total.input_tokens)),
          cell(t("usage.output_tokens"), "num strong", formatNumber(total.output_tokens)),
          cell(t("usage.avg_latency"), "num strong", duration(total.avg_latency_ms)),
        ),
      ),
    );
    clear(
      body,
      stats,
      h("section", { class: "card" }, h("h3", null, t("usage.requests_chart")), h("div", { class: "chart-box" }, requests), legend),
      h("section", { class: "card" }, h("h3", null, t("usage.tokens_chart")), h("div", { class: "chart-box" }, tokens)),
      h("section", { class: "card" }, h("h3", null, t("usage.by_group", { by: t(`usage.by.${r.by}` as MessageKey) })), h("div", { class: "table-wrap" }, table)),
    );
  }

  async function load(): Promise<void> {
    const mine = ++loading;
    renderControls();
    try {
      const r = await api<UsageReport>("GET", `/admin/usage?range=${view.range}&by=${view.by}`);
      if (mine !== loading) return; // a newer choice is on its way
      report = r;
      problem.hidden = true;
      updated.textContent = t("dash.updated", { time: new Date().toLocaleTimeString() });
      root.dataset.range = r.range;
      root.dataset.by = r.by;
      renderControls();
      renderBody();
    } catch (e) {
      if (mine !== loading) return;
      problem.hidden = false;
      problem.textContent = errorMessage(e);
    }
  }

  let lastWidth = 0;
  let frame = 0;
  const onResize = () => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => {
      const w = chartWidth();
      if (Math.abs(w - lastWidth) < 8) return;
      lastWidth = w;
      renderBody();
    });
  };
  window.addEventListener("resize", onResize);
  const timer = setInterval(() => {
    if (!document.hidden) void load();
  }, REFRESH_MS);
  void load();
  return () => {
    clearInterval(timer);
    cancelAnimationFrame(frame);
    window.removeEventListener("resize", onResize);
  };
}
