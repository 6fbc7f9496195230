/**
 * Who the gateway claims to be to chat.deepseek.com (§1.1). One settings object, no scattered literals.
 * The claim must match the TLS profile (src/upstream/transport/tls-profile.ts): with `okhttp` (default) or
 * `plain` the requests are the Android app's; with a browser profile they are the web client's as that
 * browser sends them (user agent, client hints, fetch metadata, header order), so no header contradicts
 * the ClientHello.
 */
import type { TlsProfile } from "../transport/tls-profile.ts";
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

/** The Android app's base headers as a record (§1.1); `authorization` when a token is given. */
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

/** The real client a request imitates: the Android app (over OkHttp) or the web client in one browser. */
export type ClientShape = "android" | "chrome" | "firefox" | "safari";

export function shapeForProfile(profile: TlsProfile): ClientShape {
  return profile === "okhttp" || profile === "plain" ? "android" : profile;
}

/** The web client's own identity headers (chat.deepseek.com in a browser). */
export const WEB_CLIENT = Object.freeze({ platform: "web", version: "2.0.0", appVersion: "20241129.1" });

interface BrowserShape {
  /** Same browser release as the impit profile of src/upstream/transport/tls-profile.ts. */
  userAgent: string;
  /** Chromium client hints (Chrome only). */
  hints?: { ua: string; mobile: string; platform: string };
  priority: string;
  acceptEncoding: string;
  /** Headers a same-origin fetch() from the page sends, in wire order; `APP` marks where the page's own headers go. */
  order: readonly string[];
}

const APP = "*app*";

const BROWSERS: Readonly<Record<Exclude<ClientShape, "android">, BrowserShape>> = {
  chrome: {
    userAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
    hints: { ua: '"Chromium";v="142", "Google Chrome";v="142", "Not_A Brand";v="99"', mobile: "?0", platform: '"macOS"' },
    priority: "u=1, i",
    acceptEncoding: "gzip, deflate, br, zstd",
    order: ["sec-ch-ua-platform", APP, "sec-ch-ua", "sec-ch-ua-mobile", "user-agent", "accept", "origin", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest", "referer", "accept-encoding", "accept-language", "priority"],
  },
  firefox: {
    userAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:144.0) Gecko/20100101 Firefox/144.0",
    priority: "u=4",
    acceptEncoding: "gzip, deflate, br, zstd",
    order: ["user-agent", "accept", "accept-language", "accept-encoding", "referer", APP, "origin", "sec-fetch-dest", "sec-fetch-mode", "sec-fetch-site", "priority", "te"],
  },
  safari: {
    userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.5 Mobile/15E148 Safari/604.1",
    priority: "u=3, i",
    acceptEncoding: "gzip, deflate, br",
    order: [APP, "accept", "sec-fetch-site", "origin", "sec-fetch-mode", "user-agent", "referer", "sec-fetch-dest", "accept-language", "priority", "accept-encoding"],
  },
};

/** Impersonation defaults of a page navigation that a fetch() never sends: sent empty, which removes them. */
const NAVIGATION_ONLY = ["upgrade-insecure-requests", "sec-fetch-user"];

/** The user agent a shape sends (the Android app's, or the browser's). */
export function userAgentFor(id: ClientIdentity, shape: ClientShape): string {
  return shape === "android" ? userAgent(id) : BROWSERS[shape].userAgent;
}

/** The `x-client-platform` a shape claims (the Android identity's, or "web"); also the login body's `os`. */
export function platformFor(id: ClientIdentity, shape: ClientShape): string {
  return shape === "android" ? id.platform : WEB_CLIENT.platform;
}

function acceptLanguage(locale: string): string {
  const [lang, region] = locale.split(/[_-]/);
  const tag = region ? `${lang}-${region.toUpperCase()}` : lang ?? "en";
  return lang === "en" ? `${tag},en;q=0.9` : `${tag},${lang};q=0.9,en;q=0.8`;
}

export interface RequestHeaderInput {
  token?: string;
  /** Per-call headers (x-ds-pow-response, x-file-size, …), sent where the client sends its own. */
  extra?: Record<string, string>;
  /** False for multipart uploads (the body sets its own content type). */
  json?: boolean;
  /** The site origin, for browser shapes' origin / referer (the configured base URL). */
  origin: string;
}

/**
 * Every header of one call, in the imitated client's order. Android (OkHttp): the app's headers, then
 * OkHttp's bridge header Content-Type (the transport appends Accept-Encoding, Host and Content-Length). Browsers: a same-origin fetch() of the web
 * client. Pairs with an empty value remove an impersonation default of the native transport.
 */
export function requestHeaders(id: ClientIdentity, shape: ClientShape, input: RequestHeaderInput): [string, string][] {
  const extra = Object.entries(input.extra ?? {});
  const json = input.json !== false;
  if (shape === "android") {
    const out: [string, string][] = [
      ["user-agent", userAgent(id)],
      ["accept", "application/json"],
      ["accept-charset", "UTF-8"],
      ["x-client-platform", id.platform],
      ["x-client-version", id.version],
      ["x-client-locale", id.locale],
    ];
    if (input.token !== undefined) out.push(["authorization", `Bearer ${input.token}`]);
    out.push(...extra);
    // OkHttp's bridge adds Content-Type here and then Accept-Encoding: gzip (the native okhttp profile does that).
    if (json) out.push(["content-type", "application/json"]);
    return out;
  }
  const b = BROWSERS[shape];
  const app: [string, string][] = [];
  if (input.token !== undefined) app.push(["authorization", `Bearer ${input.token}`]);
  if (json) app.push(["content-type", "application/json"]);
  app.push(["x-app-version", WEB_CLIENT.appVersion], ["x-client-locale", id.locale], ["x-client-platform", WEB_CLIENT.platform], ["x-client-version", WEB_CLIENT.version], ...extra);
  const values: Record<string, string> = {
    "user-agent": b.userAgent,
    accept: "*/*",
    "accept-language": acceptLanguage(id.locale),
    "accept-encoding": b.acceptEncoding,
    origin: input.origin,
    referer: `${input.origin}/`,
    "sec-fetch-site": "same-origin",
    "sec-fetch-mode": "cors",
    "sec-fetch-dest": "empty",
    priority: b.priority,
    te: "trailers",
  };
  if (b.hints) Object.assign(values, { "sec-ch-ua": b.hints.ua, "sec-ch-ua-mobile": b.hints.mobile, "sec-ch-ua-platform": b.hints.platform });
  const out: [string, string][] = [];
  for (const name of b.order) {
    if (name === APP) out.push(...app);
    else if (values[name] !== undefined) out.push([name, values[name]!]);
  }
  for (const name of NAVIGATION_ONLY) out.push([name, ""]);
  return out;
}
