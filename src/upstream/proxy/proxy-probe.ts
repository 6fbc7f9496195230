/**
 * Proxy connectivity check (`POST /admin/proxies/test`): one GET through the proxy to the DeepSeek base URL
 * the server is configured with (no fixed external URL), timed. An HTTP answer below 500 counts as working
 * (the target's root may well be a 404); errors, 407 and 5xx (what proxies answer when they cannot connect) do not.
 */
import type { ConfigProxy } from "../../config/ds2api-config.ts";
import { describeProxy, isSocksProxy, scrubProxySecrets, httpProxyUrl } from "./proxy-spec.ts";
import { fetchVia } from "./proxy-router.ts";
import { startSocksBridge } from "./socks-bridge.ts";

export interface ProxyProbeResult {
  success: boolean;
  response_time: number;
  status_code?: number;
  message: string;
}

export async function probeProxy(proxy: ConfigProxy, targetUrl: string, opts: { timeoutMs?: number } = {}): Promise<ProxyProbeResult> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  // A private bridge: the probe may test settings that are not saved yet.
  const bridge = isSocksProxy(proxy) ? startSocksBridge(proxy, { dialTimeoutMs: timeoutMs }) : undefined;
  const url = bridge ? bridge.url : httpProxyUrl(proxy);
  const target = new URL(targetUrl);
  try {
    const res = await fetchVia(() => url, proxy)(target.href, { method: "GET", redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text().catch(() => "");
    if (res.status >= 500 || res.status === 407) {
      return { success: false, response_time: elapsed(), status_code: res.status, message: scrubProxySecrets(`${describeProxy(proxy)} answered HTTP ${res.status}: ${body.trim().slice(0, 300)}`, proxy) };
    }
    return { success: true, response_time: elapsed(), status_code: res.status, message: `reached ${target.origin} through ${describeProxy(proxy)} (HTTP ${res.status})` };
  } catch (e) {
    const timedOut = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError");
    const msg = timedOut ? `no answer from ${target.origin} through ${describeProxy(proxy)} within ${timeoutMs} ms` : (e as Error)?.message ?? String(e);
    return { success: false, response_time: elapsed(), message: scrubProxySecrets(msg, proxy) };
  } finally {
    bridge?.stop(true);
  }
}
