/** The proxy layer on its own: SOCKS5 dialing, the local HTTP→SOCKS bridge, proxied fetch and its error scrubbing. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ConfigProxy } from "../src/config/ds2api-config.ts";
import { probeProxy } from "../src/upstream/proxy/proxy-probe.ts";
import { fetchVia, missingProxyFetch, ProxyRouter } from "../src/upstream/proxy/proxy-router.ts";
import { describeProxy, httpProxyUrl, proxyFingerprint, scrubProxySecrets } from "../src/upstream/proxy/proxy-spec.ts";
import { dialSocks5, ProxyDialError } from "../src/upstream/proxy/socks5-dial.ts";
import { startSocksBridge } from "../src/upstream/proxy/socks-bridge.ts";
import { trackStop } from "./support/processes.ts";
import { deadPort, startTestHttpProxy, startTestSocks5, type TestProxy } from "./support/proxy-servers.ts";

const TLS_FIXTURES = join(import.meta.dir, "support", "tls");

/** A bridge that is also registered for cleanup (stopped after the test even if it times out first). */
function bridgeFor(proxy: ConfigProxy): ReturnType<typeof startSocksBridge> {
  const bridge = startSocksBridge(proxy);
  const stop = bridge.stop.bind(bridge);
  const tracked = trackStop("socks bridge", () => stop(true));
  bridge.stop = () => void tracked();
  return bridge;
}

const PASSWORD = "s3cr3t:p@ss/word";

/** Echoes method, path and body; `/stream` sends a slow chunked stream. */
let target: ReturnType<typeof Bun.serve>;
let socks: TestProxy;
let authSocks: TestProxy;

const socksProxy = (p: TestProxy, extra: Partial<ConfigProxy> = {}): ConfigProxy => ({ id: "p1", name: "p1", type: "socks5h", host: "127.0.0.1", port: p.port, ...extra });

beforeAll(() => {
  target = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (url.pathname === "/stream") {
        const enc = new TextEncoder();
        return new Response(
          new ReadableStream({
            async start(c) {
              for (let i = 0; i < 5; i++) {
                c.enqueue(enc.encode(`data: ${i}\n\n`));
                await Bun.sleep(5);
              }
              c.close();
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        );
      }
      if (url.pathname === "/big") return new Response(new Uint8Array(3 * 1024 * 1024).fill(97));
      return new Response(`${req.method} ${url.pathname}${url.search} ${await req.text()}`);
    },
  });
  socks = startTestSocks5();
  authSocks = startTestSocks5({ username: "alice", password: PASSWORD });
});
afterAll(() => {
  target.stop(true);
  socks.stop();
  authSocks.stop();
});

async function exchange(socket: Awaited<ReturnType<typeof dialSocks5>>["socket"], request: string): Promise<string> {
  let got = "";
  return new Promise((resolve) => {
    socket.data = { onData: (c) => void (got += Buffer.from(c).toString()), onDrain() {}, onClose: () => resolve(got) };
    socket.write(request);
  });
}

