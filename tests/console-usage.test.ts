/**
 * The console's Usage page in headless Chromium against `ds2api --simulate` run from source (its own server and
 * login, independent of tests/console.test.ts): the empty state, then the chart SVGs with bars and error points
 * for the traffic this test sent (two keys, two DeepSeek models, one Volcengine model, one failing request),
 * grouping changing the legend, the provider choice appearing once two providers served traffic, both languages,
 * and phone width without sideways scrolling. Screenshots go to test-artifacts/console/ (git-ignored).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { adminCaller, chromiumOrFailingTest, DESKTOP, PHONE, signIn, startSimulatedConsole, type ConsoleBrowser, type SimulatedConsole } from "./support/console-browser.ts";
import type { SpawnedServer } from "./support/spawn-server.ts";

const CHROMIUM = chromiumOrFailingTest();
const ADMIN_KEY = "console-usage-test-admin-key";
const DEMO_KEY = "sk-ds2api-demo";
const DEMO_ACCOUNT = "demo@ds2api.local";
/** The --simulate Volcengine web id (src/cli/simulate.ts): a secret, stored encrypted. */
const DEMO_VOLC_WEB_ID = "7400000000000000000";

let run: SimulatedConsole;
let srv: SpawnedServer;
let browser: ConsoleBrowser;
let page: Page;
let pageErrors: string[] = [];
let secondKey = "";

