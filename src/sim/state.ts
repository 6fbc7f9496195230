/** Everything the simulator remembers, plus the knobs and script queue tests drive it with. */
import type { InjectedError } from "./envelope.ts";
import { PowIssuer } from "./pow-issuer.ts";
import type { MessagePlan } from "./reply-plan.ts";
import type { MessageModel } from "./round-writer.ts";
import type { ReplyResolver, ReplyScript } from "./reply-script.ts";
import { defaultReply } from "./reply-script.ts";

/** The device id the magic `risk-device…@…` accounts accept (as if captured from a real login). */
export const MAGIC_CAPTURED_DEVICE = "captured-device";

export interface SimAccountInput {
  email?: string;
  /** Digits only, e.g. "13800138000". */
  mobile?: string;
  password: string;
}

export interface SimAccount extends SimAccountInput {
  id: string;
}

export interface SimOptions {
  /** 0 (default) = random free port. */
  port?: number;
  hostname?: string;
  accounts?: SimAccountInput[];
  /** PoW difficulty (default 64: tests solve it with the slow reference hash). Use 144000 for benchmarks. */
  powDifficulty?: number;
  /** Challenge lifetime (default 5 min). */
  powTtlMs?: number;
  /** Refuse a completion/upload PoW that was already used (continue may always reuse). Default false. */
  powSingleUse?: boolean;
  /** HTTP status for PoW rejections (default 200 + envelope). */
  powRejectStatus?: number;
  /** How token failures look: HTTP 200 envelopes (default, as live) or HTTP 401/403. */
  authFailure?: "envelope" | 401 | 403;
  /** Tokens die this long after login (default: never). */
  tokenTtlMs?: number;
  /** A new login revokes the account's older tokens (default false). */
  invalidateOldTokensOnLogin?: boolean;
  /** Which create-session response variant to use (default "id"; "alternate" flips every call). */
  sessionVariant?: "id" | "chat_session" | "alternate";
  /** Uploaded files turn SUCCESS this long after upload (default 30 ms; 0 = already SUCCESS in the upload response). */
  uploadReadyAfterMs?: number;
  /** Uploads end in this status instead of SUCCESS (e.g. "FAILED"). */
  uploadFinalStatus?: string;
  /** Version gate: an `x-client-version` below this with model_type "expert" gets an empty stream. */
  minClientVersionForExpert?: string;
  /**
   * Login device ids refused with RISK_DEVICE_DETECTED (biz_code 11) for every account. Default: the shared
   * `deepseek_to_api` every Go ds2api install sent (pass [] to accept it).
   */
  riskDeviceIds?: string[];
  /**
   * Magic logins for `--simulate` (any password): `risk-device…@…` is refused with RISK_DEVICE_DETECTED unless
   * it logs in with the device id `captured-device`; `muted…@…` logs in but is muted (biz_code 5).
   */
  magicAccounts?: boolean;
  /** Per-account rate limit over a sliding window. */
  rateLimit?: { max: number; windowMs: number; mode: "empty" | "reasoning_only" | "http429" | "envelope" };
}

export interface RequestLogEntry {
  at: number;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** Parsed JSON, text, or for multipart a summary `{ parts: [{name, filename, type, size}] }`. */
  body: unknown;
  accountId?: string;
}

export interface SimSession {
  id: string;
  accountId: string;
  title: string;
  titleType: string;
  pinned: boolean;
  updatedAt: number;
  /** Highest message id used so far (0 = none). */
  lastMessageId: number;
  /** response_message_id → message, for continue and parent checks. */
  messages: Map<number, SimMessage>;
}

export interface SimMessage {
  model: MessageModel;
  /** Planned rounds, or raw replay rounds. */
  plan?: MessagePlan;
  replayRounds?: string[];
  replayChunkBytes?: number;
  replayDelayMs?: number;
  /** Next round to serve on continue. */
  nextRound: number;
  totalRounds: number;
  ended: boolean;
}

export interface SimFile {
  id: string;
  accountId: string;
  name: string;
  size: number;
  contentType: string;
  bytes: Uint8Array;
  insertedAt: number;
  readyAt: number;
  finalStatus: string;
  headers: Record<string, string>;
}

export interface StreamRecord {
  id: number;
  path: string;
  accountId: string;
  sessionId: string;
  openedAt: number;
  closedAt?: number;
  /** open → completed (clean end) | cancelled (client went away) | cut (scripted disconnect/error). */
  outcome: "open" | "completed" | "cancelled" | "cut";
}