describe("SOCKS5 dialing", () => {
  test("no-auth CONNECT by host name (socks5h) reaches the target and the server sees the name", async () => {
    const before = socks.targets.length;
    const { socket } = await dialSocks5(socksProxy(socks), "localhost", target.port!);
    const reply = await exchange(socket, `GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(reply.startsWith("HTTP/1.1 200")).toBe(true);
    expect(reply.endsWith("GET /hello ")).toBe(true);
    expect(socks.targets.slice(before)).toEqual([`localhost:${target.port}`]);
  });

  test("socks5 resolves the name locally and sends an address", async () => {
    const before = socks.targets.length;
    const { socket } = await dialSocks5(socksProxy(socks, { type: "socks5" }), "localhost", target.port!);
    await exchange(socket, `GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const seen = socks.targets.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^\d+\.\d+\.\d+\.\d+:\d+$/);
  });

  test("username/password: accepted when right, refused (auth) when wrong", async () => {
    const ok = await dialSocks5(socksProxy(authSocks, { username: "alice", password: PASSWORD }), "127.0.0.1", target.port!);
    const reply = await exchange(ok.socket, `POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi`);
    expect(reply.endsWith("POST /x hi")).toBe(true);

    const failuresBefore = authSocks.authFailures;
    const err = await dialSocks5(socksProxy(authSocks, { username: "alice", password: "wrong" }), "127.0.0.1", target.port!).catch((e) => e);
    expect(err).toBeInstanceOf(ProxyDialError);
    expect((err as ProxyDialError).reason).toBe("auth");
    expect(authSocks.authFailures).toBe(failuresBefore + 1);
    // Without credentials the server offers nothing we can use.
    const none = await dialSocks5(socksProxy(authSocks), "127.0.0.1", target.port!).catch((e) => e);
    expect((none as ProxyDialError).reason).toBe("auth");
  });

  test("a dead proxy and a refused target are reported without secrets", async () => {
    const dead = await dialSocks5(socksProxy(socks, { port: deadPort(), username: "u", password: PASSWORD }), "127.0.0.1", 80).catch((e) => e);
    expect((dead as ProxyDialError).reason).toBe("connect");
    expect((dead as Error).message).not.toContain(PASSWORD);
    const refused = await dialSocks5(socksProxy(socks), "127.0.0.1", deadPort()).catch((e) => e);
    expect((refused as ProxyDialError).reason).toBe("refused");
  });
});

