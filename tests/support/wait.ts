/** Waiting on conditions instead of the clock. */

/** How long a condition may take before the test gives up: generous, it only matters when the condition never comes. */
export const WAIT_MS = 30_000;

/** Polls `cond` every 10 ms until it holds; fails only if it never does within `timeoutMs`. */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number = WAIT_MS, what = "a condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/** `until` with the generous default bound: `await waitUntil(() => x === 1, "x to be 1")`. */
export function waitUntil(cond: () => boolean | Promise<boolean>, what = "a condition"): Promise<void> {
  return until(cond, WAIT_MS, what);
}
