/**
 * Settings that make the gateway's traffic look less like a machine and its prompts less like injected
 * template tokens (issue 13): `prompt.markers`, the `pacing` section (jitter on the per-account minimum
 * interval, chat-session reuse) and the delayed, batched deletion fields of `auto_delete`. Defaults and
 * bounds live here; config.json validation, the admin API and the engine read them from this one place.
 */
import { DEFAULT_PROMPT_MARKERS, isPromptMarkerStyle, PROMPT_MARKER_STYLES, type PromptMarkerStyle } from "../core/prompt/markers.ts";

export { PROMPT_MARKER_STYLES, type PromptMarkerStyle };

/** The `prompt` section. */
export interface PromptSection {
  markers?: string;
}

/** The `pacing` section as stored (snake_case as in config.json). */
export interface PacingSection {
  /** Each gap between two request starts on one account is min_interval_ms × (1 + random 0…jitter_percent %). */
  jitter_percent?: number;
  /** Send an account's next turn into its previous chat session (parent_message_id) instead of a new one. */
  session_reuse?: boolean;
  /** Turns one reused session may carry before a new one is opened. */
  session_reuse_max_turns?: number;
  /** A session idle longer than this is not reused (and is handed to auto_delete). */
  session_reuse_idle_seconds?: number;
}

/** The deletion fields of the `auto_delete` section (mode / sessions are in engine.ts). */
export interface AutoDeleteTiming {
  /** Seconds a used session waits before it is deleted; 0 = right after the turn (the Go behaviour). */
  delay_seconds?: number;
  /** Queued sessions of one account that make the deletion run at once, before the delay is over. */
  batch_size?: number;
}

export const PACING_DEFAULTS = { jitter_percent: 25, session_reuse: false, session_reuse_max_turns: 8, session_reuse_idle_seconds: 600 } as const;
export const AUTO_DELETE_DEFAULTS = { delay_seconds: 60, batch_size: 10 } as const;

export const PACING_BOUNDS = {
  jitter_percent: [0, 100],
  session_reuse_max_turns: [1, 100],
  session_reuse_idle_seconds: [10, 86_400],
} as const satisfies Record<string, readonly [number, number]>;
export const AUTO_DELETE_BOUNDS = { delay_seconds: [0, 86_400], batch_size: [1, 1000] } as const satisfies Record<string, readonly [number, number]>;

/** Stored setting, else the env value (DS2API_PROMPT_MARKERS), else native. */
export function resolvePromptMarkers(section: PromptSection, env: PromptMarkerStyle | undefined): PromptMarkerStyle {
  return isPromptMarkerStyle(section.markers) ? section.markers : env ?? DEFAULT_PROMPT_MARKERS;
}

export interface EffectivePacing {
  /** Fraction (0…1) of the minimum interval added at random to each gap. */
  jitterFraction: number;
  sessionReuse: boolean;
  sessionReuseMaxTurns: number;
  sessionReuseIdleMs: number;
}

function intIn(v: unknown, [min, max]: readonly [number, number], fallback: number): number {
  return typeof v === "number" && Number.isInteger(v) && v >= min && v <= max ? v : fallback;
}

export function resolvePacing(section: PacingSection): EffectivePacing {
  return {
    jitterFraction: intIn(section.jitter_percent, PACING_BOUNDS.jitter_percent, PACING_DEFAULTS.jitter_percent) / 100,
    sessionReuse: typeof section.session_reuse === "boolean" ? section.session_reuse : PACING_DEFAULTS.session_reuse,
    sessionReuseMaxTurns: intIn(section.session_reuse_max_turns, PACING_BOUNDS.session_reuse_max_turns, PACING_DEFAULTS.session_reuse_max_turns),
    sessionReuseIdleMs: intIn(section.session_reuse_idle_seconds, PACING_BOUNDS.session_reuse_idle_seconds, PACING_DEFAULTS.session_reuse_idle_seconds) * 1000,
  };
}

export interface EffectiveDeletion {
  delayMs: number;
  batchSize: number;
}

export function resolveDeletion(section: AutoDeleteTiming): EffectiveDeletion {
  return {
    delayMs: intIn(section.delay_seconds, AUTO_DELETE_BOUNDS.delay_seconds, AUTO_DELETE_DEFAULTS.delay_seconds) * 1000,
    batchSize: intIn(section.batch_size, AUTO_DELETE_BOUNDS.batch_size, AUTO_DELETE_DEFAULTS.batch_size),
  };
}

/** Problems of the `prompt`, `pacing` and `auto_delete` timing fields (config.json and admin writes). */
export function humanPacingProblems(name: string, value: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const int = (key: string, [min, max]: readonly [number, number]) => {
    const v = value[key];
    if (v === undefined || v === null) return;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) problems.push(`${name}.${key} must be an integer between ${min} and ${max}`);
  };
  if (name === "prompt") {
    if (value.markers !== undefined && value.markers !== null && value.markers !== "" && !isPromptMarkerStyle(value.markers)) {
      problems.push(`prompt.markers must be one of ${PROMPT_MARKER_STYLES.join(", ")}`);
    }
  } else if (name === "pacing") {
    for (const [k, b] of Object.entries(PACING_BOUNDS)) int(k, b);
    if (value.session_reuse !== undefined && value.session_reuse !== null && typeof value.session_reuse !== "boolean") problems.push("pacing.session_reuse must be a boolean");
  } else if (name === "auto_delete") {
    for (const [k, b] of Object.entries(AUTO_DELETE_BOUNDS)) int(k, b);
  }
  return problems;
}
