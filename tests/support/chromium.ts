/** Where the console browser test finds Chromium, and the one line it prints when there is none. */
import { existsSync } from "node:fs";

export interface ChromiumLookup {
  path?: string;
  /** Set when no usable Chromium was found: one line naming what to install. */
  missing?: string;
}

const INSTALL = "apt-get install chromium (Debian/Ubuntu; .ci/run does this) or set CHROMIUM_PATH";

/** CHROMIUM_PATH when set, else `chromium` / `chromium-browser` on PATH. */
export function findChromium(env: Record<string, string | undefined> = process.env): ChromiumLookup {
  const explicit = env.CHROMIUM_PATH;
  if (explicit) {
    if (existsSync(explicit)) return { path: explicit };
    return { missing: `console browser test needs Chromium: CHROMIUM_PATH=${explicit} does not exist; ${INSTALL}` };
  }
  const path = Bun.which("chromium", { PATH: env.PATH ?? "" }) ?? Bun.which("chromium-browser", { PATH: env.PATH ?? "" });
  if (path) return { path };
  return { missing: `console browser test needs Chromium (not found on PATH): ${INSTALL}` };
}
