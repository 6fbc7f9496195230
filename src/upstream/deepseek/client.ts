/**
 * HTTP client for chat.deepseek.com's private web API (§2). One instance per base URL + identity; tokens are
 * passed per call so one client serves a whole account pool. Streaming calls return the raw SSE Response
 * after checking it really is a stream.
 */
import type { PowChallenge, PowSolver } from "../pow/types.ts";
import { classifyEnvelope, classifyNonJson, DeepSeekError } from "./errors.ts";
import { DEFAULT_BASE_URL, DEFAULT_CLIENT_IDENTITY, loginDeviceId, platformFor, requestHeaders, shapeForProfile, type ClientIdentity, type ClientShape } from "./identity.ts";
import type { TlsProfile } from "../transport/tls-profile.ts";
import { powResponseHeader } from "../pow/header.ts";
import { fileFromUploadData, findFileById, isFilePending, isFileReady, safeUploadName, type UploadedFile } from "./upload-file.ts";
import { loginMobile } from "../../config/mobile.ts";

export const DS_PATHS = {
  login: "/api/v0/users/login",
  current: "/api/v0/users/current",
  createSession: "/api/v0/chat_session/create",
  pow: "/api/v0/chat/create_pow_challenge",
  completion: "/api/v0/chat/completion",
  continue: "/api/v0/chat/continue",
  upload: "/api/v0/file/upload_file",
  fetchFiles: "/api/v0/file/fetch_files",
  fetchPage: "/api/v0/chat_session/fetch_page",
  deleteSession: "/api/v0/chat_session/delete",
  deleteAll: "/api/v0/chat_session/delete_all",
} as const;

/** §8 constants; every delay is configurable so tests run fast. */
export interface ClientRetryPolicy {
  /** Attempts for session, PoW, completion and upload (default 3). */
  attempts: number;
  /** Wait between completion/continue attempts (default 1000 ms). */
  completionDelayMs: number;
  /** Wait between other attempts (default 250 ms). */
  delayMs: number;
}

export interface UploadPollPolicy {
  intervalMs: number;
  maxPolls: number;
  maxWaitMs: number;
}

export interface DeepSeekClientOptions {
  baseUrl?: string;
  identity?: Partial<ClientIdentity>;
  pow: PowSolver;
  fetch?: typeof fetch;
  /**
   * The TLS profile `fetch` really presents (the transport's `in_use`), which picks the identity's shape
   * (Android app or a browser's web client), and how WAF errors name it. Default: plain, Android.
   */
  tls?: { profile: TlsProfile; label: string };
  /** Whole JSON call incl. its body, and the floor of the header wait of uploads (default 60 000). */
  timeoutMs?: number;
  /** Connect + response headers of every call (default 20 000); a function is read at each call (live setting). */
  headerTimeoutMs?: number | (() => number);
  /** Longest silence (no SSE data line) of a streaming body after its headers (default 120 000). */
  idleTimeoutMs?: number | (() => number);
  retry?: Partial<ClientRetryPolicy>;
  uploadPoll?: Partial<UploadPollPolicy>;
}

export interface LoginInput {
  email?: string;
  mobile?: string;
  password: string;
  /** The account's own device id (src/store/device-id.ts); the identity's `deviceId` is only the fallback. */
  deviceId?: string;
}

export interface LoginResult {
  token: string;
  user: Record<string, unknown>;
}

/** Fields of a completion request (§2.5). */
export interface CompletionRequest {
  chatSessionId: string;
  parentMessageId: number | null;
  prompt: string;
  refFileIds: string[];
  thinkingEnabled: boolean;
  searchEnabled: boolean;
  modelType: string;
  /** Copied sampling fields etc. (sent as given). */
  extra?: Record<string, unknown>;
}

export interface StreamCallOptions {
  signal?: AbortSignal;
  /** A solved `x-ds-pow-response`; fetched and solved when absent. */
  powHeader?: string;
}

export interface UploadInput {
  data: Uint8Array | Blob | string;
  filename?: string;
  contentType?: string;
  modelType?: string;
}

