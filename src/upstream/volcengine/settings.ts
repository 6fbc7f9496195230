/**
 * The effective Volcengine settings: stored (config.json `volcengine` section / admin) win over the
 * environment, which wins over the defaults — the same order as every other ds2api setting. Pure: the caller
 * hands in the stored value (`provider.volcengine.settings`) from its in-memory settings view, so a request never
 * waits on the store for it.
 */
import { DEFAULT_VOLCENGINE_API_URL, type VolcengineEnv, type VolcengineStoredSettings } from "../../config/volcengine-config.ts";
import type { BodyStyle } from "./body-template.ts";

export interface VolcengineSettings {
  apiUrl: string;
  /** The global authorization (an entry's own wins). */
  authorization?: string;
  /** Global cap per web id; 0 = unlimited. */
  maxUsage: number;
  dailyReset: boolean;
  bodyStyle: BodyStyle;
}

export function resolveVolcengineSettings(stored: VolcengineStoredSettings | undefined, env: VolcengineEnv): VolcengineSettings {
  const s = stored ?? {};
  return {
    apiUrl: s.api_url || env.apiUrl || DEFAULT_VOLCENGINE_API_URL,
    authorization: s.authorization || env.authorization,
    maxUsage: s.max_usage ?? 0,
    dailyReset: s.daily_reset === true,
    bodyStyle: s.body_style ?? "console",
  };
}

/** The day a daily reset belongs to: the console's quota day is assumed to follow Beijing time (UTC+8). */
export function resetDay(now: number): number {
  return Math.floor((now + 8 * 3_600_000) / 86_400_000);
}

/** Seconds until the next daily reset (00:00 Beijing time). */
export function secondsToNextReset(now: number): number {
  const next = (resetDay(now) + 1) * 86_400_000 - 8 * 3_600_000;
  return Math.max(1, Math.ceil((next - now) / 1000));
}
