/**
 * The device an account logs in as: its own stored id; for an account without one (not possible after
 * migration 7, but a row written by hand may lack it) the `client_identity.device_id` fallback when set, else a
 * fresh random id that is stored, so the account stays one stable device.
 */
import type { Store } from "../../store/store.ts";
import { SHARED_DEVICE_ID } from "./identity.ts";

export function accountDeviceId(store: Store, identifier: string, fallback: string | undefined): string | undefined {
  const own = store.accounts.get(identifier)?.deviceId?.trim();
  if (own && own !== SHARED_DEVICE_ID) return own;
  const global = fallback?.trim();
  if (global && global !== SHARED_DEVICE_ID) return global;
  return store.accounts.setDeviceId(identifier, null);
}
