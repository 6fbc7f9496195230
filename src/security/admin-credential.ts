/** One throttled check of a raw admin credential (login body, bearer admin key, /metrics bearer). */
import type { AdminKey } from "./admin-key.ts";
import type { LoginLimiter } from "./login-limiter.ts";

export type CredentialCheck = { ok: true } | { ok: false; throttled: false } | { ok: false; throttled: true; retryAfterSeconds: number };

export async function checkAdminCredential(limiter: LoginLimiter, adminKey: Pick<AdminKey, "verify">, address: string, candidate: string | undefined | null): Promise<CredentialCheck> {
  const admission = await limiter.admit(address);
  if (!admission.ok) return { ok: false, throttled: true, retryAfterSeconds: admission.retryAfterSeconds };
  let ok = false;
  try {
    ok = await adminKey.verify(candidate);
  } finally {
    admission.done(ok);
  }
  return ok ? { ok: true } : { ok: false, throttled: false };
}

export function throttledMessage(seconds: number): string {
  return `too many failed admin credential attempts from this address; try again in ${seconds} s`;
}
