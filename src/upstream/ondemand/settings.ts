/**
 * OnDemand settings, read on every use so admin changes apply at once: the `ondemand` section (config.json /
 * admin) wins over the environment (ONDEMAND_API_BASE), which wins over the defaults. Turn limits (header / idle /
 * turn timeouts, key attempts, queue wait) are the runtime settings every provider shares.
 */
import { resolveTurnLimits, type TurnLimits } from "../../config/runtime-settings.ts";
import type { LiveSettings } from "../../config/live-settings.ts";
import type { ServerOptions } from "../../config/options.ts";
import { DEFAULT_ONDEMAND_API_BASE } from "./client.ts";

export interface OnDemandSection {
  api_base?: string;
  models?: Record<string, string>;
  response_mode?: "stream" | "sync";
  session_ttl_seconds?: number;
  cooldown_seconds?: number;
  bad_key_probe_seconds?: number;
}

export const ONDEMAND_SETTINGS_SECTION = "ondemand";

export class OnDemandSettings {
  constructor(
    private readonly settings: LiveSettings,
    private readonly options: Pick<ServerOptions, "turnLimits" | "ondemandApiBase">,
  ) {}

  section(): Partial<OnDemandSection> {
    return this.settings.section<OnDemandSection>(ONDEMAND_SETTINGS_SECTION);
  }

  apiBase(): string {
    return this.section().api_base || this.options.ondemandApiBase || DEFAULT_ONDEMAND_API_BASE;
  }

  modelOverrides(): Record<string, string> | undefined {
    return this.section().models;
  }

  /** "stream" (default: bounded by the idle limit) or "sync". */
  responseMode(): "stream" | "sync" {
    return this.section().response_mode === "sync" ? "sync" : "stream";
  }

  /** Idle TTL of a key's session (default 600 s, as the Go adapter; 0 = a new session per request). */
  sessionTtlMs(): number {
    const v = this.section().session_ttl_seconds;
    return (typeof v === "number" && v >= 0 ? v : 600) * 1000;
  }

  cooldownMs(): number {
    const v = this.section().cooldown_seconds;
    return (typeof v === "number" && v > 0 ? v : 60) * 1000;
  }

  badKeyProbeMs(): number {
    const v = this.section().bad_key_probe_seconds;
    return (typeof v === "number" && v > 0 ? v : 60) * 1000;
  }

  turnLimits(): TurnLimits {
    return resolveTurnLimits(this.settings.runtime(), this.options.turnLimits);
  }
}
