/**
 * The one place upstream clients get their `fetch`: a TLS profile (a real client's ClientHello through the
 * native transport, or Bun's own TLS for `plain`) and an optional proxy (http/https/socks5). Fetches are
 * cached per (profile, proxy settings), so each keeps its keep-alive pool. When the native addon cannot load,
 * every profile falls back to the plain fetch: logged once, and visible through `state()` (/readyz, console).
 */
import type { Impit } from "impit";
import type { Logger } from "../../observability/logger.ts";
import type { ProxyRouter } from "../proxy/proxy-router.ts";
import { BRIDGE_ERROR_HEADER } from "../proxy/socks-bridge.ts";
import { describeProxy, httpProxyUrl, isSocksProxy, proxyFingerprint, scrubProxySecrets, type ConfigProxy } from "../proxy/proxy-spec.ts";
import { impitFetch, type FetchFn } from "./impit-fetch.ts";
import { loadNativeTransport } from "./native-addon.ts";
import { isLoopbackHost, LOOPBACK_TRUST_ENV, loopbackTrustEnabled, TEST_MODE_ENV } from "./test-trust.ts";
import { IMPIT_BROWSER, type NativeTlsProfile, type TlsProfile } from "./tls-profile.ts";

export type { FetchFn } from "./impit-fetch.ts";

/** What an operator sees: the profile asked for, the one really used, and why they differ. */
export interface TransportState {
  requested: TlsProfile;
  in_use: TlsProfile;
  /** True when the native addon serves the requested profile. */
  native: boolean;
  /** Why `in_use` differs from `requested` (the addon's load error). */
  reason?: string;
  /** The impit browser behind a native profile (e.g. okhttp4). */
  impersonates?: string;
}

export interface UpstreamTransportOptions {
  /** Plain fetches through proxies (Bun's proxy option, SOCKS bridges). Without it, a proxied plain fetch fails. */
  proxies?: ProxyRouter;
  logger?: Logger;
  /** The plain fetch (default: the global fetch). */
  plainFetch?: FetchFn;
  env?: Record<string, string | undefined>;
}

export class UpstreamTransport {
  private readonly cache = new Map<string, FetchFn>();
  private readonly trustLoopback: boolean;
  private warnedFallback = false;
  private logger?: Logger;

  constructor(private readonly opts: UpstreamTransportOptions = {}) {
    this.logger = opts.logger;
    this.trustLoopback = loopbackTrustEnabled(opts.env ?? process.env);
    if (this.trustLoopback) this.logger?.warn("test mode: upstream calls to loopback hosts accept any TLS certificate", { env: `${TEST_MODE_ENV}, ${LOOPBACK_TRUST_ENV}` });
  }

  /** Set the logger later (a shared transport created before the server's logger). */
  useLogger(logger: Logger): void {
    this.logger ??= logger;
  }

  state(requested: TlsProfile): TransportState {
    if (requested === "plain") return { requested, in_use: "plain", native: false };
    const load = loadNativeTransport();
    if (!load.ok) return { requested, in_use: "plain", native: false, reason: load.reason };
    return { requested, in_use: requested, native: true, impersonates: IMPIT_BROWSER[requested] };
  }

  /** A fetch presenting `profile`'s fingerprint, through `proxy` when given. */
  fetchFor(profile: TlsProfile, proxy?: ConfigProxy): FetchFn {
    const state = this.state(profile);
    if (state.reason) this.warnFallback(state);
    const route = proxy ? `${proxy.id}\n${proxyFingerprint(proxy)}` : "direct";
    const key = `${state.in_use}\n${route}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const made = state.in_use === "plain" ? this.plain(proxy) : this.native(state.in_use, proxy);
    this.cache.set(key, made);
    return made;
  }

  /** Forget cached fetches (their pools close when unreferenced). */
  clear(): void {
    this.cache.clear();
  }

  private warnFallback(state: TransportState): void {
    if (this.warnedFallback) return;
    this.warnedFallback = true;
    this.logger?.warn("TLS profile unavailable: using the plain client", { requested: state.requested, in_use: state.in_use, reason: state.reason });
  }

  /** Bun's fetch (or the proxy router's): empty header pairs, which only remove native impersonation defaults, are dropped. */
  private plain(proxy?: ConfigProxy): FetchFn {
    let base = this.opts.plainFetch ?? fetch;
    if (proxy) {
      if (!this.opts.proxies) throw new Error("no proxy router for a plain proxied fetch");
      base = this.opts.proxies.fetchFor(proxy);
    }
    const trust = this.trustLoopback && !proxy;
    const fn = (input: string | URL | Request, init?: RequestInit) => {
      const headers = Array.isArray(init?.headers) ? init.headers.filter(([, v]) => v !== "") : init?.headers;
      const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
      const tls = trust && isLoopbackHost(url.hostname) ? { tls: { rejectUnauthorized: false } } : {};
      return base(input, { ...init, headers, ...tls } as RequestInit);
    };
    return Object.assign(fn, { preconnect: () => {} }) as unknown as FetchFn;
  }

  private native(profile: NativeTlsProfile, proxy?: ConfigProxy): FetchFn {
    const load = loadNativeTransport();
    if (!load.ok) return this.plain(proxy);
    const { Impit: ImpitClass } = load.impit;
    // SOCKS proxies go through the router's local bridge (an HTTP proxy; TLS is tunnelled end to end, so the
    // fingerprint is kept), which also reports dial failures and is restarted when the proxy's settings change.
    const socks = proxy !== undefined && isSocksProxy(proxy);
    const proxies = this.opts.proxies;
    if (socks && !proxies) throw new Error("no proxy router for a SOCKS proxy");
    const proxyUrl = (): string | undefined => (proxy ? (socks ? proxies!.bridgeUrlFor(proxy) : httpProxyUrl(proxy)) : undefined);
    const clients = new Map<string, Impit>();
    const pick = (url: URL): Impit => {
      const insecure = this.trustLoopback && !proxy && isLoopbackHost(url.hostname);
      const via = proxyUrl();
      const key = `${insecure}\n${via ?? ""}`;
      let client = clients.get(key);
      if (!client) {
        if (via !== undefined) clients.clear(); // a restarted bridge: the old port is gone
        client = new ImpitClass({ browser: IMPIT_BROWSER[profile], proxyUrl: via, ignoreTlsErrors: insecure });
        clients.set(key, client);
      }
      return client;
    };
    // Made now, not in the first call's time budget (the first client of a process also loads the root store).
    if (!socks) pick(new URL("https://upstream.invalid/"));
    if (!proxy) return impitFetch(pick);
    const scrub = (t: string) => `via ${describeProxy(proxy)}: ${scrubProxySecrets(t, proxy)}`;
    const inner = impitFetch(pick, scrub);
    if (!socks) return inner;
    // The bridge's own 502 (it could not reach the target through the proxy) is a connection failure, as for plain.
    const fn = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const res = await inner(input, init);
      const bridgeError = res.status === 502 ? res.headers.get(BRIDGE_ERROR_HEADER) : null;
      if (bridgeError === null) return res;
      await res.body?.cancel().catch(() => {});
      throw new Error(scrubProxySecrets(bridgeError, proxy));
    };
    return Object.assign(fn, { preconnect: () => {} }) as unknown as FetchFn;
  }
}
