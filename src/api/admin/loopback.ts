/**
 * Calls to this server's own business routes (API self-test, playground). The address is the server's
 * own listening address, never one taken from a client's Host header (that would let a caller send a
 * configured API key to another host).
 */
import type { AppContext } from "../../context.ts";
import { badRequest } from "../http-error.ts";

export function ownBaseUrl(ctx: AppContext): string {
  if (!ctx.state.url) throw badRequest("the server is not listening yet");
  return ctx.state.url;
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
