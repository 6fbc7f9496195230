/**
 * A local TLS server that fingerprints its clients: it reads each connection's raw ClientHello (JA3 / JA4
 * computed by the read-tls-client-hello package), terminates TLS with a self-signed certificate made for the
 * run (openssl), records every HTTP/1.1 request head with its header names in wire order, and forwards the
 * decrypted bytes to a plain HTTP origin (the simulator, or a handler of the test's own). No ALPN is offered,
 * so every client speaks HTTP/1.1 and its header order can be read off the wire.
 *
 *   client ──TLS──▶ front (captures the ClientHello) ──▶ terminator (node:tls) ──plain HTTP──▶ origin
 */
import net from "node:net";
import tls from "node:tls";
import { PassThrough } from "node:stream";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { calculateJa3, calculateJa4, readTlsClientHello } from "read-tls-client-hello";
import { trackStop } from "./processes.ts";

export interface ClientHelloPrint {
  ja3: string;
  ja4: string;
  /** Offered ALPN protocols (empty when the client sends none). */
  alpn: string[];
}

export interface RequestHead {
  method: string;
  path: string;
  /** Header [name, value] pairs as sent (names keep the client's case). */
  headers: [string, string][];
}

export interface FingerprintServer {
  port: number;
  /** https://localhost:PORT */
  url: string;
  /** The certificate's PEM file (for a client that should trust it). */
  certFile: string;
  hellos: ClientHelloPrint[];
  heads: RequestHead[];
  /** TCP connections accepted. */
  connections(): number;
  stop(): Promise<void>;
}

/** A self-signed certificate for localhost / 127.0.0.1 / ::1, made with openssl into a fresh temp folder. */
export function makeSelfSignedCert(): { dir: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), "ds2api-tls-"));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const r = Bun.spawnSync(
    ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"],
    { stdout: "pipe", stderr: "pipe" },
  );
  if (r.exitCode !== 0) throw new Error(`openssl could not make a test certificate: ${r.stderr.toString()}`);
  return { dir, cert, key };
}

function recordComplete(buf: Buffer): boolean {
  return buf.length >= 5 && buf.length >= 5 + buf.readUInt16BE(3);
}

function alpnOf(hello: Awaited<ReturnType<typeof readTlsClientHello>>): string[] {
  const ext = hello.extensions.find((e) => e.id === 16);
  const data = ext?.data as { protocols?: unknown } | null | undefined;
  return Array.isArray(data?.protocols) ? data.protocols.map((p) => (Buffer.isBuffer(p) ? p.toString() : String(p))) : [];
}

function parseHead(text: string): RequestHead | undefined {
  const m = /^([A-Z]+) (\S+) HTTP\/1\.1\r\n/.exec(text);
  if (!m) return undefined;
  const end = text.indexOf("\r\n\r\n");
  const lines = text.slice(0, end < 0 ? undefined : end).split("\r\n").slice(1);
  return {
    method: m[1]!,
    path: m[2]!,
    headers: lines.map((l) => {
      const i = l.indexOf(":");
      return [l.slice(0, i), l.slice(i + 1).trim()] as [string, string];
    }),
  };
}

/**
 * Starts the server. `origin` is where decrypted requests go (e.g. the simulator's URL); `handler` answers
 * them instead (served by a private plain HTTP server).
 */
export async function startFingerprintServer(opts: { origin?: string; handler?: (req: Request) => Response | Promise<Response> }): Promise<FingerprintServer> {
  const cert = makeSelfSignedCert();
  const own = opts.handler ? Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: opts.handler }) : undefined;
  const origin = new URL(own ? `http://127.0.0.1:${own.port}` : opts.origin!);
  const originPort = Number(origin.port || 80);
  const hellos: ClientHelloPrint[] = [];
  const heads: RequestHead[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const keep = (s: net.Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => s.destroy());
    return s;
  };
  const pair = (a: net.Socket, b: net.Socket) => {
    a.on("close", () => b.destroy());
    b.on("close", () => a.destroy());
  };

  const terminator = tls.createServer({ key: readFileSync(cert.key), cert: readFileSync(cert.cert) }, (clear) => {
    keep(clear);
    const up = keep(net.connect(originPort, origin.hostname));
    pair(clear, up);
    clear.on("data", (d: Buffer) => {
      const head = parseHead(d.toString("latin1"));
      if (head) heads.push(head);
      up.write(d);
    });
    up.on("data", (d) => clear.write(d));
  });
  terminator.on("tlsClientError", () => {});
  await new Promise<void>((r) => terminator.listen(0, "127.0.0.1", () => r()));
  const terminatorPort = (terminator.address() as net.AddressInfo).port;

  const front = net.createServer((client) => {
    connections++;
    keep(client);
    let buf = Buffer.alloc(0);
    let up: net.Socket | undefined;
    client.on("data", (d: Buffer) => {
      if (up) {
        up.write(d);
        return;
      }
      buf = Buffer.concat([buf, d]);
      if (!recordComplete(buf)) return;
      const stream = new PassThrough();
      stream.end(buf);
      readTlsClientHello(stream).then(
        (h) => hellos.push({ ja3: calculateJa3(h), ja4: calculateJa4(h), alpn: alpnOf(h) }),
        (e) => hellos.push({ ja3: `unparsed: ${e}`, ja4: "unparsed", alpn: [] }),
      );
      up = keep(net.connect(terminatorPort, "127.0.0.1"));
      pair(client, up);
      up.write(buf);
      up.on("data", (x) => client.write(x));
    });
  });
  await new Promise<void>((r) => front.listen(0, "127.0.0.1", () => r()));
  const port = (front.address() as net.AddressInfo).port;

  const stop = trackStop(`tls fingerprint server :${port}`, async () => {
    for (const s of sockets) s.destroy();
    await Promise.all([new Promise((r) => front.close(() => r(undefined))), new Promise((r) => terminator.close(() => r(undefined)))]);
    own?.stop(true);
    rmSync(cert.dir, { recursive: true, force: true });
  });
  return { port, url: `https://localhost:${port}`, certFile: cert.cert, hellos, heads, connections: () => connections, stop };
}
