/**
 * Connection hygiene with raw sockets: malformed requests answer 400 (never 500), routing ignores the Host
 * header, slow bodies are answered 408 and their sockets closed, idle keep-alive connections are closed, and
 * neither long SSE streams nor long upstream waits are cut by the idle timer.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";

/** A raw HTTP/1.1 client socket: what was received, and whether the server closed it. */
class RawClient {
  readonly socket: Socket;
  private chunks: Buffer[] = [];
  closedByPeer = false;
  readonly closed: Promise<void>;

  constructor(port: number) {
    this.socket = connect(port, "127.0.0.1");
    this.socket.on("data", (d: Buffer) => this.chunks.push(d));
    this.socket.on("error", () => {});
    this.closed = new Promise((resolve) => this.socket.on("close", () => resolve()));
    this.socket.on("end", () => (this.closedByPeer = true));
    this.socket.on("close", () => (this.closedByPeer = true));
  }

  get text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }

  write(data: string): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  /** The first response's status, headers and body (Content-Length bodies). */
  response(): { status: number; headers: Record<string, string>; body: string } | undefined {
    const text = this.text;
    const end = text.indexOf("\r\n\r\n");
    if (end < 0) return undefined;
    const [statusLine, ...lines] = text.slice(0, end).split("\r\n");
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const i = l.indexOf(":");
      headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    const length = Number(headers["content-length"] ?? -1);
    const body = text.slice(end + 4);
    if (length >= 0 && Buffer.byteLength(body) < length) return undefined;
    return { status: Number(statusLine!.split(" ")[1]), headers, body: length >= 0 ? body.slice(0, length) : body };
  }

  destroy(): void {
    this.socket.destroy();
  }
}

async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** Sends `request` on a fresh socket and waits for one complete response. */
async function exchange(port: number, request: string) {
  const c = new RawClient(port);
  try {
    c.write(request);
    await until(() => c.response() !== undefined || c.closedByPeer, "a response");
    return { ...c.response(), raw: c.text };
  } finally {
    c.destroy();
  }
}

let stack: Stack;
let port: number;

beforeAll(async () => {
  stack = await startStack({ env: { DS2API_BODY_TIMEOUT_SECONDS: "1", DS2API_IDLE_TIMEOUT_SECONDS: "1" } });
  port = stack.server.port;
  stack.sim.state.setDefaultReply({ answer: "A short answer." });
});

afterAll(async () => {
  await stack?.stop();
});

describe("malformed requests and the Host header", () => {
  test("HTTP/1.0 without Host is served by path", async () => {
    const r = await exchange(port, "GET /healthz HTTP/1.0\r\n\r\n");
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body!).status).toBe("ok");
  });

  test("CONNECT answers 400 in JSON and closes", async () => {
    const r = await exchange(port, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    expect(r.status).toBe(400);
    expect(r.headers!.connection).toBe("close");
    expect(JSON.parse(r.body!).error.message).toContain("CONNECT");
  });

  for (const host of ["a b", "localhost:99999", "user@host", "[::1", "host/path"]) {
    test(`Host: ${host} → 400 in the surface's shape`, async () => {
      const r = await exchange(port, `GET /v1/models HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body!).error.message).toContain("Host");
      const admin = await exchange(port, `GET /admin/status HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      expect(admin.status).toBe(400);
      expect(JSON.parse(admin.body!).detail).toContain("Host");
    });
  }

  test("a short Host (Host: x) routes normally", async () => {
    const r = await exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body!).status).toBe("ok");
  });

  test("an empty Host routes normally", async () => {
    const r = await exchange(port, "GET /healthz HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n");
    expect(r.status).toBe(200);
  });

  test("an absolute-form target routes by its path", async () => {
    const r = await exchange(port, "GET http://elsewhere.example/healthz?x=1 HTTP/1.1\r\nHost: y\r\nConnection: close\r\n\r\n");
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body!).status).toBe("ok");
  });

  test("a business POST with Host: x carries its body through", async () => {
    const body = JSON.stringify({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "hi" }] });
    const r = await exchange(
      port,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body!).choices[0].message.content).toBe("A short answer.");
  });

  test("an unknown method is a 404/405 in JSON, not a 500", async () => {
    const r = await exchange(port, "PROPFIND /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    expect([404, 405]).toContain(r.status!);
    expect(JSON.parse(r.body!).error.message).toContain("PROPFIND");
  });

  test("none of them reached the last-resort error handler", () => {
    expect(stack.logs.join("\n")).not.toMatch(/Invalid URL|server error|request failed|unhandled error/);
  });
});

