/**
 * The device an account logs in as: its own stored id; for an account without one (not possible after
 * migration 7, but a row written by hand may lack it) the `client_identity.device_id` fallback when set, else a
 * fresh random id that is stored, so the account stays one stable device.
 */
import type { AccountRecord } from "../../store/accounts-repo.ts";
import type { StoreApi } from "../../store/store-api.ts";
import { SHARED_DEVICE_ID } from "./identity.ts";

/**
 * `account` is the account as the caller read it (the pool's view, or the store); only a missing id touches the
 * store (`stored`: a fresh id was written, which also dropped the account's token).
 */
export async function accountDeviceId(
  store: StoreApi,
  identifier: string,
  account: Pick<AccountRecord, "deviceId"> | undefined,
  fallback: string | undefined,
): Promise<{ deviceId: string | undefined; stored: boolean }> {
  const own = account?.deviceId?.trim();
  if (own && own !== SHARED_DEVICE_ID) return { deviceId: own, stored: false };
  const global = fallback?.trim();
  if (global && global !== SHARED_DEVICE_ID) return { deviceId: global, stored: false };
  return { deviceId: await store.accounts.setDeviceId(identifier, null), stored: true };
}
