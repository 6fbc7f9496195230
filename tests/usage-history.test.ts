/**
 * Usage history (GET /admin/usage) through the real server and the DeepSeek simulator: chats with two keys on two
 * models and one failing request; the series and totals by key, account, model and provider match what the test
 * sent (counts from its own requests, tokens from the answers' usage); range / by validation; no key in the
 * output; the counts survive a restart (including turns still batched in memory at shutdown). Plus the store's
 * retention on its own (old buckets pruned, a flush per batch).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveOptions } from "../src/config/options.ts";
import { createLogger } from "../src/observability/logger.ts";
import { startServer, type RunningServer } from "../src/server.ts";
import type { RunningSimulator } from "../src/sim/index.ts";
import { openDatabase } from "../src/store/database.ts";
import { FINE_SPAN, HOURLY_SPAN, UsageHistoryRepo } from "../src/store/usage-history-repo.ts";
import { trackStop } from "./support/processes.ts";
import { startSim } from "./support/sim.ts";
import { tempDir } from "./support/test-server.ts";

const ADMIN = "usage-admin-key";
const KEY_A = "sk-usage-alpha-secret-key";
const KEY_B = "sk-usage-bravo-secret-key";
const ACCOUNTS = [
  { email: "usage0@example.com", password: "usage-pw-0" },
  { email: "usage1@example.com", password: "usage-pw-1" },
];
const FLASH = "deepseek-v4-flash";
const PRO = "deepseek-v4-pro";

interface Values {
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
}
interface Report {
  range: string;
  by: string;
  step_seconds: number;
  buckets: number[];
  groups: (Values & { id: string; kind: string; label: string; detail: string; avg_latency_ms: number })[];
  series: { bucket: number; values: Record<string, Values> }[];
  totals: Values & { avg_latency_ms: number };
  providers: string[];
}

let sim: RunningSimulator;
let dir: string;
let server: RunningServer | undefined;
let stopServer: (() => Promise<void>) | undefined;
const texts: string[] = [];

async function boot(): Promise<void> {
  const options = resolveOptions(["--port", "0", "--host", "127.0.0.1"], {
    DS2API_ADMIN_KEY: ADMIN,
    DS2API_DB_PATH: join(dir, "db.sqlite"),
    DS2API_CONFIG_PATH: join(dir, "config.json"),
    DS2API_DEEPSEEK_BASE_URL: sim.url,
    DS2API_POW_WORKERS: "1",
  });
  const s = await startServer(options, createLogger("error", () => {}), { clientOptions: { retry: { attempts: 2, completionDelayMs: 10, delayMs: 5 } } });
  server = s;
  stopServer = trackStop(`usage test server ${s.url}`, () => s.stop());
}

async function restart(): Promise<void> {
  await stopServer?.();
  server = undefined;
  await boot();
}

beforeAll(async () => {
  sim = await startSim({ powDifficulty: 500, accounts: ACCOUNTS });
  dir = tempDir("ds2api-usage-");
  writeFileSync(join(dir, "config.json"), JSON.stringify({ keys: [KEY_A, KEY_B], accounts: ACCOUNTS }));
  await boot();
});

afterAll(async () => {
  await stopServer?.();
  await sim?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function usage(query: string, auth = ADMIN): Promise<{ status: number; json: any; text: string }> {
  const r = await fetch(`${server!.url}/admin/usage${query}`, { headers: { authorization: `Bearer ${auth}` } });
  const text = await r.text();
  texts.push(text);
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text };
}

async function report(range: string, by: string): Promise<Report> {
  const r = await usage(`?range=${range}&by=${by}`);
  expect(r.status).toBe(200);
  return r.json as Report;
}

/** What the test itself sent, per key and per model. */
const sent = {
  byKey: new Map<string, Values>(),
  byModel: new Map<string, Values>(),
  total: { requests: 0, errors: 0, input_tokens: 0, output_tokens: 0 } as Values,
};

function count(map: Map<string, Values>, id: string, v: Values): void {
  const c = map.get(id) ?? { requests: 0, errors: 0, input_tokens: 0, output_tokens: 0 };
  for (const k of ["requests", "errors", "input_tokens", "output_tokens"] as const) c[k] += v[k];
  map.set(id, c);
}

