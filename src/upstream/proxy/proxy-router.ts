/**
 * Turns a configured proxy into a `fetch` that goes through it: http/https proxies directly through Bun's
 * `proxy` option, SOCKS5 ones through a local bridge started on first use and reused while the proxy's
 * settings stay the same. Errors leaving these fetches never carry the proxy's credentials.
 */
import type { ConfigProxy } from "../../config/ds2api-config.ts";
import { describeProxy, httpProxyUrl, isSocksProxy, proxyFingerprint, scrubProxySecrets } from "./proxy-spec.ts";
import { BRIDGE_ERROR_HEADER, startSocksBridge, type SocksBridge, type SocksBridgeOptions } from "./socks-bridge.ts";

export type FetchFn = typeof fetch;

/**
 * A fetch that sends every request through `proxyUrl`, rethrowing failures with credentials scrubbed. A SOCKS
 * bridge's own 502 (it could not reach the target through the proxy) becomes a thrown network error too, so
 * callers see a connection failure naming the proxy rather than an upstream HTTP 502.
 */
export function fetchVia(proxyUrl: () => string, proxy: ConfigProxy): FetchFn {
  const fn = async (input: string | URL | Request, init?: RequestInit) => {
    let res: Response;
    try {
      res = await fetch(input, { ...init, proxy: proxyUrl() } as RequestInit);
    } catch (e) {
      if (e instanceof Error && e.name === "AbortError") throw e;
      const raw = e instanceof Error ? e.message : String(e);
      const err = new Error(`via ${describeProxy(proxy)}: ${scrubProxySecrets(raw, proxy)}`);
      err.name = e instanceof Error ? e.name : "Error";
      throw err;
    }
    const bridgeError = res.status === 502 ? res.headers.get(BRIDGE_ERROR_HEADER) : null;
    if (bridgeError !== null) {
      await res.body?.cancel().catch(() => {});
      throw new Error(scrubProxySecrets(bridgeError, proxy));
    }
    return res;
  };
  return Object.assign(fn, { preconnect: () => {} }) as unknown as FetchFn;
}

/** A fetch that always fails: the account names a proxy that no longer exists (never fall back to a direct connection). */
export function missingProxyFetch(proxyId: string): FetchFn {
  const fn = async () => {
    throw new Error(`proxy ${JSON.stringify(proxyId)} is not configured; bind the account to an existing proxy or unbind it`);
  };
  return Object.assign(fn, { preconnect: () => {} }) as unknown as FetchFn;
}

export class ProxyRouter {
  private readonly bridges = new Map<string, { fingerprint: string; bridge: SocksBridge }>();
  private closed = false;

  constructor(private readonly bridgeOptions: SocksBridgeOptions = {}) {}

  /** A fetch through `proxy`. For SOCKS proxies the bridge starts here (once per proxy id and settings). */
  fetchFor(proxy: ConfigProxy): FetchFn {
    if (!isSocksProxy(proxy)) {
      const url = httpProxyUrl(proxy);
      return fetchVia(() => url, proxy);
    }
    // Re-resolved when the bridge was stopped meanwhile (proxy deleted, then added again with the same settings).
    let bridge = this.bridge(proxy);
    return fetchVia(() => {
      if (this.bridges.get(proxy.id)?.bridge !== bridge) bridge = this.bridge(proxy);
      return bridge.url;
    }, proxy);
  }

  /**
   * The local HTTP proxy URL of a SOCKS proxy's bridge (started here on first use), for clients that take an
   * HTTP proxy (the native TLS transport tunnels through it with CONNECT, so its fingerprint is kept).
   */
  bridgeUrlFor(proxy: ConfigProxy): string {
    return this.bridge(proxy).url;
  }

  /** The running bridge of a SOCKS proxy (undefined until first used). */
  bridgeOf(proxyId: string): SocksBridge | undefined {
    return this.bridges.get(proxyId)?.bridge;
  }

  /** Stop the bridges of proxies not in `keepIds` (deleted proxies). */
  retain(keepIds: ReadonlySet<string>): void {
    for (const [id, entry] of this.bridges) {
      if (!keepIds.has(id)) {
        entry.bridge.stop(false);
        this.bridges.delete(id);
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const { bridge } of this.bridges.values()) bridge.stop(true);
    this.bridges.clear();
  }

  private bridge(proxy: ConfigProxy): SocksBridge {
    if (this.closed) throw new Error("the proxy router is closed");
    const fingerprint = proxyFingerprint(proxy);
    const existing = this.bridges.get(proxy.id);
    if (existing?.fingerprint === fingerprint) return existing.bridge;
    // Settings changed: new requests use a new bridge; tunnels already open on the old one finish undisturbed.
    existing?.bridge.stop(false);
    const bridge = startSocksBridge(proxy, this.bridgeOptions);
    this.bridges.set(proxy.id, { fingerprint, bridge });
    return bridge;
  }
}
