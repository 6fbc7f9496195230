/**
 * A small stacked bar chart in plain SVG: one bar per time bucket, stacked by series, optional overlay markers
 * (e.g. errors) on the same scale, y ticks at round numbers, x labels thinned to fit, axis titles, and a <title>
 * tooltip on every bar segment and point. Sized in real pixels for the width it is given (re-render on resize),
 * so text stays readable at phone width. Colours come from the caller (fill attributes; no inline styles).
 */

const SVG_NS = "http://www.w3.org/2000/svg";

type SvgAttrs = Record<string, string | number | undefined>;

function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: SvgAttrs = {}, ...children: (SVGElement | string)[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, String(v));
  for (const c of children) el.append(typeof c === "string" ? document.createTextNode(c) : c);
  return el;
}

export interface BarSeries {
  id: string;
  label: string;
  color: string;
  /** One value per bucket. */
  values: number[];
}

export interface LineOverlay {
  id: string;
  label: string;
  /** A CSS class giving its colour (e.g. the theme's "bad" colour). */
  className: string;
  values: number[];
}

export interface BarChartSpec {
  id: string;
  /** Accessible name of the chart. */
  title: string;
  yTitle: string;
  xTitle: string;
  buckets: number[];
  bucketLabel: (bucket: number) => string;
  /** Full time text for tooltips. */
  bucketTitle: (bucket: number) => string;
  series: BarSeries[];
  overlay?: LineOverlay;
  format: (n: number) => string;
  width: number;
  height?: number;
}

/** The smallest 1, 2 or 5 × 10^n at or above `n` (at least 1). */
export function niceCeil(n: number): number {
  if (n <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

/** A round tick step (1, 2 or 5 × 10^n, whole numbers) and the axis top, for values up to `max` in about four steps. */
export function niceScale(max: number): { step: number; top: number } {
  const step = niceCeil(max / 4);
  return { step, top: Math.max(step, Math.ceil(max / step) * step) };
}

/** 1234 → "1.2k", 5_600_000 → "5.6M". */
export function compact(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${trim(n / 1e9)}G`;
  if (abs >= 1e6) return `${trim(n / 1e6)}M`;
  if (abs >= 1e4) return `${trim(n / 1e3)}k`;
  return Math.round(n).toLocaleString();
}

const trim = (v: number) => (Math.abs(v) >= 100 ? Math.round(v).toString() : v.toFixed(1).replace(/\.0$/, ""));

export function barChart(spec: BarChartSpec): SVGSVGElement {
  const width = Math.max(260, Math.floor(spec.width));
  const height = spec.height ?? 220;
  const m = { top: 12, right: 12, bottom: 42, left: 54 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const n = spec.buckets.length;
  const stacks = spec.buckets.map((_, i) => spec.series.reduce((sum, x) => sum + (x.values[i] ?? 0), 0));
  const maxOverlay = spec.overlay ? Math.max(0, ...spec.overlay.values) : 0;
  const scale = niceScale(Math.max(0, ...stacks, maxOverlay));
  const yMax = scale.top;
  const y = (v: number) => m.top + plotH - (v / yMax) * plotH;
  const slot = plotW / Math.max(1, n);
  const barW = Math.max(2, Math.min(48, slot * 0.72));
  const xCenter = (i: number) => m.left + slot * i + slot / 2;

  const svg = s("svg", { id: spec.id, class: "chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": spec.title });
  svg.append(s("title", {}, spec.title));

  // Grid and y ticks.
  const grid = s("g", { class: "chart-grid" });
  for (let k = 0; k * scale.step <= yMax; k++) {
    const v = k * scale.step;
    const yy = Math.round(y(v)) + 0.5;
    grid.append(s("line", { x1: m.left, x2: width - m.right, y1: yy, y2: yy, class: k === 0 ? "chart-axis" : "chart-gridline" }));
    grid.append(s("text", { x: m.left - 6, y: yy + 4, "text-anchor": "end", class: "chart-tick" }, spec.format(v)));
  }
  svg.append(grid);

  // X labels, thinned so that they do not overlap.
  const every = Math.max(1, Math.ceil(n / Math.max(1, Math.floor(plotW / 78))));
  const xs = s("g", { class: "chart-x" });
  for (let i = 0; i < n; i++) {
    if ((n - 1 - i) % every !== 0) continue; // anchored on the newest bucket
    xs.append(s("text", { x: xCenter(i), y: m.top + plotH + 16, "text-anchor": "middle", class: "chart-tick" }, spec.bucketLabel(spec.buckets[i]!)));
  }
  svg.append(xs);

  // Axis titles.
  svg.append(s("text", { x: m.left + plotW / 2, y: height - 4, "text-anchor": "middle", class: "chart-axis-title" }, spec.xTitle));
  svg.append(s("text", { x: 12, y: m.top + plotH / 2, "text-anchor": "middle", transform: `rotate(-90 12 ${m.top + plotH / 2})`, class: "chart-axis-title" }, spec.yTitle));

  // Bars.
  const bars = s("g", { class: "chart-bars" });
  for (let i = 0; i < n; i++) {
    let base = 0;
    for (const series of spec.series) {
      const v = series.values[i] ?? 0;
      if (v <= 0) continue;
      const top = y(base + v);
      const h = Math.max(1, y(base) - top);
      bars.append(
        s(
          "rect",
          { x: xCenter(i) - barW / 2, y: top, width: barW, height: h, fill: series.color, "data-group": series.id, "data-bucket": spec.buckets[i], "data-value": v, class: "chart-bar" },
          s("title", {}, `${series.label} · ${spec.bucketTitle(spec.buckets[i]!)}: ${v.toLocaleString()}`),
        ),
      );
      base += v;
    }
  }
  svg.append(bars);

  // Overlay: a marker on every bucket that has a value (a short bar-wide line and a point), on the bars' scale.
  if (spec.overlay && maxOverlay > 0) {
    const o = spec.overlay;
    const g = s("g", { class: `chart-overlay ${o.className}`, "data-overlay": o.id });
    o.values.forEach((v, i) => {
      if (v <= 0) return;
      const cy = y(v);
      g.append(
        s("line", { x1: xCenter(i) - barW / 2 - 2, x2: xCenter(i) + barW / 2 + 2, y1: cy, y2: cy, class: "chart-line" }),
        s("circle", { cx: xCenter(i), cy, r: 4.5, class: "chart-point", "data-bucket": spec.buckets[i], "data-value": v }, s("title", {}, `${o.label} · ${spec.bucketTitle(spec.buckets[i]!)}: ${v.toLocaleString()}`)),
      );
    });
    svg.append(g);
  }
  return svg;
}

/** A legend swatch: a filled square of `color`, or (no colour) a short line in the colour of `className`. */
export function swatch(color: string | undefined, className = ""): SVGSVGElement {
  const svg = s("svg", { class: `swatch ${className}`.trim(), width: 14, height: 14, viewBox: "0 0 14 14", "aria-hidden": "true" });
  if (color) svg.append(s("rect", { x: 1, y: 1, width: 12, height: 12, rx: 2, fill: color }));
  else svg.append(s("line", { x1: 1, x2: 13, y1: 7, y2: 7, class: "chart-line" }), s("circle", { cx: 7, cy: 7, r: 3, class: "chart-point" }));
  return svg;
}
