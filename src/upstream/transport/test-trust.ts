/**
 * Test-only certificate trust: with BOTH `DS2API_TEST_MODE=1` and `DS2API_UPSTREAM_TLS_INSECURE_LOOPBACK=1`,
 * upstream calls to a loopback host (localhost, 127.0.0.0/8, ::1) accept any certificate, so tests can point
 * the gateway at a local TLS server with a self-signed certificate. Calls to any other host keep full
 * verification whatever the environment says: the switch cannot weaken a real upstream connection.
 */

export const TEST_MODE_ENV = "DS2API_TEST_MODE";
export const LOOPBACK_TRUST_ENV = "DS2API_UPSTREAM_TLS_INSECURE_LOOPBACK";

export function loopbackTrustEnabled(env: Record<string, string | undefined> = process.env): boolean {
  return env[TEST_MODE_ENV] === "1" && env[LOOPBACK_TRUST_ENV] === "1";
}

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
