/**
 * Who may call the Ollama chat routes: the same business credentials as every other surface (Bearer /
 * x-api-key, quotas), and — only when DS2API_OLLAMA_LOOPBACK_OPEN is on — a caller without any credential
 * whose connection comes from loopback and was not forwarded by a proxy (local tools that cannot send a key).
 */
import { Elysia } from "elysia";
import type { AppContext } from "../../context.ts";
import { keyUsageTracker } from "../../security/key-usage.ts";
import { authenticateCaller, enforceQuota, type Caller } from "../caller.ts";
import { extractCredential } from "../credentials.ts";

export const OLLAMA_CHAT_PATHS: ReadonlySet<string> = new Set(["/api/chat", "/api/generate"]);

const LOOPBACK_CALLER: Caller = { kind: "loopback", id: "caller:loopback" };
const FORWARDING_HEADERS = ["forwarded", "x-forwarded-for", "x-real-ip"];

function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase();
  return a === "::1" || a.startsWith("127.") || a.startsWith("::ffff:127.");
}

function fromLoopback(ctx: AppContext, request: Request): boolean {
  if (FORWARDING_HEADERS.some((h) => request.headers.has(h))) return false;
  return isLoopbackAddress(ctx.clientAddress.get(request));
}

/** The caller of an Ollama chat route (throws the 401 HttpError of the other surfaces otherwise). */
export function ollamaCaller(ctx: AppContext, request: Request): Caller {
  const url = new URL(request.url);
  if (ctx.options.ollamaLoopbackOpen && !extractCredential(request, url) && fromLoopback(ctx, request)) return LOOPBACK_CALLER;
  return authenticateCaller(request, url, ctx.apiKeys, ctx.options.allowDirectToken);
}

/** Elysia plugin exposing `caller` on the Ollama chat routes (quotas apply to managed keys, cluster-wide with Redis). */
export function ollamaAuth(ctx: AppContext) {
  const usage = keyUsageTracker(ctx);
  return new Elysia({ name: "ollama-auth" }).derive({ as: "scoped" }, async ({ request }) => ({
    caller: await enforceQuota(ollamaCaller(ctx, request), usage),
  }));
}
