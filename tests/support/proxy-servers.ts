/**
 * Test proxies, written independently of src/upstream/proxy: a SOCKS5 server (RFC 1928 CONNECT, optional
 * RFC 1929 username/password) and an HTTP proxy (CONNECT + absolute-form). Both really forward to the
 * target and count what passes through them.
 */
import type { Socket } from "bun";
import { trackStop } from "./processes.ts";

interface Conn {
  buf: Buffer;
  stage: "greeting" | "auth" | "request" | "piping" | "head";
  peer?: Socket<Conn>;
  /** Bytes received from the client before the upstream connection opened. */
  early: Buffer[];
}

export interface TestProxy {
  port: number;
  host: string;
  /** Client connections accepted. */
  connections: number;
  /** Targets successfully connected, as host:port. */
  targets: string[];
  /** Handshakes refused for bad credentials. */
  authFailures: number;
  /** Every raw byte received from clients, as latin1 text (to search for secrets or paths). */
  received: string;
  stop(): void;
}

const newConn = (): Conn => ({ buf: Buffer.alloc(0), stage: "greeting", early: [] });

/** Pipe data from the upstream socket to `client`; closes propagate both ways. */
async function connectUpstream(client: Socket<Conn>, host: string, port: number, onOpen: (up: Socket<Conn>) => void, onFail: () => void): Promise<void> {
  try {
    const up = await Bun.connect<Conn>({
      hostname: host,
      port,
      data: newConn(),
      socket: {
        data: (_s, d) => void client.write(d),
        close: () => void client.end(),
        error: () => void client.end(),
      },
    });
    client.data.peer = up;
    onOpen(up);
    for (const b of client.data.early) up.write(b);
    client.data.early = [];
  } catch {
    onFail();
  }
}

export function startTestSocks5(opts: { username?: string; password?: string } = {}): TestProxy {
  const state: TestProxy = { port: 0, host: "127.0.0.1", connections: 0, targets: [], authFailures: 0, received: "", stop: () => {} };
  const advance = (s: Socket<Conn>) => {
    const c = s.data;
    for (;;) {
      if (c.stage === "greeting") {
        if (c.buf.length < 2 || c.buf.length < 2 + c.buf[1]!) return;
        const methods = [...c.buf.subarray(2, 2 + c.buf[1]!)];
        c.buf = c.buf.subarray(2 + c.buf[1]!);
        const want = opts.username !== undefined ? 2 : 0;
        if (c.buf.length === 0 && !methods.includes(want)) {
          s.end(Uint8Array.from([5, 0xff]));
          return;
        }
        s.write(Uint8Array.from([5, want]));
        c.stage = want === 2 ? "auth" : "request";
      } else if (c.stage === "auth") {
        if (c.buf.length < 2) return;
        const ulen = c.buf[1]!;
        if (c.buf.length < 3 + ulen) return;
        const plen = c.buf[2 + ulen]!;
        if (c.buf.length < 3 + ulen + plen) return;
        const user = c.buf.subarray(2, 2 + ulen).toString();
        const pass = c.buf.subarray(3 + ulen, 3 + ulen + plen).toString();
        c.buf = c.buf.subarray(3 + ulen + plen);
        if (user !== opts.username || pass !== opts.password) {
          state.authFailures++;
          s.end(Uint8Array.from([1, 1]));
          return;
        }
        s.write(Uint8Array.from([1, 0]));
        c.stage = "request";
      } else if (c.stage === "request") {
        if (c.buf.length < 5) return;
        const atyp = c.buf[3]!;
        const alen = atyp === 1 ? 4 : atyp === 4 ? 16 : 1 + c.buf[4]!;
        if (c.buf.length < 4 + alen + 2) return;
        let host: string;
        if (atyp === 1) host = [...c.buf.subarray(4, 8)].join(".");
        else if (atyp === 3) host = c.buf.subarray(5, 5 + c.buf[4]!).toString();
        else {
          s.end(Uint8Array.from([5, 8, 0, 1, 0, 0, 0, 0, 0, 0]));
          return;
        }
        const port = c.buf.readUInt16BE(4 + alen);
        const rest = c.buf.subarray(4 + alen + 2);
        if (rest.length) c.early.push(Buffer.from(rest));
        c.buf = Buffer.alloc(0);
        c.stage = "piping";
        void connectUpstream(
          s,
          host,
          port,
          () => {
            state.targets.push(`${host}:${port}`);
            s.write(Uint8Array.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
          },
          () => void s.end(Uint8Array.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])),
        );
        return;
      } else return;
    }
  };
  const server = Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        state.connections++;
        s.data = newConn();
      },
      data(s, d) {
        state.received += Buffer.from(d).toString("latin1");
        if (s.data.stage === "piping") {
          if (s.data.peer) s.data.peer.write(d);
          else s.data.early.push(Buffer.from(d));
          return;
        }
        s.data.buf = Buffer.concat([s.data.buf, Buffer.from(d)]);
        advance(s);
      },
      close: (s) => void s.data.peer?.end(),
    },
  });
  state.port = server.port;
  const stop = trackStop(`test proxy :${server.port}`, () => server.stop(true));
  state.stop = () => void stop();
  return state;
}