describe("HTTP → SOCKS bridge", () => {
  test("plain-http targets: absolute-form requests with bodies, sequential and concurrent, one SOCKS connection each", async () => {
    const bridge = bridgeFor(socksProxy(authSocks, { username: "alice", password: PASSWORD }));
    try {
      const before = authSocks.connections;
      for (let i = 0; i < 3; i++) {
        const r = await fetch(`http://127.0.0.1:${target.port}/seq/${i}?q=${i}`, { method: "POST", body: `body-${i}`, proxy: bridge.url });
        expect(await r.text()).toBe(`POST /seq/${i}?q=${i} body-${i}`);
      }
      const texts = await Promise.all([0, 1, 2, 3, 4].map(async (i) => (await fetch(`http://127.0.0.1:${target.port}/par/${i}`, { proxy: bridge.url })).text()));
      expect(texts).toEqual([0, 1, 2, 3, 4].map((i) => `GET /par/${i} `));
      expect(authSocks.connections - before).toBe(8);
      expect(bridge.stats().dialFailures).toBe(0);
      // What the SOCKS server saw never includes the bridge's own Proxy-Authorization.
      expect(authSocks.received).not.toContain("Proxy-Authorization");
    } finally {
      bridge.stop(true);
    }
  });

  test("streamed and large responses arrive whole", async () => {
    const bridge = bridgeFor(socksProxy(socks));
    try {
      const r = await fetch(`http://127.0.0.1:${target.port}/stream`, { proxy: bridge.url });
      expect(await r.text()).toBe([0, 1, 2, 3, 4].map((i) => `data: ${i}\n\n`).join(""));
      const big = await (await fetch(`http://127.0.0.1:${target.port}/big`, { proxy: bridge.url })).arrayBuffer();
      expect(big.byteLength).toBe(3 * 1024 * 1024);
      const body = "z".repeat(2 * 1024 * 1024);
      const echoed = await (await fetch(`http://127.0.0.1:${target.port}/up`, { method: "POST", body, proxy: bridge.url })).text();
      expect(echoed.length).toBe("POST /up ".length + body.length);
    } finally {
      bridge.stop(true);
    }
  });

  test("CONNECT tunnels carry raw bytes", async () => {
    const bridge = bridgeFor(socksProxy(socks));
    const echo = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: (s, d) => void s.write(Buffer.concat([Buffer.from("echo:"), Buffer.from(d)])) } });
    try {
      const auth = new URL(bridge.url);
      const basic = Buffer.from(`${auth.username}:${auth.password}`).toString("base64");
      let got = "";
      const done = new Promise<void>((resolve) => {
        void Bun.connect({
          hostname: "127.0.0.1",
          port: bridge.port,
          socket: {
            open: (s) => void s.write(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\nProxy-Authorization: Basic ${basic}\r\n\r\n`),
            data(s, d) {
              got += Buffer.from(d).toString();
              if (got.endsWith("\r\n\r\n")) s.write("ping");
              if (got.endsWith("echo:ping")) {
                s.end();
                resolve();
              }
            },
          },
        });
      });
      await done;
      expect(got).toBe("HTTP/1.1 200 Connection Established\r\n\r\necho:ping");
    } finally {
      bridge.stop(true);
      echo.stop(true);
    }
  });

  test("https targets through CONNECT reuse one tunnel (self-signed target)", async () => {
    const cert = readFileSync(join(TLS_FIXTURES, "localhost.cert.pem"), "utf8");
    const tls = Bun.serve({ hostname: "127.0.0.1", port: 0, tls: { cert, key: readFileSync(join(TLS_FIXTURES, "localhost.key.pem"), "utf8") }, fetch: async (req) => new Response(`tls ${new URL(req.url).pathname} ${await req.text()}`) });
    const stopTls = trackStop("https target", () => tls.stop(true));
    const bridge = bridgeFor(socksProxy(socks));
    try {
      const before = socks.connections;
      for (let i = 0; i < 3; i++) {
        const r = await fetch(`https://localhost:${tls.port}/t${i}`, { method: "POST", body: `b${i}`, proxy: bridge.url, tls: { ca: cert } });
        expect(await r.text()).toBe(`tls /t${i} b${i}`);
      }
      expect(socks.connections - before).toBe(1);
    } finally {
      bridge.stop(true);
      await stopTls();
    }
  });

  test("requests without the bridge's credentials get 407; a dead SOCKS server gives 502", async () => {
    const dead = deadPort();
    const bridge = bridgeFor(socksProxy(socks, { port: dead, username: "u", password: PASSWORD }));
    try {
      const anonymous = await fetch(`http://127.0.0.1:${target.port}/`, { proxy: `http://127.0.0.1:${bridge.port}` });
      expect(anonymous.status).toBe(407);
      const viaDead = await fetch(`http://127.0.0.1:${target.port}/`, { proxy: bridge.url });
      expect(viaDead.status).toBe(502);
      const text = await viaDead.text();
      expect(text).toContain(describeProxy({ type: "socks5h", host: "127.0.0.1", port: dead }));
      expect(text).not.toContain(PASSWORD);
      expect(bridge.stats().dialFailures).toBe(1);
    } finally {
      bridge.stop(true);
    }
  });
});

describe("proxied fetch and the router", () => {
  test("http proxy URL carries encoded credentials; errors through it never show them", async () => {
    const p: ConfigProxy = { id: "h", name: "h", type: "http", host: "127.0.0.1", port: deadPort(), username: "bob", password: PASSWORD };
    const url = httpProxyUrl(p);
    expect(new URL(url).username).toBe("bob");
    expect(decodeURIComponent(new URL(url).password)).toBe(PASSWORD);
    const err = await fetchVia(() => url, p)(`http://127.0.0.1:${target.port}/`).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(`http://127.0.0.1:${p.port}`);
    expect((err as Error).message).not.toContain(PASSWORD);
    expect((err as Error).message).not.toContain(encodeURIComponent(PASSWORD));
    expect(scrubProxySecrets(`x ${url} y ${PASSWORD}`, p)).not.toContain("s3cr3t");
  });

  test("an http proxy with credentials forwards plain-http requests", async () => {
    const hp = startTestHttpProxy({ username: "bob", password: PASSWORD });
    try {
      const p: ConfigProxy = { id: "h", name: "h", type: "http", host: "127.0.0.1", port: hp.port, username: "bob", password: PASSWORD };
      const r = await new ProxyRouter().fetchFor(p)(`http://127.0.0.1:${target.port}/via-http`);
      expect(await r.text()).toBe("GET /via-http ");
      expect(hp.targets).toEqual([`127.0.0.1:${target.port}`]);
      expect(hp.authFailures).toBe(0);
    } finally {
      hp.stop();
    }
  });

  test("the router reuses a SOCKS bridge while settings stay, replaces it when they change, stops them on close", async () => {
    const router = new ProxyRouter();
    const p = socksProxy(socks);
    await (await router.fetchFor(p)(`http://127.0.0.1:${target.port}/a`)).text();
    const first = router.bridgeOf("p1")!;
    router.fetchFor({ ...p });
    expect(router.bridgeOf("p1")).toBe(first);
    router.fetchFor({ ...p, username: "someone" });
    expect(router.bridgeOf("p1")).not.toBe(first);
    expect(proxyFingerprint(p)).not.toBe(proxyFingerprint({ ...p, password: "x" }));
    // A fetch made before its bridge was retired (proxy deleted, re-added unchanged) starts a new one.
    const kept = router.fetchFor(p);
    router.retain(new Set());
    expect(router.bridgeOf("p1")).toBeUndefined();
    expect(await (await kept(`http://127.0.0.1:${target.port}/again`)).text()).toBe("GET /again ");
    const port = router.bridgeOf("p1")!.port;
    router.close();
    const refused = await fetch(`http://127.0.0.1:${port}/`).catch((e) => e);
    expect(refused).toBeInstanceOf(Error);
  });

  test("an account whose proxy vanished fails instead of going direct", async () => {
    const err = await missingProxyFetch("gone")("http://127.0.0.1:1/").catch((e) => e);
    expect((err as Error).message).toContain('"gone"');
  });

  test("probe: success with the target's status through a working proxy, failure through a dead one", async () => {
    const good = await probeProxy(socksProxy(socks), `http://127.0.0.1:${target.port}`);
    expect(good.success).toBe(true);
    expect(good.status_code).toBe(200);
    const dead = await probeProxy(socksProxy(socks, { port: deadPort(), password: PASSWORD, username: "u" }), `http://127.0.0.1:${target.port}`);
    expect(dead.success).toBe(false);
    expect(dead.message).not.toContain(PASSWORD);
    const deadHttp = await probeProxy({ id: "h", name: "h", type: "http", host: "127.0.0.1", port: deadPort(), username: "u", password: PASSWORD }, `http://127.0.0.1:${target.port}`);
    expect(deadHttp.success).toBe(false);
    expect(deadHttp.status_code).toBeUndefined();
    expect(deadHttp.message).not.toContain(PASSWORD);
  });
});

describe("proxies in config.json", () => {
  test("http/https/socks5/socks5h are accepted, anything else is not; ids default to proxy_ + SHA-1 prefix and must be unique", async () => {
    const { parseDs2ApiConfig, ConfigError } = await import("../src/config/ds2api-config.ts");
    const { createHash } = await import("node:crypto");
    const { config } = parseDs2ApiConfig({
      proxies: [
        { type: "HTTP", host: "a.example", port: "3128", username: "u" },
        { type: "https", host: "b.example", port: 443, password: "pw" },
        { type: "socks5", host: "10.0.0.1", port: 1080 },
        { id: "mine", type: "socks5h", host: "c.example", port: 1081, name: "C" },
      ],
    });
    const proxies = config.proxies!;
    expect(proxies.map((p) => p.type)).toEqual(["http", "https", "socks5", "socks5h"]);
    expect(proxies[0]!.port).toBe(3128);
    expect(proxies[0]!.id).toBe(`proxy_${createHash("sha1").update("http|a.example|3128|u").digest("hex").slice(0, 12)}`);
    expect(proxies[0]!.name).toBe("a.example:3128");
    expect(proxies[3]).toEqual({ id: "mine", name: "C", type: "socks5h", host: "c.example", port: 1081, username: undefined, password: undefined });
    for (const bad of [
      [{ type: "socks4", host: "h", port: 1 }],
      [{ type: "http", host: "user:pw@h", port: 1 }],
      [{ type: "http", host: "h", port: 1.5 }],
      [{ id: "x", type: "http", host: "h", port: 1 }, { id: "x", type: "http", host: "g", port: 2 }],
    ]) {
      expect(() => parseDs2ApiConfig({ proxies: bad })).toThrow(ConfigError);
    }
  });
});
