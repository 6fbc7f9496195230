/** The state of one web id as the pool and the admin view see it (stored state + caps + cool-down). */
import type { CredentialRecord } from "../../../store/credentials-repo.ts";

export type EntryState = "ok" | "exhausted" | "bad" | "cooling" | "disabled";

/** The cap that applies to an entry: its own, else the global one (0 = unlimited). */
export function capOf(rec: Pick<CredentialRecord, "maxUsage">, globalMax: number): number {
  return rec.maxUsage ?? globalMax;
}

export function effectiveState(rec: CredentialRecord, globalMax: number, now: number): EntryState {
  if (!rec.enabled) return "disabled";
  if (rec.state === "bad") return "bad";
  if (rec.state === "exhausted") return "exhausted";
  const cap = capOf(rec, globalMax);
  if (cap > 0 && rec.usageCount >= cap) return "exhausted";
  if (rec.state === "cooling" && (rec.cooldownUntil ?? 0) > now) return "cooling";
  return "ok";
}