/** An HTTP forward proxy: CONNECT tunnels and absolute-form requests (one per connection). */
export function startTestHttpProxy(opts: { username?: string; password?: string } = {}): TestProxy {
  const state: TestProxy = { port: 0, host: "127.0.0.1", connections: 0, targets: [], authFailures: 0, received: "", stop: () => {} };
  const expected = opts.username !== undefined ? `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ""}`).toString("base64")}` : undefined;
  const server = Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        state.connections++;
        s.data = { ...newConn(), stage: "head" };
      },
      data(s, d) {
        state.received += Buffer.from(d).toString("latin1");
        const c = s.data;
        if (c.stage === "piping") {
          if (c.peer) c.peer.write(d);
          else c.early.push(Buffer.from(d));
          return;
        }
        c.buf = Buffer.concat([c.buf, Buffer.from(d)]);
        const end = c.buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const lines = c.buf.subarray(0, end).toString("latin1").split("\r\n");
        const rest = c.buf.subarray(end + 4);
        c.buf = Buffer.alloc(0);
        c.stage = "piping";
        const [method, target] = lines[0]!.split(" ") as [string, string];
        const auth = lines.find((l) => l.toLowerCase().startsWith("proxy-authorization:"))?.slice(20).trim();
        if (expected && auth !== expected) {
          state.authFailures++;
          s.end("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
          return;
        }
        if (method === "CONNECT") {
          const [host, port] = target.split(":") as [string, string];
          if (rest.length) c.early.push(Buffer.from(rest));
          void connectUpstream(
            s,
            host,
            Number(port),
            () => {
              state.targets.push(target);
              s.write("HTTP/1.1 200 Connection Established\r\n\r\n");
            },
            () => void s.end("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"),
          );
          return;
        }
        const url = new URL(target);
        const head = [`${method} ${url.pathname}${url.search} HTTP/1.1`, ...lines.slice(1).filter((l) => !/^(proxy-|connection:|keep-alive:)/i.test(l)), "Connection: close", "", ""].join("\r\n");
        c.early.push(Buffer.from(head, "latin1"));
        if (rest.length) c.early.push(Buffer.from(rest));
        void connectUpstream(
          s,
          url.hostname,
          Number(url.port || 80),
          () => void state.targets.push(url.host),
          () => void s.end("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"),
        );
      },
      close: (s) => void s.data.peer?.end(),
    },
  });
  state.port = server.port;
  const stop = trackStop(`test proxy :${server.port}`, () => server.stop(true));
  state.stop = () => void stop();
  return state;
}

/** A port with nothing listening (a dead proxy). */
export function deadPort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}
