/**
 * The TLS profiles an upstream call can present: a real client's ClientHello (cipher suites, extensions,
 * groups, ALPN) through the native transport, or `plain` (Bun's own TLS). `okhttp` is the default because
 * the DeepSeek identity the gateway claims is the Android app, which speaks through OkHttp.
 */

import { isTlsProfile, type TlsProfile } from "../../config/tls-profile-names.ts";

export { isTlsProfile, TLS_PROFILES, type TlsProfile } from "../../config/tls-profile-names.ts";
/** A profile the native transport serves (everything but `plain`). */
export type NativeTlsProfile = Exclude<TlsProfile, "plain">;

/** Matches the claimed identity: the DeepSeek Android app → OkHttp. */
export const DEFAULT_TLS_PROFILE: TlsProfile = "okhttp";

/**
 * The impit browser each profile impersonates. Pinned versions, so the user agents in the identity headers
 * (src/upstream/deepseek/identity.ts, src/upstream/volcengine/headers.ts) name the same browser release.
 */
export const IMPIT_BROWSER: Readonly<Record<NativeTlsProfile, "okhttp4" | "ios18" | "chrome142" | "firefox144">> = Object.freeze({
  okhttp: "okhttp4",
  safari: "ios18",
  chrome: "chrome142",
  firefox: "firefox144",
});

/** A profile from a setting or env value (trimmed, case-insensitive); undefined when empty or unknown. */
export function parseTlsProfile(v: unknown): TlsProfile | undefined {
  if (typeof v !== "string") return undefined;
  const s = v.trim().toLowerCase();
  return isTlsProfile(s) ? s : undefined;
}

/** Stored setting, else env, else the default. An unknown env value is reported by the caller (options). */
export function resolveTlsProfile(stored: unknown, env: string | undefined, fallback: TlsProfile = DEFAULT_TLS_PROFILE): TlsProfile {
  return parseTlsProfile(stored) ?? parseTlsProfile(env) ?? fallback;
}
