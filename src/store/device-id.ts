/**
 * Per-account DeepSeek device ids. Every account logs in as its own device: an id is generated once (when the
 * account is created, or by migration 7 for older rows), stored with the account and sent with every login.
 * The shape is an Android `ANDROID_ID` (16 lower-case hex digits), matching the Android app identity the gateway
 * claims; the server does not check the form, so an id captured from a real login may be of any shape.
 */

/** The Go ds2api's constant, once sent by every account of every install: never sent again. */
export const SHARED_DEVICE_ID = "deepseek_to_api";

/** Longest device id accepted from config.json or the admin API. */
export const MAX_DEVICE_ID_LENGTH = 256;

export function newDeviceId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString("hex");
}

/** A device id the gateway may send: non-empty, printable, no whitespace, and not the shared constant. */
export function deviceIdProblem(id: string): string | undefined {
  if (id.length === 0) return "must not be empty";
  if (id.length > MAX_DEVICE_ID_LENGTH) return `must be at most ${MAX_DEVICE_ID_LENGTH} characters`;
  if (!/^[\x21-\x7e]+$/.test(id)) return "must be printable ASCII without spaces";
  if (id === SHARED_DEVICE_ID) return `must not be the shared constant ${JSON.stringify(SHARED_DEVICE_ID)} (every install sent it; DeepSeek flags it)`;
  return undefined;
}

/** A device id for logs: the first and last two characters only. */
export function maskDeviceId(id: string | undefined): string {
  if (!id) return "";
  return id.length <= 6 ? "***" : `${id.slice(0, 2)}***${id.slice(-2)}`;
}