async function chat(key: string, model: string, text: string, stream = false): Promise<number> {
  const r = await fetch(`${server!.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model, stream, messages: [{ role: "user", content: text }], ...(stream ? { stream_options: { include_usage: true } } : {}) }),
  });
  const body = await r.text();
  let v: Values;
  if (r.status !== 200) {
    v = { requests: 1, errors: 1, input_tokens: 0, output_tokens: 0 };
  } else {
    let u: { prompt_tokens: number; completion_tokens: number } | undefined;
    if (stream) {
      for (const line of body.split("\n")) {
        if (!line.startsWith("data: {")) continue;
        const chunk = JSON.parse(line.slice(6));
        if (chunk.usage) u = chunk.usage;
      }
    } else u = JSON.parse(body).usage;
    if (!u) throw new Error(`no usage in the answer: ${body.slice(0, 300)}`);
    v = { requests: 1, errors: 0, input_tokens: u.prompt_tokens, output_tokens: u.completion_tokens };
  }
  count(sent.byKey, key, v);
  count(sent.byModel, model, v);
  for (const k of ["requests", "errors", "input_tokens", "output_tokens"] as const) sent.total[k] += v[k];
  return r.status;
}

const pick = (v: Values): Values => ({ requests: v.requests, errors: v.errors, input_tokens: v.input_tokens, output_tokens: v.output_tokens });

/** Every group's per-bucket values add up to its totals, and the groups add up to the report's totals. */
function expectConsistent(r: Report): void {
  expect(r.series.map((s) => s.bucket)).toEqual(r.buckets);
  for (let i = 1; i < r.buckets.length; i++) expect(r.buckets[i]! - r.buckets[i - 1]!).toBe(r.step_seconds * 1000);
  const sum: Values = { requests: 0, errors: 0, input_tokens: 0, output_tokens: 0 };
  for (const g of r.groups) {
    const fromSeries: Values = { requests: 0, errors: 0, input_tokens: 0, output_tokens: 0 };
    for (const s of r.series) {
      const v = s.values[g.id];
      if (!v) continue;
      for (const k of ["requests", "errors", "input_tokens", "output_tokens"] as const) fromSeries[k] += v[k];
    }
    expect(fromSeries).toEqual(pick(g));
    for (const k of ["requests", "errors", "input_tokens", "output_tokens"] as const) sum[k] += g[k];
  }
  expect(sum).toEqual(pick(r.totals));
}

let keyIds: Record<string, { id: string; preview: string }> = {};

describe("usage history", () => {
  test("starts empty: every bucket present, no groups, zero totals", async () => {
    const r = await report("hour", "key");
    expect(r.buckets.length).toBe(12);
    expect(r.step_seconds).toBe(FINE_SPAN);
    expect(r.groups).toEqual([]);
    expect(r.totals).toEqual({ requests: 0, errors: 0, input_tokens: 0, output_tokens: 0, avg_latency_ms: 0 });
    expect(r.providers).toEqual([]);
    expectConsistent(r);
  });

  test("chats with two keys on two models and one failure are counted by key, model, account and provider", async () => {
    const keys = (await (await fetch(`${server!.url}/admin/keys`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { items: { key_id: string; key_preview: string }[] };
    expect(keys.items.length).toBe(2);
    // The key list is in config order: alpha first.
    keyIds = { [KEY_A]: { id: keys.items[0]!.key_id, preview: keys.items[0]!.key_preview }, [KEY_B]: { id: keys.items[1]!.key_id, preview: keys.items[1]!.key_preview } };

    sim.state.setDefaultReply({ thinking: "Let me count.", answer: "Counted: one two three." });
    expect(await chat(KEY_A, FLASH, "first question")).toBe(200);
    expect(await chat(KEY_A, FLASH, "second question, a little longer than the first one", true)).toBe(200);
    expect(await chat(KEY_A, PRO, "third question")).toBe(200);
    expect(await chat(KEY_B, PRO, "fourth question")).toBe(200);
    expect(await chat(KEY_B, FLASH, "fifth question", true)).toBe(200);
    sim.state.script({ http: { status: 503, body: "down" } }, { times: 20 });
    try {
      expect(await chat(KEY_B, FLASH, "this one fails")).toBeGreaterThanOrEqual(400);
    } finally {
      sim.state.clearScripts();
    }
    expect(sent.total.requests).toBe(6);
    expect(sent.total.errors).toBe(1);
    expect(sent.total.input_tokens).toBeGreaterThan(0);
    expect(sent.total.output_tokens).toBeGreaterThan(0);

    for (const range of ["hour", "day", "week"]) {
      const byKey = await report(range, "key");
      expectConsistent(byKey);
      expect(pick(byKey.totals)).toEqual(sent.total);
      expect(byKey.totals.avg_latency_ms).toBeGreaterThan(0);
      expect(byKey.groups.length).toBe(2);
      for (const key of [KEY_A, KEY_B]) {
        const g = byKey.groups.find((x) => x.id === keyIds[key]!.id)!;
        expect(g.kind).toBe("key");
        expect(g.label).toBe(keyIds[key]!.preview);
        expect(pick(g)).toEqual(sent.byKey.get(key)!);
      }
    }
    // Per bucket: the last step of the hour view holds the traffic (unless a 5-minute boundary fell in between).
    const hour = await report("hour", "model");
    const recent = hour.series.slice(-2).reduce((n, s) => n + Object.values(s.values).reduce((m, v) => m + v.requests, 0), 0);
    expect(recent).toBe(6);

    const byModel = await report("day", "model");
    expectConsistent(byModel);
    // Model groups are provider/model; the primary provider's models are labelled bare, as /v1/models lists them.
    expect(byModel.groups.map((g) => g.id).sort()).toEqual([`deepseek/${FLASH}`, `deepseek/${PRO}`]);
    for (const m of [FLASH, PRO]) expect(pick(byModel.groups.find((g) => g.label === m)!)).toEqual(sent.byModel.get(m)!);
    expect(byModel.groups[0]!.label).toBe(FLASH); // most requests first

    const byAccount = await report("day", "account");
    expectConsistent(byAccount);
    const none = byAccount.groups.find((g) => g.kind === "none")!;
    expect(pick(none)).toEqual({ requests: 1, errors: 1, input_tokens: 0, output_tokens: 0 });
    const served = byAccount.groups.filter((g) => g.kind !== "none");
    expect(served.length).toBeGreaterThanOrEqual(1);
    for (const g of served) {
      expect(g.kind).toBe("account");
      expect(ACCOUNTS.map((a) => a.email)).toContain(g.id);
      expect(g.errors).toBe(0);
    }
    expect(served.reduce((n, g) => n + g.requests, 0)).toBe(5);

    const byProvider = await report("week", "provider");
    expectConsistent(byProvider);
    expect(byProvider.providers).toEqual(["deepseek"]);
    expect(byProvider.groups.map((g) => [g.id, g.requests, g.errors])).toEqual([["deepseek", 6, 1]]);
    expect(byProvider.step_seconds).toBe(6 * HOURLY_SPAN);
    expect(byProvider.buckets.length).toBe(28);
  });

  test("range and by are checked: 400 with a detail naming the choices; defaults apply when absent; admin only", async () => {
    const badRange = await usage("?range=month&by=key");
    expect(badRange.status).toBe(400);
    expect(badRange.json.detail).toContain("range must be one of hour, day, week");
    const badBy = await usage("?range=day&by=password");
    expect(badBy.status).toBe(400);
    expect(badBy.json.detail).toContain("by must be one of key, account, model, provider");
    const long = await usage(`?range=${"x".repeat(100)}`);
    expect(long.status).toBe(400);
    expect(typeof long.json.detail).toBe("string");
    const defaults = await usage("");
    expect(defaults.status).toBe(200);
    expect(defaults.json.range).toBe("day");
    expect(defaults.json.by).toBe("model");
    expect((await usage("?range=WEEK&by=Key")).json.range).toBe("week");
    const unauth = await usage("?range=day", "wrong-admin-key");
    expect(unauth.status).toBe(401);
    expect(typeof unauth.json.detail).toBe("string");
    const viaBusinessKey = await usage("?range=day", KEY_A);
    expect(viaBusinessKey.status).toBe(401);
  });

  test("no key, password or admin key appears in any answer", () => {
    expect(texts.length).toBeGreaterThan(5);
    for (const t of texts) for (const secret of [KEY_A, KEY_B, ADMIN, ...ACCOUNTS.map((a) => a.password)]) expect(t).not.toContain(secret);
  });

  test("survives a restart, including turns still batched in memory when the server stopped; a deleted key keeps its history", async () => {
    // Counted in memory only (the next flush would be seconds away): the graceful stop must write it.
    expect(await chat(KEY_A, PRO, "just before the restart")).toBe(200);
    await restart();
    try {
      const byKey = await report("day", "key");
      expect(pick(byKey.totals)).toEqual(sent.total);
      expect(pick(byKey.groups.find((g) => g.id === keyIds[KEY_A]!.id)!)).toEqual(sent.byKey.get(KEY_A)!);
      const byModel = await report("week", "model");
      expect(pick(byModel.groups.find((g) => g.label === PRO)!)).toEqual(sent.byModel.get(PRO)!);
      // And the restarted server keeps counting.
      expect(await chat(KEY_B, FLASH, "after the restart")).toBe(200);
      expect(pick((await report("hour", "key")).totals)).toEqual(sent.total);

      // A deleted key stays in the history under its key id.
      const del = await fetch(`${server!.url}/admin/keys/${keyIds[KEY_B]!.id}`, { method: "DELETE", headers: { authorization: `Bearer ${ADMIN}` } });
      expect(del.status).toBe(200);
      const afterDelete = await report("day", "key");
      const g = afterDelete.groups.find((x) => x.id === keyIds[KEY_B]!.id)!;
      expect(g.kind).toBe("deleted_key");
      expect(pick(g)).toEqual(sent.byKey.get(KEY_B)!);
    } finally {
      await stopServer?.();
    }
  });
});

describe("usage history store", () => {
  test("batches in memory, writes on flush, prunes 5-minute buckets after two days and hourly ones after 30 days", async () => {
    const d = tempDir("ds2api-usage-store-");
    const db = await openDatabase({ sqlitePath: join(d, "db.sqlite") });
    try {
      const day = 86_400_000;
      let now = Date.UTC(2026, 0, 31, 12, 0, 0);
      const repo = new UsageHistoryRepo(db.executor, 60_000, () => now);
      const sample = (at: number, model: string) => ({ at, keyId: "k_test", account: "a", provider: "deepseek", model, error: false, inputTokens: 10, outputTokens: 5, latencyMs: 100 });
      repo.add(sample(now - 40 * day, "ancient"));
      repo.add(sample(now - 3 * day, "old"));
      repo.add(sample(now, "new"));
      repo.add(sample(now + 1000, "new"));
      const rows = () => db.executor.all<{ span: number; model: string; requests: number; input_tokens: number }>("SELECT span, model, requests, input_tokens FROM usage_buckets ORDER BY span, model");
      expect(await rows()).toEqual([]); // nothing written before a flush
      now += 1;
      await repo.flush();
      // The first flush also prunes: the 40-day-old sample is gone from both spans, the 3-day-old one kept hourly only.
      expect(await rows()).toEqual([
        { span: FINE_SPAN, model: "new", requests: 2, input_tokens: 20 },
        { span: HOURLY_SPAN, model: "new", requests: 2, input_tokens: 20 },
        { span: HOURLY_SPAN, model: "old", requests: 1, input_tokens: 10 },
      ]);
      // A second batch adds to the same buckets.
      repo.add(sample(now, "new"));
      const series = await repo.series({ span: HOURLY_SPAN, stepSeconds: HOURLY_SPAN, from: now - HOURLY_SPAN * 1000, by: "model" });
      expect(series.map((r) => [r.group, r.requests, r.latency_ms])).toEqual([["deepseek/new", 3, 300]]);
      await repo.close();
      repo.add(sample(now, "after-close"));
      expect((await rows()).some((r) => r.model === "after-close")).toBe(false);
    } finally {
      await db.close();
      rmSync(d, { recursive: true, force: true });
    }
  });
});