describe("slow bodies", () => {
  const slowHeaders = (path: string, auth: boolean) =>
    `POST ${path} HTTP/1.1\r\nHost: localhost\r\n${auth ? `Authorization: Bearer ${API_KEY}\r\n` : ""}Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`;

  test("an authenticated body that trickles in is answered 408 (OpenAI shape) and the socket closed", async () => {
    const c = new RawClient(port);
    c.write(slowHeaders("/v1/chat/completions", true));
    const timer = setInterval(() => c.write(" "), 100);
    try {
      await c.closed;
      const r = c.response()!;
      expect(r.status).toBe(408);
      expect(r.headers.connection).toBe("close");
      const body = JSON.parse(r.body);
      expect(body.error.code).toBe("request_timeout");
      expect(body.error.message).toContain("DS2API_BODY_TIMEOUT_SECONDS");
    } finally {
      clearInterval(timer);
      c.destroy();
    }
  });

  test("Anthropic count_tokens gets its 408 in the Anthropic shape", async () => {
    const c = new RawClient(port);
    c.write(slowHeaders("/v1/messages/count_tokens", true));
    const timer = setInterval(() => c.write(" "), 100);
    try {
      await c.closed;
      const r = c.response()!;
      expect(r.status).toBe(408);
      expect(JSON.parse(r.body).type).toBe("error");
    } finally {
      clearInterval(timer);
      c.destroy();
    }
  });

  test("a body that never comes is answered 408 too", async () => {
    const c = new RawClient(port);
    c.write(slowHeaders("/admin/login", false));
    try {
      await c.closed;
      expect(c.response()!.status).toBe(408);
      expect(JSON.parse(c.response()!.body).detail).toContain("not received");
    } finally {
      c.destroy();
    }
  });

  test("50 unauthenticated sockets sending a byte every 100 ms are all answered 401 and closed", async () => {
    const clients = Array.from({ length: 50 }, () => new RawClient(port));
    for (const c of clients) c.write(slowHeaders("/v1/chat/completions", false));
    const timer = setInterval(() => {
      for (const c of clients) c.write(" ");
    }, 100);
    try {
      await Promise.all(clients.map((c) => c.closed));
      for (const c of clients) {
        const r = c.response()!;
        expect(r.status).toBe(401);
        expect(r.headers.connection).toBe("close");
      }
      // and the server still serves
      expect((await fetch(`${stack.url}/healthz`)).status).toBe(200);
    } finally {
      clearInterval(timer);
      for (const c of clients) c.destroy();
    }
  });
});

describe("idle timeout", () => {
  test("an idle keep-alive connection is closed by the server", async () => {
    const c = new RawClient(port);
    try {
      c.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
      await until(() => c.response() !== undefined, "the health answer");
      expect(c.response()!.status).toBe(200);
      await c.closed;
      expect(c.closedByPeer).toBe(true);
    } finally {
      c.destroy();
    }
  }, 30_000);

  test("a stream silent upstream for longer than the idle timeout is not cut, and its connection is closed once idle after it", async () => {
    stack.sim.state.setDefaultReply({ answer: ["one ", "two ", "three"], stall: { afterTokens: 1, ms: 6500 } });
    const body = JSON.stringify({ model: "deepseek-v4-flash", stream: true, messages: [{ role: "user", content: "slow stream" }] });
    const c = new RawClient(port);
    try {
      c.write(
        `POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      await until(() => c.text.includes("data: [DONE]") || c.closedByPeer, "the end of the stream", 30_000);
      expect(c.text).toContain("data: [DONE]");
      expect(c.text).toContain("three");
      expect(c.text).toContain(": keep-alive");
      await c.closed; // the idle timer is back after the stream
    } finally {
      c.destroy();
      stack.sim.state.setDefaultReply({ answer: "A short answer." });
    }
  }, 40_000);

  test("a non-stream request waiting on the upstream for longer than the idle timeout gets its answer", async () => {
    stack.sim.state.setDefaultReply({ answer: "Late but whole.", firstByteDelayMs: 5000 });
    try {
      const r = await fetch(`${stack.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "deepseek-v4-flash", messages: [{ role: "user", content: "slow" }] }),
      });
      expect(r.status).toBe(200);
      expect((await r.json()).choices[0].message.content).toBe("Late but whole.");
    } finally {
      stack.sim.state.setDefaultReply({ answer: "A short answer." });
    }
  }, 40_000);
});
