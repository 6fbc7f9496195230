/**
 * The console's Accounts page and device ids, in headless Chromium against `--simulate` (run from source; logs in
 * itself): a device id given when adding an account is shown; a device DeepSeek refuses shows the "Device refused"
 * badge with the fix, which the row's device editor then applies; a muted account shows "Muted" with its recheck.
 * The simulator's magic accounts (src/sim/state.ts) produce both answers.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { adminCaller, chromiumOrFailingTest, signIn, startSimulatedConsole, type ConsoleBrowser, type SimulatedConsole } from "./support/console-browser.ts";
import type { SpawnedServer } from "./support/spawn-server.ts";

const CHROMIUM = chromiumOrFailingTest();
const ADMIN_KEY = "console-devices-test-admin-key";
/** The device id the simulator's `risk-device…@` accounts accept (MAGIC_CAPTURED_DEVICE). */
const CAPTURED = "captured-device";

let run: SimulatedConsole;
let srv: SpawnedServer;
let browser: ConsoleBrowser;
let page: Page;
let pageErrors: string[] = [];

const admin = adminCaller(() => srv.url, ADMIN_KEY);
const accountOf = async (id: string) =>
  ((await (await admin("GET", `/admin/accounts?q=${encodeURIComponent(id)}`)).json()) as { items: { identifier: string; device_id: string; status: string }[] }).items.find((a) => a.identifier === id)!;

beforeAll(async () => {
  if (CHROMIUM === undefined) return;
  run = await startSimulatedConsole(CHROMIUM, "console-devices", ADMIN_KEY);
  ({ srv, browser } = run);
  ({ page, pageErrors } = browser);
}, 120_000);

afterAll(() => run?.stop());

if (CHROMIUM !== undefined) describe("console: device ids and DeepSeek's account states", () => {
  test("log in and add accounts, one with its own device id", async () => {
    await signIn(page, srv.url, ADMIN_KEY);
    await page.goto(`${srv.url}/admin/#/accounts`);
    await page.waitForSelector("#acc-table");
    const add = async (id: string, device?: string) => {
      await page.fill("#acc-add-id", id);
      await page.fill("#acc-add-password", "any-password");
      if (device) await page.fill("#acc-add-device", device);
      await page.click("#acc-add-form button[type=submit]");
      await page.locator(`#acc-table tr[data-account="${id}"]`).waitFor();
    };
    await add("phone@demo.local", "phone-device-1234");
    await add("risk-device@demo.local");
    await add("muted@demo.local");
    expect(await page.locator('#acc-table tr[data-account="phone@demo.local"] [data-field="device"]').textContent()).toBe("phone-device-1234");
    // Without one, the account got its own random id, shown in its row.
    const generated = (await accountOf("risk-device@demo.local")).device_id;
    expect(generated).toMatch(/^[0-9a-f]{16}$/);
    expect(await page.locator('#acc-table tr[data-account="risk-device@demo.local"] [data-field="device"]').textContent()).toBe(generated);
  }, 60_000);

  test("a refused device: badge and fix shown; the row's editor sets the captured id and a re-test clears it", async () => {
    const row = page.locator('#acc-table tr[data-account="risk-device@demo.local"]');
    await row.locator('[data-action="test"]').click();
    await row.locator('[data-hint="risk_device"]').waitFor({ timeout: 30_000 });
    expect(await row.locator(".badge").textContent()).toBe("Device refused");
    expect(await row.locator('[data-hint="risk_device"]').textContent()).toContain("captured from a real login");
    expect((await accountOf("risk-device@demo.local")).status).toBe("risk_device");

    await row.locator('[data-action="device-edit"]').click();
    await row.locator('[data-field="device-input"]').fill(CAPTURED);
    await row.locator('[data-action="device-save"]').click();
    await page.waitForFunction((want) => document.querySelector('#acc-table tr[data-account="risk-device@demo.local"] [data-field="device"]')?.textContent === want, CAPTURED);
    // The new id ends the state at once; the re-test passes with it.
    expect(await row.locator(".badge").textContent()).toBe("OK");
    await row.locator('[data-action="test"]').click();
    await row.locator('[data-test-result="ok"]').waitFor({ timeout: 30_000 });
    expect((await accountOf("risk-device@demo.local")).device_id).toBe(CAPTURED);
  }, 60_000);

  test("a muted account: badge and 'wait' hint with its recheck time; 'New random' gives another id", async () => {
    const row = page.locator('#acc-table tr[data-account="muted@demo.local"]');
    await row.locator('[data-action="test"]').click();
    await row.locator('[data-hint="muted"]').waitFor({ timeout: 30_000 });
    expect(await row.locator(".badge").textContent()).toBe("Muted");
    expect(await row.locator('[data-hint="muted"]').textContent()).toContain("wait");
    expect((await accountOf("muted@demo.local")).status).toBe("muted");

    const before = (await accountOf("muted@demo.local")).device_id;
    await row.locator('[data-action="device-edit"]').click();
    await row.locator('[data-action="device-new"]').click();
    await page.waitForFunction(
      (old) => {
        const t = document.querySelector('#acc-table tr[data-account="muted@demo.local"] [data-field="device"]')?.textContent;
        return !!t && t !== old && t !== "—";
      },
      before,
    );
    const after = (await accountOf("muted@demo.local")).device_id;
    expect(after).not.toBe(before);
    // A new device does not lift a mute: that is DeepSeek's to end.
    expect((await accountOf("muted@demo.local")).status).toBe("muted");
    await browser.shot("accounts-device-states");
  }, 60_000);

  test("a bad device id is refused with a readable message, and no script errors happened", async () => {
    const row = page.locator('#acc-table tr[data-account="phone@demo.local"]');
    await row.locator('[data-action="device-edit"]').click();
    await row.locator('[data-field="device-input"]').fill("deepseek_to_api");
    await row.locator('[data-action="device-save"]').click();
    await page.locator(".toast").filter({ hasText: "shared constant" }).first().waitFor();
    expect((await accountOf("phone@demo.local")).device_id).toBe("phone-device-1234");
    expect(pageErrors).toEqual([]);
  }, 30_000);
});