export interface SessionPage {
  sessions: Array<{ id: string; title?: string; pinned?: boolean; updatedAt?: number; raw: Record<string, unknown> }>;
  hasMore: boolean;
}

interface CallOptions {
  method?: "GET" | "POST";
  token?: string;
  body?: unknown;
  rawBody?: BodyInit;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Secrets to scrub from error messages. */
  secrets?: (string | undefined)[];
}

function isObj(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

function abortError(signal: AbortSignal | undefined, path: string): DeepSeekError {
  return new DeepSeekError("aborted", `${path}: aborted`, { path, cause: signal?.reason });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return signal?.aborted ? Promise.reject(abortError(signal, "retry")) : Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError(signal, "retry"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function formatMs(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

export class DeepSeekClient {
  readonly baseUrl: string;
  readonly identity: Readonly<ClientIdentity>;
  readonly retry: ClientRetryPolicy;
  readonly uploadPoll: UploadPollPolicy;
  private readonly pow: PowSolver;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly headerTimeout: () => number;
  private readonly idleTimeout: () => number;
  /** Which real client the headers imitate (follows the TLS profile). */
  readonly shape: ClientShape;
  /** The TLS profile in use, as WAF errors name it. */
  readonly tlsLabel: string;
  private readonly origin: string;

  constructor(opts: DeepSeekClientOptions) {
    this.baseUrl = (opts.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
    this.identity = Object.freeze({ ...DEFAULT_CLIENT_IDENTITY, ...opts.identity });
    this.pow = opts.pow;
    this.fetchImpl = opts.fetch ?? fetch;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    const header = opts.headerTimeoutMs ?? 20_000;
    this.headerTimeout = typeof header === "function" ? header : () => header;
    const idle = opts.idleTimeoutMs ?? 120_000;
    this.idleTimeout = typeof idle === "function" ? idle : () => idle;
    this.retry = { attempts: 3, completionDelayMs: 1000, delayMs: 250, ...opts.retry };
    this.uploadPoll = { intervalMs: 1000, maxPolls: 60, maxWaitMs: 65_000, ...opts.uploadPoll };
    this.shape = shapeForProfile(opts.tls?.profile ?? "plain");
    this.tlsLabel = opts.tls?.label ?? "plain (Bun's TLS, no client fingerprint)";
    this.origin = new URL(this.baseUrl).origin;
  }

  /** The current idle limit for streaming bodies (read per round). */
  streamIdleTimeoutMs(): number {
    return this.idleTimeout();
  }

  /** "DeepSeek/2.0.4 (android)": the identity named in WAF errors. */
  identityLabel(): string {
    if (this.shape !== "android") return `web client (${this.shape})`;
    return `${this.identity.appName}/${this.identity.version} (${this.identity.platform})`;
  }

  // ---- plumbing ----

  /** Sends one request; the timeout covers the call up to response headers. */
  private async send(path: string, o: CallOptions, timeout: { ctl: AbortController; ms: number }): Promise<Response> {
    const headers = requestHeaders(this.identity, this.shape, { token: o.token, extra: o.headers, json: o.rawBody === undefined, origin: this.origin });
    const signal = o.signal ? AbortSignal.any([o.signal, timeout.ctl.signal]) : timeout.ctl.signal;
    try {
      return await this.fetchImpl(this.baseUrl + path, {
        method: o.method ?? "POST",
        headers,
        body: o.rawBody ?? (o.body === undefined ? undefined : JSON.stringify(o.body)),
        signal,
      });
    } catch (e) {
      throw this.fetchFailure(e, path, o.signal, timeout);
    }
  }

  private fetchFailure(e: unknown, path: string, user: AbortSignal | undefined, timeout: { ctl: AbortController; ms: number; what?: string }): DeepSeekError {
    if (e instanceof DeepSeekError) return e;
    if (user?.aborted) return abortError(user, path);
    if (timeout.ctl.signal.aborted) {
      return new DeepSeekError("timeout", `${path}: ${timeout.what ?? "no response headers"} within ${formatMs(timeout.ms)} (upstream header timeout)`, { path, reason: "header_timeout" });
    }
    const msg = e instanceof Error ? e.message : String(e);
    return new DeepSeekError("network", `${path}: network error (${msg.slice(0, 200)})`, { path, cause: e });
  }

  private startTimeout(ms: number, what?: string): { ctl: AbortController; ms: number; what?: string; clear(): void } {
    const ctl = new AbortController();
    const t = setTimeout(() => ctl.abort(new DOMException("timeout", "TimeoutError")), ms);
    return { ctl, ms, what, clear: () => clearTimeout(t) };
  }

  /** A JSON call: returns `data.biz_data`, or throws a classified DeepSeekError. */
  private async jsonCall(path: string, o: CallOptions = {}): Promise<unknown> {
    // Headers within the header timeout (an upload's body goes out before them: at least `timeoutMs` there),
    // the whole call within `timeoutMs`.
    const headerMs = o.rawBody !== undefined ? Math.max(this.headerTimeout(), this.timeoutMs) : this.headerTimeout();
    const head = this.startTimeout(headerMs);
    const whole = this.startTimeout(Math.max(headerMs, this.timeoutMs), "no complete answer");
    try {
      // `whole` (never shorter than `head`) stays on the fetch so it also bounds reading the body.
      const res = await this.send(path, { ...o, signal: o.signal ? AbortSignal.any([o.signal, whole.ctl.signal]) : whole.ctl.signal }, head);
      head.clear();
      let text: string;
      try {
        text = await res.text();
      } catch (e) {
        throw this.fetchFailure(e, path, o.signal, whole);
      }
      return this.readEnvelope(path, res.status, text, [o.token, ...(o.secrets ?? [])]);
    } finally {
      head.clear();
      whole.clear();
    }
  }

  private nonJson(status: number, path: string, body: string): DeepSeekError {
    return classifyNonJson(status, { path, version: this.identity.version, identity: this.identityLabel(), tls: this.tlsLabel, body });
  }

  private readEnvelope(path: string, status: number, text: string, secrets: (string | undefined)[]): unknown {
    if (status >= 500 || status === 429) throw this.nonJson(status, path, text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw this.nonJson(status, path, text);
    }
    const err = classifyEnvelope(json, { path, httpStatus: status, version: this.identity.version, secrets });
    if (err) throw err;
    return ((json as { data: { biz_data?: unknown } }).data).biz_data ?? null;
  }

  private async withRetry<T>(fn: (attempt: number) => Promise<T>, delayMs: number, signal?: AbortSignal, extraRetry?: (e: DeepSeekError) => boolean): Promise<T> {
    let last: unknown;
    for (let attempt = 1; attempt <= this.retry.attempts; attempt++) {
      if (signal?.aborted) throw abortError(signal, "request");
      try {
        return await fn(attempt);
      } catch (e) {
        last = e;
        const retry = e instanceof DeepSeekError && (e.retryable || (extraRetry?.(e) ?? false));
        if (!retry || attempt === this.retry.attempts) throw e;
        await sleep(delayMs, signal);
      }
    }
    throw last;
  }

  // ---- accounts ----

  /** §2.1. Email or mobile (normalised: digits, a 13-digit 86 prefix dropped, area_code null); password trimmed. */
  async login(input: LoginInput, signal?: AbortSignal): Promise<LoginResult> {
    const password = input.password.trim();
    const id = this.identity;
    const deviceId = loginDeviceId(input.deviceId, id.deviceId);
    const os = platformFor(id, this.shape);
    const body: Record<string, unknown> = input.email?.trim()
      ? { email: input.email.trim(), password, device_id: deviceId, os }
      : { mobile: loginMobile(input.mobile ?? ""), area_code: null, password, device_id: deviceId, os };
    if (!body.email && !body.mobile) throw new DeepSeekError("business", `${DS_PATHS.login}: email or mobile required`, { path: DS_PATHS.login });
    let data: unknown;
    try {
      data = await this.jsonCall(DS_PATHS.login, { body, signal, secrets: [password, input.password] });
    } catch (e) {
      // A refused login means the credentials are unusable: report it as auth (a device risk or a mute stays what it is).
      if (e instanceof DeepSeekError && e.kind === "business") throw new DeepSeekError("auth", e.message, { code: e.code, httpStatus: e.httpStatus, path: e.path });
      throw e;
    }
    const user = isObj(data) && isObj(data.user) ? data.user : isObj(data) ? data : {};
    const token = typeof user.token === "string" ? user.token : isObj(data) && typeof data.token === "string" ? data.token : "";
    if (!token) throw new DeepSeekError("protocol", `${DS_PATHS.login}: no token in login response`, { path: DS_PATHS.login });
    return { token, user };
  }

  /** §2.2: the current user (also a cheap token check). */
  async currentUser(token: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const data = await this.jsonCall(DS_PATHS.current, { method: "GET", token, signal });
    return isObj(data) ? data : {};
  }

  // ---- sessions ----

  /** §2.3; accepts `biz_data.id` and `biz_data.chat_session.id`. */
  async createSession(token: string, signal?: AbortSignal): Promise<string> {
    return this.withRetry(async () => {
      const data = await this.jsonCall(DS_PATHS.createSession, { token, body: { agent: "chat" }, signal });
      const id = isObj(data) ? (typeof data.id === "string" ? data.id : isObj(data.chat_session) && typeof data.chat_session.id === "string" ? data.chat_session.id : "") : "";
      if (!id) throw new DeepSeekError("protocol", `${DS_PATHS.createSession}: no session id in response`, { path: DS_PATHS.createSession });
      return id;
    }, this.retry.delayMs, signal);
  }

  async deleteSession(token: string, sessionId: string, signal?: AbortSignal): Promise<void> {
    await this.jsonCall(DS_PATHS.deleteSession, { token, body: { chat_session_id: sessionId }, signal });
  }

  async deleteAllSessions(token: string, signal?: AbortSignal): Promise<void> {
    await this.jsonCall(DS_PATHS.deleteAll, { token, body: {}, signal });
  }

  /** §2.9: the first page of sessions. */
  async fetchPage(token: string, signal?: AbortSignal): Promise<SessionPage> {
    const data = await this.jsonCall(`${DS_PATHS.fetchPage}?lte_cursor.pinned=false`, { method: "GET", token, signal });
    const list = isObj(data) && Array.isArray(data.chat_sessions) ? data.chat_sessions : [];
    return {
      sessions: list.filter(isObj).map((s) => ({
        id: String(s.id ?? ""), title: typeof s.title === "string" ? s.title : undefined, pinned: s.pinned === true,
        updatedAt: typeof s.updated_at === "number" ? s.updated_at : undefined, raw: s,
      })),
      hasMore: isObj(data) && data.has_more === true,
    };
  }

  // ---- PoW ----

  /** §2.4. */
  async createPowChallenge(token: string, targetPath: string, signal?: AbortSignal): Promise<PowChallenge> {
    const data = await this.jsonCall(DS_PATHS.pow, { token, body: { target_path: targetPath }, signal });
    const c = isObj(data) && isObj(data.challenge) ? data.challenge : undefined;
    if (!c || typeof c.challenge !== "string" || typeof c.salt !== "string" || typeof c.signature !== "string") {
      throw new DeepSeekError("protocol", `${DS_PATHS.pow}: malformed challenge`, { path: DS_PATHS.pow });
    }
    if (c.algorithm !== "DeepSeekHashV1") throw new DeepSeekError("pow", `${DS_PATHS.pow}: unsupported PoW algorithm ${String(c.algorithm).slice(0, 40)}`, { path: DS_PATHS.pow });
    return {
      ...c,
      algorithm: c.algorithm,
      challenge: c.challenge,
      salt: c.salt,
      signature: c.signature,
      difficulty: typeof c.difficulty === "number" ? c.difficulty : 144000,
      expire_at: typeof c.expire_at === "number" ? c.expire_at : 1680000000,
      target_path: typeof c.target_path === "string" ? c.target_path : targetPath,
    };
  }

  /** Solves a challenge into the `x-ds-pow-response` value. */
  async solvePow(challenge: PowChallenge, signal?: AbortSignal): Promise<string> {
    let answer: number | null;
    try {
      answer = await this.pow.solve(challenge, signal);
    } catch (e) {
      if (signal?.aborted) throw abortError(signal, "pow");
      throw new DeepSeekError("pow", `PoW solver failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    if (answer === null) throw new DeepSeekError("pow", "PoW challenge has no solution in range", {});
    return powResponseHeader(challenge, answer);
  }

  /** Challenge + solve, up to `attempts` times (a fresh challenge when one cannot be solved). */
  async powHeader(token: string, targetPath: string, signal?: AbortSignal): Promise<string> {
    return this.withRetry(async () => this.solvePow(await this.createPowChallenge(token, targetPath, signal), signal), this.retry.delayMs, signal, (e) => e.kind === "pow");
  }

  // ---- streaming ----

  /** §2.5: POST chat/completion; returns the SSE Response (body unread). */
  async completion(token: string, req: CompletionRequest, o: StreamCallOptions = {}): Promise<Response> {
    const body = {
      ...req.extra,
      chat_session_id: req.chatSessionId,
      model_type: req.modelType,
      parent_message_id: req.parentMessageId,
      prompt: req.prompt,
      ref_file_ids: req.refFileIds,
      thinking_enabled: req.thinkingEnabled,
      search_enabled: req.searchEnabled,
    };
    const pow = o.powHeader ?? (await this.powHeader(token, DS_PATHS.completion, o.signal));
    return this.streamCall(DS_PATHS.completion, token, body, pow, o.signal);
  }

  /** §2.6: POST chat/continue for an INCOMPLETE message. */
  async continue(token: string, req: { chatSessionId: string; messageId: number }, o: StreamCallOptions = {}): Promise<Response> {
    const body = { chat_session_id: req.chatSessionId, message_id: req.messageId, fallback_to_resume: true };
    const pow = o.powHeader ?? (await this.powHeader(token, DS_PATHS.completion, o.signal));
    return this.streamCall(DS_PATHS.continue, token, body, pow, o.signal);
  }

  private streamCall(path: string, token: string, body: unknown, pow: string, signal?: AbortSignal): Promise<Response> {
    return this.withRetry(async () => {
      const t = this.startTimeout(this.headerTimeout());
      let res: Response;
      try {
        // The timeout covers the wait for headers only; the caller's signal stays attached to the body.
        res = await this.send(path, { token, body, signal, headers: { "x-ds-pow-response": pow } }, t);
      } finally {
        t.clear();
      }
      return this.checkStream(path, res, token);
    }, this.retry.completionDelayMs, signal);
  }

  /** Makes sure a streaming response is SSE; a JSON envelope (even with HTTP 200) becomes a classified error. */
  private async checkStream(path: string, res: Response, token: string): Promise<Response> {
    const ct = (res.headers.get("content-type") ?? "").toLowerCase();
    if (res.status !== 200 || ct.includes("json") || ct.includes("text/html")) {
      const text = await res.text().catch(() => "");
      if (res.status !== 200 && !text.trimStart().startsWith("{")) throw this.nonJson(res.status, path, text);
      this.readEnvelope(path, res.status, text, [token]);
      throw new DeepSeekError("protocol", `${path}: expected an event stream, got a JSON answer`, { path, httpStatus: res.status });
    }
    if (ct.includes("event-stream") || !res.body) return res;
    // Unknown content type: look at the first byte.
    const reader = res.body.getReader();
    const first = await reader.read();
    const chunk = first.value ?? new Uint8Array(0);
    let i = 0;
    while (i < chunk.length && (chunk[i] === 0x20 || chunk[i] === 0x0a || chunk[i] === 0x0d || chunk[i] === 0x09)) i++;
    if (i < chunk.length && chunk[i] === 0x7b) {
      const parts: Uint8Array[] = [chunk];
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        parts.push(r.value);
      }
      this.readEnvelope(path, res.status, Buffer.concat(parts).toString("utf8"), [token]);
      throw new DeepSeekError("protocol", `${path}: expected an event stream, got a JSON answer`, { path, httpStatus: res.status });
    }
    const rest = new ReadableStream<Uint8Array>({
      start(controller) {
        if (chunk.length) controller.enqueue(chunk);
        if (first.done) controller.close();
      },
      async pull(controller) {
        const r = await reader.read();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
    return new Response(rest, { status: res.status, headers: res.headers });
  }

  // ---- files ----

  /** §2.7: PoW(upload) → multipart upload → (by default) poll until ready. */
  async uploadFile(token: string, input: UploadInput, o: { signal?: AbortSignal; waitReady?: boolean } = {}): Promise<UploadedFile> {
    const name = safeUploadName(input.filename);
    const type = input.contentType || "application/octet-stream";
    const blob = input.data instanceof Blob ? input.data : new Blob([input.data as BlobPart], { type });
    const uploaded = await this.withRetry(async () => {
      const pow = await this.powHeader(token, DS_PATHS.upload, o.signal);
      const form = new FormData();
      form.append("file", new File([blob], name, { type }));
      const headers: Record<string, string> = { "x-ds-pow-response": pow, "x-file-size": String(blob.size), "x-thinking-enabled": "1" };
      if (input.modelType) headers["x-model-type"] = input.modelType.toLowerCase();
      const data = await this.jsonCall(DS_PATHS.upload, { token, rawBody: form, headers, signal: o.signal });
      const f = fileFromUploadData(data);
      if (!f) throw new DeepSeekError("protocol", `${DS_PATHS.upload}: no file id in response`, { path: DS_PATHS.upload });
      return f;
    }, this.retry.delayMs, o.signal);
    if (o.waitReady === false || isFileReady(uploaded.status)) return uploaded;
    if (!isFilePending(uploaded.status)) throw new DeepSeekError("business", `${DS_PATHS.upload}: file status ${uploaded.status}`, { path: DS_PATHS.upload });
    return this.waitFileReady(token, uploaded.id, o.signal);
  }

  /** §2.8. Files that are not found are left out. */
  async fetchFiles(token: string, ids: string[], signal?: AbortSignal): Promise<UploadedFile[]> {
    const q = `${DS_PATHS.fetchFiles}?file_ids=${encodeURIComponent(ids.join(","))}`;
    const data = await this.jsonCall(q, { method: "GET", token, signal });
    const out: UploadedFile[] = [];
    for (const id of ids) {
      const f = findFileById(data, id);
      if (f) out.push(f);
    }
    return out;
  }

  /** Polls fetch_files until the file is ready (interval, max polls, max wait from `uploadPoll`). */
  async waitFileReady(token: string, id: string, signal?: AbortSignal): Promise<UploadedFile> {
    const { intervalMs, maxPolls, maxWaitMs } = this.uploadPoll;
    const deadline = Date.now() + maxWaitMs;
    let last: UploadedFile | undefined;
    for (let i = 0; i < maxPolls && Date.now() < deadline; i++) {
      await sleep(intervalMs, signal);
      [last] = await this.fetchFiles(token, [id], signal);
      if (!last) throw new DeepSeekError("business", `${DS_PATHS.fetchFiles}: file ${id} not found`, { path: DS_PATHS.fetchFiles });
      if (isFileReady(last.status)) return last;
      if (!isFilePending(last.status)) throw new DeepSeekError("business", `${DS_PATHS.fetchFiles}: file ${id} status ${last.status}`, { path: DS_PATHS.fetchFiles });
    }
    throw new DeepSeekError("timeout", `${DS_PATHS.fetchFiles}: file ${id} not ready in time (last status ${last?.status ?? "unknown"})`, { path: DS_PATHS.fetchFiles });
  }
}
