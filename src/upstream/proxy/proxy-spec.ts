/**
 * What the proxy layer needs to know about a configured proxy: a fingerprint (to rebuild clients and
 * bridges when it changes), a printable form without credentials, the URL Bun's fetch takes for HTTP
 * proxies, and scrubbing of proxy credentials from error text.
 */
import type { ConfigProxy } from "../../config/ds2api-config.ts";

export type { ConfigProxy, ProxyType } from "../../config/ds2api-config.ts";

export const isSocksProxy = (p: Pick<ConfigProxy, "type">): boolean => p.type === "socks5" || p.type === "socks5h";

/** Changes whenever anything that affects the connection changes (the password included, hashed). */
export function proxyFingerprint(p: ConfigProxy): string {
  return new Bun.CryptoHasher("sha256").update(JSON.stringify([p.type, p.host, p.port, p.username ?? "", p.password ?? ""])).digest("hex").slice(0, 24);
}

/** `socks5://host:port` — safe for logs and messages (no credentials). */
export function describeProxy(p: Pick<ConfigProxy, "type" | "host" | "port">): string {
  return `${p.type}://${hostForUrl(p.host)}:${p.port}`;
}

export function hostForUrl(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** The `proxy` option for Bun's fetch of an http/https proxy, credentials URL-encoded. */
export function httpProxyUrl(p: ConfigProxy): string {
  const auth = p.username ? `${encodeURIComponent(p.username)}${p.password ? `:${encodeURIComponent(p.password)}` : ""}@` : "";
  return `${p.type}://${auth}${hostForUrl(p.host)}:${p.port}`;
}

/** Remove proxy credentials (raw and URL-encoded) and any `user:pass@` URL part from text meant for errors or logs. */
export function scrubProxySecrets(text: string, p?: Pick<ConfigProxy, "username" | "password">): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, "$1***@");
  for (const s of [p?.password, p?.password && encodeURIComponent(p.password)]) {
    if (s && s.length >= 3) out = out.split(s).join("***");
  }
  return out;
}
