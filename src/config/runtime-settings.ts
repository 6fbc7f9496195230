/**
 * Operator-tunable settings kept in sqlite (`settings` table) and mirrored by the `runtime`,
 * `responses`, … sections of a ds2api config.json. One typed object, with defaults and bounds.
 */
import { Type, type Static } from "@sinclair/typebox";

export const ClientIdentitySchema = Type.Object({
  app_name: Type.String({ minLength: 1, default: "DeepSeek" }),
  version: Type.String({ minLength: 1, default: "2.0.4" }),
  platform: Type.String({ minLength: 1, default: "android" }),
  api_level: Type.String({ minLength: 1, default: "35" }),
  locale: Type.String({ minLength: 1, default: "zh_CN" }),
});
export type ClientIdentitySettings = Static<typeof ClientIdentitySchema>;

export interface RuntimeSettings {
  /** 0 = use env / default. */
  account_max_inflight: number;
  account_max_queue: number;
  global_max_inflight: number;
  token_refresh_interval_hours: number;
}

/** Numeric bounds from api-surface.md §13.3; 0 always means "not set". */
export const RUNTIME_BOUNDS: Record<keyof RuntimeSettings, [number, number]> = {
  account_max_inflight: [1, 256],
  account_max_queue: [1, 200000],
  global_max_inflight: [1, 200000],
  token_refresh_interval_hours: [1, 720],
};

export const DEFAULT_CLIENT_IDENTITY: ClientIdentitySettings = {
  app_name: "DeepSeek",
  version: "2.0.4",
  platform: "android",
  api_level: "35",
  locale: "zh_CN",
};

export const AUTO_DELETE_MODES = ["none", "single", "all"] as const;
export const EMBEDDING_PROVIDERS = ["mock", "deterministic", "builtin"] as const;
