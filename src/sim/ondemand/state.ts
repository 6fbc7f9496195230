/**
 * State of the fake OnDemand Chat API (other-providers.md §B.5): the keys it accepts, its sessions (owned by
 * the key that created them, with their query history), scripted replies, faults per key, quotas, and a record
 * of every request (the `apikey` used, body, session) for assertions.
 */
import { detectMarkerStyle, lastUserBlock } from "../../core/prompt/markers.ts";

export interface OdStall {
  /** Fulfillment deltas sent before the stall. */
  afterDeltas: number;
  ms: number;
  /** Send heartbeat frames (no eventType) every N ms while stalled. */
  heartbeatMs?: number;
}

/** One scripted reply (stream or sync). */
export interface OdReplyScript {
  answer: string;
  /** Reasoning, sent as `fulfillment_thinking` frames with `thinking: {delta}` before the answer. */
  thinking?: string;
  /** Characters per fulfillment delta (code points, so CJK and emoji split between frames). Default 4. */
  deltaChars?: number;
  /** Write `data: ` with a space (default: `data:` without, as the live API). */
  dataSpace?: boolean;
  /** Send `event:` lines (default true). */
  eventLines?: boolean;
  /** Heartbeat frames after the first statusLog (default 1). */
  heartbeats?: number;
  /** The full answer in statusLog fulfillment_completed (default: the answer; false: leave the frame out). */
  completedAnswer?: string | false;
  /** Leave out some trailing deltas (the completed frame still carries the full answer). */
  dropLastDeltas?: number;
  /** Write each frame in two writes split at an odd byte, or several frames in one write. */
  writes?: "frame" | "split" | "coalesced";
  stall?: OdStall;
  /** Drop the connection after N deltas (mid-stream reset). */
  cutAfterDeltas?: number;
  /** End the body cleanly after N deltas without [DONE]. */
  truncateAfterDeltas?: number;
  /** `data:[ERROR]:{…}` after N deltas. */
  errorAfterDeltas?: { after: number; message: string; errorCode?: string; raw?: string };
  /** One extra `data:` frame of this many characters (a > 64 KiB line). */
  longLineChars?: number;
  /** Garbage lines in the stream. */
  malformed?: boolean;
  delayMs?: number;
  headerDelayMs?: number;
  /** Input / output tokens for metricsLog (defaults: rough counts). */
  metrics?: { inputTokens: number; outputTokens: number };
}

export type OdReplyResolver = (ctx: { query: string; endpointId: string; apikey: string }) => OdReplyScript;

/** A scripted HTTP failure. */
export interface OdFault {
  on: "session" | "query" | "any";
  status: number;
  errorCode?: string;
  message?: string;
  retryAfter?: string;
  /** An HTML page instead of the JSON envelope. */
  html?: boolean;
  /** How many calls it answers (default: every call). */
  times?: number;
}

export interface OdRequestRecord {
  at: number;
  method: string;
  path: string;
  /** The `apikey` header (undefined when missing). */
  apikey?: string;
  body: unknown;
  sessionId?: string;
  /** What the simulator answered with. */
  status?: number;
  /** The caller went away before the answer was complete. */
  cancelled?: boolean;
}

export interface OdSession {
  id: string;
  key: string;
  queries: string[];
}

export interface OdSimOptions {
  keys?: string[];
  hostname?: string;
  port?: number;
}

export const SIM_ENDPOINTS = [
  "predefined-openai-gpt4o",
  "predefined-openai-gpt4o-mini",
  "predefined-openai-gpt4.1",
  "predefined-openai-gpt4.1-mini",
  "predefined-openai-gpt4.1-nano",
  "predefined-openai-gpto3-mini",
  "predefined-openai-gpto4-mini",
  "predefined-deepseek-v3",
  "predefined-deepseek-r1",
  "predefined-claude-4-sonnet",
  "predefined-claude-4-opus",
  "predefined-xai-grok4",
];

