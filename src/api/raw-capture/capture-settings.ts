/** The dev capture settings (§12.7): off by default; where raw samples go; how much is kept in memory. */
import { dirname, join, resolve } from "node:path";
import type { AppContext } from "../../context.ts";

export const DEV_CAPTURE_SECTION = "dev_capture";
export const CAPTURE_LIMIT = 20;
export const CAPTURE_MAX_BODY_BYTES = 5 * 1024 * 1024;

export interface DevCaptureSettings {
  enabled: boolean;
  /** Folder that receives one sub-folder per sample (`meta.json` + `upstream.stream.sse`). */
  sample_root: string;
  limit: number;
  max_body_bytes: number;
}

/** Samples go beside the sqlite file by default (its configured path, also when the store is elsewhere). */
export function devCaptureSettings(ctx: Pick<AppContext, "settings"> & { options: Pick<AppContext["options"], "dbPath"> }): DevCaptureSettings {
  const s = ctx.settings.section<{ enabled?: boolean; sample_root?: string }>(DEV_CAPTURE_SECTION);
  const root = s.sample_root?.trim() ? resolve(s.sample_root.trim()) : join(dirname(resolve(ctx.options.dbPath)), "raw_stream_samples");
  return { enabled: s.enabled === true, sample_root: root, limit: CAPTURE_LIMIT, max_body_bytes: CAPTURE_MAX_BODY_BYTES };
}
