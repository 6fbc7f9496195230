/**
 * Which hosts an attachment URL may point at. A caller's image URL is fetched by this server, so without a guard
 * an API key could make it read internal services (cloud metadata, admin panels, this server's own admin API).
 * Loopback, private, link-local, unique-local, CGNAT, multicast and unspecified addresses are refused unless
 * DS2API_ALLOW_PRIVATE_ATTACHMENT_URLS is set; every address a name resolves to is checked, and so is every
 * redirect hop (the fetch follows redirects itself only after this check).
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { HttpError } from "../http-error.ts";

function v4Private(ip: string): boolean {
  const [a, b] = ip.split(".").map(Number) as [number, number];
  return (
    a === 0 || a === 10 || a === 127 || a >= 224 ||
    (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19))
  );
}

/** True for addresses that are not on the public internet. */
export function isPrivateAddress(ip: string): boolean {
  const v = isIP(ip);
  if (v === 4) return v4Private(ip);
  if (v !== 6) return true;
  const lower = ip.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return v4Private(mapped[1]!);
  return lower === "::" || lower === "::1" || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower) || lower.startsWith("ff");
}

/** Refuses a URL whose host is, or resolves to, a non-public address (unless private hosts are allowed). */
export async function checkAttachmentHost(url: URL, what: string, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true })).map((a) => a.address);
    } catch {
      throw new HttpError(400, `${what} could not be fetched: its host does not resolve`, "attachment_fetch_failed");
    }
  }
  if (addresses.length === 0 || addresses.some(isPrivateAddress)) {
    throw new HttpError(400, `${what} points at a private or local address, which this server does not fetch (DS2API_ALLOW_PRIVATE_ATTACHMENT_URLS=true allows it)`, "attachment_url_refused");
  }
}
