/** The admin API client: JWT storage, JSON calls with readable errors, and the session-expiry hook. */

const TOKEN_KEY = "ds2api.admin.token";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let onUnauthorized: () => void = () => {};
let expiryTimer: ReturnType<typeof setTimeout> | undefined;

/** Called once at boot: what to do when the session ends (401 or JWT expiry). */
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

export function getToken(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

/** Seconds since the epoch at which the JWT expires, read from its payload (undefined when unreadable). */
export function tokenExpiry(token: string): number | undefined {
  const part = token.split(".")[1];
  if (!part) return undefined;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((part.length + 3) % 4));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp : undefined;
  } catch {
    return undefined;
  }
}

/** Stores the JWT and arms a timer that ends the session when it expires. */
export function setToken(token: string): void {
  localStorage.setItem(TOKEN_KEY, token);
  armExpiry(token);
}

export function armExpiry(token: string): boolean {
  if (expiryTimer) clearTimeout(expiryTimer);
  const exp = tokenExpiry(token);
  if (exp === undefined) return true;
  const ms = exp * 1000 - Date.now();
  if (ms <= 0) return false;
  // setTimeout overflows past ~24.8 days; such long sessions are re-checked on the next call anyway.
  expiryTimer = setTimeout(() => endSession(), Math.min(ms, 2_000_000_000));
  return true;
}

export function clearToken(): void {
  localStorage.removeItem(TOKEN_KEY);
  if (expiryTimer) clearTimeout(expiryTimer);
  expiryTimer = undefined;
}

export function endSession(): void {
  clearToken();
  onUnauthorized();
}

/** Turns any error body into one readable sentence: `detail`, then `error.message`, then `message`, never a JSON dump. */
export function readableError(status: number, body: unknown, fallbackText = ""): string {
  const pick = (v: unknown): string | undefined => {
    if (typeof v === "string" && v.trim()) return v;
    if (Array.isArray(v)) {
      const parts = v.map((x) => pick(x) ?? (typeof x === "object" && x ? pick((x as { msg?: unknown; message?: unknown }).msg ?? (x as { message?: unknown }).message) : undefined)).filter(Boolean);
      return parts.length ? parts.join("; ") : undefined;
    }
    if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      return pick(o.message) ?? pick(o.msg) ?? pick(o.detail);
    }
    return undefined;
  };
  if (body && typeof body === "object") {
    const o = body as Record<string, unknown>;
    const text = pick(o.detail) ?? pick(o.error) ?? pick(o.message);
    if (text) return text;
  }
  const plain = fallbackText.trim();
  if (plain && !plain.startsWith("{") && !plain.startsWith("<") && plain.length < 300) return plain;
  return `HTTP ${status}`;
}

function headers(json: boolean): Record<string, string> {
  const h: Record<string, string> = { accept: "application/json" };
  if (json) h["content-type"] = "application/json";
  const token = getToken();
  if (token) h.authorization = `Bearer ${token}`;
  return h;
}

/** Sends a request and returns the raw response; a 401 on an authenticated call ends the session. */
export async function send(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, { method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (e) {
    if ((e as Error)?.name === "AbortError") throw e;
    throw new ApiError(0, "network");
  }
  if (res.status === 401 && path !== "/admin/login") {
    const message = await errorFrom(res);
    endSession();
    throw new ApiError(401, message);
  }
  if (!res.ok) throw new ApiError(res.status, await errorFrom(res));
  return res;
}

async function errorFrom(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return readableError(res.status, body, text);
}

/** A JSON call. A 2xx answer that is not JSON (e.g. the console page served for a route that does not exist yet) is an error. */
export async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await send(method, path, body);
  const type = res.headers.get("content-type") ?? "";
  if (!type.includes("json")) throw new ApiError(404, `${method} ${path.split("?")[0]}: not available on this server`);
  return (await res.json()) as T;
}