export class OdSimState {
  readonly keys = new Set<string>();
  readonly disabledKeys = new Set<string>();
  readonly sessions = new Map<string, OdSession>();
  readonly requests: OdRequestRecord[] = [];
  readonly endpoints = new Set(SIM_ENDPOINTS);
  readonly inactiveEndpoints = new Set<string>();
  /** Session create answers 201 (live) or 200. */
  sessionCreateStatus: 200 | 201 = 201;
  /** The next N session creates answer the transient 404 "no Route matched". */
  sessionCreate404 = 0;
  private readonly faults = new Map<string, OdFault[]>();
  private outage?: OdFault;
  /** Key → queries left before 429 (quota). */
  private readonly quota = new Map<string, number>();
  private readonly queue: OdReplyScript[] = [];
  private defaultReply: OdReplyResolver = ({ query }) => ({ answer: `OnDemand sim says: ${lastUserText(query).slice(0, 200)}` });

  constructor(opts: OdSimOptions = {}) {
    for (const k of opts.keys ?? []) this.keys.add(k);
  }

  /** The next reply (queued scripts first, then the default). */
  script(...replies: OdReplyScript[]): void {
    this.queue.push(...replies);
  }

  setDefaultReply(r: OdReplyResolver | OdReplyScript): void {
    this.defaultReply = typeof r === "function" ? r : () => r;
  }

  nextReply(ctx: { query: string; endpointId: string; apikey: string }): OdReplyScript {
    return this.queue.shift() ?? this.defaultReply(ctx);
  }

  /** Scripted failures for calls made with `key`. */
  failKey(key: string, fault: OdFault): void {
    const list = this.faults.get(key) ?? [];
    list.push({ ...fault });
    this.faults.set(key, list);
  }

  /** Every call with any key fails this way (until cleared). */
  setOutage(fault: OdFault | undefined): void {
    this.outage = fault;
  }

  /** Queries left for `key` before it answers 429 rate_limit_exceeded. */
  setQuota(key: string, queries: number): void {
    this.quota.set(key, queries);
  }

  clearFaults(): void {
    this.faults.clear();
    this.outage = undefined;
    this.quota.clear();
    this.sessionCreate404 = 0;
    this.disabledKeys.clear();
    this.inactiveEndpoints.clear();
    this.queue.length = 0;
  }

  /** Reset everything a test may have changed (keys stay). */
  reset(): void {
    this.clearFaults();
    this.sessions.clear();
    this.requests.length = 0;
    this.sessionCreateStatus = 201;
  }

  /** A fault that applies to this call, consumed once. */
  takeFault(key: string, on: "session" | "query"): OdFault | undefined {
    if (this.outage && (this.outage.on === "any" || this.outage.on === on)) return this.outage;
    const list = this.faults.get(key);
    if (!list) return undefined;
    const i = list.findIndex((f) => f.on === "any" || f.on === on);
    if (i < 0) return undefined;
    const f = list[i]!;
    if (f.times !== undefined) {
      f.times--;
      if (f.times <= 0) list.splice(i, 1);
    }
    return f;
  }

  /** Counts one query against the key's quota; false when the quota is used up. */
  takeQuota(key: string): boolean {
    const left = this.quota.get(key);
    if (left === undefined) return true;
    if (left <= 0) return false;
    this.quota.set(key, left - 1);
    return true;
  }

  record(r: Omit<OdRequestRecord, "at">): OdRequestRecord {
    const rec = { at: Date.now(), ...r };
    this.requests.push(rec);
    return rec;
  }

  /** Recorded queries (POST /sessions/{id}/query). */
  queries(): OdRequestRecord[] {
    return this.requests.filter((r) => r.path.endsWith("/query"));
  }

  sessionCreates(): OdRequestRecord[] {
    return this.requests.filter((r) => r.path.endsWith("/sessions"));
  }
}

/** The last user turn of a flattened prompt (native, ASCII or plain role markers), else its last line. */
export function lastUserText(text: string): string {
  if (detectMarkerStyle(text)) return lastUserBlock(text);
  const lines = text.trim().split("\n").filter((l) => l.trim());
  return (lines.at(-1) ?? "").trim();
}
