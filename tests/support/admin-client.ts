/** A small admin API client for tests that records every response body, so a suite can scan them all for leaked secrets. */
import { expect } from "bun:test";

export interface AdminResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export interface RecordedResponse {
  label: string;
  text: string;
  /** The one kind of answer allowed to show a secret (key creation, export with include_secrets=1). */
  secretBearing: boolean;
}

export class AdminClient {
  readonly recorded: RecordedResponse[] = [];

  constructor(
    public baseUrl: string,
    public auth?: string,
  ) {}

  async call(method: string, path: string, body?: unknown, opts: { auth?: string | null; headers?: Record<string, string>; rawBody?: string; secretBearing?: boolean } = {}): Promise<AdminResponse> {
    const headers: Record<string, string> = { ...opts.headers };
    const auth = opts.auth === undefined ? this.auth : opts.auth;
    if (auth) headers.authorization = `Bearer ${auth}`;
    if (body !== undefined || opts.rawBody !== undefined) headers["content-type"] ??= "application/json";
    const res = await fetch(this.baseUrl + path, { method, headers, body: opts.rawBody ?? (body === undefined ? undefined : JSON.stringify(body)) });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    this.recorded.push({ label: `${method} ${path} → ${res.status}`, text, secretBearing: opts.secretBearing === true });
    return { status: res.status, headers: res.headers, text, json };
  }

  get = (path: string, opts?: Parameters<AdminClient["call"]>[3]) => this.call("GET", path, undefined, opts);
  post = (path: string, body?: unknown, opts?: Parameters<AdminClient["call"]>[3]) => this.call("POST", path, body, opts);
  put = (path: string, body?: unknown, opts?: Parameters<AdminClient["call"]>[3]) => this.call("PUT", path, body, opts);
  delete = (path: string, opts?: Parameters<AdminClient["call"]>[3]) => this.call("DELETE", path, undefined, opts);

  async login(adminKey: string, expireHours?: number): Promise<string> {
    const r = await this.post("/admin/login", { admin_key: adminKey, ...(expireHours ? { expire_hours: expireHours } : {}) }, { auth: null });
    expect(r.status).toBe(200);
    return r.json.token as string;
  }

  /** Every recorded non-secret-bearing answer must be free of each secret (secrets shorter than 4 chars are skipped as too generic). */
  expectNoSecrets(secrets: Iterable<string | undefined>): number {
    const list = [...new Set([...secrets].filter((s): s is string => typeof s === "string" && s.length >= 4))];
    let scanned = 0;
    for (const r of this.recorded) {
      if (r.secretBearing) continue;
      scanned++;
      for (const s of list) {
        if (r.text.includes(s)) throw new Error(`secret ${s.slice(0, 2)}… leaked in ${r.label}`);
      }
    }
    return scanned;
  }
}

/** Expect a 4xx answer in the admin error shape with a readable message. */
export function expectDetail(r: AdminResponse, status: number | "4xx"): string {
  if (status === "4xx") {
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
  } else expect(r.status).toBe(status);
  expect(r.json).toBeDefined();
  expect(typeof r.json.detail).toBe("string");
  expect(r.json.detail.length).toBeGreaterThan(3);
  expect(r.json.detail).not.toMatch(/^\s*[{[]/);
  return r.json.detail as string;
}
