/**
 * The Prometheus text exposition format (version 0.0.4): labelled counters, gauges and histograms, kept in
 * plain maps keyed by the joined label values. Updating is a map lookup and an add; rendering happens per scrape.
 */

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Label values are escaped as the format requires: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

/** Labels with an empty value are left out: Prometheus treats `l=""` and a missing `l` as the same series. */
function labelText(names: readonly string[], values: readonly string[], extra?: string): string {
  const parts = names.flatMap((n, i) => (values[i] ? [`${n}="${escapeLabelValue(values[i]!)}"`] : []));
  if (extra) parts.push(extra);
  return parts.length ? `{${parts.join(",")}}` : "";
}

const SEP = "\u0000";

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}
  abstract readonly type: "counter" | "gauge" | "histogram";
  protected header(): string {
    return `# HELP ${this.name} ${this.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}\n# TYPE ${this.name} ${this.type}\n`;
  }
  abstract render(): string;
}

/** A counter or gauge: one number per label set. */
class Scalar extends Metric {
  protected readonly values = new Map<string, { labels: string[]; value: number }>();
  constructor(
    readonly type: "counter" | "gauge",
    name: string,
    help: string,
    labelNames: readonly string[],
  ) {
    super(name, help, labelNames);
  }
  protected cell(labels: readonly string[]) {
    const key = labels.join(SEP);
    let c = this.values.get(key);
    if (!c) {
      c = { labels: [...labels], value: 0 };
      this.values.set(key, c);
    }
    return c;
  }
  get(...labels: string[]): number {
    return this.values.get(labels.join(SEP))?.value ?? 0;
  }
  render(): string {
    let out = this.header();
    for (const c of this.values.values()) out += `${this.name}${labelText(this.labelNames, c.labels)} ${formatNumber(c.value)}\n`;
    return out;
  }
}

export class Counter extends Scalar {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super("counter", name, help, labelNames);
  }
  inc(labels: readonly string[] = [], by = 1): void {
    this.cell(labels).value += by;
  }
  /** For a total kept elsewhere and copied in at scrape time. */
  setTotal(labels: readonly string[], value: number): void {
    this.cell(labels).value = value;
  }
}

export class Gauge extends Scalar {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super("gauge", name, help, labelNames);
  }
  set(labels: readonly string[], value: number): void {
    this.cell(labels).value = value;
  }
  /** Drop every label set (gauges filled afresh at scrape time). */
  reset(): void {
    this.values.clear();
  }
}

interface HistogramCell {
  labels: string[];
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Metric {
  readonly type = "histogram" as const;
  private readonly cells = new Map<string, HistogramCell>();
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames);
    for (let i = 1; i < buckets.length; i++) if (!(buckets[i]! > buckets[i - 1]!)) throw new RangeError(`${name}: buckets must increase`);
  }
  observe(labels: readonly string[], value: number): void {
    const key = labels.join(SEP);
    let c = this.cells.get(key);
    if (!c) {
      c = { labels: [...labels], counts: new Array(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
      this.cells.set(key, c);
    }
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]!) i++;
    c.counts[i]!++;
    c.sum += value;
    c.count++;
  }
  /** Number of observations for a label set. */
  count(...labels: string[]): number {
    return this.cells.get(labels.join(SEP))?.count ?? 0;
  }
  render(): string {
    let out = this.header();
    for (const c of this.cells.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += c.counts[i]!;
        const le = i < this.buckets.length ? formatNumber(this.buckets[i]!) : "+Inf";
        out += `${this.name}_bucket${labelText(this.labelNames, c.labels, `le="${le}"`)} ${cumulative}\n`;
      }
      const l = labelText(this.labelNames, c.labels);
      out += `${this.name}_sum${l} ${formatNumber(c.sum)}\n${this.name}_count${l} ${c.count}\n`;
    }
    return out;
  }
}

/** Renders metrics in order, one HELP/TYPE block each. */
export function renderAll(metrics: readonly Metric[]): string {
  let out = "";
  for (const m of metrics) out += m.render();
  return out;
}

export type { Metric };
