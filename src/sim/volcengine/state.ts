/**
 * State of the fake Volcengine console (other-providers.md §A.5): known web ids and authorizations, per-web-id
 * usage and quota, scripted replies, injected faults (global or per web id) and the log of every request.
 */

/** How a quota / auth error is placed: a BFF envelope before the stream, or a data line inside it. */
export interface QuotaErrorShape {
  code: string;
  message: string;
  placement: "envelope" | "stream";
  /** HTTP status of an envelope answer (200 = the status is only in x-real-status). */
  httpStatus: number;
  /** The `x-real-status` header of an envelope answer (none when undefined). */
  realStatus?: number;
}

export type VolcFault =
  /** A plain HTTP answer (5xx, odd content types). */
  | { kind: "http"; status: number; body: string; contentType?: string; headers?: Record<string, string> }
  /** A risk-control HTML page. */
  | { kind: "waf"; status: number }
  /** A BFF error envelope. */
  | { kind: "envelope"; code: string; message: string; httpStatus?: number; realStatus?: number }
  /** The connection is closed before any answer. */
  | { kind: "drop" };

export interface VolcReply {
  reasoning?: string;
  answer?: string;
  /** Characters per delta (default 4). */
  chunkChars?: number;
  tokenDelayMs?: number;
  /** Field casing of the chunks. */
  casing?: "lower" | "pascal";
  /** Also put a top-level `"FinishReason":"stop"` on the last chunk. */
  pascalFinish?: boolean;
  /** Wrap each chunk in `{"Result": …}`. */
  resultWrapper?: boolean;
  finishReason?: string;
  /** Send a usage chunk (default true). */
  usage?: boolean;
  /** End without `data: [DONE]` (clean EOF after the finish chunk). */
  omitDone?: boolean;
  /** Faults inside the answer. */
  headerDelayMs?: number;
  firstByteDelayMs?: number;
  stall?: { afterChunks: number; ms: number; keepaliveMs?: number };
  /** Drop the connection after N content chunks. */
  cutAfterChunks?: number;
  /** End cleanly after N content chunks, with no finish and no [DONE]. */
  truncateAfterChunks?: number;
  /** An error line after N content chunks. */
  streamError?: { afterChunks: number; code: string; message: string; form?: "envelope" | "error" };
  /** One extra data line of this many bytes (a padding field the client must ignore). */
  longLineBytes?: number;
  /** Garbage lines instead of chunks. */
  malformed?: boolean;
  /** A 200 event stream with an empty body. */
  emptyBody?: boolean;
  /** Serve this text verbatim as the body (a captured stream). */
  replay?: string;
}

export interface VolcReplyContext {
  webId: string;
  model: string;
  /** The last user message's content. */
  lastUserText: string;
}

export type VolcReplyResolver = VolcReply | ((ctx: VolcReplyContext) => VolcReply);

export interface VolcRequestRecord {
  at: number;
  path: string;
  action: string;
  headers: Record<string, string>;
  body: unknown;
  webId?: string;
  /** The normalised model / messages the fake read (PascalCase or lowercase body). */
  model?: string;
  messages?: { role: string; content: string }[];
  /** What the fake answered: "stream", or the error code / fault kind. */
  outcome: string;
  /** How a streamed answer ended: written to the end, cut by the fake, or cancelled by the client. */
  streamEnd?: "ended" | "cut" | "cancelled";
}

export interface VolcSimOptions {
  /** Known web ids (any non-empty id is accepted when absent). */
  webIds?: string[];
  /** The authorization every web id must send (null: not checked; absent: any non-empty value). */
  authorization?: string | null;
  /** Per-web-id authorizations (win over `authorization`). */
  authorizations?: Record<string, string>;
  /** Refuse requests without browser headers or with a Node/Bun user agent. */
  strictHeaders?: boolean;
  /** How a refused web id / authorization is answered. */
  authFailure?: "envelope200" | "http" | "csrf";
  /** Accepted requests per web id before the quota error (0 = unlimited). */
  quota?: number;
  quotaError?: Partial<QuotaErrorShape>;
  port?: number;
  hostname?: string;
}