export interface TokenRecord {
  token: string;
  accountId: string;
  issuedAt: number;
  expiresAt: number | null;
  revoked: boolean;
}

interface QueuedScript {
  reply: ReplyScript | ReplyResolver;
  times: number;
}

interface QueuedError {
  path: string;
  error: InjectedError;
  times: number;
  /** Calls to let through before the error starts. */
  after: number;
}

export class SimState {
  readonly options: SimOptions;
  readonly accounts = new Map<string, SimAccount>();
  readonly tokens = new Map<string, TokenRecord>();
  readonly sessions = new Map<string, SimSession>();
  readonly files = new Map<string, SimFile>();
  readonly requests: RequestLogEntry[] = [];
  readonly streams: StreamRecord[] = [];
  /** Per account: current and highest number of open completion/continue streams. */
  readonly inFlight = new Map<string, { current: number; max: number }>();
  readonly counters = { logins: 0, sessionsCreated: 0, sessionsDeleted: 0, completions: 0, continues: 0, uploads: 0, powIssued: 0, powRejected: 0 };
  readonly pow: PowIssuer;
  /** Timestamps of accepted completions per account (rate-limit window). */
  readonly completionTimes = new Map<string, number[]>();
  private readonly scripts: QueuedScript[] = [];
  private readonly errors: QueuedError[] = [];
  private defaultResolver: ReplyResolver = defaultReply;
  private nextAccount = 1;
  private nextStream = 1;
  private sessionFlip = false;
  /** Remaining completion attempts to fail with HTTP status. */
  private failCompletionsLeft = 0;
  private failCompletionStatus = 502;
  /** Upstream-wide outage: every request, login included, gets this answer. */
  private outage: InjectedError | undefined;
  /** Per-account faults: every call made as (or logging in as) that account gets this answer. */
  private readonly accountFaults = new Map<string, InjectedError>();
  /** Accounts whose device DeepSeek distrusts: login refused with biz_code 11 unless from the allowed device. */
  private readonly deviceRisk = new Map<string, { allow?: string }>();
  /** Muted accounts: login works, chatting answers biz_code 5. */
  private readonly muted = new Set<string>();
  /** Device ids each account logged in (or tried to log in) with, in order. */
  readonly loginDevices = new Map<string, string[]>();

  constructor(options: SimOptions = {}) {
    this.options = options;
    this.pow = new PowIssuer({
      difficulty: () => this.options.powDifficulty ?? 64,
      ttlMs: () => this.options.powTtlMs ?? 5 * 60_000,
      now: () => Date.now(),
    });
    for (const a of options.accounts ?? []) this.addAccount(a);
  }

  // ---- accounts and tokens ----

  addAccount(input: SimAccountInput): SimAccount {
    const acc: SimAccount = { ...input, id: `acc-${this.nextAccount++}` };
    this.accounts.set(acc.id, acc);
    return acc;
  }

  findAccount(login: string): SimAccount | undefined {
    const l = login.toLowerCase();
    for (const a of this.accounts.values()) if (a.email?.toLowerCase() === l || a.mobile === login) return a;
    return undefined;
  }

  issueToken(accountId: string): string {
    if (this.options.invalidateOldTokensOnLogin) this.revokeAccount(accountId);
    const raw = crypto.getRandomValues(new Uint8Array(48));
    const token = Buffer.from(raw).toString("base64url");
    const ttl = this.options.tokenTtlMs;
    this.tokens.set(token, { token, accountId, issuedAt: Date.now(), expiresAt: ttl ? Date.now() + ttl : null, revoked: false });
    return token;
  }

  /** Issue a token without a login call (for tests that do not care about login). */
  tokenFor(login: string): string {
    const acc = this.findAccount(login);
    if (!acc) throw new Error(`sim: no account ${login}`);
    return this.issueToken(acc.id);
  }

  revokeToken(token: string): void {
    const t = this.tokens.get(token);
    if (t) t.revoked = true;
  }

  revokeAccount(accountIdOrLogin: string): void {
    const id = this.accounts.has(accountIdOrLogin) ? accountIdOrLogin : this.findAccount(accountIdOrLogin)?.id;
    for (const t of this.tokens.values()) if (t.accountId === id) t.revoked = true;
  }

