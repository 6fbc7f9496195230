/**
 * The admin console in a real browser: headless Debian Chromium (playwright-core) against the compiled binary,
 * run with --simulate from an empty folder. Screenshots go to test-artifacts/console/ (git-ignored).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { adminCaller, chromiumOrFailingTest, DESKTOP, launchConsoleBrowser, PHONE, SHOTS, type ConsoleBrowser } from "./support/console-browser.ts";
import { waitUntil } from "./support/wait.ts";
import { startTestHttpProxy } from "./support/proxy-servers.ts";
import { FAKE_POOL_ID, FakePoolProvider } from "./support/fake-pool-provider.ts";
import { runCommand, spawnServer, type SpawnedServer } from "./support/spawn-server.ts";
import { repoRoot, startTestServer, tempDir } from "./support/test-server.ts";

// No Chromium: this file is one failing test whose name and message say what to install (not a silent skip).
const CHROMIUM = chromiumOrFailingTest();
const ADMIN_KEY = "console-browser-test-admin-key";
/** The only account the --simulate upstream knows (src/cli/simulate.ts). */
const DEMO_ACCOUNT = "demo@ds2api.local";
const SECOND_ACCOUNT = "second-account@example.com";

let buildDir: string;
let runDir: string;
let srv: SpawnedServer;
let browser: ConsoleBrowser;
let page: Page;
let pageErrors: string[] = [];

const shot = (name: string) => browser.shot(name);
const go = async (route: string) => {
  await page.goto(`${srv.url}/admin/#/${route}`);
  await page.waitForSelector(`#page[data-page="${route}"]`);
};
const textOf = async (selector: string) => (await page.locator(selector).first().textContent())?.trim() ?? "";
/** An admin API call with the admin key (for setup and for checking what the page saved). */
const admin = adminCaller(() => srv.url, ADMIN_KEY);
/** GET /admin/settings (200 expected), typed as the test reads it. */
const settingsGet = async <T>(): Promise<T> => {
  const r = await admin("GET", "/admin/settings");
  expect(r.status).toBe(200);
  return (await r.json()) as T;
};
/** Clicks Save on the Settings page and expects the PUT it sends to succeed. */
const saveSettings = async () => {
  const [put] = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/admin/settings") && r.request().method() === "PUT"), page.click("#set-save")]);
  expect(put.status()).toBe(200);
};
const demoProxy = async () => {
  const r = (await (await admin("GET", `/admin/accounts?q=${encodeURIComponent(DEMO_ACCOUNT)}`)).json()) as { items: { identifier: string; proxy_id: string }[] };
  return r.items.find((a) => a.identifier === DEMO_ACCOUNT)?.proxy_id;
};

beforeAll(async () => {
  if (CHROMIUM === undefined) return;
  buildDir = tempDir("ds2api-console-build-");
  runDir = tempDir("ds2api-console-run-");
  const built = join(buildDir, "ds2api");
  const r = await runCommand([process.execPath, "run", join(repoRoot, "scripts/build.ts"), "--outfile", built], { cwd: repoRoot });
  if (r.code !== 0) throw new Error(`build failed: ${r.stderr}${r.stdout}`);
  const binary = join(runDir, "ds2api");
  copyFileSync(built, binary);
  rmSync(buildDir, { recursive: true, force: true });
  srv = await spawnServer([binary, "--simulate", "--port", "0", "--host", "127.0.0.1"], { cwd: runDir, env: { DS2API_ADMIN_KEY: ADMIN_KEY } });
  browser = await launchConsoleBrowser(CHROMIUM, "console");
  ({ page, pageErrors } = browser);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (srv) await srv.stop();
  if (runDir) rmSync(runDir, { recursive: true, force: true });
});