export const DEFAULT_QUOTA_ERROR: QuotaErrorShape = {
  code: "ExperienceQuotaExceeded",
  message: "今日体验次数已用完 (free experience quota used up)",
  placement: "envelope",
  httpStatus: 200,
  realStatus: 429,
};

export const SIM_MODELS = ["deepseek-v3-1", "deepseek-r1-1"] as const;

export class VolcSimState {
  readonly requests: VolcRequestRecord[] = [];
  private readonly usage = new Map<string, number>();
  private readonly scripts: VolcReply[] = [];
  private defaultReply: VolcReplyResolver = (ctx) => ({
    reasoning: ctx.model === "deepseek-r1-1" ? `The user said "${ctx.lastUserText.slice(0, 80)}". I will answer briefly.` : undefined,
    answer: `Hello from the Volcengine simulator (${ctx.model}).`,
  });
  private faults: { fault: VolcFault; times: number }[] = [];
  private readonly webIdFaults = new Map<string, { fault: VolcFault; times: number }>();
  webIds?: Set<string>;
  authorization: string | null | undefined;
  authorizations: Record<string, string>;
  strictHeaders: boolean;
  authFailure: "envelope200" | "http" | "csrf";
  quota: number;
  quotaError: QuotaErrorShape;

  constructor(opts: VolcSimOptions = {}) {
    this.webIds = opts.webIds ? new Set(opts.webIds) : undefined;
    this.authorization = opts.authorization;
    this.authorizations = { ...opts.authorizations };
    this.strictHeaders = opts.strictHeaders ?? false;
    this.authFailure = opts.authFailure ?? "envelope200";
    this.quota = opts.quota ?? 0;
    this.quotaError = { ...DEFAULT_QUOTA_ERROR, ...opts.quotaError };
  }

  /** The next accepted request(s) answer with these replies, in order. */
  script(...replies: VolcReply[]): void {
    this.scripts.push(...replies);
  }

  setDefaultReply(reply: VolcReplyResolver): void {
    this.defaultReply = reply;
  }

  nextReply(ctx: VolcReplyContext): VolcReply {
    const scripted = this.scripts.shift();
    if (scripted) return scripted;
    return typeof this.defaultReply === "function" ? this.defaultReply(ctx) : this.defaultReply;
  }

  /** Every request (any web id) answers with `fault`, `times` times (Infinity = until cleared). */
  injectFault(fault: VolcFault, times = Infinity): void {
    this.faults.push({ fault, times });
  }

  /** Every request with this web id answers with `fault`. */
  failWebId(webId: string, fault: VolcFault, times = Infinity): void {
    this.webIdFaults.set(webId, { fault, times });
  }

  takeFault(webId: string): VolcFault | undefined {
    const own = this.webIdFaults.get(webId);
    if (own && own.times > 0) {
      own.times--;
      return own.fault;
    }
    const f = this.faults.find((x) => x.times > 0);
    if (!f) return undefined;
    f.times--;
    return f.fault;
  }

  clearFaults(): void {
    this.faults = [];
    this.webIdFaults.clear();
    this.scripts.length = 0;
  }

  usageOf(webId: string): number {
    return this.usage.get(webId) ?? 0;
  }

  /** Count one accepted request; false when the web id's quota was already used up. */
  use(webId: string): boolean {
    const n = this.usageOf(webId);
    if (this.quota > 0 && n >= this.quota) return false;
    this.usage.set(webId, n + 1);
    return true;
  }

  resetQuota(webId?: string): void {
    if (webId === undefined) this.usage.clear();
    else this.usage.delete(webId);
  }

  /** The recorded Chat requests (optionally of one web id). */
  chats(webId?: string): VolcRequestRecord[] {
    return this.requests.filter((r) => r.action === "Chat" && (webId === undefined || r.webId === webId));
  }
}
