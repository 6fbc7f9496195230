/** Who the gateway claims to be to chat.deepseek.com (§1.1). One settings object, no scattered literals. */
import { newDeviceId, SHARED_DEVICE_ID } from "../../store/device-id.ts";

export interface ClientIdentity {
  /** App name in the User-Agent. */
  appName: string;
  /** App version: User-Agent and `x-client-version`. Must track the Android app (history: 1.6.11 → … → 2.0.4). */
  version: string;
  /** `x-client-platform` (and the User-Agent OS label). */
  platform: string;
  /** OS API level in the User-Agent. */
  apiLevel: number;
  /** `x-client-locale`. */
  locale: string;
  /**
   * `client_identity.device_id`: only the fallback for an account without a device id of its own (accounts get
   * one when created, see src/store/device-id.ts). Unset by default; the old shared constant is never sent.
   */
  deviceId?: string;
}

export const DEFAULT_CLIENT_IDENTITY: Readonly<ClientIdentity> = Object.freeze({
  appName: "DeepSeek",
  version: "2.0.4",
  platform: "android",
  apiLevel: 35,
  locale: "zh_CN",
});

export { maskDeviceId, newDeviceId, SHARED_DEVICE_ID } from "../../store/device-id.ts";

/**
 * The `device_id` of one login: the account's own, else the `client_identity.device_id` fallback, else a fresh
 * random one (a login never goes out without one: the field is required). The shared constant is never sent.
 */
export function loginDeviceId(own: string | undefined, fallback: string | undefined): string {
  for (const id of [own, fallback]) if (id && id.trim() && id.trim() !== SHARED_DEVICE_ID) return id.trim();
  return newDeviceId();
}

/** The setting an operator changes when DeepSeek refuses the identity (named in client_version errors): where to change it: admin console → Settings → client identity, or `client_identity.version` in config.json. */
export const IDENTITY_VERSION_SETTING = "client_identity.version (admin Settings or config.json)";

export const DEFAULT_BASE_URL = "https://chat.deepseek.com";

function platformLabel(platform: string): string {
  return platform === "android" ? "Android" : platform === "ios" ? "iOS" : platform.charAt(0).toUpperCase() + platform.slice(1);
}

export function userAgent(id: ClientIdentity): string {
  return `${id.appName}/${id.version} ${platformLabel(id.platform)}/${id.apiLevel}`;
}

/** Base headers of every call (§1.1); `authorization` when a token is given. */
export function baseHeaders(id: ClientIdentity, token?: string): Record<string, string> {
  const h: Record<string, string> = {
    "user-agent": userAgent(id),
    accept: "application/json",
    "content-type": "application/json",
    "accept-charset": "UTF-8",
    "x-client-platform": id.platform,
    "x-client-version": id.version,
    "x-client-locale": id.locale,
  };
  if (token !== undefined) h.authorization = `Bearer ${token}`;
  return h;
}
