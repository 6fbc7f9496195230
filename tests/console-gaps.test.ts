/**
 * The console's last admin capabilities, in headless Chromium against `--simulate` (run from source; logs in
 * itself): "Delete sessions" on an account row (the simulator's sessions really go, seen through the account
 * test's session count, and the audit log has the entry), the Raw captures page (capture switched on in Settings,
 * a chat shows up, a chain is found and saved as a sample on disk, a new sample is captured, clear empties the
 * list), the server version in the top bar — in English and Chinese, with no secret on any of these pages.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { adminCaller, chromiumOrFailingTest, signIn, startSimulatedConsole, type ConsoleBrowser, type SimulatedConsole } from "./support/console-browser.ts";
import type { SpawnedServer } from "./support/spawn-server.ts";

const CHROMIUM = chromiumOrFailingTest();
const ADMIN_KEY = "console-gaps-test-admin-key";
/** What `--simulate` seeds (src/cli/simulate.ts). */
const DEMO_KEY = "sk-ds2api-demo";
const DEMO_ACCOUNT = "demo@ds2api.local";
const DEMO_PASSWORD = "demo-password";
/** A word the captured chat carries, to find its chain by. */
const MARK = "zebra-quartz-417";

let run: SimulatedConsole;
let runDir: string;
let srv: SpawnedServer;
let browser: ConsoleBrowser;
let page: Page;
let pageErrors: string[] = [];

const admin = adminCaller(() => srv.url, ADMIN_KEY);
const adminJson = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
  const res = await admin(method, path, body);
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
};
const sessionCount = async () => (await adminJson<{ success: boolean; session_count: number; message: string }>("POST", "/admin/accounts/test", { identifier: DEMO_ACCOUNT })).session_count;
const go = async (route: string) => {
  await page.goto(`${srv.url}/admin/#/${route}`);
  await page.waitForSelector(`#page[data-page="${route}"]`);
};
const setLang = async (lang: "en" | "zh") => {
  if ((await page.evaluate(() => document.documentElement.lang)) !== (lang === "zh" ? "zh-CN" : "en")) await page.click("#lang-switch");
  await page.waitForFunction((want) => document.documentElement.lang === want, lang === "zh" ? "zh-CN" : "en");
};
/** Secrets the run knows in full (the account's token never leaves the server: the console only has its masked preview). */
const SECRETS = [ADMIN_KEY, DEMO_KEY, DEMO_PASSWORD];
/** Everything the console shows (markup and attributes, closed <details> and toasts included; not the script bundle). */
const pageText = () => page.evaluate(() => [document.getElementById("app"), document.querySelector(".toasts")].map((el) => el?.outerHTML ?? "").join("\n"));
/** The secrets (and bearer headers) found in a text: none is the only right answer. */
const leaked = (text: string) => [...SECRETS.filter((s) => text.includes(s)), ...(/bearer /i.test(text) ? ["a bearer header"] : [])];
const toastWith = (text: string) => page.locator(".toast").filter({ hasText: text }).first().waitFor();

beforeAll(async () => {
  if (CHROMIUM === undefined) return;
  run = await startSimulatedConsole(CHROMIUM, "console-gaps", ADMIN_KEY);
  ({ srv, browser, dir: runDir } = run);
  ({ page, pageErrors } = browser);
}, 120_000);

afterAll(() => run?.stop());

