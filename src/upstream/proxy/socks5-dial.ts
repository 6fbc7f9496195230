/**
 * Opens a TCP connection to host:port through a SOCKS5 server (RFC 1928 CONNECT, no-auth or RFC 1929
 * username/password). `socks5h` sends the host name for the proxy to resolve; `socks5` resolves it here
 * and sends the address (as curl does). Errors name the proxy as type://host:port, never its credentials.
 */
import type { ConfigProxy } from "../../config/ds2api-config.ts";
import { ByteReader } from "./byte-reader.ts";
import { describeProxy } from "./proxy-spec.ts";
import { hookedHandlers, type HookedSocket, type SocketHooks } from "./socket-link.ts";

export type ProxyFailure = "connect" | "auth" | "refused" | "protocol" | "timeout" | "resolve";

export class ProxyDialError extends Error {
  constructor(readonly reason: ProxyFailure, message: string) {
    super(message);
    this.name = "ProxyDialError";
  }
}

const REPLY_TEXT: Record<number, string> = {
  1: "general SOCKS server failure",
  2: "connection not allowed by ruleset",
  3: "network unreachable",
  4: "host unreachable",
  5: "connection refused",
  6: "TTL expired",
  7: "command not supported",
  8: "address type not supported",
};

export interface DialResult {
  socket: HookedSocket;
  /** Bytes the target already sent after the SOCKS reply. */
  leftover: Uint8Array;
}

const enc = new TextEncoder();
const handlers = hookedHandlers();

/** The address part of a CONNECT request: ATYP + address. */
async function targetAddress(proxy: ConfigProxy, host: string): Promise<Uint8Array> {
  // node:net and node:dns cost ~25 ms to load: only when a SOCKS proxy is dialled, not at start.
  const { isIP } = await import("node:net");
  const { lookup } = await import("node:dns/promises");
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  let ip = isIP(bare) ? bare : "";
  if (!ip && proxy.type === "socks5") {
    try {
      ip = (await lookup(bare)).address;
    } catch {
      throw new ProxyDialError("resolve", `cannot resolve ${bare} for ${describeProxy(proxy)} (use socks5h to let the proxy resolve names)`);
    }
  }
  if (ip && isIP(ip) === 4) return Uint8Array.from([1, ...ip.split(".").map(Number)]);
  if (ip && isIP(ip) === 6) return Uint8Array.from([4, ...ipv6Bytes(ip)]);
  const name = enc.encode(bare);
  if (name.byteLength > 255) throw new ProxyDialError("protocol", `host name too long for SOCKS5: ${bare.slice(0, 40)}…`);
  return Uint8Array.from([3, name.byteLength, ...name]);
}

function ipv6Bytes(ip: string): number[] {
  let s = ip.split("%")[0]!;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const v4 = s.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split(".").map(Number) as [number, number, number, number];
    s = s.slice(0, -v4[1]!.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.includes("::") ? s.split("::") as [string, string] : [s, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.flatMap((g) => {
    const v = parseInt(g || "0", 16);
    return [v >> 8, v & 0xff];
  });
}

/** Connect to `host:port` through the SOCKS5 `proxy`. */
export async function dialSocks5(proxy: ConfigProxy, host: string, port: number, opts: { timeoutMs?: number } = {}): Promise<DialResult> {
  const where = describeProxy(proxy);
  const address = await targetAddress(proxy, host);
  const reader = new ByteReader();
  const hooks: SocketHooks = {
    onData: (c) => reader.push(c),
    onDrain() {},
    onClose: (e) => reader.fail(new ProxyDialError("connect", `${where} closed the connection during the handshake${e ? ` (${e.message})` : ""}`)),
  };
  let socket: HookedSocket;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProxyDialError("timeout", `${where} did not complete the SOCKS5 handshake within ${timeoutMs} ms`)), timeoutMs);
  });
  timedOut.catch(() => {});
  try {
    try {
      socket = await Promise.race([Bun.connect<SocketHooks>({ hostname: proxy.host, port: proxy.port, data: hooks, socket: handlers }), timedOut]);
    } catch (e) {
      if (e instanceof ProxyDialError) throw e;
      throw new ProxyDialError("connect", `cannot connect to ${where}: ${(e as Error)?.message ?? String(e)}`);
    }
    try {
      await Promise.race([handshake(socket, reader, proxy, address, port, where), timedOut]);
    } catch (e) {
      socket.terminate();
      throw e;
    }
  } finally {
    clearTimeout(timer);
  }
  return { socket, leftover: reader.rest() };
}

async function handshake(socket: HookedSocket, reader: ByteReader, proxy: ConfigProxy, address: Uint8Array, port: number, where: string): Promise<void> {
  const withAuth = !!proxy.username;
  socket.write(withAuth ? Uint8Array.from([5, 2, 0, 2]) : Uint8Array.from([5, 1, 0]));
  const [ver, method] = await reader.read(2);
  if (ver !== 5) throw new ProxyDialError("protocol", `${where} is not a SOCKS5 server`);
  if (method === 0xff) throw new ProxyDialError("auth", `${where} accepts none of the offered authentication methods${withAuth ? "" : " (it may need a username and password)"}`);
  if (method === 2) {
    if (!withAuth) throw new ProxyDialError("protocol", `${where} chose username/password authentication, which was not offered`);
    const user = enc.encode(proxy.username ?? "");
    const pass = enc.encode(proxy.password ?? "");
    if (user.byteLength > 255 || pass.byteLength > 255) throw new ProxyDialError("auth", `the username or password for ${where} is longer than SOCKS5 allows (255 bytes)`);
    socket.write(Uint8Array.from([1, user.byteLength, ...user, pass.byteLength, ...pass]));
    const [, status] = await reader.read(2);
    if (status !== 0) throw new ProxyDialError("auth", `${where} rejected the username/password`);
  } else if (method !== 0) throw new ProxyDialError("protocol", `${where} chose unsupported authentication method ${method}`);

  socket.write(Uint8Array.from([5, 1, 0, ...address, port >> 8, port & 0xff]));
  const [rver, rep, , atyp] = await reader.read(4);
  if (rver !== 5) throw new ProxyDialError("protocol", `${where} sent a malformed SOCKS5 reply`);
  if (rep !== 0) throw new ProxyDialError("refused", `${where}: ${REPLY_TEXT[rep!] ?? `SOCKS5 error ${rep}`}`);
  const addrLen = atyp === 1 ? 4 : atyp === 4 ? 16 : atyp === 3 ? (await reader.read(1))[0]! : -1;
  if (addrLen < 0) throw new ProxyDialError("protocol", `${where} sent an unknown address type ${atyp}`);
  await reader.read(addrLen + 2);
}
