/**
 * What every console browser test shares: headless Debian Chromium (playwright-core) with its own profile folder,
 * the screenshot folder (test-artifacts/console/, git-ignored), the two viewports, an admin API caller for setup
 * and checks, and the missing-Chromium test (one failing test naming what to install, never a silent skip).
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "bun:test";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { findChromium } from "./chromium.ts";
import { MARKER_VAR, runMarker } from "./processes.ts";
import { sourceCommand, spawnServer, type SpawnedServer } from "./spawn-server.ts";
import { repoRoot, tempDir } from "./test-server.ts";

export const SHOTS = join(repoRoot, "test-artifacts", "console");
export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

/** The Chromium to use, or undefined after registering the one failing test that says what to install. */
export function chromiumOrFailingTest(): string | undefined {
  const lookup = findChromium();
  if (lookup.missing !== undefined) {
    const missing = lookup.missing;
    test(missing, () => {
      throw new Error(missing);
    });
  }
  return lookup.path;
}

export interface ConsoleBrowser {
  context: BrowserContext;
  page: Page;
  /** Uncaught script errors of the page (a test ends by expecting none). */
  pageErrors: string[];
  /** A full-page screenshot into test-artifacts/console/<name>.png. */
  shot(name: string): Promise<Buffer>;
  /** Closes the browser and removes its profile folder. */
  close(): Promise<void>;
}

/** Starts headless Chromium on a fresh profile, desktop-sized, English, dialogs accepted. */
export async function launchConsoleBrowser(executablePath: string, name: string): Promise<ConsoleBrowser> {
  mkdirSync(SHOTS, { recursive: true });
  const profileDir = tempDir(`ds2api-${name}-profile-`);
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath,
    // The run marker lets the cleanup find the browser's processes if the test file never gets to close it.
    env: { ...process.env, [MARKER_VAR]: runMarker },
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: DESKTOP,
    locale: "en-US",
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("dialog", (d) => void d.accept());
  return {
    context,
    page,
    pageErrors,
    shot: (shotName) => page.screenshot({ path: join(SHOTS, `${shotName}.png`), fullPage: true }),
    async close() {
      await context.close();
      rmSync(profileDir, { recursive: true, force: true });
    },
  };
}

/** An admin API call with the admin key, against a server whose URL is known once it runs. */
export function adminCaller(url: () => string, adminKey: string) {
  return (method: string, path: string, body?: unknown) =>
    fetch(`${url()}${path}`, { method, headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
}

export interface SimulatedConsole {
  srv: SpawnedServer;
  /** The server's working folder (its data, raw samples, …). */
  dir: string;
  browser: ConsoleBrowser;
  /** Closes the browser, stops the server and removes its folder. */
  stop(): Promise<void>;
}

/** `ds2api --simulate` run from source in a fresh folder (admin key set, nothing generated), and a browser for it. */
export async function startSimulatedConsole(executablePath: string, name: string, adminKey: string): Promise<SimulatedConsole> {
  const runDir = tempDir(`ds2api-${name}-run-`);
  const srv = await spawnServer([...sourceCommand(), "--simulate", "--port", "0", "--host", "127.0.0.1"], { cwd: runDir, env: { DS2API_ADMIN_KEY: adminKey } });
  const browser = await launchConsoleBrowser(executablePath, name);
  return {
    srv,
    dir: runDir,
    browser,
    async stop() {
      await browser.close();
      await srv.stop();
      rmSync(runDir, { recursive: true, force: true });
    },
  };
}

/** Signs in on the login page with the admin key and waits for the dashboard. */
export async function signIn(page: Page, url: string, adminKey: string): Promise<void> {
  await page.goto(`${url}/admin`);
  await page.waitForSelector("#login-key");
  await page.fill("#login-key", adminKey);
  await page.click("form.login-card button[type=submit]");
  await page.waitForSelector('#page[data-page="dashboard"]');
}