if (CHROMIUM !== undefined) describe("console: delete sessions, raw captures, server version", () => {
  test("log in; the top bar shows the server version GET /admin/version names, in both languages", async () => {
    await signIn(page, srv.url, ADMIN_KEY);
    const { current_version } = await adminJson<{ current_version: string }>("GET", "/admin/version");
    expect(current_version).toMatch(/^\d+\.\d+/);
    await page.waitForSelector("#server-version[data-version]");
    expect(await page.getAttribute("#server-version", "data-version")).toBe(current_version);
    expect(await page.textContent("#server-version")).toBe(`Server ${current_version}`);
    await setLang("zh");
    await page.waitForSelector("#server-version[data-version]");
    expect(await page.textContent("#server-version")).toBe(`服务端 ${current_version}`);
    await browser.shot("gaps-version-zh");
    await setLang("en");
    await browser.shot("gaps-version-en");
  }, 60_000);

  test("Delete sessions on the demo account: confirmed, toasted, audited, and the simulator's sessions are gone", async () => {
    // Each account test opens one session upstream; two tests leave at least two.
    await sessionCount();
    const before = await sessionCount();
    expect(before).toBeGreaterThanOrEqual(2);

    await go("accounts");
    const row = page.locator(`#acc-table tr[data-account="${DEMO_ACCOUNT}"]`);
    const button = row.locator('[data-action="delete-sessions"]');
    await button.waitFor();
    expect(await button.textContent()).toBe("Delete sessions");
    await button.click(); // the confirm() is accepted by the test browser
    await toastWith(`${DEMO_ACCOUNT}: all sessions deleted`);

    const audit = await adminJson<{ items: { action: string; target?: string; detail?: Record<string, unknown> }[] }>("GET", "/admin/audit?action=accounts.sessions.delete_all");
    expect(audit.items[0]).toMatchObject({ action: "accounts.sessions.delete_all", target: DEMO_ACCOUNT, detail: { success: true } });
    // The next test opens one session: the only one the account holds now.
    expect(await sessionCount()).toBe(1);
    await browser.shot("gaps-accounts-sessions-en");

    await setLang("zh");
    await row.locator('[data-action="delete-sessions"]').waitFor();
    expect(await row.locator('[data-action="delete-sessions"]').textContent()).toBe("删除会话");
    await row.locator('[data-action="delete-sessions"]').click();
    await toastWith(`${DEMO_ACCOUNT}：全部会话已删除`);
    expect(await sessionCount()).toBe(1);
    await browser.shot("gaps-accounts-sessions-zh");
    expect(leaked(await pageText())).toEqual([]);
    await setLang("en");
  }, 90_000);

  test("Raw captures: off until Settings switches it on; a chat then shows up with account, model and sizes", async () => {
    await go("captures");
    await page.waitForSelector("#cap-enabled");
    expect(await page.getAttribute("#cap-enabled", "data-enabled")).toBe("0");
    expect(await page.textContent("#cap-enabled")).toBe("Capture is off");
    expect(await page.textContent("#cap-settings-hint")).toContain("Settings");
    expect(await page.getAttribute("#cap-settings-hint a", "href")).toBe("#/settings");
    await page.waitForSelector("#cap-empty");

    // Switch capture on where the hint points.
    await page.click("#cap-settings-hint a");
    await page.waitForSelector('#page[data-page="settings"]');
    await page.waitForSelector("#set-capture-enabled");
    await page.check("#set-capture-enabled");
    await page.click("#set-save");
    await toastWith("Saved");
    expect((await adminJson<{ enabled: boolean }>("GET", "/admin/dev/captures")).enabled).toBe(true);

    const chat = await fetch(`${srv.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${DEMO_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "deepseek-v4-flash", messages: [{ role: "user", content: `Say hi ${MARK}` }] }),
    });
    expect(chat.status).toBe(200);
    await chat.text();

    const api = await adminJson<{ items: { id: string; account_id: string; model: string; response_bytes: number }[] }>("GET", "/admin/dev/captures");
    expect(api.items.length).toBeGreaterThanOrEqual(1);
    const first = api.items[0]!;
    expect(first.response_bytes).toBeGreaterThan(0);

    await go("captures");
    expect(await page.getAttribute("#cap-enabled", "data-enabled")).toBe("1");
    const row = page.locator(`#cap-table tr[data-capture="${first.id}"]`);
    await row.waitFor();
    expect(await page.locator("#cap-table tbody tr").count()).toBe(api.items.length);
    const text = (await row.textContent()) ?? "";
    expect(text).toContain(DEMO_ACCOUNT);
    expect(text).toContain(first.model);
    expect(await row.locator('[data-field="sizes"]').textContent()).toMatch(/^request [\d.]+ (B|KiB) · response [\d.]+ (B|KiB|MiB)$/);
    expect(await row.locator('[data-field="request"]').textContent()).toContain(MARK);
    await browser.shot("gaps-captures-en");
  }, 90_000);

  test("find the chain by its text and save it as a sample; capture a new sample from the page", async () => {
    await page.fill("#cap-q", MARK);
    await page.fill("#cap-sample-id", "console-gaps-saved");
    await page.fill("#cap-source", "console test");
    await page.click("#cap-query-form button[type=submit]");
    await page.waitForSelector("#cap-chain-table tbody tr");
    expect(await page.textContent("#cap-chain-count")).toBe("Chains found: 1");
    await page.click('#cap-chain-table tbody tr [data-action="save"]');
    await toastWith("Sample console-gaps-saved saved in");
    const root = join(runDir, "raw_stream_samples");
    const meta = JSON.parse(readFileSync(join(root, "console-gaps-saved", "meta.json"), "utf8")) as { source: string; rounds: unknown[] };
    expect(meta.source).toBe("console test");
    expect(meta.rounds.length).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(root, "console-gaps-saved", "upstream.stream.sse"))).toBe(true);

    const before = (await adminJson<{ items: unknown[] }>("GET", "/admin/dev/captures")).items.length;
    await page.fill("#cap-message", "capture me");
    await page.fill("#cap-new-sample-id", "console-gaps-new");
    await page.click("#cap-new-form button[type=submit]");
    await page.waitForFunction(() => (document.querySelector("#cap-new-result")?.textContent ?? "").includes("console-gaps-new"));
    expect(existsSync(join(root, "console-gaps-new", "meta.json"))).toBe(true);
    await page.waitForFunction((n) => document.querySelectorAll("#cap-table tbody tr").length > n, before);
    await browser.shot("gaps-captures-saved-en");
  }, 90_000);

  test("no secret on the captures page or in what it reads; Chinese screens", async () => {
    const raw = await (await admin("GET", "/admin/dev/captures")).text();
    expect(leaked(raw)).toEqual([]);
    // Open every request/response so their text is on screen, then look at the whole page.
    await page.$$eval("#cap-table details", (ds) => ds.forEach((d) => ((d as HTMLDetailsElement).open = true)));
    const html = await pageText();
    expect(html).toContain(MARK); // the request bodies are on screen
    expect(leaked(html)).toEqual([]);

    await setLang("zh");
    await page.waitForSelector("#cap-enabled");
    expect(await page.textContent("#page h2")).toBe("原始采集");
    expect(await page.textContent("#cap-enabled")).toBe("采集已开启");
    expect(await page.textContent("#cap-settings-hint")).toContain("设置");
    await page.waitForSelector("#cap-table");
    await browser.shot("gaps-captures-zh");
    await setLang("en");
  }, 60_000);

  test("Clear all empties the list, on screen and in the API", async () => {
    await go("captures");
    await page.waitForSelector("#cap-table");
    await page.click("#cap-clear");
    await toastWith("Captures cleared");
    await page.waitForSelector("#cap-empty");
    expect((await adminJson<{ items: unknown[] }>("GET", "/admin/dev/captures")).items).toEqual([]);
    const audit = await adminJson<{ items: { action: string }[] }>("GET", "/admin/audit?action=dev_capture.clear");
    expect(audit.items.length).toBe(1);
    await browser.shot("gaps-captures-cleared-en");
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
