/**
 * The upstream TLS profile names (`upstream.tls_profile`, `DS2API_TLS_PROFILE`), in one place for the options,
 * the config.json check, the admin schema and the transport (src/upstream/transport/tls-profile.ts).
 */
export const TLS_PROFILES = ["okhttp", "safari", "chrome", "firefox", "plain"] as const;
export type TlsProfile = (typeof TLS_PROFILES)[number];

export function isTlsProfile(v: unknown): v is TlsProfile {
  return typeof v === "string" && (TLS_PROFILES as readonly string[]).includes(v);
}
