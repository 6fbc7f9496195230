/** Who is calling a business route: a configured API key (pooled accounts) or, when allowed, a direct DeepSeek token. */
import { createHash } from "node:crypto";
import type { ApiKeyIndex } from "../security/api-key-index.ts";
import { extractCredential } from "./credentials.ts";
import { HttpError, tooManyRequests } from "./http-error.ts";

export type { Caller } from "../core/turn/turn-observer.ts";
import type { Caller } from "../core/turn/turn-observer.ts";

/** `caller:` + first 8 bytes of SHA-256 of the credential, as hex (stable, reveals nothing). */
export function callerId(credential: string): string {
  return `caller:${createHash("sha256").update(credential).digest("hex").slice(0, 16)}`;
}

export function authenticateCaller(request: Request, url: URL, keys: ApiKeyIndex, allowDirectToken: boolean): Caller {
  const credential = extractCredential(request, url);
  if (!credential) throw new HttpError(401, "unauthorized: missing auth token (send Authorization: Bearer <key> or x-api-key)");
  const key = keys.match(credential);
  if (key) return { kind: "key", key, id: callerId(key) };
  if (allowDirectToken) return { kind: "direct", token: credential, id: callerId(credential) };
  throw new HttpError(401, "unauthorized: invalid API key");
}

/** Refuse a managed key that is over its quota: 429 (rendered in the caller's surface shape) with Retry-After. */
export async function enforceQuota(caller: Caller, usage: { admit(key: string): Promise<{ message: string; retryAfterSeconds: number } | undefined> }): Promise<Caller> {
  if (caller.kind !== "key") return caller;
  const refusal = await usage.admit(caller.key);
  if (refusal) throw tooManyRequests(refusal.message, refusal.retryAfterSeconds, "quota_exceeded");
  return caller;
}
