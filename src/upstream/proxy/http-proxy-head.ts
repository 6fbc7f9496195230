/**
 * The HTTP heads a forward proxy sees: `CONNECT host:port` (tunnels, used for https targets) and absolute-form
 * requests `GET http://host:port/path` (plain-http targets). Absolute-form requests are rewritten to
 * origin-form with `Connection: close`, and so is the response head, so each bridged connection carries
 * exactly one request and the client never reuses it for another target.
 */

export const MAX_HEAD_BYTES = 64 * 1024;
const HEAD_END = Buffer.from("\r\n\r\n");

export type ProxyRequest =
  | { kind: "connect"; host: string; port: number; headers: Map<string, string> }
  | { kind: "forward"; host: string; port: number; headers: Map<string, string>; head: Uint8Array }
  | { kind: "invalid"; status: number; message: string };

/** Index just past the blank line ending the head, or -1. */
export function headEnd(buf: Uint8Array): number {
  const i = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).indexOf(HEAD_END);
  return i < 0 ? -1 : i + 4;
}

function splitHostPort(authority: string, defaultPort: number): { host: string; port: number } | undefined {
  const m = authority.match(/^(\[[0-9a-fA-F:.%]+\]|[^:\[\]\s]+)(?::(\d{1,5}))?$/);
  if (!m) return undefined;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  const host = m[1]!.startsWith("[") ? m[1]!.slice(1, -1) : m[1]!;
  return { host, port };
}

/** Lower-cased header names → values (the last one wins). */
function parseHeaders(lines: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines) {
    const c = line.indexOf(":");
    if (c > 0) out.set(line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim());
  }
  return out;
}

const HOP_BY_HOP = new Set(["connection", "proxy-connection", "keep-alive", "proxy-authorization", "proxy-authenticate", "te", "trailer", "upgrade"]);

/** Parse a complete request head (`head` ends with the blank line). */
export function parseProxyRequest(head: Uint8Array): ProxyRequest {
  const text = new TextDecoder("latin1").decode(head);
  const lines = text.slice(0, -4).split("\r\n");
  const [method, target, version] = lines[0]!.split(" ");
  if (!method || !target || !version?.startsWith("HTTP/1.")) return { kind: "invalid", status: 400, message: "malformed request line" };
  const headers = parseHeaders(lines.slice(1));
  if (method === "CONNECT") {
    const hp = splitHostPort(target, 443);
    return hp ? { kind: "connect", ...hp, headers } : { kind: "invalid", status: 400, message: "malformed CONNECT target" };
  }
  if (!/^http:\/\//i.test(target)) {
    return { kind: "invalid", status: 400, message: "this proxy takes CONNECT or absolute http:// requests only" };
  }
  const rest = target.slice(7);
  const slash = rest.search(/[/?]/);
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? "/" : rest[slash] === "?" ? `/${rest.slice(slash)}` : rest.slice(slash);
  const hp = authority.includes("@") ? undefined : splitHostPort(authority, 80);
  if (!hp) return { kind: "invalid", status: 400, message: "malformed request target" };
  const kept = lines.slice(1).filter((l) => {
    const name = l.slice(0, Math.max(0, l.indexOf(":"))).trim().toLowerCase();
    return name !== "" && !HOP_BY_HOP.has(name);
  });
  if (!headers.has("host")) kept.unshift(`Host: ${authority}`);
  const out = `${method} ${path} ${version}\r\n${kept.join("\r\n")}${kept.length ? "\r\n" : ""}Connection: close\r\n\r\n`;
  return { kind: "forward", ...hp, headers, head: Buffer.from(out, "latin1") };
}

/**
 * A stateful b → a transform for forwarded requests: holds the response until its head is complete, replaces
 * its connection headers with `Connection: close`, then passes the body through untouched.
 */
export function closeResponseHead(): (chunk: Uint8Array) => Uint8Array | undefined {
  let buffered: Uint8Array | undefined = new Uint8Array(0);
  return (chunk) => {
    if (!buffered) return chunk;
    const all = new Uint8Array(buffered.byteLength + chunk.byteLength);
    all.set(buffered);
    all.set(chunk, buffered.byteLength);
    const end = headEnd(all);
    if (end < 0) {
      if (all.byteLength > MAX_HEAD_BYTES) {
        buffered = undefined;
        return all; // not something we understand; pass it on as is
      }
      buffered = all;
      return undefined;
    }
    buffered = undefined;
    const lines = new TextDecoder("latin1").decode(all.subarray(0, end - 4)).split("\r\n");
    const kept = lines.filter((l, i) => {
      if (i === 0) return true;
      const name = l.slice(0, Math.max(0, l.indexOf(":"))).trim().toLowerCase();
      return name !== "connection" && name !== "keep-alive" && name !== "proxy-connection";
    });
    const head = Buffer.from(`${kept.join("\r\n")}\r\nConnection: close\r\n\r\n`, "latin1");
    const out = new Uint8Array(head.byteLength + all.byteLength - end);
    out.set(head);
    out.set(all.subarray(end), head.byteLength);
    return out;
  };
}

/** A short response from the bridge itself (errors, the CONNECT reply). */
export function proxyResponse(status: number, reason: string, message: string, extraHeaders = ""): Uint8Array {
  const body = `${message}\n`;
  return Buffer.from(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${extraHeaders}\r\n${body}`,
    "utf8",
  );
}
