/** Integer query parameters with readable 400s (the generic validator cannot name a query parameter). */
import { badRequest } from "../http-error.ts";

export function intParam(raw: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (raw === undefined || raw.trim() === "") return fallback;
  const v = Number(raw.trim());
  if (!Number.isInteger(v) || v < min || v > max) throw badRequest(`${name} must be an integer between ${min} and ${max} (got ${JSON.stringify(raw.slice(0, 40))})`);
  return v;
}
