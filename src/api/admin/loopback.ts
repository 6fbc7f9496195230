/**
 * Calls to this server's own business routes (API self-test, playground). The address is the server's
 * own listening address, never one taken from a client's Host header (that would let a caller send a
 * credential to another host). API keys are stored hashed, so the call authenticates with an in-memory
 * loopback credential bound to the chosen key (src/security/api-key-index.ts).
 */
import type { AppContext } from "../../context.ts";
import { badRequest } from "../http-error.ts";

export function ownBaseUrl(ctx: Pick<AppContext, "state">): string {
  if (!ctx.state.url) throw badRequest("the server is not listening yet");
  return ctx.state.url;
}

/** A credential for the first configured API key, or for the given one (which must be configured). */
export async function pickApiKey(ctx: Pick<AppContext, "apiKeys" | "store">, given: string | undefined): Promise<string> {
  if (given?.trim()) {
    const hash = ctx.apiKeys.match(given.trim());
    if (!hash) throw badRequest("api_key is not a configured API key");
    return ctx.apiKeys.loopbackCredential(hash);
  }
  const first = (await ctx.store.apiKeys.list())[0]?.hash;
  if (!first) throw badRequest("no API key is configured; create one under API keys first");
  return ctx.apiKeys.loopbackCredential(first);
}