  /** Make a token expire now. */
  expireToken(token: string): void {
    const t = this.tokens.get(token);
    if (t) t.expiresAt = Date.now() - 1;
  }

  tokenAccount(token: string): SimAccount | undefined {
    const t = this.tokens.get(token);
    if (!t || t.revoked || (t.expiresAt !== null && Date.now() > t.expiresAt)) return undefined;
    return this.accounts.get(t.accountId);
  }

  private idOf(accountIdOrLogin: string): string {
    const id = this.accounts.has(accountIdOrLogin) ? accountIdOrLogin : this.findAccount(accountIdOrLogin)?.id;
    if (!id) throw new Error(`sim: no account ${accountIdOrLogin}`);
    return id;
  }

  // ---- device risk and mutes ----

  /**
   * DeepSeek distrusts the account's device: its logins are refused with RISK_DEVICE_DETECTED (biz_code 11),
   * except from `allow` (a device id "captured from a real login"); tokens it already holds stop working too.
   * undefined ends it.
   */
  flagDevice(accountIdOrLogin: string, rule: { allow?: string } | undefined): this {
    const id = this.idOf(accountIdOrLogin);
    if (rule) {
      this.deviceRisk.set(id, rule);
      this.revokeAccount(id);
    } else this.deviceRisk.delete(id);
    return this;
  }

  /** Mute an account (its chat calls answer biz_code 5), or lift the mute. */
  mute(accountIdOrLogin: string, on = true): this {
    const id = this.idOf(accountIdOrLogin);
    if (on) this.muted.add(id);
    else this.muted.delete(id);
    return this;
  }

  isMuted(accountId: string): boolean {
    return this.muted.has(accountId);
  }

  /** The answer to a login from `deviceId`: undefined to let it in, else the refusal. */
  loginDeviceRefusal(accountId: string, deviceId: string): InjectedError | undefined {
    const seen = this.loginDevices.get(accountId) ?? [];
    seen.push(deviceId);
    this.loginDevices.set(accountId, seen);
    const risk = this.deviceRisk.get(accountId);
    if (risk && deviceId !== risk.allow) return { bizCode: 11, bizMsg: "RISK_DEVICE_DETECTED" };
    if (!risk && (this.options.riskDeviceIds ?? ["deepseek_to_api"]).includes(deviceId)) return { bizCode: 11, bizMsg: "RISK_DEVICE_DETECTED" };
    return undefined;
  }

  /** Login attempts (accepted or not) that reached the device check for an account id or login. */
  loginAttempts(accountIdOrLogin: string): number {
    return this.loginDevices.get(this.idOf(accountIdOrLogin))?.length ?? 0;
  }

  /** With `magicAccounts`: the account behind a magic login, created on first use with the given password. */
  magicAccount(email: string, password: string): SimAccount | undefined {
    if (!this.options.magicAccounts) return undefined;
    const local = email.toLowerCase().split("@")[0] ?? "";
    const kind = local.startsWith("risk-device") ? "risk" : local.startsWith("muted") ? "muted" : undefined;
    if (!kind) return undefined;
    const acc = this.findAccount(email) ?? this.addAccount({ email, password });
    acc.password = password;
    if (kind === "risk" && !this.deviceRisk.has(acc.id)) this.deviceRisk.set(acc.id, { allow: MAGIC_CAPTURED_DEVICE });
    if (kind === "muted") this.muted.add(acc.id);
    return acc;
  }

  // ---- scripting ----

  /** Queue a reply for the next `times` (default 1) completion requests. Unqueued requests use the default reply. */
  script(reply: ReplyScript | ReplyResolver, opts: { times?: number } = {}): this {
    this.scripts.push({ reply, times: opts.times ?? 1 });
    return this;
  }

  /** Replace the fallback resolver (default: echo the last user text). */
  setDefaultReply(resolver: ReplyResolver | ReplyScript): this {
    this.defaultResolver = typeof resolver === "function" ? resolver : () => resolver;
    return this;
  }

  clearScripts(): void {
    this.scripts.length = 0;
  }

  /** Take the next queued script, or the default resolver. */
  nextReply(): ReplyScript | ReplyResolver {
    const head = this.scripts[0];
    if (!head) return this.defaultResolver;
    if (--head.times <= 0) this.scripts.shift();
    return head.reply;
  }

