/**
 * Calls to this server's own business routes (API self-test, playground). The address is the server's
 * own listening address, never one taken from a client's Host header (that would let a caller send a
 * configured API key to another host).
 */
import type { AppContext } from "../../context.ts";
import { badRequest } from "../http-error.ts";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

export function ownBaseUrl(ctx: AppContext, request: Request): string {
  const known = (ctx.state as { url?: string }).url;
  if (known) return known;
  const { host, port } = ctx.options;
  if (port > 0) {
    const h = host === "0.0.0.0" || host === "::" || host === "" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
    return `http://${h}:${port}`;
  }
  const u = new URL(request.url);
  if (LOOPBACK_HOSTS.has(u.hostname)) return `${u.protocol}//${u.host}`;
  throw badRequest("cannot tell this server's own address (listening on port 0); call the admin API through 127.0.0.1");
}

/** The first configured API key, or the given one (which must be configured). */
export function pickApiKey(ctx: AppContext, given: string | undefined): string {
  if (given?.trim()) {
    const key = ctx.apiKeys.match(given.trim());
    if (!key) throw badRequest("api_key is not a configured API key");
    return key;
  }
  const first = ctx.store.apiKeys.list()[0]?.key;
  if (!first) throw badRequest("no API key is configured; create one under API keys first");
  return first;
}
