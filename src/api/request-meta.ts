/** Request-level options shared by the surfaces. */
import { canonicalMobile } from "../config/mobile.ts";
import type { Caller } from "./caller.ts";

/** Pinned account from `X-Ds2-Target-Account` (managed keys only; email or mobile). */
export function pinnedAccount(request: Request, caller: Caller): string | undefined {
  if (caller.kind !== "key") return undefined;
  const v = request.headers.get("x-ds2-target-account")?.trim();
  if (!v) return undefined;
  return v.includes("@") ? v.toLowerCase() : canonicalMobile(v) || v;
}

export function passthroughFields(body: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const n of names) if (body[n] !== undefined && body[n] !== null) out[n] = body[n];
  return out;
}