  /** Fail the next `times` calls to `path` (full path like "/api/v0/chat_session/create") with `error`. */
  injectError(path: string, error: InjectedError, opts: { times?: number; after?: number } = {}): this {
    this.errors.push({ path, error, times: opts.times ?? 1, after: opts.after ?? 0 });
    return this;
  }

  takeInjectedError(path: string): InjectedError | undefined {
    const i = this.errors.findIndex((e) => e.path === path);
    if (i < 0) return undefined;
    const e = this.errors[i]!;
    if (e.after > 0) {
      e.after--;
      return undefined;
    }
    if (--e.times <= 0) this.errors.splice(i, 1);
    return e.error;
  }

  /** The next `count` completion (and continue) attempts answer with HTTP `status` before any checks but auth. */
  failCompletions(count: number, status = 502): this {
    this.failCompletionsLeft = count;
    this.failCompletionStatus = status;
    return this;
  }

  takeCompletionFailure(): number | undefined {
    if (this.failCompletionsLeft <= 0) return undefined;
    this.failCompletionsLeft--;
    return this.failCompletionStatus;
  }

  /** Make the whole simulator fail for every account (a 5xx storm, a WAF in front of everything); undefined ends it. */
  setOutage(error: InjectedError | undefined): this {
    this.outage = error;
    return this;
  }

  currentOutage(): InjectedError | undefined {
    return this.outage;
  }

  /** Make one account fail (by login or id) on every call it makes, its login included; undefined ends it. */
  failAccount(accountIdOrLogin: string, error: InjectedError | undefined): this {
    const id = this.accounts.has(accountIdOrLogin) ? accountIdOrLogin : this.findAccount(accountIdOrLogin)?.id;
    if (!id) throw new Error(`sim: no account ${accountIdOrLogin}`);
    if (error) this.accountFaults.set(id, error);
    else this.accountFaults.delete(id);
    return this;
  }

  accountFault(accountId: string | undefined): InjectedError | undefined {
    return accountId ? this.accountFaults.get(accountId) : undefined;
  }

  /** End every outage, account fault, device risk, mute and queued error (scripts stay). */
  clearFaults(): void {
    this.outage = undefined;
    this.accountFaults.clear();
    this.deviceRisk.clear();
    this.muted.clear();
    this.errors.length = 0;
    this.failCompletionsLeft = 0;
  }

  nextSessionVariant(): "id" | "chat_session" {
    const v = this.options.sessionVariant ?? "id";
    if (v !== "alternate") return v;
    this.sessionFlip = !this.sessionFlip;
    return this.sessionFlip ? "id" : "chat_session";
  }

  // ---- streams and concurrency ----

  openStream(path: string, accountId: string, sessionId: string): StreamRecord {
    const rec: StreamRecord = { id: this.nextStream++, path, accountId, sessionId, openedAt: Date.now(), outcome: "open" };
    this.streams.push(rec);
    const c = this.inFlight.get(accountId) ?? { current: 0, max: 0 };
    c.current++;
    if (c.current > c.max) c.max = c.current;
    this.inFlight.set(accountId, c);
    return rec;
  }

  closeStream(rec: StreamRecord, outcome: StreamRecord["outcome"]): void {
    if (rec.outcome !== "open") return;
    rec.outcome = outcome;
    rec.closedAt = Date.now();
    const c = this.inFlight.get(rec.accountId);
    if (c) c.current--;
  }

  /** In-flight figures for an account id or login. */
  concurrency(accountIdOrLogin: string): { current: number; max: number } {
    const id = this.accounts.has(accountIdOrLogin) ? accountIdOrLogin : this.findAccount(accountIdOrLogin)?.id ?? "";
    return this.inFlight.get(id) ?? { current: 0, max: 0 };
  }

  // ---- assertions helpers ----

  requestsTo(path: string): RequestLogEntry[] {
    return this.requests.filter((r) => r.path === path);
  }

  sessionCount(accountIdOrLogin?: string): number {
    if (!accountIdOrLogin) return this.sessions.size;
    const id = this.accounts.has(accountIdOrLogin) ? accountIdOrLogin : this.findAccount(accountIdOrLogin)?.id;
    let n = 0;
    for (const s of this.sessions.values()) if (s.accountId === id) n++;
    return n;
  }

  /** Polls `cond` until true (default 2 s). */
  async waitFor(cond: () => boolean, timeoutMs = 2000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > until) throw new Error("sim: waitFor timed out");
      await Bun.sleep(5);
    }
  }
}