const shot = (name: string) => browser.shot(name);
const adminFetch = adminCaller(() => srv.url, ADMIN_KEY);
const admin = async (method: string, path: string, body?: unknown) => {
  const r = await adminFetch(method, path, body);
  return { status: r.status, json: (await r.json()) as any };
};
const chat = async (key: string, body: Record<string, unknown>) => {
  const r = await fetch(`${srv.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  await r.arrayBuffer();
  return r.status;
};
const openUsage = async () => {
  await page.goto(`${srv.url}/admin/#/usage`);
  await page.waitForSelector('#page[data-page="usage"][data-range]');
};
/** Choose a range or grouping and wait until the page shows it. */
const choose = async (control: "range" | "by", value: string) => {
  await page.click(`#usage-${control} [data-value="${value}"]`);
  await page.waitForSelector(`#page[data-${control}="${value}"] #usage-${control} [data-value="${value}"][aria-pressed="true"]`);
};
const legend = () => page.$$eval("#usage-legend li", (els) => els.map((e) => e.getAttribute("data-group") ?? ""));
const sumOf = (selector: string) => page.$$eval(selector, (els) => els.reduce((n, e) => n + Number(e.getAttribute("data-value")), 0));

beforeAll(async () => {
  if (CHROMIUM === undefined) return;
  run = await startSimulatedConsole(CHROMIUM, "console-usage", ADMIN_KEY);
  ({ srv, browser } = run);
  ({ page, pageErrors } = browser);
}, 120_000);

afterAll(() => run?.stop());

if (CHROMIUM !== undefined) describe("console Usage page in Chromium", () => {
  test("log in; before any traffic the page shows the empty state for every range", async () => {
    await signIn(page, srv.url, ADMIN_KEY);
    expect(await page.textContent('.nav a[data-page="usage"]')).toBe("Usage");
    await page.click('.nav a[data-page="usage"]');
    await page.waitForSelector('#page[data-page="usage"] #usage-empty');
    expect(await page.textContent("#usage-empty")).toBe("No requests in the last day.");
    await choose("range", "hour");
    await page.waitForSelector("#usage-empty:has-text('last hour')");
    expect(await page.$("#usage-requests-chart")).toBeNull();
    // One provider (none, in fact) so far: no "by provider" choice.
    expect(await page.isVisible('#usage-by [data-value="provider"]')).toBe(false);
    await shot("usage-01-empty");
  }, 60_000);

  test("traffic shows as bars and error points; the grouping changes the legend; the provider choice appears with two providers", async () => {
    const created = await admin("POST", "/admin/keys", { name: "Second client" });
    expect(created.status).toBe(200);
    secondKey = created.json.key;
    const models = ((await (await fetch(`${srv.url}/v1/models`, { headers: { authorization: `Bearer ${DEMO_KEY}` } })).json()) as { data: { id: string }[] }).data.map((m) => m.id);
    const volc = models.find((m) => m.startsWith("volcengine/"))!;
    expect(volc).toBeDefined();
    const ask = (model: string) => ({ model, messages: [{ role: "user", content: `usage page ${model}` }] });
    expect(await chat(DEMO_KEY, ask("deepseek-v4-flash"))).toBe(200);
    expect(await chat(DEMO_KEY, ask("deepseek-v4-flash"))).toBe(200);
    expect(await chat(DEMO_KEY, ask("deepseek-v4-pro"))).toBe(200);
    expect(await chat(secondKey, ask("deepseek-v4-pro"))).toBe(200);
    expect(await chat(secondKey, ask(volc))).toBe(200);
    // Fails inside the turn: tool_choice names a tool that was not declared.
    const failing = await chat(secondKey, {
      ...ask("deepseek-v4-flash"),
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: {} } } }],
      tool_choice: { type: "function", function: { name: "not_declared" } },
    });
    expect(failing).toBe(400);

    await openUsage();
    await choose("range", "day");
    await choose("by", "model");
    await page.waitForSelector("#usage-requests-chart rect.chart-bar");
    expect(await sumOf("#usage-requests-chart rect.chart-bar")).toBe(6);
    expect(await sumOf("#usage-requests-chart .chart-errors circle.chart-point")).toBe(1);
    expect(await page.$$eval("#usage-tokens-chart rect.chart-bar", (els) => els.length)).toBeGreaterThan(0);
    expect((await page.textContent('#usage-totals [data-stat="requests"]'))?.trim()).toBe("6");
    expect((await page.textContent('#usage-totals [data-stat="errors"]'))?.trim()).toBe("1");
    // Axis titles and tick labels are there.
    expect(await page.$$eval("#usage-requests-chart text.chart-axis-title", (els) => els.map((e) => e.textContent))).toEqual(["Local time, 1 hour per bar", "Requests"]);
    expect(await page.$$eval("#usage-requests-chart .chart-x text", (els) => els.length)).toBeGreaterThan(2);
    expect((await legend()).sort()).toEqual(["deepseek/deepseek-v4-flash", "deepseek/deepseek-v4-pro", "errors", volc].sort());
    // Named as /v1/models names them: DeepSeek's models bare, the other provider's with its prefix.
    expect(await page.$$eval("#usage-legend li", (els) => els.map((e) => e.textContent))).toEqual(["deepseek-v4-flash", "deepseek-v4-pro", volc, "Errors"]);
    expect(await page.$$eval("#usage-table tbody tr", (els) => els.length)).toBe(3);
    await shot("usage-02-by-model");

    const keys = (await admin("GET", "/admin/keys")).json.items as { key_id: string; name: string; key_preview: string }[];
    await choose("by", "key");
    expect((await legend()).sort()).toEqual([...keys.map((k) => k.key_id), "errors"].sort());
    expect(await page.textContent("#usage-legend")).toContain("Second client");
    expect(await sumOf("#usage-requests-chart rect.chart-bar")).toBe(6);
    const secondRow = await page.textContent(`#usage-table tr[data-group="${keys.find((k) => k.name === "Second client")!.key_id}"]`);
    expect(secondRow).toContain("Second client");

    await choose("by", "account");
    const accounts = await legend();
    expect(accounts).toContain(DEMO_ACCOUNT);
    expect(accounts).toContain("");
    expect(await page.textContent("#usage-legend")).toContain("no account (request failed)");
    // The Volcengine entry that served is named by its id / masked preview, never by its web id.
    expect(accounts.length).toBe(4);
    expect(await page.content()).not.toContain(DEMO_VOLC_WEB_ID);

    // Traffic went to DeepSeek and Volcengine: grouping by provider is offered.
    expect(await page.isVisible('#usage-by [data-value="provider"]')).toBe(true);
    await choose("by", "provider");
    expect((await legend()).sort()).toEqual(["deepseek", "errors", "volcengine"]);

    await choose("range", "week");
    expect(await sumOf("#usage-requests-chart rect.chart-bar")).toBe(6);
    expect(await page.$$eval("#usage-requests-chart text.chart-axis-title", (els) => els[0]?.textContent)).toBe("Local time, 6 hours per bar");
    await choose("range", "hour");
    expect(await sumOf("#usage-requests-chart rect.chart-bar")).toBe(6);
    await shot("usage-03-by-provider-hour");

    const html = await page.content();
    for (const secret of [DEMO_KEY, secondKey, ADMIN_KEY]) expect(html).not.toContain(secret);
  }, 90_000);

  test("Chinese: labels, axis titles and the legend in zh; English again after switching back", async () => {
    await openUsage();
    await choose("range", "hour");
    await choose("by", "model");
    await page.click("#lang-switch");
    await page.waitForSelector('#page[data-page="usage"] #usage-requests-chart');
    expect(await page.textContent(".page-head h2")).toBe("用量");
    expect(await page.textContent('.nav a[data-page="usage"]')).toBe("用量");
    expect(await page.textContent('#usage-by [data-value="account"]')).toBe("账号");
    expect(await page.$$eval("#usage-requests-chart text.chart-axis-title", (els) => els.map((e) => e.textContent))).toEqual(["本地时间，每根柱 5 分钟", "请求数"]);
    expect(await page.textContent("#usage-legend")).toContain("错误数");
    await shot("usage-04-zh");
    await choose("by", "account");
    expect(await page.textContent("#usage-legend")).toContain("无账号（请求失败）");
    await page.click("#lang-switch");
    await page.waitForSelector('#page[data-page="usage"] #usage-requests-chart');
    expect(await page.textContent(".page-head h2")).toBe("Usage");
  }, 60_000);

  test("phone width: selectors, charts and the table fit without sideways scrolling, in both languages", async () => {
    await page.setViewportSize(PHONE);
    try {
      for (const lang of ["en", "zh"]) {
        await openUsage();
        await choose("by", "key");
        await page.waitForSelector("#usage-requests-chart rect.chart-bar");
        const { scroll, width, chart } = await page.evaluate(() => ({
          scroll: document.documentElement.scrollWidth,
          width: window.innerWidth,
          chart: document.querySelector("#usage-requests-chart")!.getBoundingClientRect().right,
        }));
        expect(scroll).toBeLessThanOrEqual(width);
        expect(chart).toBeLessThanOrEqual(width);
        expect(await sumOf("#usage-requests-chart rect.chart-bar")).toBe(6);
        await shot(`usage-05-phone-${lang}`);
        await page.click("#lang-switch");
      }
    } finally {
      await page.setViewportSize(DESKTOP);
    }
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
