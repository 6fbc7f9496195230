/**
 * Change a stored setting of a running server the way the admin API does: write it through the async store,
 * publish `settings.changed`, and wait until the views (settings cache, providers) reloaded it.
 */
import type { AppContext } from "../../src/context.ts";

export async function setStoredSetting(ctx: Pick<AppContext, "store" | "changes">, key: string, value: unknown): Promise<void> {
  await ctx.store.settings.set(key, value);
  ctx.changes.publish({ topic: "settings.changed", ids: [key] });
  await ctx.changes.settled();
}
