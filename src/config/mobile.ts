/**
 * Mobile number forms. The config identifier follows the Go ds2api (§13.2 of api-surface.md);
 * the login body follows upstream-protocol.md §2.1.
 */

/** Canonical identifier form: `+86…` for mainland numbers, `+<digits>` otherwise, "" when there are no digits. */
export function canonicalMobile(raw: string): string {
  const digits = raw.replace(/\D/g, "");
  if (!digits) return "";
  if (raw.trim().startsWith("+")) return `+${digits}`;
  if (/^1[3-9]\d{9}$/.test(digits)) return `+86${digits}`;
  if (/^861[3-9]\d{9}$/.test(digits)) return `+${digits}`;
  return `+${digits}`;
}

/** The `mobile` value sent to DeepSeek's login: digits only, a mainland `86` country prefix dropped. */
export function loginMobile(raw: string): string {
  const digits = raw.replace(/\D/g, "");
  if (digits.length === 13 && digits.startsWith("86")) return digits.slice(2);
  return digits;
}
