/**
 * The admin view of the usage history: a time range and a grouping turned into evenly spaced buckets (every
 * bucket present, empty ones too), per-group values per bucket, per-group totals and overall totals. A model group's
 * id is `provider/model`; its label drops the prefix for the primary provider, as the model lists do. Groups are
 * named as the other admin views name things: a key by its name or masked preview and key id (never the key), an
 * account by its name and identifier, a provider credential by its label or masked preview.
 */
import { FINE_SPAN, HOURLY_SPAN, type UsageCounts, type UsageDimension } from "../../store/usage-history-repo.ts";
import type { StoreRepos } from "../../store/store-api.ts";

type UsageStore = Pick<StoreRepos, "apiKeys" | "accounts" | "credentials" | "usageHistory">;

export const USAGE_RANGES = ["hour", "day", "week"] as const;
export const USAGE_GROUPINGS = ["key", "account", "model", "provider"] as const;
export type UsageRange = (typeof USAGE_RANGES)[number];
export type UsageGrouping = (typeof USAGE_GROUPINGS)[number];

/** Bucket span read, step shown (seconds) and number of steps, per range. */
const RANGE_PLAN: Record<UsageRange, { span: number; step: number; count: number }> = {
  hour: { span: FINE_SPAN, step: FINE_SPAN, count: 12 },
  day: { span: HOURLY_SPAN, step: HOURLY_SPAN, count: 24 },
  week: { span: HOURLY_SPAN, step: 6 * HOURLY_SPAN, count: 28 },
};

const DIMENSION: Record<UsageGrouping, UsageDimension> = { key: "key_id", account: "account", model: "model", provider: "provider" };

/** What a group is, so the console can word it: a live key, a deleted one, a direct token, the open loopback routes, no account, … */
export type UsageGroupKind = "key" | "deleted_key" | "direct" | "loopback" | "account" | "credential" | "unknown_account" | "none" | "model" | "provider";

export interface UsageValues {
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
}

export interface UsageTotals extends UsageValues {
  avg_latency_ms: number;
}

export interface UsageGroup extends UsageTotals {
  id: string;
  kind: UsageGroupKind;
  label: string;
  detail: string;
}

export interface UsageReport {
  range: UsageRange;
  by: UsageGrouping;
  step_seconds: number;
  from: number;
  to: number;
  buckets: number[];
  groups: UsageGroup[];
  series: { bucket: number; values: Record<string, UsageValues> }[];
  totals: UsageTotals;
  /** Providers with recorded traffic in the kept history (the console offers "by provider" when there are several). */
  providers: string[];
}

const zero = (): UsageCounts => ({ requests: 0, errors: 0, input_tokens: 0, output_tokens: 0, latency_ms: 0 });

function addTo(into: UsageCounts, r: UsageCounts): void {
  into.requests += r.requests;
  into.errors += r.errors;
  into.input_tokens += r.input_tokens;
  into.output_tokens += r.output_tokens;
  into.latency_ms += r.latency_ms;
}

const totalsOf = (c: UsageCounts): UsageTotals => ({
  requests: c.requests,
  errors: c.errors,
  input_tokens: c.input_tokens,
  output_tokens: c.output_tokens,
  avg_latency_ms: c.requests ? Math.round(c.latency_ms / c.requests) : 0,
});

async function describe(store: UsageStore, by: UsageGrouping, id: string, providers: string[], primary: string | undefined): Promise<Pick<UsageGroup, "kind" | "label" | "detail">> {
  switch (by) {
    case "model":
      // Named as the model lists name them: the primary provider's models bare, the others' as provider/model.
      return { kind: "model", label: primary && id.startsWith(`${primary}/`) ? id.slice(primary.length + 1) : id, detail: "" };
    case "provider":
      return { kind: "provider", label: id, detail: "" };
    case "key": {
      if (id === "loopback") return { kind: "loopback", label: "loopback", detail: "" };
      if (id.startsWith("caller:")) return { kind: "direct", label: id, detail: "" };
      const key = await store.apiKeys.byId(id);
      if (!key) return { kind: "deleted_key", label: id, detail: "" };
      return { kind: "key", label: key.name || key.preview, detail: key.name ? `${key.preview} · ${id}` : id };
    }
    case "account": {
      if (!id) return { kind: "none", label: "", detail: "" };
      const account = await store.accounts.get(id);
      if (account) return { kind: "account", label: account.name || id, detail: account.name ? id : "" };
      for (const p of providers) {
        const c = await store.credentials.get(p, id);
        if (c) return { kind: "credential", label: c.label || c.preview, detail: `${p} · ${c.preview}` };
      }
      return { kind: "unknown_account", label: id, detail: "" };
    }
  }
}

/** `primary`: the primary provider's id (its models are shown without the `provider/` prefix). */
export async function usageReport(store: UsageStore, range: UsageRange, by: UsageGrouping, primary: string | undefined, now = Date.now()): Promise<UsageReport> {
  const plan = RANGE_PLAN[range];
  const stepMs = plan.step * 1000;
  const last = Math.floor(now / stepMs) * stepMs;
  const from = last - (plan.count - 1) * stepMs;
  const buckets = Array.from({ length: plan.count }, (_, i) => from + i * stepMs);
  const rows = await store.usageHistory.series({ span: plan.span, stepSeconds: plan.step, from, by: DIMENSION[by] });
  const providers = await store.usageHistory.providers();

  const perBucket = new Map<number, Record<string, UsageValues>>(buckets.map((b) => [b, {}]));
  const perGroup = new Map<string, UsageCounts>();
  const all = zero();
  for (const r of rows) {
    const values = perBucket.get(r.bucket);
    if (!values) continue; // a bucket that began after `now` was computed (clock moved on): shown next time
    values[r.group] = { requests: r.requests, errors: r.errors, input_tokens: r.input_tokens, output_tokens: r.output_tokens };
    let g = perGroup.get(r.group);
    if (!g) perGroup.set(r.group, (g = zero()));
    addTo(g, r);
    addTo(all, r);
  }
  const groups: UsageGroup[] = [];
  for (const [id, c] of perGroup) groups.push({ id, ...(await describe(store, by, id, providers, primary)), ...totalsOf(c) });
  groups.sort((a, b) => b.requests - a.requests || b.input_tokens + b.output_tokens - (a.input_tokens + a.output_tokens) || a.id.localeCompare(b.id));
  return {
    range,
    by,
    step_seconds: plan.step,
    from,
    to: now,
    buckets,
    groups,
    series: buckets.map((bucket) => ({ bucket, values: perBucket.get(bucket)! })),
    totals: totalsOf(all),
    providers,
  };
}