if (CHROMIUM !== undefined) describe("admin console in Chromium against the compiled binary", () => {
  test("the server generated no admin key (DS2API_ADMIN_KEY is set) and serves the console", async () => {
    expect(srv.stdout()).not.toContain("admin key:");
    const r = await fetch(`${srv.url}/admin`);
    expect(r.headers.get("content-type")).toContain("text/html");
    await r.arrayBuffer();
  });

  test("login: a wrong key gives a readable error, the right key opens the dashboard", async () => {
    await page.goto(`${srv.url}/admin`);
    await page.waitForSelector("#login-key");
    await shot("01-login");
    await page.fill("#login-key", "not-the-key");
    await page.click("form.login-card button[type=submit]");
    await page.waitForSelector(".login-card .form-error:not([hidden])");
    const err = await textOf(".login-card .form-error");
    expect(err).toBe("Invalid admin key");
    await page.fill("#login-key", ADMIN_KEY);
    await page.click("form.login-card button[type=submit]");
    await page.waitForSelector('#page[data-page="dashboard"]');
    const token = await page.evaluate(() => localStorage.getItem("ds2api.admin.token"));
    expect(token?.split(".").length).toBe(3);
  }, 30_000);

  test("accounts: add an account, test the demo account (ok) and the new one (readable failure)", async () => {
    await go("accounts");
    await page.waitForSelector(`#acc-table tr:has-text("${DEMO_ACCOUNT}")`);
    await page.fill("#acc-add-id", SECOND_ACCOUNT);
    await page.fill("#acc-add-password", "some-password");
    await page.fill("#acc-add-name", "Second");
    await page.click("#acc-add-form button[type=submit]");
    const second = page.locator(`#acc-table tr:has-text("${SECOND_ACCOUNT}")`);
    await second.waitFor();
    expect(await textOf("#acc-total")).toBe("2 accounts");

    const demo = page.locator(`#acc-table tr:has-text("${DEMO_ACCOUNT}")`);
    await demo.locator('[data-action="test"]').click();
    await demo.locator("[data-test-result]").waitFor({ timeout: 30_000 });
    expect(await demo.locator("[data-test-result]").getAttribute("data-test-result")).toBe("ok");

    await second.locator('[data-action="test"]').click();
    await second.locator("[data-test-result]").waitFor({ timeout: 30_000 });
    expect(await second.locator("[data-test-result]").getAttribute("data-test-result")).toBe("failed");
    const failure = (await second.locator("[data-test-result]").textContent()) ?? "";
    expect(failure.startsWith("Failed: ")).toBe(true);
    expect(failure.length).toBeGreaterThan("Failed: ".length);
    expect(failure).not.toContain("{");

    // Search narrows the table to the matching account.
    await page.fill("#acc-search", "second-account");
    await page.waitForFunction(() => document.querySelectorAll("#acc-table tbody tr").length === 1);
    expect(await textOf("#acc-table tbody tr")).toContain(SECOND_ACCOUNT);
    await page.fill("#acc-search", "");
    await page.waitForFunction(() => document.querySelectorAll("#acc-table tbody tr").length === 2);
    await shot("02-accounts");
  }, 90_000);

  test("accounts: bulk import, test all, disable/enable, delete with confirm", async () => {
    await go("accounts");
    await page.waitForSelector("#acc-table");
    await page.fill("#acc-bulk-text", "bulk-one@example.com:pw-one\nbulk-two@example.com:pw-two");
    await page.click("#acc-bulk-form button[type=submit]");
    await page.locator('#acc-table tr:has-text("bulk-two@example.com")').waitFor();
    expect(await textOf("#acc-total")).toBe("4 accounts");

    // Only the demo account exists upstream in --simulate mode.
    await page.click("#acc-test-all");
    await page.waitForSelector("#acc-test-results .strong", { timeout: 30_000 });
    expect(await textOf("#acc-test-results .strong")).toBe("Test results: 1 passed, 3 failed");
    expect(await page.locator("#acc-test-results li.test-ok").count()).toBe(1);
    expect(await textOf("#acc-test-results li.test-ok")).toContain(DEMO_ACCOUNT);

    const one = page.locator('#acc-table tr:has-text("bulk-one@example.com")');
    await one.locator('[data-action="disable"]').click();
    await one.locator('[data-action="enable"]').waitFor();
    expect(await one.locator(".badge").textContent()).toBe("Disabled");
    await one.locator('[data-action="enable"]').click();
    await one.locator('[data-action="disable"]').waitFor();

    for (const id of ["bulk-one@example.com", "bulk-two@example.com"]) {
      await page.locator(`#acc-table tr:has-text("${id}") [data-action="delete"]`).click();
      await page.locator(`#acc-table tr:has-text("${id}")`).waitFor({ state: "detached" });
    }
    expect(await textOf("#acc-total")).toBe("2 accounts");
  }, 90_000);

  test("dashboard: both accounts counted, queue figures pushed live", async () => {
    await go("dashboard");
    await page.waitForFunction(() => document.querySelector('[data-stat="total"]')?.textContent === "2");
    const n = async (id: string) => Number(await textOf(`[data-stat="${id}"]`));
    const [usable, cooling, failing, disabled] = [await n("usable"), await n("cooling"), await n("failing"), await n("disabled")];
    expect(usable).toBeGreaterThanOrEqual(1);
    expect(usable + cooling + failing + disabled).toBe(2);
    // Live: the figures come from the admin event stream (the indicator says so) and agree with /admin/queue/status.
    await page.waitForSelector('#dash-live[data-live="1"]');
    expect(await textOf("#dash-live")).toBe("Live");
    const q = (await (await admin("GET", "/admin/queue/status")).json()) as { in_use: number; total: number; disabled: number; global_max_inflight: number; global_limit: number; max_inflight_per_account: number; usable_accounts: number; recommended_concurrency: number };
    expect(await n("in_use")).toBe(q.in_use);
    expect(q.total).toBe(2);
    // The global limit is a number, never "∞": with no global cap set it is enabled accounts × per-account (README).
    expect(q.global_max_inflight).toBe(0);
    expect(q.global_limit).toBe((q.total - q.disabled) * q.max_inflight_per_account);
    await page.waitForFunction((want) => document.querySelector('[data-stat="global_limit"]')?.textContent === want, q.global_limit.toLocaleString("en-US"));
    expect(await textOf('[data-stat="global_limit"]')).toMatch(/^\d[\d,]*$/);
    expect(await textOf('[data-stat-note="global_limit"]')).toBe("accounts × per-account (no global cap set)");
    // Recommended concurrency counts usable accounts only.
    expect(q.recommended_concurrency).toBe(q.usable_accounts * q.max_inflight_per_account);
    await shot("03-dashboard");
  }, 30_000);

  for (const surface of ["openai", "anthropic", "gemini"] as const) {
    test(`API tester (${surface}): the answer streams in live`, async () => {
      await go("tester");
      // The model list comes from GET /v1/models.
      await page.waitForFunction(() => document.querySelectorAll("#tester-model option").length > 1);
      await page.selectOption("#tester-surface", surface);
      await page.selectOption("#tester-model", "deepseek-v4-flash");
      const message = `browser check via ${surface}`;
      await page.fill("#tester-message", message);
      // Count how many times the answer grows before the stream ends.
      await page.evaluate(() => {
        const w = window as unknown as { __grew: number };
        w.__grew = 0;
        new MutationObserver(() => w.__grew++).observe(document.getElementById("tester-answer")!, { childList: true, characterData: true, subtree: true });
      });
      await page.click("#tester-send");
      await page.waitForSelector('#tester-status[data-done="1"]', { timeout: 30_000 });
      expect(await page.locator("#tester-error").isHidden()).toBe(true);
      const answer = await textOf("#tester-answer");
      const reasoning = (await page.locator("#tester-reasoning").textContent()) ?? "";
      // The simulator's demo reply quotes the user's message (src/cli/simulate.ts).
      expect(answer).toContain(`You said: ${message}`);
      expect(await page.evaluate(() => (window as unknown as { __grew: number }).__grew)).toBeGreaterThan(3);
      if (reasoning) {
        // Reasoning is shown apart from the answer, never mixed into it.
        expect(await page.locator(".reasoning-box").isVisible()).toBe(true);
        expect(reasoning).toContain(message);
        expect(answer).not.toContain(reasoning.slice(0, 30));
      }
      if (surface === "openai") {
        expect(reasoning.length).toBeGreaterThan(0);
        await shot("04-tester");
      }
    }, 60_000);
  }

  test("API keys: a new key is shown once, listed masked, and works", async () => {
    await go("keys");
    await page.fill("#key-add-name", "browser");
    await page.click("#key-add-form button[type=submit]");
    await page.waitForSelector("#key-reveal:not([hidden]) code");
    const key = await textOf("#key-reveal code");
    expect(key.length).toBeGreaterThanOrEqual(16);
    const row = page.locator('#keys-table tr:has-text("browser")');
    await row.waitFor();
    expect(await row.textContent()).not.toContain(key);
    const r = await fetch(`${srv.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(r.status).toBe(200);
    await r.arrayBuffer();
    await shot("05-keys");
    // Leaving the page forgets the key.
    await go("dashboard");
    await go("keys");
    await page.waitForSelector("#keys-table");
    expect(await page.locator("#key-reveal").isHidden()).toBe(true);
  }, 60_000);

  test("settings: a changed limit is saved and read back", async () => {
    await go("settings");
    await page.waitForSelector("#settings-form");
    expect(Number(await page.inputValue("#set-account_max_inflight"))).toBeGreaterThan(0);
    const next = Number(await page.inputValue("#set-cooldown_seconds")) + 7;
    await page.fill("#set-cooldown_seconds", String(next));
    await page.click("#set-save");
    await page.waitForSelector(".toast-ok");
    await page.reload();
    await page.waitForSelector("#settings-form");
    expect(Number(await page.inputValue("#set-cooldown_seconds"))).toBe(next);
    await shot("06-settings");
  }, 30_000);

  test("settings: timeouts and retries are set through the page, read back, and cleared when emptied", async () => {
    const adminGet = () => settingsGet<{ runtime: Record<string, number>; runtime_overrides: Record<string, number>; runtime_defaults: Record<string, number> }>();
    /** Save, returning the PUT (some saves here are expected to be refused). */
    const savePut = async () => {
      const [put] = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/admin/settings") && r.request().method() === "PUT"), page.click("#set-save")]);
      return put;
    };
    const fields = ["upstream_header_timeout_seconds", "upstream_idle_timeout_seconds", "turn_timeout_seconds", "max_account_attempts", "queue_wait_seconds"];
    const before = await adminGet();
    for (const k of fields) expect(before.runtime_overrides[k]).toBeUndefined();
    await go("settings");
    await page.waitForSelector("#set-turn-limits");
    // Nothing stored: every field is empty and shows the default (no env in this run) as its placeholder.
    const defaults: Record<string, string> = { upstream_header_timeout_seconds: "20", upstream_idle_timeout_seconds: "120", turn_timeout_seconds: "900", max_account_attempts: "3", queue_wait_seconds: "30" };
    for (const k of fields) {
      expect({ k, value: await page.inputValue(`#set-${k}`) }).toEqual({ k, value: "" });
      expect({ k, placeholder: await page.getAttribute(`#set-${k}`, "placeholder") }).toEqual({ k, placeholder: defaults[k]! });
    }
    expect(await textOf('label:has(#set-max_account_attempts) .field-label')).toBe("Accounts tried per request");

    await page.fill("#set-upstream_idle_timeout_seconds", "77");
    await page.fill("#set-max_account_attempts", "2");
    await page.fill("#set-queue_wait_seconds", "45");
    expect((await savePut()).status()).toBe(200);
    await page.reload();
    await page.waitForSelector("#set-turn-limits");
    expect(await page.inputValue("#set-upstream_idle_timeout_seconds")).toBe("77");
    expect(await page.inputValue("#set-max_account_attempts")).toBe("2");
    expect(await page.inputValue("#set-queue_wait_seconds")).toBe("45");
    expect(await page.inputValue("#set-turn_timeout_seconds")).toBe("");
    let got = await adminGet();
    expect(got.runtime_overrides).toMatchObject({ upstream_idle_timeout_seconds: 77, max_account_attempts: 2, queue_wait_seconds: 45 });
    expect(got.runtime).toMatchObject({ upstream_idle_timeout_seconds: 77, max_account_attempts: 2, queue_wait_seconds: 45, turn_timeout_seconds: 900, upstream_header_timeout_seconds: 20 });
    expect(got.runtime_overrides.turn_timeout_seconds).toBeUndefined();
    expect(got.runtime_defaults.max_account_attempts).toBe(3);

    // Emptying a field clears the override: the setting is back to its default.
    await page.fill("#set-queue_wait_seconds", "");
    expect((await savePut()).status()).toBe(200);
    got = await adminGet();
    expect(got.runtime_overrides.queue_wait_seconds).toBeUndefined();
    expect(got.runtime.queue_wait_seconds).toBe(30);
    expect(got.runtime_overrides).toMatchObject({ upstream_idle_timeout_seconds: 77, max_account_attempts: 2 });
    await page.reload();
    await page.waitForSelector("#set-turn-limits");
    expect(await page.inputValue("#set-queue_wait_seconds")).toBe("");
    expect(await page.inputValue("#set-max_account_attempts")).toBe("2");

    // The Chinese labels are there too.
    await page.click("#lang-switch");
    await page.waitForSelector("#set-turn-limits");
    expect(await textOf("#set-turn-limits h3")).toBe("超时与重试");
    await shot("06b-settings-turn-limits-zh");
    await page.click("#lang-switch");
  }, 60_000);

  test("settings: long prompts as a file, session deletion and the thinking prompt are set through the page, read back, and agree with GET /admin/settings", async () => {
    type Got = {
      current_input_file: { enabled?: boolean; min_chars?: number; prompt_chars?: number };
      auto_delete: { mode?: string };
      thinking_injection: { enabled: boolean; prompt: string };
      client_identity: { device_id?: string };
    };
    const adminGet = () => settingsGet<Got>();
    const save = saveSettings;
    const prompt = "Think it through step by step (browser test).";
    await go("settings");
    await page.waitForSelector("#set-current-input-file");
    // Defaults: on, threshold empty with the built-in default as placeholder, auto_delete none.
    expect(await page.isChecked("#set-cif-enabled")).toBe(true);
    expect(await page.inputValue("#set-cif-prompt-chars")).toBe("");
    expect(await page.getAttribute("#set-cif-prompt-chars", "placeholder")).toBe("64000");
    expect(await page.inputValue("#set-auto-delete-mode")).toBe("none");
    // Every section says what its numbers mean.
    expect(await textOf('label:has(#set-daily_request_cap) .hint')).toContain("0 = unlimited");
    expect(await textOf('label:has(#set-global_max_inflight) .hint')).toContain("0 = unlimited");
    expect(await textOf('label:has(#set-min_interval_ms) .hint')).toContain("Milliseconds");
    // No global device id: each account logs in with its own (tests/console-devices.test.ts).
    expect(await textOf("#set-device-id")).toContain("each account logs in with its own");
    expect((await adminGet()).client_identity.device_id).toBeUndefined();

    await page.fill("#set-cif-prompt-chars", "30000");
    await page.fill("#set-cif-min-chars", "20000");
    await page.selectOption("#set-auto-delete-mode", "single");
    await page.fill("#set-thinking-prompt", prompt);
    await save();
    await page.reload();
    await page.waitForSelector("#set-current-input-file");
    expect(await page.isChecked("#set-cif-enabled")).toBe(true);
    expect(await page.inputValue("#set-cif-prompt-chars")).toBe("30000");
    expect(await page.inputValue("#set-cif-min-chars")).toBe("20000");
    expect(await page.inputValue("#set-auto-delete-mode")).toBe("single");
    expect(await page.inputValue("#set-thinking-prompt")).toBe(prompt);
    let got = await adminGet();
    expect(got.current_input_file).toEqual({ enabled: true, min_chars: 20000, prompt_chars: 30000 });
    expect(got.auto_delete.mode).toBe("single");
    expect(got.thinking_injection.prompt).toBe(prompt);
    await shot("06c-settings-sections");

    // Turned off and emptied: the stored values go (back to the defaults), and the page shows it after a reload.
    await page.uncheck("#set-cif-enabled");
    await page.fill("#set-cif-prompt-chars", "");
    await page.fill("#set-cif-min-chars", "");
    await page.selectOption("#set-auto-delete-mode", "none");
    await page.fill("#set-thinking-prompt", "");
    await save();
    got = await adminGet();
    expect(got.current_input_file).toEqual({ enabled: false });
    expect(got.auto_delete.mode).toBe("none");
    expect(got.thinking_injection.prompt).toBe("");
    await page.reload();
    await page.waitForSelector("#set-current-input-file");
    expect(await page.isChecked("#set-cif-enabled")).toBe(false);
    expect(await page.inputValue("#set-cif-prompt-chars")).toBe("");

    // The same sections in Chinese.
    await page.click("#lang-switch");
    await page.waitForSelector("#set-current-input-file");
    expect(await textOf("#set-current-input-file h3")).toBe("长提示词作为文件发送（current_input_file）");
    expect(await textOf("#set-auto-delete h3")).toBe("删除聊天会话（auto_delete）");
    expect(await textOf('label:has(#set-daily_request_cap) .hint')).toContain("0 = 不限");
    await shot("06d-settings-sections-zh");
    await page.click("#lang-switch");
    await page.waitForSelector("#set-current-input-file");
    // Leave the server as it was for the tests after this one.
    await page.check("#set-cif-enabled");
    await save();
    expect((await adminGet()).current_input_file.enabled).toBe(true);
  }, 60_000);

  test("chat history: turned on from the page, one conversation viewed in full (EN + 中文, phone width), then deleted", async () => {
    const created = (await (await admin("POST", "/admin/keys", { name: "history" })).json()) as { key: string };
    await go("history");
    await page.waitForSelector("#history-limit option", { state: "attached" });
    expect(await page.inputValue("#history-limit")).toBe("0"); // off by default
    await page.selectOption("#history-limit", "20");
    await page.waitForSelector(".toast-ok");
    // A toast of an earlier test may still be up: wait for the limit itself to be saved before chatting.
    await waitUntil(async () => ((await (await admin("GET", "/admin/chat-history")).json()) as { limit: number }).limit === 20);
    const message = "history check in the browser";
    const r = await fetch(`${srv.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${created.key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "deepseek-v4-flash", messages: [{ role: "user", content: message }] }),
    });
    expect(r.status).toBe(200);
    const reply = (await r.json()) as { choices: { message: { content: string } }[] };
    // The record is finished just after the answer is sent: wait for it before the page loads the list.
    await waitUntil(async () => {
      const list = (await (await admin("GET", "/admin/chat-history")).json()) as { items: { status: string; preview?: string; user_input?: string }[] };
      return list.items.some((i) => i.status !== "streaming" && JSON.stringify(i).includes(message));
    });
    await go("dashboard");
    await go("history");
    const row = page.locator(`#history-table tr:has-text("${message}")`);
    await row.waitFor();
    await row.locator('[data-action="view"]').click();
    await page.waitForSelector("#history-answer");
    expect(await textOf("#history-prompt")).toContain(message);
    expect(await textOf("#history-answer")).toBe(reply.choices[0]!.message.content.trim());
    expect(await textOf("#history-reasoning")).toContain(message);
    expect(await textOf("#history-usage")).toMatch(/\d/);
    expect(await textOf("#history-timing")).toMatch(/\d+\.\d\d s/);
    expect(await page.content()).not.toContain(created.key);
    await shot("11-history");
    await page.click("#lang-switch");
    await go("history");
    expect(await textOf(".page-head h2")).toBe("对话记录");
    await page.click("#lang-switch");
    await page.setViewportSize(PHONE);
    try {
      await go("history");
      await row.waitFor();
      await row.locator('[data-action="view"]').click();
      await page.waitForSelector("#history-answer");
      const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
      expect(scroll).toBeLessThanOrEqual(width);
      await shot("12-phone-history");
      await page.click("#history-delete"); // the confirm dialog is accepted
      await page.waitForSelector("#history-list:not([hidden])");
      await page.waitForFunction((m) => !document.querySelector("#history-list")?.textContent?.includes(m), message);
    } finally {
      await page.setViewportSize(DESKTOP);
    }
    const left = (await (await admin("GET", "/admin/chat-history")).json()) as { items: { user_input?: string }[] };
    expect(left.items.some((i) => i.user_input === message)).toBe(false);
    await admin("PUT", "/admin/chat-history/settings", { limit: 0 });
  }, 60_000);

  test("import/export: export downloads the config, import merges a pasted one", async () => {
    await go("transfer");
    await page.waitForSelector("#xfer-text");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#xfer-export")]);
    const exported = JSON.parse(await Bun.file((await download.path())!).text()) as { accounts?: { email?: string }[] };
    expect((exported.accounts ?? []).map((a) => a.email)).toContain(DEMO_ACCOUNT);
    await page.waitForSelector(".reveal:not([hidden]) textarea");
    await page.fill("#xfer-text", JSON.stringify({ keys: ["sk-imported-by-the-browser-test"] }));
    await page.click("#xfer-import");
    await page.waitForSelector('.toast-ok:has-text("Imported 1 keys")');
    await shot("07-transfer");
  }, 30_000);

  test("proxies: add one (password never shown), test it through a real proxy, edit, assign it to an account, see it used, delete it", async () => {
    const PROXY_PASSWORD = "proxy-pass-never-rendered-7341";
    const proxy = startTestHttpProxy({ username: "pxuser", password: PROXY_PASSWORD });
    try {
      await go("proxies");
      await page.waitForSelector("#px-form");
      await page.fill("#px-name", "browser-proxy");
      await page.selectOption("#px-type", "http");
      await page.fill("#px-host", "127.0.0.1");
      await page.fill("#px-port", String(proxy.port));
      await page.fill("#px-username", "pxuser");
      await page.fill("#px-password", PROXY_PASSWORD);
      await page.click("#px-save");
      const row = page.locator('#px-table tr:has-text("browser-proxy")');
      await row.waitFor();
      expect(await textOf("#px-total")).toBe("1 proxies");
      const id = (await row.getAttribute("data-proxy"))!;
      expect(id.length).toBeGreaterThan(0);
      expect(await row.textContent()).toContain("****");
      expect(await row.textContent()).toContain(`127.0.0.1:${proxy.port}`);
      expect(await row.locator("[data-used-by]").getAttribute("data-used-by")).toBe("0");

      // Test: one GET through the proxy to the simulator, with latency and status shown.
      await row.locator('[data-action="test"]').click();
      await row.locator('[data-test-result="ok"]').waitFor({ timeout: 30_000 });
      expect(await row.locator("[data-test-result]").textContent()).toMatch(/^OK \d+ ms · HTTP \d{3} · reached /);
      expect(proxy.targets.length).toBeGreaterThan(0);

      // Edit the name; the stored password is kept (the field stays empty).
      await row.locator('[data-action="edit"]').click();
      expect(await page.inputValue("#px-password")).toBe("");
      expect(await textOf("#px-password-hint")).toBe("A password is stored; leave empty to keep it.");
      await page.fill("#px-name", "browser-proxy-renamed");
      await page.click("#px-save");
      const renamed = page.locator(`#px-table tr[data-proxy="${id}"]:has-text("browser-proxy-renamed")`);
      await renamed.waitFor();
      const before = proxy.targets.length;
      await renamed.locator('[data-action="test"]').click();
      await page.waitForFunction((pid) => document.querySelector(`#px-table tr[data-proxy="${pid}"] [data-test-result="ok"]`) !== null && !document.querySelector(`#px-table tr[data-proxy="${pid}"] .test-cell`)?.textContent?.includes("Testing"), id);
      expect(proxy.targets.length).toBeGreaterThan(before);
      expect(proxy.authFailures).toBe(0);

      // Assign it to the demo account from the accounts row; the row shows it.
      await go("accounts");
      const demoSelect = page.locator(`#acc-table tr:has-text("${DEMO_ACCOUNT}") select[data-field="proxy"]`);
      await demoSelect.waitFor();
      expect(await demoSelect.inputValue()).toBe("");
      await demoSelect.selectOption(id);
      await page.waitForSelector(`.toast-ok:has-text("Account's proxy saved")`);
      expect(await demoProxy()).toBe(id);
      await page.reload();
      await page.locator(`#acc-table tr:has-text("${DEMO_ACCOUNT}") select[data-field="proxy"]`).waitFor();
      expect(await page.locator(`#acc-table tr:has-text("${DEMO_ACCOUNT}") select[data-field="proxy"]`).inputValue()).toBe(id);
      await shot("13-accounts-proxy");

      // The proxies page lists the account as a user of the proxy.
      await go("proxies");
      const used = page.locator(`#px-table tr[data-proxy="${id}"]`);
      await used.locator('[data-used-by="1"]').waitFor();
      expect(await used.textContent()).toContain(DEMO_ACCOUNT);
      await shot("14-proxies");
      const html = await page.content();
      expect(html).not.toContain(PROXY_PASSWORD);
      await page.click("#lang-switch");
      await page.waitForSelector(`#px-table tr[data-proxy="${id}"]`);
      expect(await textOf(".page-head h2")).toBe("代理");
      expect(await used.textContent()).toContain("1 个账号");
      await shot("14b-proxies-zh");
      await page.click("#lang-switch");
      await page.waitForSelector(`#px-table tr[data-proxy="${id}"]`);

      // Delete (confirmed): the account goes back to a direct connection.
      await page.locator(`#px-table tr[data-proxy="${id}"] [data-action="delete"]`).click();
      await page.waitForSelector('.toast-ok:has-text("Proxy deleted; 1 accounts now connect directly")');
      await page.locator(`#px-table tr[data-proxy="${id}"]`).waitFor({ state: "detached" });
      expect(await page.locator("#page").textContent()).toContain("No proxies yet.");
      expect(await demoProxy()).toBe("");
      const list = (await (await admin("GET", "/admin/proxies")).json()) as { total: number };
      expect(list.total).toBe(0);
    } finally {
      proxy.stop();
    }
  }, 90_000);

  test("API keys: a quota is set from the row, shown beside today's usage, and cleared back to unlimited", async () => {
    const created = (await (await admin("POST", "/admin/keys", { name: "quota-key" })).json()) as { key: string; key_id: string };
    const r = await fetch(`${srv.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${created.key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "count my tokens" }] }),
    });
    expect(r.status).toBe(200);
    await r.arrayBuffer();
    await go("keys");
    const row = page.locator(`#keys-table tr[data-key="${created.key_id}"]`);
    await row.waitFor();
    expect(await textOf("#keys-quota-note")).toContain("0 or empty = unlimited");
    expect(await row.locator("[data-quota]").getAttribute("data-quota")).toBe("0/0");
    expect(await row.locator(".quota-cell").textContent()).toContain("unlimited requests / minute");
    const used = Number(await row.locator("[data-tokens-today]").getAttribute("data-tokens-today"));
    expect(used).toBeGreaterThan(0);

    await row.locator('[data-action="quota"]').click();
    await page.fill("#key-quota-rpm", "30");
    await page.fill("#key-quota-tpd", "100000");
    expect(await textOf("#key-quota-form")).toContain("0 or empty = unlimited");
    await page.click("#key-quota-form button[type=submit]");
    await row.locator('[data-quota="30/100000"]').waitFor();
    const cellText = (await row.locator(".quota-cell").textContent()) ?? "";
    expect(cellText).toContain("30 requests / minute");
    expect(cellText).toContain(`${used.toLocaleString("en-US")} of 100,000 tokens today`);
    const keys = (await (await admin("GET", "/admin/keys")).json()) as { items: { key_id: string; quota: { requests_per_minute: number | null; tokens_per_day: number | null }; usage: { tokens_today: number } }[] };
    const stored = keys.items.find((k) => k.key_id === created.key_id)!;
    expect(stored.quota).toEqual({ requests_per_minute: 30, tokens_per_day: 100000 });
    expect(stored.usage.tokens_today).toBe(used);
    await shot("15-keys-quota");

    // Emptying a field (or 0) means unlimited.
    await row.locator('[data-action="quota"]').click();
    expect(await page.inputValue("#key-quota-rpm")).toBe("30");
    await page.fill("#key-quota-rpm", "");
    await page.fill("#key-quota-tpd", "0");
    await page.click("#key-quota-form button[type=submit]");
    await row.locator('[data-quota="0/0"]').waitFor();
    expect(await row.locator(".quota-cell").textContent()).toContain("unlimited requests / minute");
    // Phone width: the open quota editor still fits.
    await page.setViewportSize(PHONE);
    try {
      await row.locator('[data-action="quota"]').click();
      await page.waitForSelector("#key-quota-form");
      const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
      expect(scroll).toBeLessThanOrEqual(width);
      await page.locator("#key-quota-form").screenshot({ path: join(SHOTS, "15b-phone-key-quota.png") });
      await page.click('#key-quota-form button[type="button"]');
      await page.waitForSelector("#key-quota-form", { state: "detached" });
    } finally {
      await page.setViewportSize(DESKTOP);
    }
    await page.click("#lang-switch");
    await row.waitFor();
    expect(await row.locator(".quota-cell").textContent()).toContain("不限");
    await page.click("#lang-switch");
    await row.waitFor();
  }, 60_000);

  test("audit log: lists the proxy and quota changes, filtered by action, actor and time, paged", async () => {
    const audited = async () => ((await (await admin("GET", "/admin/audit?limit=1000")).json()) as { items: { action: string }[] }).items;
    // Enough entries for two pages whatever ran before: add and delete throwaway keys.
    while ((await audited()).length <= 30) {
      const k = (await (await admin("POST", "/admin/keys", { name: "audit-filler" })).json()) as { key_id: string };
      expect((await admin("DELETE", `/admin/keys/${k.key_id}`)).status).toBe(200);
    }
    const all = await audited();
    await go("audit");
    await page.waitForSelector("#audit-table");
    expect(await textOf("#audit-total")).toBe(`${all.length} entries`);
    const pages = Math.max(1, Math.ceil(all.length / 25));
    expect(await textOf("#audit-page")).toBe(`Page 1 of ${pages}`);
    expect(all.length).toBeGreaterThan(25);
    await page.click("#audit-next");
    expect(await textOf("#audit-page")).toBe(`Page 2 of ${pages}`);
    expect(await page.locator("#audit-table tbody tr").count()).toBe(Math.min(25, all.length - 25));

    const actions = async () => page.$$eval("#audit-table tbody tr", (rows) => rows.map((r) => r.getAttribute("data-action") ?? ""));
    // Server-side prefix filter: every proxy action of the previous tests, nothing else.
    await page.fill("#audit-action", "proxies.");
    await page.click("#audit-apply");
    await page.waitForFunction(() => [...document.querySelectorAll("#audit-table tbody tr")].every((r) => r.getAttribute("data-action")?.startsWith("proxies.")));
    const px = await actions();
    expect([...new Set(px)].sort()).toEqual(["proxies.add", "proxies.delete", "proxies.test", "proxies.update"]);
    expect(await textOf("#audit-page")).toBe("Page 1 of 1");
    await shot("16-audit");

    // Exact action plus actor.
    await page.fill("#audit-action", "keys.update");
    await page.fill("#audit-actor", "admin-jwt");
    await page.click("#audit-apply");
    await page.waitForFunction(() => [...document.querySelectorAll("#audit-table tbody tr")].every((r) => r.getAttribute("data-action") === "keys.update"));
    expect((await actions()).length).toBe(2);
    expect(await textOf("#audit-table tbody tr")).toContain("quota");
    // The quota was changed from the console, not with the admin key.
    await page.fill("#audit-actor", "admin-key");
    await page.click("#audit-apply");
    await page.waitForSelector("#audit-total:has-text('0 entries')");

    // The time range: a window in the future holds nothing; one around now holds the account proxy change.
    await page.fill("#audit-actor", "");
    await page.fill("#audit-action", "accounts.proxy");
    await page.fill("#audit-from", "2099-01-01T00:00");
    await page.click("#audit-apply");
    await page.waitForSelector("#audit-total:has-text('0 entries')");
    expect(await page.locator("#page").textContent()).toContain("No entries match.");
    await page.fill("#audit-from", "2000-01-01T00:00");
    await page.click("#audit-apply");
    await page.waitForSelector("#audit-table");
    expect(await actions()).toEqual(["accounts.proxy"]);

    await page.click("#lang-switch");
    await page.waitForSelector("#audit-filters");
    expect(await textOf(".page-head h2")).toBe("审计日志");
    await shot("16b-audit-zh");
    await page.click("#lang-switch");
  }, 60_000);

  test("language: switch to Chinese, remembered after reload, and back", async () => {
    await go("accounts");
    expect(await textOf('.nav a[data-page="accounts"]')).toBe("Accounts");
    await page.click("#lang-switch");
    expect(await textOf('.nav a[data-page="accounts"]')).toBe("账号");
    await page.reload();
    await page.waitForSelector('#page[data-page="accounts"]');
    expect(await textOf('.nav a[data-page="accounts"]')).toBe("账号");
    expect(await page.evaluate(() => document.documentElement.lang)).toBe("zh-CN");
    await page.waitForSelector("#acc-table");
    await shot("08-accounts-zh");
    await page.click("#lang-switch");
    expect(await textOf('.nav a[data-page="accounts"]')).toBe("Accounts");
  }, 30_000);

  test("phone width: every page fits without sideways scrolling", async () => {
    await page.setViewportSize(PHONE);
    try {
      for (const route of ["dashboard", "accounts", "keys", "proxies", "providers", "settings", "tester", "transfer", "history", "audit"]) {
        await go(route);
        await page.waitForLoadState("networkidle").catch(() => {});
        await page.waitForTimeout(300);
        const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
        expect({ route, overflow: scroll > width }).toEqual({ route, overflow: false });
      }
      // The menu opens from the burger button.
      expect(await page.locator(".nav").isVisible()).toBe(false);
      await page.click(".burger");
      expect(await page.locator(".nav").isVisible()).toBe(true);
      await shot("10-phone-menu");
    } finally {
      await page.setViewportSize(DESKTOP);
    }
  }, 60_000);

  test("screenshots: every page in the menu, at desktop and phone width, in English and Chinese (test-artifacts/console/pages/)", async () => {
    const dir = join(SHOTS, "pages");
    mkdirSync(dir, { recursive: true });
    await go("dashboard");
    // Every page the menu offers, so pages added later are photographed too.
    const routes = await page.$$eval(".nav a[data-page]", (as) => as.map((a) => a.getAttribute("data-page") ?? ""));
    expect(routes.length).toBeGreaterThanOrEqual(8);
    const taken: string[] = [];
    try {
      for (const lang of ["en", "zh"] as const) {
        if ((await page.evaluate(() => document.documentElement.lang)) !== (lang === "zh" ? "zh-CN" : "en")) await page.click("#lang-switch");
        for (const [width, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
          await page.setViewportSize(viewport);
          for (const route of routes) {
            await go(route);
            await page.waitForLoadState("networkidle").catch(() => {});
            const file = join(dir, `${route}-${width}-${lang}.png`);
            await page.screenshot({ path: file, fullPage: true });
            taken.push(file);
          }
        }
      }
    } finally {
      await page.setViewportSize(DESKTOP);
      if ((await page.evaluate(() => document.documentElement.lang)) === "zh-CN") await page.click("#lang-switch");
    }
    expect(taken.length).toBe(routes.length * 4);
    for (const f of taken) expect(Bun.file(f).size).toBeGreaterThan(1000);
  }, 180_000);

  test("providers: a key pool — add two, import a list, test, disable, reset, edit, delete; no secret ever rendered", async () => {
    // The compiled --simulate binary has no key-pool provider of its own here: an in-process server with a fake one serves this page.
    const fake = new FakePoolProvider();
    const pool = await startTestServer({ extraProviders: [fake] });
    fake.bind(pool.running.ctx.store);
    const mk = (tag: string) => `${tag}-${crypto.randomUUID().replace(/-/g, "")}`;
    const [one, two, three, four, five] = [mk("pk-one"), mk("pk-two"), mk("pk-three"), mk("bad-four"), mk("pk-five")];
    const all = [one, two, three, four, five];
    try {
      await page.goto(`${pool.url}/admin`);
      await page.waitForSelector("#login-key");
      await page.fill("#login-key", pool.adminKey);
      await page.click("form.login-card button[type=submit]");
      await page.waitForSelector('#page[data-page="dashboard"]');
      await page.click('.nav a[data-page="providers"]');
      await page.waitForSelector(`#prov-table tr[data-provider="${FAKE_POOL_ID}"]`);
      expect(await textOf('#prov-table tr[data-provider="deepseek"]')).toContain("DeepSeek web chat");
      // The TLS profile each provider dials with (docs/DEPLOY.md "Upstream TLS profile").
      expect(await page.getAttribute('#prov-table tr[data-provider="deepseek"] [data-tls]', "data-tls")).toBe("okhttp");
      expect(await textOf('#prov-table tr[data-provider="deepseek"] [data-tls]')).toBe("TLS: okhttp (impersonates okhttp4)");
      const status = (id: string) => page.getAttribute(`#prov-table tr[data-provider="${id}"] [data-configured]`, "data-configured");
      expect(await status(FAKE_POOL_ID)).toBe("0");

      const sec = page.locator(`[data-pool="${FAKE_POOL_ID}"]`);
      const row = (label: string) => sec.locator(`tr[data-entry]:has-text("${label}")`);
      const total = () => sec.locator("[data-pool-total]").textContent();
      for (const [secret, label] of [[one, "label-one"], [two, "label-two"]] as const) {
        await sec.locator('[data-form="add"] [data-field="secret"]').fill(secret);
        await sec.locator('[data-form="add"] [data-field="label"]').fill(label);
        await sec.locator('[data-form="add"] button[type=submit]').click();
        await row(label).waitFor();
        // The secret leaves the form once it is sent.
        expect(await sec.locator('[data-form="add"] [data-field="secret"]').inputValue()).toBe("");
      }
      expect(await total()).toBe("2 entries");
      expect(await row("label-one").locator("code").textContent()).toBe(`${one.slice(0, 2)}****${one.slice(-2)}`);
      await page.waitForFunction((id) => document.querySelector(`#prov-table tr[data-provider="${id}"] [data-configured]`)?.getAttribute("data-configured") === "1", FAKE_POOL_ID);

      // Bulk import: two new, one already there (updated), one refused line.
      await sec.locator('[data-form="import"] textarea').fill([`${three},label-three`, `${four},label-four,5`, `${one},label-one-again`, `${five},label-five,lots`].join("\n"));
      await sec.locator('[data-form="import"] button[type=submit]').click();
      await page.waitForSelector('.toast-ok:has-text("Added 2, updated 1, skipped 1")');
      await row("label-four").waitFor();
      await row("label-one-again").waitFor();
      expect(await total()).toBe("4 entries");
      expect(await sec.locator('[data-form="import"] textarea').inputValue()).toBe("");

      // Test: a good entry passes and counts one use; a "bad" one is rejected and shows so.
      await row("label-three").locator('[data-action="test"]').click();
      await row("label-three").locator('[data-test-result="ok"]').waitFor();
      expect(await row("label-three").locator("[data-usage]").getAttribute("data-usage")).toBe("1");
      await row("label-four").locator('[data-action="test"]').click();
      await row("label-four").locator('[data-test-result="failed"]').waitFor();
      expect(await row("label-four").locator("[data-state]").getAttribute("data-state")).toBe("bad");
      expect(await row("label-four").locator("[data-state]").textContent()).toBe("Rejected");

      // Disable / enable.
      await row("label-two").locator('[data-action="disable"]').click();
      await row("label-two").locator('[data-action="enable"]').waitFor();
      expect(await row("label-two").locator("[data-state]").textContent()).toBe("Disabled");

      // Reset all usage (confirmed): every count back to 0.
      expect(await sec.locator('[data-usage]:not([data-usage="0"])').count()).toBeGreaterThan(0);
      await sec.locator('[data-action="reset-all"]').click();
      await page.waitForSelector('.toast-ok:has-text("Usage reset (4)")');
      await page.waitForFunction((id) => [...document.querySelectorAll(`[data-pool="${id}"] [data-usage]`)].every((e) => e.getAttribute("data-usage") === "0"), FAKE_POOL_ID);

      // Edit label and max usage inline.
      await row("label-three").locator('[data-action="edit"]').click();
      await sec.locator('[data-form="edit"] [data-field="edit-label"]').fill("label-renamed");
      await sec.locator('[data-form="edit"] [data-field="edit-max_usage"]').fill("7");
      await sec.locator('[data-form="edit"] button[type=submit]').click();
      await row("label-renamed").waitFor();
      expect(await row("label-renamed").locator("[data-usage]").textContent()).toBe("0 / 7");
      expect(await sec.locator('[data-form="edit"]').count()).toBe(0);
      await shot("11-providers");

      // Delete with confirm.
      await row("label-two").locator('[data-action="delete"]').click();
      await row("label-two").waitFor({ state: "detached" });
      expect(await total()).toBe("3 entries");
      const stored = await pool.running.ctx.store.credentials.list(FAKE_POOL_ID);
      expect(stored.map((c) => c.label).sort()).toEqual(["label-four", "label-one-again", "label-renamed"]);
      expect(stored.find((c) => c.label === "label-renamed")?.maxUsage).toBe(7);

      // Phone width: the page still fits.
      await page.setViewportSize(PHONE);
      try {
        await page.reload();
        await row("label-renamed").waitFor();
        const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
        expect(scroll).toBeLessThanOrEqual(width);
        await shot("12-phone-providers");
      } finally {
        await page.setViewportSize(DESKTOP);
      }

      // No secret anywhere in what the page shows or holds.
      const text = await page.evaluate(() => document.body.innerText);
      const html = await page.content();
      for (const s of all) expect({ s: s.slice(0, 8), inText: text.includes(s), inHtml: html.includes(s) }).toEqual({ s: s.slice(0, 8), inText: false, inHtml: false });
    } finally {
      // Back to the binary's origin (its session) for the tests after this one.
      await go("dashboard").catch(() => {});
      await pool.stop();
    }
  }, 90_000);

  test("live dashboard: the in-flight figure rises and falls without a reload while a chat streams (EN + 中文)", async () => {
    /** A long message: the demo reply echoes it token by token (15 ms each), so the stream lasts several seconds. */
    const longChat = (words: number) => {
      const ac = new AbortController();
      const started = fetch(`${srv.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: "Bearer sk-ds2api-demo", "content-type": "application/json" },
        body: JSON.stringify({ model: "deepseek-v4-flash", stream: true, messages: [{ role: "user", content: Array.from({ length: words }, (_, i) => `word${i}`).join(" ") }] }),
        signal: ac.signal,
      });
      const done = started.then((r) => r.text()).catch(() => "");
      return { stop: () => ac.abort(), done };
    };
    const inUse = () => textOf('[data-stat="in_use"]');
    for (const lang of ["en", "zh"] as const) {
      await go("dashboard");
      if (lang === "zh") await page.click("#lang-switch");
      await page.waitForSelector('#dash-live[data-live="1"]');
      expect(await textOf("#dash-live")).toBe(lang === "en" ? "Live" : "实时");
      await page.waitForFunction(() => document.querySelector('[data-stat="in_use"]')?.textContent === "0");
      // The page is not reloaded from here on: only the event stream can change the figure.
      await page.evaluate(() => ((window as unknown as { __sameDashboard: boolean }).__sameDashboard = true));
      const chat = longChat(2000);
      try {
        await page.waitForFunction(() => document.querySelector('[data-stat="in_use"]')?.textContent === "1", null, { timeout: 30_000 });
        expect(Number(await textOf('[data-stat="rate"]'))).toBeGreaterThanOrEqual(1);
        // The account serving it is named.
        await page.waitForSelector("#dash-busy:not([hidden])");
        expect(await textOf("#dash-busy")).toBe(`${lang === "en" ? "Serving now:" : "正在服务："} ${DEMO_ACCOUNT}`);
        await shot(`live-dashboard-${lang}`);
      } finally {
        chat.stop();
        await chat.done;
      }
      await page.waitForFunction(() => document.querySelector('[data-stat="in_use"]')?.textContent === "0", null, { timeout: 30_000 });
      expect(await page.evaluate(() => (window as unknown as { __sameDashboard?: boolean }).__sameDashboard)).toBe(true);
      expect(await inUse()).toBe("0");
      await page.waitForSelector("#dash-busy", { state: "hidden" });
      if (lang === "zh") await page.click("#lang-switch");
    }
  }, 90_000);

  const BULK = 300;
  const bulkIds = Array.from({ length: BULK }, (_, i) => `live-bulk-${i}@example.com`);
  test(`import/export: a bulk import of ${BULK} accounts runs as a job with a progress bar that reaches the end and is shown again on return (EN + 中文)`, async () => {
    await go("transfer");
    await page.fill("#xfer-bulk-text", [...bulkIds.map((id, i) => `${id}:pw-${i}`), "not an account"].join("\n"));
    await page.click("#xfer-bulk-submit");
    await page.waitForSelector("#xfer-bulk-progress");
    await page.waitForSelector('#xfer-bulk-progress[data-state="succeeded"]', { timeout: 30_000 });
    const bar = page.locator("#xfer-bulk-progress");
    expect(await bar.getAttribute("data-done")).toBe(String(BULK + 1));
    expect(await bar.getAttribute("data-total")).toBe(String(BULK + 1));
    expect(await page.locator("#xfer-bulk-progress progress").evaluate((p) => (p as HTMLProgressElement).value === (p as HTMLProgressElement).max)).toBe(true);
    await page.waitForSelector("#xfer-bulk-done");
    expect(await textOf("#xfer-bulk-done")).toBe(`Imported ${BULK}, updated 0, 1 lines not imported`);
    expect(await textOf("#xfer-bulk-progress .job-text")).toBe(`Finished: ${BULK + 1} / ${BULK + 1} — ${BULK} ok, 1 failed`);
    const jobId = await bar.getAttribute("data-job-id");
    expect(jobId).toMatch(/^job_/);
    await shot("live-bulk-import-en");
    // Leave and come back: the same job, finished, with its result.
    await go("dashboard");
    await go("transfer");
    await page.waitForSelector(`#xfer-bulk-progress[data-job-id="${jobId}"][data-state="succeeded"]`);
    await page.waitForSelector("#xfer-bulk-done");
    await page.click("#lang-switch");
    await page.waitForSelector(`#xfer-bulk-progress[data-job-id="${jobId}"]`);
    await page.waitForSelector("#xfer-bulk-done");
    expect(await textOf("#xfer-bulk-done")).toBe(`已导入 ${BULK} 个，更新 0 个，1 行未导入`);
    expect(await textOf("#xfer-bulk-progress .job-text")).toContain(`成功 ${BULK}，失败 1`);
    await shot("live-bulk-import-zh");
    await page.click("#lang-switch");
  }, 60_000);

  test(`accounts: test all runs as a job — the progress bar appears, reaches the end, and is there again after leaving, after a reload (EN + 中文)`, async () => {
    const total = (await (await admin("GET", "/admin/queue/status")).json()) as { total: number };
    expect(total.total).toBeGreaterThanOrEqual(BULK + 1);
    const before = (await (await admin("GET", "/admin/jobs?kind=accounts.test_all")).json()) as { items: { id: string }[] };
    await go("accounts");
    await page.click("#acc-test-all");
    // A new job (not the one an earlier test ran) is shown and followed to its end.
    await page.waitForFunction((old) => {
      const el = document.querySelector("#acc-test-progress") as HTMLElement | null;
      return !!el?.dataset.jobId && !old.includes(el.dataset.jobId);
    }, before.items.map((j) => j.id));
    const bar = page.locator("#acc-test-progress");
    const jobId = await bar.getAttribute("data-job-id");
    await page.waitForSelector('#acc-test-progress[data-state="succeeded"]', { timeout: 60_000 });
    expect(await bar.getAttribute("data-done")).toBe(String(total.total));
    expect(await bar.getAttribute("data-total")).toBe(String(total.total));
    await page.waitForSelector("#acc-test-results .strong");
    expect(await textOf("#acc-test-results .strong")).toBe(`Test results: 1 passed, ${total.total - 1} failed`);
    await shot("live-test-all-en");
    // Leave and come back, then reload: the same job, at its end.
    await go("dashboard");
    await go("accounts");
    await page.waitForSelector(`#acc-test-progress[data-job-id="${jobId}"][data-state="succeeded"]`);
    await page.waitForSelector("#acc-test-results .strong");
    await page.reload();
    await page.waitForSelector(`#acc-test-progress[data-job-id="${jobId}"][data-done="${total.total}"]`);
    await page.click("#lang-switch");
    await page.waitForSelector(`#acc-test-progress[data-job-id="${jobId}"]`);
    await page.waitForSelector("#acc-test-results .strong");
    expect(await textOf("#acc-test-results .strong")).toBe(`测试结果：1 个成功，${total.total - 1} 个失败`);
    expect(await textOf("#acc-test-progress .job-text")).toContain("已完成");
    await shot("live-test-all-zh");
    await page.click("#lang-switch");
    // The imported accounts go again, so the pages after this one see the two accounts of before.
    for (const id of bulkIds) expect((await admin("DELETE", `/admin/accounts/${encodeURIComponent(id)}`)).status).toBe(200);
    await go("dashboard");
  }, 120_000);

  test("settings: prompt markers, pacing jitter, session reuse and the delayed deletion are set through the page, read back, and cleared", async () => {
    type Got = {
      pacing: Record<string, unknown>;
      auto_delete: Record<string, unknown>;
      prompt: Record<string, unknown>;
      prompt_effective: { markers: string };
    };
    const adminGet = () => settingsGet<Got>();
    const save = saveSettings;
    await go("settings");
    await page.waitForSelector("#set-human");
    // Nothing stored: empty fields with the defaults as placeholders, reuse off, markers at the default (native).
    expect(await page.inputValue("#set-jitter_percent")).toBe("");
    expect(await page.getAttribute("#set-jitter_percent", "placeholder")).toBe("25");
    expect(await page.isChecked("#set-session-reuse")).toBe(false);
    expect(await page.getAttribute("#set-auto_delete_delay_seconds", "placeholder")).toBe("60");
    expect(await page.getAttribute("#set-auto_delete_batch_size", "placeholder")).toBe("10");
    expect(await page.inputValue("#set-prompt-markers")).toBe("");
    expect(await textOf("#set-prompt-markers option:checked")).toContain("native");
    // Units and what 0 / empty mean are in the help lines.
    expect(await textOf("label:has(#set-jitter_percent) .hint")).toContain("never below the minimum");
    expect(await textOf("label:has(#set-auto_delete_delay_seconds) .hint")).toContain("0 = right after the turn");

    await page.fill("#set-jitter_percent", "40");
    await page.check("#set-session-reuse");
    await page.fill("#set-session_reuse_max_turns", "3");
    await page.fill("#set-session_reuse_idle_seconds", "120");
    await page.fill("#set-auto_delete_delay_seconds", "0");
    await page.fill("#set-auto_delete_batch_size", "5");
    await page.selectOption("#set-prompt-markers", "plain");
    await save();
    let got = await adminGet();
    expect(got.pacing).toEqual({ jitter_percent: 40, session_reuse: true, session_reuse_max_turns: 3, session_reuse_idle_seconds: 120 });
    expect(got.auto_delete).toMatchObject({ delay_seconds: 0, batch_size: 5 });
    expect(got.prompt).toEqual({ markers: "plain" });
    expect(got.prompt_effective.markers).toBe("plain");
    await page.reload();
    await page.waitForSelector("#set-human");
    expect(await page.inputValue("#set-jitter_percent")).toBe("40");
    expect(await page.inputValue("#set-auto_delete_delay_seconds")).toBe("0");
    expect(await page.isChecked("#set-session-reuse")).toBe(true);
    expect(await page.inputValue("#set-prompt-markers")).toBe("plain");

    await page.click("#lang-switch");
    await page.waitForSelector("#set-human");
    expect(await textOf("#set-human h3")).toBe("拟人流量（pacing）");
    expect(await textOf("#set-prompt h3")).toBe("提示词角色标记（prompt.markers）");
    await shot("06e-settings-human-pacing-zh");
    await page.click("#lang-switch");
    await page.waitForSelector("#set-human");

    // Emptied and unchecked: back to the defaults for the tests after this one.
    for (const id of ["jitter_percent", "session_reuse_max_turns", "session_reuse_idle_seconds", "auto_delete_delay_seconds", "auto_delete_batch_size"]) await page.fill(`#set-${id}`, "");
    await page.uncheck("#set-session-reuse");
    await page.selectOption("#set-prompt-markers", "");
    await save();
    got = await adminGet();
    expect(got.pacing).toEqual({ session_reuse: false });
    expect(got.auto_delete.delay_seconds).toBeUndefined();
    expect(got.auto_delete.batch_size).toBeUndefined();
    expect(got.prompt).toEqual({});
    expect(got.prompt_effective.markers).toBe("native");
  }, 60_000);

  test("settings: the TLS profile is chosen on the page, reaches the transport, and goes back to the default (EN + 中文)", async () => {
    type Got = { upstream: { tls_profile: string | null; tls: { requested: string; in_use: string; impersonates?: string } | null } };
    const adminGet = () => settingsGet<Got>();
    const save = saveSettings;
    await go("settings");
    await page.waitForSelector("#set-tls-profile");
    // Nothing stored: the default (okhttp, the Android app's client) is in use and said so.
    expect(await page.inputValue("#set-tls-profile")).toBe("");
    expect(await textOf("#set-tls-profile option:checked")).toContain("okhttp");
    const before = await adminGet();
    expect(before.upstream.tls?.in_use).toBe("okhttp");
    expect(await textOf("#set-tls-in-use")).toContain(`In use now: okhttp (presents ${before.upstream.tls?.impersonates})`);
    await page.selectOption("#set-tls-profile", "chrome");
    await save();
    let got = await adminGet();
    expect(got.upstream.tls_profile).toBe("chrome");
    expect(got.upstream.tls?.in_use).toBe("chrome");
    await page.reload();
    await page.waitForSelector("#set-tls-profile");
    expect(await page.inputValue("#set-tls-profile")).toBe("chrome");
    expect(await textOf("#set-tls-in-use")).toContain("In use now: chrome");
    await page.click("#lang-switch");
    await page.waitForSelector("#set-tls-profile");
    expect(await textOf("label:has(#set-tls-profile) .field-label")).toBe("TLS 指纹（upstream.tls_profile）");
    expect(await textOf("#set-tls-in-use")).toContain("当前使用：chrome");
    await shot("06f-settings-tls-profile-zh");
    await page.click("#lang-switch");
    await page.waitForSelector("#set-tls-profile");
    await page.selectOption("#set-tls-profile", "");
    await save();
    got = await adminGet();
    expect(got.upstream.tls_profile).toBeNull();
    expect(got.upstream.tls?.in_use).toBe("okhttp");
  }, 60_000);

  test("a rejected or expired session goes back to the login page", async () => {
    const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const future = Math.floor(Date.now() / 1000) + 3600;
    // A well-formed but forged token: the server answers 401 and the console ends the session.
    await page.evaluate((tok) => localStorage.setItem("ds2api.admin.token", tok), `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ role: "admin", exp: future })}.forged`);
    // The accounts page may or may not render before its first API call is refused, so wait for the login form only.
    await page.goto(`${srv.url}/admin/#/accounts`);
    await page.waitForSelector("#login-key");
    expect(await textOf(".login-card .form-error")).toBe("Your session ended. Please sign in again.");
    expect(await page.evaluate(() => localStorage.getItem("ds2api.admin.token"))).toBeNull();
    // An expired token is dropped before any call.
    await page.evaluate((tok) => localStorage.setItem("ds2api.admin.token", tok), `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ role: "admin", exp: 1000 })}.old`);
    await page.reload();
    await page.waitForSelector("#login-key");
    expect(await page.evaluate(() => localStorage.getItem("ds2api.admin.token"))).toBeNull();
  }, 30_000);

  test("no script errors on any page", () => {
    expect(pageErrors).toEqual([]);
  });
});
