/**
 * A local HTTP forward proxy in front of one SOCKS5 server, because Bun's fetch speaks HTTP proxies only.
 * It listens on 127.0.0.1 (random port, random Basic credentials so other local processes cannot use it)
 * and for each connection: `CONNECT host:port` → a SOCKS5 tunnel to host:port (https targets); an
 * absolute-form `GET http://host/path` → a SOCKS5 tunnel with the request rewritten to origin-form and
 * one request per connection (plain-http targets, e.g. the simulator).
 */
import type { ConfigProxy } from "../../config/ds2api-config.ts";
import { headEnd, MAX_HEAD_BYTES, parseProxyRequest, proxyResponse, closeResponseHead } from "./http-proxy-head.ts";
import { dialSocks5 } from "./socks5-dial.ts";
import { hookedHandlers, IGNORE_HOOKS, linkSockets, type HookedSocket, type SocketHooks } from "./socket-link.ts";

export interface SocksBridgeStats {
  /** Connections accepted so far. */
  accepted: number;
  /** Open client connections now. */
  open: number;
  /** SOCKS dials that failed. */
  dialFailures: number;
}

export interface SocksBridge {
  /** The `proxy` option for fetch (includes the bridge's own credentials). */
  readonly url: string;
  readonly port: number;
  stats(): SocksBridgeStats;
  /** Stop accepting; `force` also cuts open tunnels. */
  stop(force?: boolean): void;
}

export interface SocksBridgeOptions {
  /** SOCKS connect + handshake limit (default 15 s). */
  dialTimeoutMs?: number;
}

const BRIDGE_USER = "ds2api";
/** Set on the bridge's own 502 so the fetch wrapper can turn it into a network error naming the cause. */
export const BRIDGE_ERROR_HEADER = "X-Ds2api-Proxy-Error";
const CONNECTED = Buffer.from("HTTP/1.1 200 Connection Established\r\n\r\n");

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.byteLength === 0) return b;
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

export function startSocksBridge(proxy: ConfigProxy, opts: SocksBridgeOptions = {}): SocksBridge {
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("hex");
  const expectedAuth = `Basic ${Buffer.from(`${BRIDGE_USER}:${secret}`).toString("base64")}`;
  const stats: SocksBridgeStats = { accepted: 0, open: 0, dialFailures: 0 };
  const sockets = new Set<HookedSocket>();

  const refuse = (client: HookedSocket, status: number, reason: string, message: string, extraHeaders = "") => {
    client.end(proxyResponse(status, reason, message, extraHeaders));
  };

  const accept = (client: HookedSocket) => {
    stats.accepted++;
    stats.open++;
    sockets.add(client);
    let buffered: Uint8Array = new Uint8Array(0);
    let clientClosed = false;
    let routed = false;
    const done = () => {
      if (clientClosed) return;
      clientClosed = true;
      stats.open--;
      sockets.delete(client);
    };
    const hooks: SocketHooks = {
      onData(chunk) {
        buffered = concat(buffered, chunk.slice());
        if (routed) return; // still dialing: keep what the client sends meanwhile
        const end = headEnd(buffered);
        if (end < 0) {
          if (buffered.byteLength > MAX_HEAD_BYTES) refuse(client, 431, "Request Header Fields Too Large", "request head too large");
          return;
        }
        routed = true;
        void route(end);
      },
      onDrain() {},
      onClose: done,
    };
    client.data = hooks;

    const route = async (end: number) => {
      const req = parseProxyRequest(buffered.subarray(0, end));
      if (req.kind === "invalid") return refuse(client, req.status, "Bad Request", req.message);
      if (req.headers.get("proxy-authorization") !== expectedAuth) {
        return refuse(client, 407, "Proxy Authentication Required", "proxy authentication required", 'Proxy-Authenticate: Basic realm="ds2api"\r\n');
      }
      let dialed;
      try {
        dialed = await dialSocks5(proxy, req.host, req.port, { timeoutMs: opts.dialTimeoutMs });
      } catch (e) {
        stats.dialFailures++;
        const message = (e as Error).message.replace(/[^\x20-\x7e]/g, " ");
        if (!clientClosed) refuse(client, 502, "Bad Gateway", message, `${BRIDGE_ERROR_HEADER}: ${message}\r\n`);
        return;
      }
      const upstream = dialed.socket;
      if (clientClosed) {
        upstream.data = IGNORE_HOOKS;
        upstream.terminate();
        return;
      }
      const early = buffered.subarray(end);
      // From here on the link owns both sockets' events; keep counting the client's close.
      if (req.kind === "connect") {
        client.write(CONNECTED);
        linkSockets(client, upstream, { aToBFirst: early, bToAFirst: dialed.leftover, onClosed: done });
      } else {
        linkSockets(client, upstream, { aToBFirst: concat(req.head, early), bToAFirst: dialed.leftover, transformBToA: closeResponseHead(), onClosed: done });
      }
    };
  };

  const listener = Bun.listen<SocketHooks>({
    hostname: "127.0.0.1",
    port: 0,
    socket: { ...hookedHandlers(), open: accept },
  });
  const port = listener.port;
  return {
    url: `http://${BRIDGE_USER}:${secret}@127.0.0.1:${port}`,
    port,
    stats: () => ({ ...stats }),
    stop(force = false) {
      listener.stop(force);
      if (force) for (const s of sockets) s.terminate();
    },
  };
}
